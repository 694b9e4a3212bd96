"""The one clock every feature reads: the real time, or a rehearsal that starts at a chosen moment.

Admins need to see today what the bot will say on 31 December or in January, and tests need the
bot at fixed moments on both sides of every milestone. So no feature calls ``datetime.now()``:
the server and every operator command build one ``Clock`` here and pass it down.

A rehearsal clock (``CLOCK_AT`` or ``--at``) starts at the given moment and then moves on with
real time, so leases, claims and caches still age as they would in production.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Callable

Clock = Callable[[], datetime]

EXAMPLE_MOMENT = "2027-01-15T09:00+09:00"


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def starting_at(moment: datetime, monotonic: Callable[[], float] = time.monotonic) -> Clock:
    """A clock that reads ``moment`` now and advances with real (monotonic) time from here on."""
    started = monotonic()
    start = moment.astimezone(timezone.utc)
    return lambda: start + timedelta(seconds=monotonic() - started)


def fixed(moment: datetime) -> Clock:
    """A clock that always reads ``moment`` (previews and tests)."""
    at = moment.astimezone(timezone.utc)
    return lambda: at


def clock_from(moment: datetime | None) -> Clock:
    """The real clock, or a rehearsal starting at ``moment``."""
    return system_clock if moment is None else starting_at(moment)


def parse_moment(raw: str) -> datetime:
    """An ISO 8601 moment with its UTC offset (``2026-12-31T23:30+09:00`` or ``...Z``), as UTC.

    A moment without an offset is refused rather than guessed: "09:00" means another instant in
    Tokyo than in London, and the countdown depends on which.
    """
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise ValueError(f"'{raw}' is not an ISO date-time (e.g. {EXAMPLE_MOMENT})") from None
    if moment.tzinfo is None:
        raise ValueError(f"'{raw}' has no UTC offset; add one, e.g. +09:00 or Z")
    return moment.astimezone(timezone.utc)
