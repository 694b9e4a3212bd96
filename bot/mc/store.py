"""Every version of every watched Message Center post we have seen, never overwritten.

A version is identified by its content hash, so fetching the same text again stores nothing, and a
real edit by Microsoft (even one that keeps ``lastModifiedDateTime``) is a new row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.mc.post import PostVersion, normalize_post
from bot.storage.readcache import DEFAULT_TTL, ReadCache
from bot.tenant.tables import mc_versions


@dataclass(frozen=True)
class StoredVersion:
    post: PostVersion
    fetched_at: datetime
    source: str
    raw: Mapping[str, Any]


_PARSED: dict[tuple[str, str], PostVersion] = {}


def _cached_version(post_id: str, content_hash: str, raw: Mapping[str, Any], fetched_at: datetime, source: str) -> StoredVersion:
    """Versions never change once stored, so each is parsed (HTML and all) once per process."""
    key = (post_id, content_hash)
    post = _PARSED.get(key)
    if post is None:
        post = _PARSED[key] = normalize_post(raw)
    return StoredVersion(post, fetched_at, source, raw)


def _ordered() -> sa.Select[Any]:
    # Graph's lastModifiedDateTime orders versions; fetch time breaks ties and covers posts without it.
    return sa.select(mc_versions).order_by(
        mc_versions.c.post_id, mc_versions.c.last_modified, mc_versions.c.fetched_at
    )


class McStore:
    """Message Center versions. ``latest`` (read by every /status) is cached briefly
    (``bot.storage.readcache``): a version this process adds shows at once, one added by another
    process within ``cache_ttl`` seconds."""

    def __init__(
        self, engine: AsyncEngine, *, cache_ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._engine = engine
        self._latest: ReadCache[str, StoredVersion | None] = ReadCache(engine, ttl=cache_ttl, clock=clock)

    async def add(self, raw: Mapping[str, Any], fetched_at: datetime, source: str) -> StoredVersion | None:
        """Store ``raw`` as a new version; None when this exact content is already stored."""
        post = normalize_post(raw)
        async with self._engine.begin() as conn:
            exists = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(mc_versions)
                .where(mc_versions.c.post_id == post.id, mc_versions.c.content_hash == post.content_hash)
            )
            if exists:
                return None
            await conn.execute(
                mc_versions.insert().values(
                    post_id=post.id,
                    content_hash=post.content_hash,
                    title=post.title,
                    last_modified=post.last_modified,
                    fetched_at=fetched_at,
                    source=source,
                    raw=dict(raw),
                )
            )
        return StoredVersion(post, fetched_at, source, raw)

    async def versions(self, post_id: str) -> list[StoredVersion]:
        """Oldest first."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_ordered().where(mc_versions.c.post_id == post_id.upper()))).mappings().all()
        return [
            _cached_version(row["post_id"], row["content_hash"], row["raw"], row["fetched_at"], row["source"])
            for row in rows
        ]

    async def latest(self, post_id: str) -> StoredVersion | None:
        """The newest version only: what /status needs, without reading the whole history."""
        post_id = post_id.upper()
        return await self._latest.get(post_id, lambda: self._read_latest(post_id))

    async def _read_latest(self, post_id: str) -> StoredVersion | None:
        query = (
            sa.select(mc_versions)
            .where(mc_versions.c.post_id == post_id)
            .order_by(mc_versions.c.last_modified.desc(), mc_versions.c.fetched_at.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return _cached_version(row["post_id"], row["content_hash"], row["raw"], row["fetched_at"], row["source"])

    async def post_ids(self) -> list[str]:
        async with self._engine.connect() as conn:
            return list(
                (await conn.execute(sa.select(mc_versions.c.post_id).distinct().order_by(mc_versions.c.post_id))).scalars()
            )

    async def newest_modified(self) -> datetime | None:
        """The cursor for incremental sync: the newest lastModifiedDateTime we hold."""
        async with self._engine.connect() as conn:
            return await conn.scalar(sa.select(sa.func.max(mc_versions.c.last_modified)))
