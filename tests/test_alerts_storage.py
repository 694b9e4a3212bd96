"""Alert storage on SQLite and (with TEST_DATABASE_URL) PostgreSQL: subscriptions, the ledger's
claims, recorded events, and the scheduler lease — including two processes racing for the same rows."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

import pytest

from bot.alerts.events import EventStore
from bot.alerts.lease import Lease
from bot.alerts.ledger import CLAIMED, FAILED, SENT, ClaimLost, Ledger, LedgerKey
from bot.alerts.sources import PostChange, SenderChange
from bot.alerts.subscriptions import Subscription, SubscriptionStore
from bot.storage.db import Database

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await database.open()
    yield database
    await database.close()


def key(
    conversation: str = "19:chan@thread.tacv2", version: str = "rung-30", kind: str = "countdown"
) -> LedgerKey:
    return LedgerKey("tenant-1", conversation, kind, "default-disable@2026-12-31", version)


def subscription(**overrides) -> Subscription:
    values = dict(
        tenant_id="tenant-1",
        conversation_id="19:chan@thread.tacv2;messageid=42",
        conversation_type="channel",
        kinds=("countdown", "mc"),
        lang="ja",
        timezone="Asia/Tokyo",
        send_time="09:00",
        created_by="admin",
        created_by_name="Aiko Tanaka",
    )
    values.update(overrides)
    return Subscription(**values)


async def test_subscriptions_save_update_deactivate_snooze(db):
    store = SubscriptionStore(db.engine)
    saved = await store.save(subscription(), NOW)
    assert saved.conversation_id == "19:chan@thread.tacv2" and saved.created_at == NOW
    later = NOW + timedelta(days=2)
    await store.save(subscription(kinds=("digest",), lang="en"), later)
    [sub] = await store.all()
    assert (sub.kinds, sub.lang, sub.created_at, sub.updated_at) == (("digest",), "en", NOW, later)
    assert await store.deactivate("tenant-1", "19:chan@thread.tacv2;messageid=7", "bot_removed", later)
    assert not await store.deactivate("tenant-1", "19:chan@thread.tacv2", "bot_removed", later)  # already
    assert await store.all(active_only=True) == []
    await store.snooze("tenant-1", "19:chan@thread.tacv2", "digest", later + timedelta(days=7), later)
    sub = await store.get("tenant-1", "19:chan@thread.tacv2")
    assert sub.snoozed_until("digest") == later + timedelta(days=7) and not sub.active
    assert sub.is_snoozed("digest", later) and not sub.is_snoozed("digest", later + timedelta(days=7))


async def test_a_key_is_claimed_once_and_settles_when_sent(db):
    ledger = Ledger(db.engine, "process-a")
    batch = await ledger.claim([key()], [{"rung": 30}], NOW)
    assert batch is not None
    assert await ledger.claim([key()], [{"rung": 30}], NOW) is None  # in flight
    await ledger.mark_sent(batch, "activity-1", NOW)
    assert await Ledger(db.engine, "process-b").claim([key()], [{}], NOW + timedelta(days=1)) is None
    [row] = await ledger.batch(batch)
    assert (row.state, row.activity_id, row.attempts, row.payload) == (SENT, "activity-1", 1, {"rung": 30})


async def test_a_failed_send_is_claimable_again_and_a_dead_claim_after_it_goes_stale(db):
    ledger = Ledger(db.engine, "process-a", stale_after=timedelta(minutes=5))
    batch = await ledger.claim([key()], [{}], NOW)
    await ledger.release(batch, "connector answered HTTP 500", NOW)
    [row] = await ledger.batch(batch)
    assert row.state == FAILED and row.last_error == "connector answered HTTP 500"
    again = await ledger.claim([key()], [{}], NOW)
    assert again is not None and again != batch

    # "process-a" dies holding the claim; another process may take it only once it is stale.
    other = Ledger(db.engine, "process-b", stale_after=timedelta(minutes=5))
    assert await other.claim([key()], [{}], NOW + timedelta(minutes=4)) is None
    taken = await other.claim([key()], [{}], NOW + timedelta(minutes=5))
    [row] = await other.batch(taken)
    assert (row.state, row.holder, row.attempts) == (CLAIMED, "process-b", 3)


async def test_only_a_claim_that_reached_the_connector_is_reclaimed_as_a_possible_duplicate(db, caplog):
    dead = Ledger(db.engine, "process-a", stale_after=timedelta(minutes=5))
    posted = await dead.claim([key(version="posted")], [{}], NOW)
    await dead.claim([key(version="never-posted")], [{}], NOW)
    await dead.mark_sending(posted, NOW)  # handed to the connector, then "process-a" died
    later = NOW + timedelta(minutes=6)
    other = Ledger(db.engine, "process-b", stale_after=timedelta(minutes=5))
    with caplog.at_level(logging.INFO, logger="bot.alerts.ledger"):
        assert await other.claim([key(version="never-posted")], [{}], later) is not None
        assert await other.claim([key(version="posted")], [{}], later) is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "posted" in warnings[0] and "may have been delivered" in warnings[0]
    with pytest.raises(ClaimLost):  # the dead process, were it only slow, must not send it now
        await dead.mark_sending(posted, later)
    assert await other.batch(posted) == []  # the claim changed hands under a new batch id


async def test_a_batch_is_claimed_whole_or_not_at_all(db):
    ledger = Ledger(db.engine, "process-a")
    done = await ledger.claim([key(version="fact-2")], [{}], NOW)
    await ledger.mark_sent(done, None, NOW)
    keys = [key(version="fact-1"), key(version="fact-2"), key(version="fact-3")]
    assert await ledger.claim(keys, [{}, {}, {}], NOW) is None
    states = await ledger.states(["countdown"], NOW - timedelta(days=1))
    assert set(states) == {key(version="fact-2")}  # nothing of the refused batch was left behind
    assert await ledger.claim([keys[0], keys[2]], [{}, {}], NOW) is not None


async def test_two_processes_racing_for_the_same_alerts_claim_each_exactly_once(database_url):
    first, second = Database(database_url), Database(database_url)
    await first.open()
    await second.open()
    try:
        a, b = Ledger(first.engine, "process-a"), Ledger(second.engine, "process-b")
        keys = [key(conversation=f"19:c{n}@thread.tacv2") for n in range(25)]

        async def claim_all(ledger: Ledger) -> list[str | None]:
            return [await ledger.claim([k], [{}], NOW) for k in keys]

        won_a, won_b = await asyncio.gather(claim_all(a), claim_all(b))
        winners = [(x is not None) + (y is not None) for x, y in zip(won_a, won_b)]
        assert winners == [1] * len(keys)
    finally:
        await first.close()
        await second.close()


async def test_lease_moves_only_when_its_holder_stops_renewing(db):
    a = Lease(db.engine, "process-a", ttl=timedelta(seconds=60))
    b = Lease(db.engine, "process-b", ttl=timedelta(seconds=60))
    assert await a.acquire(NOW) and a.held(NOW) and a.term == 1
    assert not await b.acquire(NOW) and not b.held(NOW)
    assert await a.acquire(NOW + timedelta(seconds=40))  # renewed
    assert not await b.acquire(NOW + timedelta(seconds=90))
    # process-a dies: no more renewals. The lease passes on once it has expired.
    assert await b.acquire(NOW + timedelta(seconds=100.001)) and b.term == 2
    assert not await a.acquire(NOW + timedelta(seconds=101))
    assert not a.held(NOW + timedelta(seconds=101))
    await b.release(NOW + timedelta(seconds=120))
    assert await a.acquire(NOW + timedelta(seconds=120)) and a.term == 3
    state = await a.state()
    assert state.holder == "process-a" and state.expires_at == NOW + timedelta(seconds=180)


async def test_lease_race_on_an_empty_table_has_one_winner(database_url):
    dbs = [Database(database_url) for _ in range(3)]
    for database in dbs:
        await database.open()
    try:
        leases = [Lease(database.engine, f"process-{n}") for n, database in enumerate(dbs)]
        results = await asyncio.gather(*(lease.acquire(NOW) for lease in leases))
        assert sorted(results) == [False, False, True]
    finally:
        for database in dbs:
            await database.close()


async def test_events_are_recorded_once_per_post_version_and_per_changed_sender_fact(db):
    events = EventStore(db.engine)
    change = PostChange("MC786329", "v5", {"en": "t"}, {"en": ["x"]})
    assert await events.record_post_changes([change, change], NOW) == 1
    assert await events.record_post_changes([change], NOW + timedelta(hours=1)) == 0

    new = SenderChange("Tenant-1", "Scanner@contoso.co.jp", "new", {"en": "printer"})
    assert await events.record_sender_changes([new], NOW) == 1
    assert await events.record_sender_changes([new], NOW) == 0  # same fact, same words
    gone = SenderChange("tenant-1", "scanner@contoso.co.jp", "gone", {"en": "quiet"})
    assert await events.record_sender_changes([gone], NOW) == 1
    assert await events.record_sender_changes([new], NOW) == 1  # back again: a new fact
    recorded = await events.recent(["sender"], NOW - timedelta(days=1))
    assert [(e.tenant_id, e.subject, e.version.split(":")[0]) for e in recorded] == [
        ("tenant-1", "scanner@contoso.co.jp", "1"),
        ("tenant-1", "scanner@contoso.co.jp", "2"),
        ("tenant-1", "scanner@contoso.co.jp", "3"),
    ]
