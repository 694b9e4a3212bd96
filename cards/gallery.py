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
from cards.help import build_command_help_card, build_help_card, build_welcome_card
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


def _status(moment: datetime) -> Callable[[str], dict[str, Any]]:
    timeline = load_timeline()
    return lambda lang: build_status_card(StatusView(timeline, countdown(timeline, moment, DEMO_TZ)), lang)


def _timeline(lang: str) -> dict[str, Any]:
    timeline = load_timeline()
    count = countdown(timeline, DEMO_NOW, DEMO_TZ)
    return build_timeline_card(timeline, count.today, DEMO_TZ.key, count.next_milestone.id if count.next_milestone else None, lang)


def _entries() -> list[tuple[str, str, Callable[[str], dict[str, Any]]]]:
    status_command = next(c for c in COMMANDS if c.name == "status")
    return [
        ("status", "build_status_card", _status(DEMO_NOW)),
        ("status-deadline-month", "build_status_card", _status(datetime(2026, 12, 20, 3, 0, tzinfo=timezone.utc))),
        ("status-last-day", "build_status_card", _status(datetime(2026, 12, 31, 3, 0, tzinfo=timezone.utc))),
        ("status-after", "build_status_card", _status(datetime(2027, 1, 15, 3, 0, tzinfo=timezone.utc))),
        ("timeline", "build_timeline_card", _timeline),
        ("help", "build_help_card", lambda lang: build_help_card(lang)),
        ("help-unknown", "build_help_card", lambda lang: build_help_card(lang, preface=t("unknown.text", lang, text="/frobnicate"))),
        ("help-status", "build_command_help_card", lambda lang: build_command_help_card(status_command, lang)),
        ("welcome", "build_welcome_card", build_welcome_card),
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
