"""A few seconds of memory in front of database reads that every ``/status`` repeats.

``/status`` reads the same handful of rows for every message (tenant snapshots, the newest
Message Center version, the device inventory). Under load those reads were a large share of the
time per message, while the rows change a few times an hour. A ``ReadCache`` keeps each answer for
``ttl`` seconds (5 by default) and forgets *everything* the moment this process commits a write
through the same engine, so a change the bot makes itself (an import, an edit, a fetched snapshot)
shows on the very next message.

Writes from elsewhere (another process such as the operator CLI, or another engine in this
process) are not seen until the entry is older than ``ttl``: that is the price of not asking the
database, and it is bounded by ``ttl``.

Correctness under concurrency: every entry records the engine's write *generation* when its load
started, and is only served while the generation is unchanged. The generation moves when a write
transaction starts to commit and again when its connection goes back to the pool (after the
commit has landed), so a read that overlapped a commit can never be served as fresh afterwards.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Generic, Hashable, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.lru import LruMap

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DEFAULT_TTL = 5.0
_WROTE = "readcache.wrote"


class _WriteWatch:
    """Counts this process's commits on one engine (one listener pair per engine, however many caches)."""

    def __init__(self, engine: Engine) -> None:
        self.generation = 0
        self.shared: dict[str, ReadCache[Any, Any]] = {}
        event.listen(engine, "commit", self._committing)
        event.listen(engine, "checkin", self._checked_in)

    def _committing(self, conn: Connection) -> None:
        self.generation += 1
        conn.info[_WROTE] = True

    def _checked_in(self, dbapi_connection: Any, record: Any) -> None:
        info = getattr(record, "info", None)
        if info is not None and info.pop(_WROTE, False):
            self.generation += 1


_watches: weakref.WeakKeyDictionary[Engine, _WriteWatch] = weakref.WeakKeyDictionary()


def write_watch(engine: AsyncEngine) -> _WriteWatch:
    sync_engine = engine.sync_engine
    watch = _watches.get(sync_engine)
    if watch is None:
        watch = _watches[sync_engine] = _WriteWatch(sync_engine)
    return watch


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    generation: int
    loaded_at: float


class ReadCache(Generic[K, V]):
    """Answers of ``load()`` by key, for at most ``ttl`` seconds and never across a write of this process.

    ``clock`` is monotonic seconds (injectable for tests). Values are shared between callers, so
    they must be treated as read-only (frozen dataclasses, or data nobody mutates).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl: float = DEFAULT_TTL,
        max_entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._watch = write_watch(engine)
        self._ttl = ttl
        self._clock = clock
        self._entries: LruMap[K, _Entry[V]] = LruMap(max_entries)

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        entry = self._entries.get(key)
        generation = self._watch.generation
        if entry is not None and entry.generation == generation and self._young(entry):
            return entry.value
        started = self._clock()
        value = await load()
        if self._watch.generation == generation and self._ttl > 0:
            self._entries.put(key, _Entry(value, generation, started))
        return value

    def _young(self, entry: _Entry[V]) -> bool:
        return self._clock() - entry.loaded_at < self._ttl


def shared_cache(engine: AsyncEngine, name: str) -> ReadCache[Any, Any]:
    """The engine's one cache called ``name``, for readers that have no long-lived object to keep it on."""
    watch = write_watch(engine)
    cache = watch.shared.get(name)
    if cache is None:
        cache = watch.shared[name] = ReadCache(engine)
    return cache
