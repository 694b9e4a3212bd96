"""When the demo tenant's story happens: written as of one day, told relative to the clock.

The demo data (sign-ins, service-health incidents) was written as it would look on ``STORY_DAY``.
A fixed date would rot: a fax gateway that "went quiet three weeks ago" falls out of the 30-day
sign-in window a week later, and an advisory opened "three days ago" looks months old in 2027.
So every demo date that describes recent activity is moved forward by whole days to the bot's
clock; a test at ``STORY_DAY`` sees the data exactly as written. Microsoft's own history (the
versions of MC786329) is never moved: it happened when it happened.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

STORY_DAY = date(2026, 11, 23)
_GRAPH_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def story_shift(today: date) -> timedelta:
    """How far the story moves so that its day is ``today`` (UTC)."""
    return today - STORY_DAY


def shift_graph_time(value: Any, shift: timedelta) -> Any:
    """A Graph ``...Z`` timestamp moved by ``shift``; anything else is returned as it is."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.strptime(value, _GRAPH_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return value
    return (moment + shift).strftime(_GRAPH_FORMAT)


def shift_fields(record: dict[str, Any], fields: tuple[str, ...], shift: timedelta) -> dict[str, Any]:
    """A copy of ``record`` with the named timestamp fields moved by ``shift``."""
    return {key: shift_graph_time(value, shift) if key in fields else value for key, value in record.items()}
