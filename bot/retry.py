"""How long to wait before trying an HTTP call again: one backoff rule and one ``Retry-After`` reader.

Graph and Exchange (``bot.m365.http``), turn replies through the Bot Connector
(``bot.teams.connector``) and proactive alerts (``bot.alerts.delivery``, ``bot.teams.proactive``) each
keep their own loop, because what may be retried differs (a token refresh on 401, a ledger between
attempts, a post that may already have gone out), but they wait by the same rule: the server's
``Retry-After`` when it gave one, else an exponential delay doubling from ``base`` up to ``cap``, of
which the upper half is jittered so that many clients told to back off at once do not come back
at once.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    None when the header is absent or unreadable; never negative (a date in the past means now).
    ``now`` defaults to the current time; a date without a zone is read as UTC, as HTTP dates are.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else datetime.now(timezone.utc)
    if current.tzinfo is None:
        current = current.replace(tzinfo=timezone.utc)
    return max(0.0, (when - current).total_seconds())


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float = math.inf,
    jitter: float = 1.0,
    retry_after: float | None = None,
    spread: float = 0.0,
) -> float:
    """The wait before retry number ``attempt`` (1-based).

    With ``retry_after`` (the server's word): that, plus ``spread`` (a caller's random extra, so
    several senders throttled together do not return in the same instant). Otherwise
    ``min(cap, base * 2 ** (attempt - 1))``, of which the upper half scales with ``jitter`` in
    [0, 1]; ``jitter=1`` gives the plain doubling.
    """
    if retry_after is not None:
        return retry_after + spread
    ceiling = min(cap, base * 2.0 ** max(0, attempt - 1))
    return ceiling / 2 + jitter * ceiling / 2
