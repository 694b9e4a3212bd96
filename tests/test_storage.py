"""Storage on SQLite and (with TEST_DATABASE_URL) PostgreSQL: migrations and conversation references."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.storage.conversations import ConversationRecord, ConversationStore
from bot.storage.db import Database
from bot.storage.migrations import MIGRATIONS, Migration, migrate

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def record(conversation_id: str = "19:chan@thread.tacv2", **overrides) -> ConversationRecord:
    values = dict(
        tenant_id="tenant-1",
        conversation_id=conversation_id,
        conversation_type="channel",
        service_url="https://smba.trafficmanager.net/jp/",
        bot_id="28:bot",
        reference={"conversation": {"id": conversation_id}, "serviceUrl": "https://smba.trafficmanager.net/jp/"},
        team_id="19:team@thread.tacv2",
        channel_id="19:chan@thread.tacv2",
    )
    values.update(overrides)
    return ConversationRecord(**values)


async def test_open_migrates_once_and_again_is_a_no_op(database_url):
    db = Database(database_url)
    assert await db.open() == [m.version for m in MIGRATIONS]
    await db.close()
    again = Database(database_url)
    assert await again.open() == []
    async with again.engine.connect() as conn:
        versions = (await conn.execute(sa.text("SELECT version FROM schema_version"))).scalars().all()
    assert versions == [m.version for m in MIGRATIONS]
    assert await again.healthy()
    await again.close()


async def test_concurrent_starts_apply_each_migration_once(database_url):
    dbs = [Database(database_url) for _ in range(3)]
    results = await asyncio.gather(*(db.open() for db in dbs))
    assert sorted(v for applied in results for v in applied) == [m.version for m in MIGRATIONS]
    for db in dbs:
        await db.close()


async def test_a_failing_migration_leaves_nothing_behind(database_url):
    db = Database(database_url)
    await db.open()

    def broken(conn):
        conn.execute(sa.text("CREATE TABLE half_done (id INTEGER)"))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        async with db.engine.begin() as conn:
            await conn.run_sync(migrate, (*MIGRATIONS, Migration(99, "broken", broken)))
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        versions = (await conn.execute(sa.text("SELECT version FROM schema_version"))).scalars().all()
    assert "half_done" not in tables
    assert 99 not in versions
    await db.close()


async def test_a_newer_database_is_refused(database_url):
    db = Database(database_url)
    await db.open()
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO schema_version (version, description, applied_at) VALUES (999, 'future', :at)"),
            {"at": NOW},
        )
    await db.close()
    with pytest.raises(RuntimeError, match="newer than this code knows"):
        await Database(database_url).open()


async def test_conversation_save_update_delete(database_url):
    db = Database(database_url)
    await db.open()
    store = ConversationStore(db.engine)
    assert await store.save(record("19:chan@thread.tacv2;messageid=123"), NOW)
    assert not await store.save(record("19:chan@thread.tacv2;messageid=456"), NOW)  # unchanged: no write
    [saved] = await store.all()
    assert saved.conversation_id == "19:chan@thread.tacv2"
    assert saved.installed_at == NOW and saved.installed_at.tzinfo is not None

    later = NOW + timedelta(days=1)
    assert await store.save(record(service_url="https://smba.trafficmanager.net/emea/"), later)
    fetched = await store.get("tenant-1", "19:chan@thread.tacv2")
    assert fetched.service_url.endswith("/emea/")
    assert fetched.installed_at == NOW and fetched.updated_at == later

    # A second process (new store, same database) sees the same rows.
    other = ConversationStore(db.engine)
    assert [r.conversation_id for r in await other.all("tenant-1")] == ["19:chan@thread.tacv2"]
    assert await other.delete("tenant-1", "19:chan@thread.tacv2;messageid=9")
    assert await store.all() == []
    assert not await store.delete("tenant-1", "19:chan@thread.tacv2")
    await db.close()


async def test_naive_datetimes_are_refused(database_url):
    db = Database(database_url)
    await db.open()
    with pytest.raises(Exception, match="naive datetime"):
        await ConversationStore(db.engine).save(record(), datetime(2026, 11, 23))
    await db.close()
