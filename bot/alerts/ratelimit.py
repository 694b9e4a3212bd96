"""Teams' sending limits, kept on our side so the connector rarely has to say 429.

Per bot per conversation: 7 messages in 1 s, 8 in 2 s, 60 in 30 s, 1800 in an hour; per app per
tenant: 50 requests a second (msteams-docs ``bots/how-to/rate-limit.md``). ``SlidingWindows`` is the
pure bookkeeping (times in, seconds to wait out); ``RateLimiter`` is the thin async edge that sleeps.
Each window is stretched by a margin because the connector counts arrivals, and arrival times wobble
with the network and the event loop: 10 % for a conversation's windows (one conversation rarely gets
more than one alert at a time, so it costs nothing), 4 % for the tenant's (that one bounds a
fan-out). The tenant's sends are also paced evenly (``Pacer``) rather than spent in bursts of 50:
a burst queues up on the way out, and that queueing is the jitter that turns a legal second into
a 429.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: float


CONVERSATION_WINDOWS: tuple[Window, ...] = (
    Window(7, 1.0),
    Window(8, 2.0),
    Window(60, 30.0),
    Window(1800, 3600.0),
)
TENANT_WINDOWS: tuple[Window, ...] = (Window(50, 1.0),)
CONVERSATION_MARGIN = 0.10  # a fraction of each window
TENANT_MARGIN = 0.04


class SlidingWindows:
    """Send times per key within the longest window; answers "how long until the next send may go"."""

    def __init__(self, windows: tuple[Window, ...], margin: float = TENANT_MARGIN) -> None:
        self.windows = tuple(Window(w.limit, w.seconds * (1 + margin)) for w in windows)
        self._span = max(w.seconds for w in self.windows)
        self._times: dict[Hashable, deque[float]] = {}
        self._blocked: dict[Hashable, float] = {}

    def wait(self, key: Hashable, now: float) -> float:
        """Seconds until one more send for ``key`` fits every window (0: now)."""
        delay = max(0.0, self._blocked.get(key, 0.0) - now)
        times = self._times.get(key)
        if times:
            for window in self.windows:
                recent = [t for t in times if t > now - window.seconds] if len(times) >= window.limit else ()
                if len(recent) >= window.limit:
                    delay = max(delay, recent[-window.limit] + window.seconds - now)
        return delay

    def record(self, key: Hashable, now: float) -> None:
        times = self._times.setdefault(key, deque())
        times.append(now)
        while times and times[0] <= now - self._span:
            times.popleft()

    def block(self, key: Hashable, until: float) -> None:
        """The connector said "wait" (429 Retry-After): nothing for ``key`` before ``until``."""
        self._blocked[key] = max(self._blocked.get(key, 0.0), until)


class Pacer:
    """Even spacing per key without drift (GCRA): a late send lets the next few catch up a little."""

    def __init__(self, spacing: float, tolerance: float) -> None:
        self.spacing = spacing
        self.tolerance = tolerance
        self._due: dict[Hashable, float] = {}  # the theoretical time of the next send

    def wait(self, key: Hashable, now: float) -> float:
        return max(0.0, self._due.get(key, now) - self.tolerance - now)

    def record(self, key: Hashable, now: float) -> None:
        self._due[key] = max(self._due.get(key, now), now) + self.spacing


def pacer_for(windows: tuple[Window, ...], margin: float) -> Pacer:
    """Spacing at the tightest window's average rate; a burst of at most three sends."""
    spacing = max(w.seconds * (1 + margin) / w.limit for w in windows)
    return Pacer(spacing, 2 * spacing)


class RateLimiter:
    """Waits until a message to (tenant, conversation) fits both the conversation and tenant limits."""

    def __init__(
        self,
        conversation_windows: tuple[Window, ...] = CONVERSATION_WINDOWS,
        tenant_windows: tuple[Window, ...] = TENANT_WINDOWS,
        *,
        margin: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        conversation_margin = CONVERSATION_MARGIN if margin is None else margin
        tenant_margin = TENANT_MARGIN if margin is None else margin
        self.conversations = SlidingWindows(conversation_windows, conversation_margin)
        self.tenants = SlidingWindows(tenant_windows, tenant_margin)
        self.pacer = pacer_for(tenant_windows, tenant_margin)
        self._clock = clock
        self._sleep = sleep

    async def acquire(self, tenant_id: str, conversation_id: str) -> float:
        """Take one send slot; returns how long we waited for it."""
        started = self._clock()
        while True:
            now = self._clock()
            delay = max(
                self.conversations.wait(conversation_id, now),
                self.tenants.wait(tenant_id, now),
                self.pacer.wait(tenant_id, now),
            )
            if delay <= 0:
                self.conversations.record(conversation_id, now)
                self.tenants.record(tenant_id, now)
                self.pacer.record(tenant_id, now)
                return now - started
            await self._sleep(delay)

    def throttled(self, conversation_id: str, retry_after: float) -> None:
        self.conversations.block(conversation_id, self._clock() + retry_after)
