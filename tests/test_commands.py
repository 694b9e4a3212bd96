"""Routing: mentions stripped, slash and case ignored, whole words only, help generated from the table."""

from __future__ import annotations

import pytest

from bot.commands import COMMANDS, clean_text, manifest_commands, route


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("<at>SMTP AUTH Readiness</at> /status", "/status"),
        ("<at>SMTP AUTH Readiness</at>&nbsp;/status\n", "/status"),
        ("\u00a0 /status\u3000", "/status"),
        ("<p>/timeline</p>", "/timeline"),
        ("／ｓｔａｔｕｓ", "/status"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


def test_only_the_bots_mention_is_removed_when_known():
    text = "<at>SMTP AUTH Readiness</at> /check <at>Jane Doe</at>"
    assert clean_text(text, ("<at>SMTP AUTH Readiness</at>",)) == "/check Jane Doe"


@pytest.mark.parametrize("text, name, args", [
    ("/status", "status", ""),
    ("STATUS", "status", ""),
    ("/Timeline now please", "timeline", "now please"),
    ("help status", "help", "status"),
    ("状況", "status", ""),
])
def test_route(text, name, args):
    routed = route(text)
    assert routed is not None and routed.command.name == name and routed.args == args


@pytest.mark.parametrize("text", ["statusx", "/stat", "what is the status", "", "/"])
def test_no_substring_or_partial_routing(text):
    assert route(text) is None


def test_manifest_commands_come_from_the_table():
    listed = manifest_commands()
    assert [c["title"] for c in listed] == [c.name for c in COMMANDS if c.in_manifest]
    assert all(len(c["description"]) <= 128 for c in listed + manifest_commands("ja"))
    assert all(c.summary["en"] and c.summary["ja"] for c in COMMANDS)
