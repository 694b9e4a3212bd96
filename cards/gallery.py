"""Every card the bot can send, built from demo data in both languages.

The tests validate each one against the Adaptive Card schema, and the renderer turns each into
pictures; a new card builder that is not listed here fails the tests (``test_cards.py``).
``python -m cards.gallery OUT_DIR`` writes them as JSON files for the renderer.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

from bot.commands import COMMANDS
from bot.i18n import t
from bot.timeline import countdown, load_timeline
from bot.mc.diff import diff_versions
from bot.mc.post import normalize_post
from bot.mc.store import StoredVersion
from bot.mc.watch import timeline_conflicts
from bot.tenant.health import parse_health
from bot.tenant.posture import parse_posture
from bot.tenant.service import Section
from bot.tenant.snapshots import Snapshot
from bot.tenant.source import _demo_file
from cards.alerts_demo import alert_entries
from cards.devices_demo import device_entries
from cards.diagnostics_demo import diagnostics_entries
from cards.help import build_command_help_card, build_help_card, build_welcome_card
from cards.mc import McView, build_mc_card, build_mc_history_card, build_mc_unknown_card
from cards.tenant import build_posture_card, health_section, posture_section
from cards.status import StatusView, build_status_card
from cards.timeline import build_timeline_card

DEMO_NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
DEMO_TZ = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class GalleryCard:
    name: str
    builder: str
    lang: str
    card: dict[str, Any]


def _demo_section(key: str, data: Any, parse: Callable[[Any], Any], error: str | None = None) -> Section[Any]:
    snapshot = Snapshot(key, "demo", data, DEMO_NOW, error, DEMO_NOW if error else None)
    return Section(snapshot, parse(data), True)


def _demo_versions() -> list[StoredVersion]:
    raws = [p for p in _demo_file("message_center.json")["value"] if p["id"] == "MC786329"]
    return [StoredVersion(normalize_post(raw), DEMO_NOW, "demo", raw) for raw in raws]


def _status(moment: datetime, with_tenant: bool = False) -> Callable[[str], dict[str, Any]]:
    timeline = load_timeline()

    def build(lang: str) -> dict[str, Any]:
        sections = []
        if with_tenant:
            tenant = _demo_file("tenant.json")
            posture = _demo_section("posture", {k: tenant[k] for k in ("security_defaults", "transport_config", "organization_config", "cas_mailboxes", "authentication_policies")}, parse_posture)
            health = _demo_section("health", tenant["health"], parse_health, error="UnreachableError: graph.microsoft.com did not answer")
            sections = posture_section(posture, DEMO_TZ, lang) + health_section(health, DEMO_TZ, lang)
        return build_status_card(StatusView(timeline, countdown(timeline, moment, DEMO_TZ), sections), lang)

    return build


def _mc(lang: str, conflict: bool = False) -> dict[str, Any]:
    versions = _demo_versions()
    latest = versions[-1]
    conflicts = []
    if conflict:
        conflicts = timeline_conflicts(latest.post, {"id": "MC786329", "latest_version_date": "2025-12-01", "end_date": "2026-01-01"})
    view = McView(latest, versions[-2].post, diff_versions(versions[-2].post, latest.post), len(versions), conflicts,
                  sync=Snapshot("mc-sync", "demo", {}, DEMO_NOW), demo=True)
    return build_mc_card(view, DEMO_TZ, lang)


def _mc_history(lang: str) -> dict[str, Any]:
    versions = _demo_versions()
    diffs = [None] + [diff_versions(a.post, b.post) for a, b in zip(versions, versions[1:])]
    return build_mc_history_card("MC786329", versions, diffs, DEMO_TZ, lang, True)


def _posture(lang: str) -> dict[str, Any]:
    tenant = _demo_file("tenant.json")
    raw = {k: tenant[k] for k in ("security_defaults", "transport_config", "organization_config", "cas_mailboxes", "authentication_policies")}
    return build_posture_card(_demo_section("posture", raw, parse_posture), DEMO_TZ, lang)


def _timeline(lang: str) -> dict[str, Any]:
    timeline = load_timeline()
    count = countdown(timeline, DEMO_NOW, DEMO_TZ)
    return build_timeline_card(timeline, count.today, DEMO_TZ.key, count.next_milestone.id if count.next_milestone else None, lang)


def _entries() -> list[tuple[str, str, Callable[[str], dict[str, Any]]]]:
    status_command = next(c for c in COMMANDS if c.name == "status")
    return [
        ("status", "build_status_card", _status(DEMO_NOW)),
        ("status-tenant", "build_status_card", _status(DEMO_NOW, with_tenant=True)),
        ("mc", "build_mc_card", _mc),
        ("mc-conflict", "build_mc_card", lambda lang: _mc(lang, conflict=True)),
        ("mc-history", "build_mc_history_card", _mc_history),
        ("mc-unknown", "build_mc_unknown_card", lambda lang: build_mc_unknown_card("MC123", ["MC786329", "MC900001"], lang)),
        ("posture", "build_posture_card", _posture),
        ("status-deadline-month", "build_status_card", _status(datetime(2026, 12, 20, 3, 0, tzinfo=timezone.utc))),
        ("status-last-day", "build_status_card", _status(datetime(2026, 12, 31, 3, 0, tzinfo=timezone.utc))),
        ("status-after", "build_status_card", _status(datetime(2027, 1, 15, 3, 0, tzinfo=timezone.utc))),
        ("timeline", "build_timeline_card", _timeline),
        ("help", "build_help_card", lambda lang: build_help_card(lang)),
        ("help-unknown", "build_help_card", lambda lang: build_help_card(lang, preface=t("unknown.text", lang, text="/frobnicate"))),
        ("help-status", "build_command_help_card", lambda lang: build_command_help_card(status_command, lang)),
        ("welcome", "build_welcome_card", build_welcome_card),
        *alert_entries(),
        *device_entries(),
        *diagnostics_entries(),
    ]


def gallery() -> Iterator[GalleryCard]:
    for name, builder, build in _entries():
        for lang in ("en", "ja"):
            yield GalleryCard(name, builder, lang, build(lang))


def write_gallery(out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for item in gallery():
        path = out_dir / f"{item.name}.{item.lang}.json"
        path.write_text(
            json.dumps({"name": item.name, "lang": item.lang, "card": item.card}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
        count += 1
    return count


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "gallery/cards")
    print(f"wrote {write_gallery(target)} cards to {target}")
