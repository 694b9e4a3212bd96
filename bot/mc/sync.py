"""Incremental Message Center sync: fetch what changed, keep watched posts, store new versions.

Each call returns the versions that are new to us, with the diff against the version before, so
alerts can say what changed. The very first sync is a baseline (``initial``): it fills history and
must not be announced as news.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.mc.diff import PostDiff, diff_versions
from bot.mc.post import PostVersion, normalize_post
from bot.mc.store import McStore
from bot.mc.watch import is_watched
from bot.tenant.source import TenantSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class McUpdate:
    post: PostVersion
    previous: PostVersion | None
    diff: PostDiff | None
    fetched_at: datetime
    initial: bool


async def sync_message_center(
    source: TenantSource, store: McStore, now: datetime, extra_ids: frozenset[str] = frozenset()
) -> list[McUpdate]:
    cursor = await store.newest_modified()
    initial = cursor is None and not await store.post_ids()
    raws = await source.service_messages(cursor)
    updates: list[McUpdate] = []
    for raw in raws:
        try:
            post = normalize_post(raw)
        except ValueError as error:
            log.warning("skipping a Message Center post Graph sent in an unexpected shape: %s", error)
            continue
        if not is_watched(post, extra_ids):
            continue
        history = await store.versions(post.id)
        stored = await store.add(raw, now, source.kind)
        if stored is None:
            continue
        previous = history[-1].post if history else None
        diff = diff_versions(previous, post) if previous else None
        updates.append(McUpdate(post, previous, diff, now, initial))
    if updates:
        log.info("Message Center: %d new version(s)%s", len(updates), " (baseline)" if initial else "")
    return updates
