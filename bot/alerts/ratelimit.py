"""Teams' sending limits, kept on our side so the connector rarely has to say 429.

Per bot per conversation: 7 messages in 1 s, 8 in 2 s, 60 in 30 s, 1800 in an hour; per app per
tenant: 50 requests a second (msteams-docs ``bots/how-to/rate-limit.md``). ``SlidingWindows`` is the
pure bookkeeping (times in, seconds to wait out); ``RateLimiter`` is the thin async edge that sleeps.
Each window is padded by a small ``margin`` because the connector counts arrivals, and arrival
times wobble by the network's jitter.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Awaitable, Callable, Hashable


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: float


CONVERSATION_WINDOWS: tuple[Window, ...] = (Window(7, 1.0), Window(8, 2.0), Window(60, 30.0), Window(1800, 3600.0))
TENANT_WINDOWS: tuple[Window, ...] = (Window(50, 1.0),)
DEFAULT_MARGIN = 0.02


class SlidingWindows:
    """Send times per key within the longest window; answers "how long until the next send may go"."""

    def __init__(self, windows: tuple[Window, ...], margin: float = DEFAULT_MARGIN) -> None:
        self.windows = tuple(Window(w.limit, w.seconds + margin) for w in windows)
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


class RateLimiter:
    """Waits until a message to (tenant, conversation) fits both the conversation and tenant limits."""

    def __init__(
        self,
        conversation_windows: tuple[Window, ...] = CONVERSATION_WINDOWS,
        tenant_windows: tuple[Window, ...] = TENANT_WINDOWS,
        *,
        margin: float = DEFAULT_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.conversations = SlidingWindows(conversation_windows, margin)
        self.tenants = SlidingWindows(tenant_windows, margin)
        self._clock = clock
        self._sleep = sleep

    async def acquire(self, tenant_id: str, conversation_id: str) -> float:
        """Take one send slot; returns how long we waited for it."""
        started = self._clock()
        while True:
            now = self._clock()
            delay = max(self.conversations.wait(conversation_id, now), self.tenants.wait(tenant_id, now))
            if delay <= 0:
                self.conversations.record(conversation_id, now)
                self.tenants.record(tenant_id, now)
                return now - started
            await self._sleep(delay)

    def throttled(self, conversation_id: str, retry_after: float) -> None:
        self.conversations.block(conversation_id, self._clock() + retry_after)
