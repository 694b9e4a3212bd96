"""The countdown ladder: alerts 60, 30, 14, 7, 3, 1 and 0 days before each dated milestone.

Days are counted to the last day the milestone can mean (31 December 2026 for "end of December
2026") in the subscription's time zone. Rung N comes due at the local send time on the day N days
before that; it stays due until sent, but only the most recent rung is ever owed, so a bot that
was down for a week sends one alert on its return, not three. Pure functions of the timeline and
the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.timeline import Milestone, Timeline

RUNGS: tuple[int, ...] = (60, 30, 14, 7, 3, 1, 0)


@dataclass(frozen=True)
class Rung:
    milestone: Milestone
    target_day: date  # the day counted to, in the subscription's zone
    days: int  # 60, 30, ... 0
    due_at: datetime  # UTC

    @property
    def subject(self) -> str:
        """Ledger subject: a moved date starts a fresh ladder."""
        return f"{self.milestone.id}@{self.target_day.isoformat()}"

    @property
    def version(self) -> str:
        return f"rung-{self.days}"


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``at`` o'clock on ``day`` in ``tz``, as UTC (a time skipped by a DST jump moves forward)."""
    naive = datetime.combine(day, at)
    local = naive.replace(tzinfo=tz)
    # Round-trip through UTC: a non-existent local time normalises to the real instant after the gap.
    return local.astimezone(timezone.utc)


def countdown_milestones(timeline: Timeline) -> list[Milestone]:
    """Current milestones with a known date that the ladder counts to."""
    return [m for m in timeline.milestones if m.countdown and m.current and m.when is not None]


def ladder(milestone: Milestone, tz: ZoneInfo, send_time: time) -> list[Rung]:
    assert milestone.when is not None
    target = milestone.when.last_day()
    return [
        Rung(milestone, target, days, local_moment(target - timedelta(days=days), send_time, tz))
        for days in RUNGS
    ]


def due_rungs(
    timeline: Timeline, now: datetime, tz: ZoneInfo, send_time: time, not_before: datetime
) -> list[Rung]:
    """Per milestone still ahead (or today): the latest rung due by ``now``, if not before ``not_before``.

    ``not_before`` is when the subscription started: a rung that came due before anyone asked for
    alerts is not owed.
    """
    today = now.astimezone(tz).date()
    owed = []
    for milestone in countdown_milestones(timeline):
        assert milestone.when is not None
        if milestone.when.last_day() < today:
            continue
        passed = [rung for rung in ladder(milestone, tz, send_time) if rung.due_at <= now]
        if not passed:
            continue
        latest = max(passed, key=lambda rung: rung.due_at)
        if latest.due_at >= not_before:
            owed.append(latest)
    return owed


def next_rung(timeline: Timeline, now: datetime, tz: ZoneInfo, send_time: time) -> Rung | None:
    """The next rung still to come after ``now`` (what /alerts shows as "next countdown alert")."""
    upcoming = [
        rung
        for milestone in countdown_milestones(timeline)
        for rung in ladder(milestone, tz, send_time)
        if rung.due_at > now
    ]
    return min(upcoming, key=lambda rung: rung.due_at, default=None)


def days_left(rung: Rung, now: datetime, tz: ZoneInfo) -> int:
    return (rung.target_day - now.astimezone(tz).date()).days
