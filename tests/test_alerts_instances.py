"""Several bot processes on one database: the scheduler starts and stops with the app, one process
at a time does the work (the lease moves when its holder dies), and no alert is sent twice even when
two processes fan out the very same alerts at once. Runs on PostgreSQL too with TEST_DATABASE_URL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from activities import TENANT
from alerts_support import MovableClock, channel_reference, start_alert_bot

from bot.alerts import jobs
from bot.alerts.ledger import Ledger
from bot.alerts.scheduler import JOB_IDS, MISFIRE_GRACE_SECONDS, heartbeat
from bot.alerts.subscriptions import Subscription, SubscriptionStore
from bot.storage.conversations import ConversationRecord, ConversationStore

SUBSCRIBED = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
RUNG_30 = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)  # 09:00 in Tokyo
CHANNELS = [f"19:ch{n:02d}@thread.tacv2" for n in range(20)]


async def seed(engine, service_url: str) -> None:
    conversations, subscriptions = ConversationStore(engine), SubscriptionStore(engine)
    for cid in CHANNELS:
        await conversations.save(
            ConversationRecord(
                TENANT, cid, "channel", service_url, "28:bot", channel_reference(service_url, cid)
            ),
            SUBSCRIBED,
        )
        await subscriptions.save(
            Subscription(
                TENANT, cid, "channel", ("countdown",), "en", "Asia/Tokyo", "09:00", created_by="admin"
            ),
            SUBSCRIBED,
        )


async def test_the_scheduler_starts_and_stops_with_the_app(tmp_path, connector):
    clock = MovableClock(SUBSCRIBED)
    bot = await start_alert_bot(
        f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", clock, ALERTS_SCHEDULER="on", MC_POLL_MINUTES="15"
    )
    try:
        scheduler = bot.runtime.scheduler.scheduler
        assert scheduler.running and str(scheduler.timezone) == "UTC"
        found = {job.id: job for job in scheduler.get_jobs()}
        assert sorted(found) == sorted(JOB_IDS)
        for job in found.values():
            assert job.coalesce and job.misfire_grace_time == MISFIRE_GRACE_SECONDS and job.max_instances == 1
        assert found["alerts.mc"].trigger.interval == timedelta(minutes=15)
        assert "hour='0', minute='10'" in str(found["alerts.senders"].trigger)
        await heartbeat(bot.ctx)
        assert bot.ctx.lease.held(clock())
    finally:
        await bot.close()
    assert not scheduler.running
    state = await bot.ctx.lease.state()
    assert state.expires_at < clock()  # handed back at shutdown: the next process need not wait


async def test_one_process_works_at_a_time_and_the_lease_moves_when_it_dies(database_url, connector):
    clock_a, clock_b = MovableClock(SUBSCRIBED), MovableClock(SUBSCRIBED)
    a = await start_alert_bot(database_url, clock_a)
    b = await start_alert_bot(database_url, clock_b)
    try:
        await seed(a.services.db.engine, connector.url)
        connector.clear()
        clock_a.set(RUNG_30)
        clock_b.set(RUNG_30)
        result_a, result_b = await asyncio.gather(jobs.countdown_job(a.ctx), jobs.countdown_job(b.ctx))
        skipped = [r for r in (result_a, result_b) if r.skipped]
        worked = [r for r in (result_a, result_b) if not r.skipped]
        assert len(skipped) == 1 and len(worked) == 1 and worked[0].counts["sent"] == len(CHANNELS)
        assert sorted(m.conversation_id for m in connector.messages()) == CHANNELS
        holder, standby = (a, b) if result_a is worked[0] else (b, a)

        # The holder dies (no shutdown, no hand-back). Until its lease expires the other waits...
        await holder.close()  # the scheduler is off in these tests, so nothing hands its lease back
        standby.clock.advance(seconds=30)
        assert (await jobs.countdown_job(standby.ctx)).skipped
        # ...then takes over, and carries on with the next rung, each channel once.
        standby.clock.advance(seconds=31)
        assert not (await jobs.countdown_job(standby.ctx)).skipped
        assert standby.ctx.lease.term == 2
        standby.clock.set(datetime(2026, 12, 17, 0, 0, tzinfo=timezone.utc))
        assert (await jobs.countdown_job(standby.ctx)).counts["sent"] == len(CHANNELS)
        assert len(connector.messages()) == 2 * len(CHANNELS)
    finally:
        await a.close()
        await b.close()


async def test_two_processes_fanning_out_the_same_alerts_at_once_send_each_once(database_url, connector):
    clock = MovableClock(SUBSCRIBED)
    a = await start_alert_bot(database_url, clock)
    b = await start_alert_bot(database_url, clock)
    try:
        await seed(a.services.db.engine, connector.url)
        connector.clear()
        clock.set(RUNG_30)
        # Split brain: both believe they hold the lease (say, a clock jump), so both fan out.
        for bot in (a, b):
            bot.ctx.lease.valid_until = RUNG_30 + timedelta(minutes=1)
        due_a = await jobs.due_now(a.ctx, RUNG_30, ["countdown"])
        due_b = await jobs.due_now(b.ctx, RUNG_30, ["countdown"])
        assert len(due_a) == len(due_b) == len(CHANNELS)
        refs = await jobs.references(a.ctx, due_a)
        report_a, report_b = await asyncio.gather(
            a.ctx.deliverer.fan_out(
                due_a, refs, lambda due, batch: {"type": "AdaptiveCard", "version": "1.5", "body": []}
            ),
            b.ctx.deliverer.fan_out(
                due_b, refs, lambda due, batch: {"type": "AdaptiveCard", "version": "1.5", "body": []}
            ),
        )
        assert report_a.sent + report_b.sent == len(CHANNELS)
        assert sorted(m.conversation_id for m in connector.messages()) == CHANNELS
    finally:
        await a.close()
        await b.close()


async def test_after_a_crash_the_resume_job_finishes_the_fan_out_once_the_claims_go_stale(
    database_url, connector
):
    clock = MovableClock(SUBSCRIBED)
    bot = await start_alert_bot(database_url, clock)
    try:
        await seed(bot.services.db.engine, connector.url)
        connector.clear()
        # A process that died at 09:00 in Tokyo had claimed five rungs and handed one to the connector.
        dead = Ledger(bot.services.db.engine, "dead-process")
        owed = await jobs.due_now(bot.ctx, RUNG_30, ["countdown"])
        batches = await dead.claim_each([(due.keys[0], due.payloads[0]) for due in owed[:5]], RUNG_30)
        await dead.mark_sending(batches[0], RUNG_30)

        clock.set(RUNG_30 + timedelta(minutes=2))  # the new process has just started
        early = await jobs.resume_job(bot.ctx)
        assert early.counts.get("sent") == len(CHANNELS) - 5  # the dead process's claims still stand

        clock.set(RUNG_30 + bot.ctx.ledger.stale_after + timedelta(minutes=1))
        late = await jobs.resume_job(bot.ctx)
        assert late.counts.get("sent") == 5  # now they are stale: sent, the in-flight one included
        assert sorted(m.conversation_id for m in connector.messages()) == CHANNELS
        assert (await jobs.resume_job(bot.ctx)).due == 0  # nothing owed any more: nothing sent
    finally:
        await bot.close()
