"""A bounded map that forgets the least recently used entry first.

Both caches of long-lived things (connector clients per serviceUrl, database reads per key) need
the same bound so a stream of new keys cannot grow memory without end; they differ only in what
they keep and when an entry is stale, which stays with them.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruMap(Generic[K, V]):
    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The entry (now the most recently used), or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, *, keep_existing: bool = False) -> V:
        """Store ``value`` (or, with ``keep_existing``, keep an entry stored meanwhile); returns what is stored."""
        stored = self._entries.setdefault(key, value) if keep_existing else value
        self._entries[key] = stored
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return stored
