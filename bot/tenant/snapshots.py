"""The last good copy of each piece of tenant data, and the reason it is stale when a fetch fails.

Cards show each section with the time it was fetched; when Graph or Exchange fails, the bot keeps
answering from the last good copy and says since when and why it is stale.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.readcache import DEFAULT_TTL, ReadCache
from bot.tenant.tables import snapshots

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    key: str
    source: str
    data: Any
    fetched_at: datetime | None
    error: str | None = None
    error_at: datetime | None = None

    @property
    def stale(self) -> bool:
        """A failure newer than the data: the data is the last good copy, not the current state."""
        return self.error is not None and (self.fetched_at is None or (self.error_at or self.fetched_at) >= self.fetched_at)

    @property
    def available(self) -> bool:
        return self.fetched_at is not None


class SnapshotStore:
    """Snapshots by key. Reads are cached briefly (``bot.storage.readcache``): this process's own
    ``put``/``fail`` show at once, a snapshot written by another process within ``cache_ttl`` seconds."""

    def __init__(
        self, engine: AsyncEngine, *, cache_ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._engine = engine
        self._cache: ReadCache[str, Snapshot | None] = ReadCache(engine, ttl=cache_ttl, clock=clock)

    async def get(self, key: str) -> Snapshot | None:
        return await self._cache.get(key, lambda: self._read(key))

    async def _read(self, key: str) -> Snapshot | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(snapshots).where(snapshots.c.key == key))).mappings().first()
        return Snapshot(**row) if row else None

    async def _upsert(self, key: str, values: dict[str, Any]) -> None:
        async with self._engine.begin() as conn:
            updated = await conn.execute(snapshots.update().where(snapshots.c.key == key).values(**values))
            if updated.rowcount == 0:
                await conn.execute(snapshots.insert().values(key=key, **values))

    async def put(self, key: str, source: str, data: Any, now: datetime) -> Snapshot:
        await self._upsert(key, {"source": source, "data": data, "fetched_at": now, "error": None, "error_at": None})
        return Snapshot(key, source, data, now)

    async def fail(self, key: str, source: str, reason: str, now: datetime) -> Snapshot:
        """Record a failed fetch without touching the last good data."""
        await self._upsert(key, {"source": source, "error": reason[:1000], "error_at": now})
        snapshot = await self.get(key)
        assert snapshot is not None
        return snapshot

    async def fresh(
        self,
        key: str,
        source: str,
        fetch: Callable[[], Awaitable[Any]],
        now: datetime,
        max_age: timedelta,
        describe_error: Callable[[BaseException], str],
    ) -> Snapshot:
        """The stored copy if younger than ``max_age``; otherwise fetch, and on failure keep the old copy."""
        current = await self.get(key)
        if current and current.fetched_at and not current.stale and now - current.fetched_at < max_age:
            return current
        try:
            data = await fetch()
        except Exception as error:  # noqa: BLE001 - any failure means "answer from the last good copy"
            reason = describe_error(error)
            log.warning("fetching %s failed, keeping the last good copy: %s", key, reason)
            return await self.fail(key, source, reason, now)
        return await self.put(key, source, data, now)
