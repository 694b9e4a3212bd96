"""MC786329's timeline: the shipped versions and milestones, and where "today" falls in them.

The data file holds what Microsoft said and how precisely; this module only reads it and does
date arithmetic. A milestone given as a month is counted to the last day of that month in the
user's time zone, and every view says so, because Microsoft gave a month, not a day.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Mapping
from zoneinfo import ZoneInfo

from bot.i18n import format_date, format_month

TIMELINE_PATH = Path(__file__).parent / "data" / "mc786329.json"
Precision = Literal["day", "month", "half"]


@dataclass(frozen=True)
class When:
    """A date as precise as its source: a day, a month (optionally its end, or after it), a half-year."""

    precision: Precision
    year: int
    month: int | None = None
    day: int | None = None
    half: int | None = None
    part: Literal["end", "after"] | None = None

    @classmethod
    def from_data(cls, raw: Mapping[str, Any]) -> When:
        precision = raw["precision"]
        if precision == "day":
            parsed = date.fromisoformat(raw["date"])
            return cls("day", parsed.year, parsed.month, parsed.day)
        if precision == "month":
            return cls("month", int(raw["year"]), int(raw["month"]), part=raw.get("part"))
        if precision == "half":
            half = int(raw["half"])
            if half not in (1, 2):
                raise ValueError(f"half must be 1 or 2, not {half}")
            return cls("half", int(raw["year"]), half=half)
        raise ValueError(f"unknown precision {precision!r}")

    def first_day(self) -> date:
        if self.precision == "day":
            return date(self.year, self.month or 1, self.day or 1)
        if self.precision == "month":
            return date(self.year, self.month or 1, 1)
        return date(self.year, 1 if self.half == 1 else 7, 1)

    def last_day(self) -> date:
        """The latest day the statement can mean: what a countdown must count to."""
        if self.precision == "day":
            return self.first_day()
        if self.precision == "month":
            month = self.month or 12
            return date(self.year, month, calendar.monthrange(self.year, month)[1])
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def describe(self, lang: str, in_sentence: bool = False) -> str:
        """Say it as Microsoft did: "end of December 2026", never "31 December 2026".

        ``in_sentence`` adds the article English needs mid-sentence ("until the end of …").
        """
        if in_sentence and lang == "en" and (self.part == "end" or self.precision == "half"):
            return "the " + self.describe(lang)
        if self.precision == "day":
            return format_date(self.first_day(), lang)
        if self.precision == "month":
            month = format_month(self.year, self.month or 1, lang)
            if self.part == "end":
                return f"{month}末" if lang == "ja" else f"end of {month}"
            if self.part == "after":
                return f"{month}より後" if lang == "ja" else f"after {month}"
            return month
        if lang == "ja":
            return f"{self.year}年{'前半' if self.half == 1 else '後半'}"
        return f"{'first' if self.half == 1 else 'second'} half of {self.year}"


@dataclass(frozen=True)
class Version:
    id: str
    published: date
    summary: Mapping[str, str]


@dataclass(frozen=True)
class Milestone:
    id: str
    kind: str
    when: When | None
    stated_in: str
    title: Mapping[str, str]
    until: When | None = None
    superseded_by: str | None = None
    countdown: bool = False
    detail: Mapping[str, str] = field(default_factory=dict)

    @property
    def current(self) -> bool:
        return self.superseded_by is None

    def describe_when(self, lang: str, in_sentence: bool = False) -> str | None:
        if self.when is None:
            return None
        if self.until is not None:
            joiner = "〜" if lang == "ja" else " – "
            return f"{self.when.describe(lang)}{joiner}{self.until.describe(lang)}"
        return self.when.describe(lang, in_sentence)


@dataclass(frozen=True)
class Timeline:
    post: Mapping[str, Any]
    versions: tuple[Version, ...]
    milestones: tuple[Milestone, ...]
    moves: tuple[tuple[str, date], ...]
    alternatives: Mapping[str, Any]

    @property
    def latest_version(self) -> Version:
        return max(self.versions, key=lambda version: version.published)

    def version(self, version_id: str) -> Version:
        for version in self.versions:
            if version.id == version_id:
                return version
        raise KeyError(version_id)

    def milestone(self, milestone_id: str) -> Milestone:
        for milestone in self.milestones:
            if milestone.id == milestone_id:
                return milestone
        raise KeyError(milestone_id)

    def next_countdown(self, today: date) -> Milestone | None:
        """The first current milestone with a known date still ahead (or today): what we count to."""
        dated = [
            m for m in self.milestones
            if m.countdown and m.current and m.when is not None and m.when.last_day() >= today
        ]
        return min(dated, key=lambda m: m.when.last_day() if m.when else date.max, default=None)


def parse_timeline(raw: Mapping[str, Any]) -> Timeline:
    """Build and cross-check the timeline: every milestone must name a version that exists."""
    versions = tuple(
        Version(v["id"], date.fromisoformat(v["published"]), v["summary"]) for v in raw["versions"]
    )
    known = {v.id for v in versions}
    milestones = []
    for m in raw["milestones"]:
        for ref in (m["stated_in"], m.get("superseded_by")):
            if ref is not None and ref not in known:
                raise ValueError(f"milestone {m['id']} names unknown version {ref}")
        milestones.append(
            Milestone(
                id=m["id"],
                kind=m["kind"],
                when=When.from_data(m["when"]) if m.get("when") else None,
                until=When.from_data(m["until"]) if m.get("until") else None,
                stated_in=m["stated_in"],
                superseded_by=m.get("superseded_by"),
                countdown=bool(m.get("countdown", False)),
                title=m["title"],
                detail=m.get("detail", {}),
            )
        )
    moves = tuple((move["milestone"], date.fromisoformat(move["announced"])) for move in raw["moves"])
    ids = {m.id for m in milestones}
    for milestone_id, _ in moves:
        if milestone_id not in ids:
            raise ValueError(f"move names unknown milestone {milestone_id}")
    return Timeline(raw["post"], versions, tuple(milestones), moves, raw["alternatives"])


@lru_cache(maxsize=4)
def load_timeline(path: Path = TIMELINE_PATH) -> Timeline:
    with path.open(encoding="utf-8") as handle:
        return parse_timeline(json.load(handle))


class Phase(str, Enum):
    """Where today falls against the default-disable."""

    UNCHANGED = "unchanged"  # before the month Microsoft gave: nothing has changed yet
    DEADLINE_MONTH = "deadline_month"  # inside that month: it can happen any day now
    DEFAULT_DISABLED = "default_disabled"  # after it: off by default, can be re-enabled


@dataclass(frozen=True)
class Countdown:
    """Today against the default-disable, in one user's time zone."""

    today: date
    tz: ZoneInfo
    phase: Phase
    target: Milestone
    target_day: date
    days_left: int  # negative once the target day has passed
    next_milestone: Milestone | None


def countdown(timeline: Timeline, now: datetime, tz: ZoneInfo) -> Countdown:
    """Count to the last day of the default-disable month, in ``tz``."""
    today = now.astimezone(tz).date()
    target = timeline.milestone("default-disable")
    assert target.when is not None
    target_day = target.when.last_day()
    if today < target.when.first_day():
        phase = Phase.UNCHANGED
    elif today <= target_day:
        phase = Phase.DEADLINE_MONTH
    else:
        phase = Phase.DEFAULT_DISABLED
    upcoming = [
        m for m in timeline.milestones
        if m.current and m.id != target.id and m.when is not None and m.when.last_day() >= today
    ]
    next_milestone = target if phase != Phase.DEFAULT_DISABLED else min(
        upcoming, key=lambda m: m.when.first_day() if m.when else date.max, default=None
    )
    return Countdown(today, tz, phase, target, target_day, (target_day - today).days, next_milestone)


def milestone_state(milestone: Milestone, today: date, next_id: str | None) -> str:
    """past / next / future / superseded / unknown — how /timeline marks each row."""
    if not milestone.current:
        return "superseded"
    if milestone.when is None:
        return "unknown"
    if milestone.id == next_id:
        return "next"
    end = (milestone.until or milestone.when).last_day()
    return "past" if end < today else "future"
