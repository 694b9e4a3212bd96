"""The short read cache in front of /status's database reads (``bot.storage.readcache``), on SQLite and
(with TEST_DATABASE_URL) PostgreSQL.

Two ``Database`` objects on one database stand for two processes: the bot, and the operator CLI.
Time is a clock the test moves, never a sleep.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from activities import ADMIN_AAD, personal_message
from bot.devices.model import DeviceStatus
from bot.mc.store import McStore
from bot.storage.db import Database
from bot.storage.readcache import DEFAULT_TTL, ReadCache
from bot.tenant.snapshots import SnapshotStore
from bot.tenant.tables import snapshots
from card_checks import card_text
from m365_fakes import service_message

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def databases(database_url):
    """(the bot's database, another process's database), both open on the same data."""
    bot, other = Database(database_url), Database(database_url)
    await bot.open()
    await other.open()
    yield bot, other
    await other.close()
    await bot.close()


async def test_snapshots_within_the_ttl_come_from_memory(databases):
    bot, other = databases
    clock = Clock()
    cached = SnapshotStore(bot.engine, clock=clock)
    elsewhere = SnapshotStore(other.engine)
    await elsewhere.put("health:t", "demo", {"v": 1}, NOW)
    assert (await cached.get("health:t")).data == {"v": 1}

    await elsewhere.put("health:t", "demo", {"v": 2}, NOW)
    clock.advance(DEFAULT_TTL - 0.1)
    assert (await cached.get("health:t")).data == {"v": 1}  # served from memory: no read reached the database
    clock.advance(0.2)
    assert (await cached.get("health:t")).data == {"v": 2}  # older than the TTL: read again


async def test_this_processs_own_writes_show_at_once(databases):
    bot, _ = databases
    clock = Clock()
    store = SnapshotStore(bot.engine, clock=clock)
    assert await store.get("posture:t") is None
    await store.put("posture:t", "demo", {"v": 1}, NOW)
    assert (await store.get("posture:t")).data == {"v": 1}
    failed = await store.fail("posture:t", "demo", "timeout", NOW + timedelta(minutes=1))
    assert failed.stale and failed.data == {"v": 1}
    assert (await store.get("posture:t")).error == "timeout"

    # Any commit through the bot's engine counts, not only SnapshotStore's own methods.
    async with bot.engine.begin() as conn:
        await conn.execute(snapshots.update().where(snapshots.c.key == "posture:t").values(data={"v": 3}))
    assert (await store.get("posture:t")).data == {"v": 3}


async def test_a_read_that_overlaps_a_write_is_answered_but_not_kept(databases):
    bot, _ = databases
    store = SnapshotStore(bot.engine)
    await store.put("health:t", "demo", {"v": 1}, NOW)
    cache: ReadCache[str, Any] = ReadCache(bot.engine, clock=Clock())
    read_started, write_done = asyncio.Event(), asyncio.Event()
    loads = 0

    async def read() -> Any:
        nonlocal loads
        loads += 1
        async with bot.engine.connect() as conn:
            value = await conn.scalar(sa.select(snapshots.c.data).where(snapshots.c.key == "health:t"))
        return value

    async def slow_read() -> Any:
        value = await read()
        read_started.set()
        await write_done.wait()
        return value

    reader = asyncio.create_task(cache.get("health:t", slow_read))
    await read_started.wait()
    await store.put("health:t", "demo", {"v": 2}, NOW)
    write_done.set()
    assert await reader == {"v": 1}  # it read before the write
    assert await cache.get("health:t", read) == {"v": 2}  # ...and was not kept as the current answer
    assert await cache.get("health:t", read) == {"v": 2}
    assert loads == 2


async def test_the_cache_keeps_at_most_max_entries(databases):
    bot, _ = databases
    cache: ReadCache[str, str] = ReadCache(bot.engine, max_entries=2, clock=Clock())
    loads: list[str] = []

    async def load(key: str) -> str:
        loads.append(key)
        return key.upper()

    for key in ("a", "b", "a", "c", "a", "b"):
        assert await cache.get(key, lambda: load(key)) == key.upper()
    assert loads == ["a", "b", "c", "b"]  # "b" was the least recently used when "c" came


async def test_latest_message_center_version_is_cached_and_own_additions_show_at_once(databases):
    bot, other = databases
    clock = Clock()
    cached = McStore(bot.engine, clock=clock)
    elsewhere = McStore(other.engine)
    first = service_message("MC786329", title="v1", last_modified=datetime(2026, 1, 27, tzinfo=timezone.utc))
    second = service_message("MC786329", title="v2", last_modified=datetime(2026, 3, 1, tzinfo=timezone.utc))
    third = service_message("MC786329", title="v3", last_modified=datetime(2026, 4, 1, tzinfo=timezone.utc))

    assert await cached.latest("mc786329") is None
    assert await elsewhere.add(first, NOW, "graph") is not None
    clock.advance(DEFAULT_TTL)
    assert (await cached.latest("MC786329")).post.title == "v1"

    await elsewhere.add(second, NOW, "graph")
    assert (await cached.latest("MC786329")).post.title == "v1"  # another process's version waits for the TTL
    clock.advance(DEFAULT_TTL)
    assert (await cached.latest("MC786329")).post.title == "v2"

    await cached.add(third, NOW, "graph")
    assert (await cached.latest("MC786329")).post.title == "v3"  # ours shows at once


def counts(status_text: str) -> tuple[int, int, int]:
    """(devices, still need work, done) from the status card's devices section."""
    found = re.search(r"(\d+) devices: (\d+) still need work, (\d+) migrated", status_text)
    assert found, status_text
    return int(found[1]), int(found[2]), int(found[3])


async def test_status_shows_the_bots_own_device_changes_at_once(make_bot, connector):
    bot = await make_bot(env={"ADMIN_USER_IDS": ADMIN_AAD})
    await bot.post(personal_message("/status", connector.url))
    assert "No devices in the inventory yet" in card_text(connector.cards()[0])

    await bot.post(personal_message("/scan", connector.url, aad=ADMIN_AAD))  # fills the inventory
    await bot.services.devices.chat_scans.idle()
    total = await bot.services.devices.store().count()
    assert total > 0
    connector.clear()
    await bot.post(personal_message("/status", connector.url))
    before = counts(card_text(connector.cards()[0]))
    assert before[0] == total and before[2] == 0

    store = bot.services.devices.store()
    [device, *_] = await store.all()
    await store.update(device.id, {"status": DeviceStatus.RETIRED}, "test", NOW)
    connector.clear()
    await bot.post(personal_message("/status", connector.url))
    assert counts(card_text(connector.cards()[0])) == (total, before[1] - 1, 1)
