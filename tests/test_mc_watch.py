"""The watch rule and the live-vs-shipped timeline check."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.mc.post import PostVersion, UpdateNote, normalize_post
from bot.mc.watch import Conflict, is_watched, timeline_conflicts, watch_reasons
from bot.timeline import load_timeline

DEMO_PATH = Path(__file__).resolve().parents[1] / "bot" / "data" / "demo" / "message_center.json"


def demo_posts() -> list[PostVersion]:
    return [normalize_post(raw) for raw in json.loads(DEMO_PATH.read_text(encoding="utf-8"))["value"]]


def post(
    title: str = "Outlook on the web: new reading pane",
    body: str = "<p>A new option for the reading pane.</p>",
    *,
    post_id: str = "MC555555",
    services: list[str] | None = None,
    tags: list[str] | None = None,
    **overrides: Any,
) -> PostVersion:
    raw: dict[str, Any] = {
        "id": post_id,
        "title": title,
        "services": ["Exchange Online"] if services is None else services,
        "tags": ["Feature update"] if tags is None else tags,
        "body": {"contentType": "html", "content": body},
    }
    raw.update(overrides)
    return normalize_post(raw)


EXO = ["Exchange Online"]
TEAMS = ["Microsoft Teams"]

RET = ["Retirement"]
# fmt: off
WATCH_TABLE = [
    # (case id, title, body paragraph, services, tags, expected)
    ("plain EXO feature", "OWA: new reading pane", "Nothing about auth.", EXO, [], False),
    ("EXO retirement tag", "Retiring an admin page", "Moving on.", EXO, RET, True),
    ("retirement tag any case", "Retiring a page", "x", ["exchange online"], ["RETIREMENT"], True),
    ("Teams retirement tag", "Retiring a Teams app", "x", TEAMS, RET, False),
    ("SMTP AUTH in title", "New SMTP AUTH report", "x", EXO, [], True),
    ("smtp auth lower case", "Report update", "covers smtp auth clients", EXO, [], True),
    ("SMTP-AUTH hyphen", "Report", "SMTP-AUTH senders", EXO, [], True),
    ("SMTP authentication", "Report", "Uses SMTP authentication.", EXO, [], True),
    ("tenant switch name", "Report", "Check SmtpClientAuthenticationDisabled.", EXO, [], True),
    ("client submission", "Report", "Client Submission endpoints change.", EXO, [], True),
    ("SMTP AUTH other service", "Admin center", "SMTP AUTH devices.", ["Microsoft 365 suite"], [], True),
    ("glued word not SMTP AUTH", "SMTPAUTHX tool", "smtpauthority", EXO, [], False),
    ("client submissions plural", "Report", "client submissions are logged", EXO, [], True),
    ("basic auth plain", "Changes", "Basic authentication will be turned off.", EXO, [], True),
    ("basic auth hyphen", "Changes", "Basic-auth sign-ins.", EXO, [], True),
    ("basic auth for POP", "Changes", "Basic authentication for POP is already off.", EXO, [], False),
    ("basic auth POP and IMAP", "Report", "Basic auth for POP and IMAP is disabled.", EXO, [], False),
    ("basic auth for EWS", "EWS", "Basic authentication for Exchange Web Services ends.", EXO, [], False),
    ("basic auth POP IMAP SMTP", "Changes", "Basic auth for POP, IMAP and SMTP is off.", EXO, [], True),
    ("POP only in 1st sentence", "Changes", "Basic auth for POP ended. Basic auth goes next.", EXO, [], True),
    ("basic auth outside EXO", "Teams devices", "Basic authentication for devices.", TEAMS, [], False),
    ("basically is not basic auth", "Changes", "Basically, authentication is faster.", EXO, [], False),
    ("basic authorization", "Changes", "Basic authorization rules.", EXO, [], False),
]
# fmt: on


@pytest.mark.parametrize(
    ("title", "body", "services", "tags", "expected"),
    [case[1:] for case in WATCH_TABLE],
    ids=[case[0] for case in WATCH_TABLE],
)
def test_watch_rule_table(
    title: str, body: str, services: list[str], tags: list[str], expected: bool
) -> None:
    assert is_watched(post(title, f"<p>{body}</p>", services=services, tags=tags), set()) is expected


def test_mc786329_is_always_watched() -> None:
    bare = post("Something else", "<p>No keywords.</p>", post_id="MC786329", services=[], tags=[])
    assert is_watched(bare, set())
    assert watch_reasons(bare, set()) == ("mc786329",)


def test_extra_ids_match_case_and_space_insensitively() -> None:
    other = post(post_id="MC123456", services=TEAMS)
    assert not is_watched(other, set())
    assert is_watched(other, {" mc123456 "})
    assert watch_reasons(other, {"MC123456", "MC999999"}) == ("extra_id",)
    assert not is_watched(other, {"MC1234567"})


def test_reasons_list_every_matching_rule() -> None:
    latest = [p for p in demo_posts() if p.id == "MC786329"][-1]
    assert watch_reasons(latest, {"MC786329"}) == (
        "mc786329",
        "extra_id",
        "retirement_tag",
        "smtp_terms",
        "basic_auth",
    )


def test_demo_posts_include_and_exclude_as_documented() -> None:
    watched = {p.id: is_watched(p, set()) for p in demo_posts()}
    assert watched == {"MC786329": True, "MC900001": True, "MC900002": False, "MC900003": False}
    assert all(is_watched(p, set()) for p in demo_posts() if p.id == "MC786329")


# --- timeline conflicts -------------------------------------------------------------------------

SHIPPED = {"latest_version_date": "2026-01-27", "end_date": "2026-03-30"}


def mc(
    body: str = "<p>Updated January 27, 2026: on hold.</p>", end: str | None = "2026-03-30T08:00:00Z"
) -> PostVersion:
    return post("(Updated) Exchange Online to retire Basic Auth", body, post_id="MC786329", endDateTime=end)


def test_demo_latest_version_agrees_with_the_shipped_timeline() -> None:
    latest = [p for p in demo_posts() if p.id == "MC786329"][-1]
    shipped = {
        "latest_version_date": load_timeline().latest_version.published.isoformat(),
        "end_date": "2026-03-30",
    }
    assert timeline_conflicts(latest, shipped) == []


def test_demo_older_version_conflicts_on_note_and_end_date() -> None:
    june = [p for p in demo_posts() if p.id == "MC786329"][2]
    conflicts = timeline_conflicts(june, {"latest_version_date": "2024-10-18", "end_date": "2025-11-03"})
    assert [c.kind for c in conflicts] == ["newer_update_note", "end_date_changed"]
    assert conflicts[0].note is not None and conflicts[0].live == date(2025, 6, 12)
    assert conflicts[1] == Conflict("end_date_changed", date(2025, 11, 3), date(2026, 3, 30))


def test_newer_update_notes_are_each_a_conflict() -> None:
    live = mc(
        "<p>Updated May 4, 2026: moved again.</p><p>Updated March 2, 2026: clarified.</p>"
        "<p>Updated January 27, 2026: on hold.</p>"
    )
    conflicts = timeline_conflicts(live, SHIPPED)
    assert conflicts == [
        Conflict(
            "newer_update_note",
            date(2026, 1, 27),
            date(2026, 5, 4),
            UpdateNote(date(2026, 5, 4), "moved again."),
        ),
        Conflict(
            "newer_update_note",
            date(2026, 1, 27),
            date(2026, 3, 2),
            UpdateNote(date(2026, 3, 2), "clarified."),
        ),
    ]


def test_same_day_note_is_not_a_conflict() -> None:
    assert timeline_conflicts(mc(), SHIPPED) == []


def test_end_date_moved_is_a_conflict() -> None:
    conflicts = timeline_conflicts(mc(end="2026-12-31T08:00:00Z"), SHIPPED)
    assert conflicts == [Conflict("end_date_changed", date(2026, 3, 30), date(2026, 12, 31))]


def test_end_date_compares_utc_days() -> None:
    assert timeline_conflicts(mc(end="2026-03-30T23:00:00Z"), SHIPPED) == []
    assert timeline_conflicts(mc(), {"end_date": "2026-03-30T08:00:00Z"}) == []
    shipped_in_alaska = {"end_date": "2026-03-30T23:00:00-09:00"}  # 31 March in UTC
    assert [c.kind for c in timeline_conflicts(mc(), shipped_in_alaska)] == ["end_date_changed"]


def test_end_date_vanishing_or_appearing_is_a_conflict() -> None:
    assert timeline_conflicts(mc(end=None), SHIPPED) == [
        Conflict("end_date_changed", date(2026, 3, 30), None)
    ]
    assert timeline_conflicts(mc(), {"end_date": None}) == [
        Conflict("end_date_changed", None, date(2026, 3, 30))
    ]


def test_missing_keys_skip_their_check() -> None:
    live = mc("<p>Updated May 4, 2026: moved again.</p>", end="2027-01-01T00:00:00Z")
    assert timeline_conflicts(live, {}) == []
    assert [c.kind for c in timeline_conflicts(live, {"end_date": "2026-03-30"})] == ["end_date_changed"]


def test_wrong_post_or_bad_shipped_dates_raise() -> None:
    with pytest.raises(ValueError):
        timeline_conflicts(post(post_id="MC123456"), SHIPPED)
    with pytest.raises(ValueError):
        timeline_conflicts(mc(), {"latest_version_date": "January 2026"})
    with pytest.raises(ValueError):
        timeline_conflicts(mc(), {"end_date": "soon"})


def test_shipped_id_can_name_another_post() -> None:
    other = post(post_id="MC900001", endDateTime="2026-05-29T07:00:00Z")
    assert timeline_conflicts(other, {"id": "MC900001", "end_date": "2026-05-29"}) == []
