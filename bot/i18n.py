"""Language and time: which language a user gets, their time zone, and how dates read in it.

Messages live in ``bot/data/messages.json`` and one file per feature in ``bot/data/messages/``
(one key, one ``{"en", "ja"}`` pair) so translators edit data, not code. Dates are only ever shown as precisely as the source stated them.

English needs singular and plural ("1 device still uses", "3 devices still use") where Japanese
needs neither, so a message may choose a word by a number: ``{devices:device|devices}`` is
"device" when ``devices`` is 1 and "devices" otherwise. Translators keep it in data, too.
"""

from __future__ import annotations

import json
import logging
import string
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

Lang = Literal["en", "ja"]
MESSAGES_PATH = Path(__file__).parent / "data" / "messages.json"
FEATURE_MESSAGES_DIR = Path(__file__).parent / "data" / "messages"
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def pick_language(locale: str | None, default: str = "en") -> Lang:
    """``ja`` / ``ja-JP`` → Japanese, any other locale → English; no locale → the default."""
    if locale:
        return "ja" if locale.strip().lower().replace("_", "-").split("-")[0] == "ja" else "en"
    return "ja" if default == "ja" else "en"


def pick_timezone(candidates: list[str | None], default: str = "UTC") -> ZoneInfo:
    """The first candidate that is a real IANA zone; Teams clients sometimes send none or junk."""
    for name in candidates:
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            log.info("ignoring unknown time zone %r from the client", name[:64])
    try:
        return ZoneInfo(default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=1)
def catalog() -> Mapping[str, Mapping[str, str]]:
    """All messages; a key defined in two files is an error, not a silent override."""
    merged: dict[str, Any] = {}
    for path in [MESSAGES_PATH, *sorted(FEATURE_MESSAGES_DIR.glob("*.json"))]:
        with path.open(encoding="utf-8") as handle:
            data: dict[str, Any] = json.load(handle)
        data.pop("_about", None)
        clash = merged.keys() & data.keys()
        if clash:
            raise ValueError(f"{path.name} redefines messages {sorted(clash)}")
        merged.update(data)
    return merged


class _MessageFormatter(string.Formatter):
    """``str.format`` plus ``{n:one|other}``: the word for one, or for any other number."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec and isinstance(value, int):
            one, other = format_spec.split("|", 1)
            return one if value == 1 else other
        return super().format_field(value, format_spec)


_FORMATTER = _MessageFormatter()


def t(key: str, lang: str, /, **values: object) -> str:
    """The message ``key`` in ``lang``, formatted with ``values`` (``str.format`` fields)."""
    entry = catalog()[key]
    text = entry.get(lang) or entry["en"]
    return _FORMATTER.format(text, **values) if values else text


def localized(pair: Mapping[str, str], lang: str) -> str:
    """Pick one language from an ``{"en", "ja"}`` pair found in data files."""
    return pair.get(lang) or pair.get("en") or ""


def format_date(day: date, lang: str) -> str:
    if lang == "ja":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def format_month(year: int, month: int, lang: str) -> str:
    return f"{year}年{month}月" if lang == "ja" else f"{_EN_MONTHS[month - 1]} {year}"


def format_datetime(moment: datetime, tz: ZoneInfo, lang: str) -> str:
    """A moment in the user's zone, with the zone named so nobody guesses."""
    local = moment.astimezone(tz)
    return f"{format_date(local.date(), lang)} {local:%H:%M} ({tz.key})"


def format_count(number: int, lang: str) -> str:
    return f"{number:,}"
