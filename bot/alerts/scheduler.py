"""When the alert jobs run: an APScheduler 3 ``AsyncIOScheduler`` started and stopped with the app.

Every process starts one; only the lease holder does any work (each job renews or checks the
lease first, and a heartbeat keeps it while idle). Times are UTC; jobs have fixed ids,
``replace_existing``, ``coalesce`` (a backlog runs once) and a misfire grace time. Local send
times are the rules' business, so the countdown and digest checks simply run hourly. Shortly
after start every job runs once to catch up on what came due while the process was down.
A job that fails (the database is down, say) is logged and catches up on its next run.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts.config import AlertSettings, alert_settings
from bot.alerts.delivery import CardSender, Deliverer
from bot.alerts.jobs import JOBS, AlertContext, Clock, resume_job
from bot.alerts.ratelimit import RateLimiter
from bot.alerts.sources import Sources, default_sources
from bot.timeline import Timeline

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 15 * 60
JOB_IDS = ("alerts.lease", "alerts.countdown", "alerts.mc", "alerts.senders", "alerts.digest", "alerts.resume")
SCHEDULED = {**JOBS, "resume": resume_job}


def build_context(
    engine: AsyncEngine,
    timeline: Timeline,
    sources: Sources,
    settings: AlertSettings,
    clock: Clock,
    sender: CardSender | None,
    *,
    limiter: RateLimiter | None = None,
) -> AlertContext:
    """The jobs' context; with no sender it can only preview."""
    ctx = AlertContext(engine, timeline, sources, settings, clock)
    if sender is not None:
        ctx.deliverer = Deliverer(
            ledger=ctx.ledger,
            subscriptions=ctx.subscriptions,
            sender=sender,
            limiter=limiter or RateLimiter(),
            clock=clock,
            timeout=settings.send_timeout,
            concurrency=settings.concurrency,
            in_flight=settings.in_flight,
            may_send=ctx.may_send,
        )
    return ctx


async def run_scheduled(ctx: AlertContext, name: str) -> None:
    """What APScheduler calls: one job, its failure logged, never raised into the scheduler."""
    task = asyncio.current_task()
    if task is not None:
        ctx.running.add(task)
    try:
        if not ctx.stopping:
            await SCHEDULED[name](ctx, None)
    except Exception as error:  # noqa: BLE001 - the boundary for scheduled work
        log.exception(
            "alerts job %s failed this run (%s); it catches up on the next run",
            name,
            type(error).__name__,
        )
    finally:
        if task is not None:
            ctx.running.discard(task)


async def heartbeat(ctx: AlertContext) -> None:
    """Keep (or try to take) the lease while idle, so another process's death is noticed."""
    task = asyncio.current_task()
    if task is not None:
        ctx.running.add(task)
    try:
        if not ctx.stopping:
            await ctx.lease.acquire(ctx.clock())
    except Exception as error:  # noqa: BLE001 - database down: we simply do not hold it
        log.warning("alerts lease heartbeat failed (%s)", type(error).__name__)
    finally:
        if task is not None:
            ctx.running.discard(task)


class AlertScheduler:
    def __init__(self, ctx: AlertContext) -> None:
        self.ctx = ctx
        self.scheduler = AsyncIOScheduler(
            timezone=timezone.utc,
            job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS, "max_instances": 1},
        )

    def start(self) -> None:
        """Register the jobs and start; needs the running loop (call inside ``cleanup_ctx``)."""
        settings: AlertSettings = self.ctx.settings
        now = datetime.now(timezone.utc)
        first = now + timedelta(seconds=settings.startup_delay)
        ttl = self.ctx.lease.ttl.total_seconds()
        add = self.scheduler.add_job
        add(
            heartbeat,
            IntervalTrigger(seconds=ttl / 3),
            args=[self.ctx],
            id="alerts.lease",
            replace_existing=True,
            next_run_time=now,
        )
        # Minutes past the hour are spread a little so several bots don't hit the connector at :00.
        minute = random.Random(self.ctx.holder).randrange(1, 5)
        add(
            run_scheduled,
            CronTrigger(minute=minute),
            args=[self.ctx, "countdown"],
            id="alerts.countdown",
            replace_existing=True,
            next_run_time=first,
        )
        add(
            run_scheduled,
            IntervalTrigger(minutes=settings.mc_poll_minutes),
            args=[self.ctx, "mc"],
            id="alerts.mc",
            replace_existing=True,
            next_run_time=first + timedelta(seconds=5),
        )
        at = settings.senders_at_utc
        add(
            run_scheduled,
            CronTrigger(hour=at.hour, minute=at.minute),
            args=[self.ctx, "senders"],
            id="alerts.senders",
            replace_existing=True,
        )
        add(
            run_scheduled,
            CronTrigger(minute=minute + 2),
            args=[self.ctx, "digest"],
            id="alerts.digest",
            replace_existing=True,
            next_run_time=first + timedelta(seconds=10),
        )
        # A process that died mid-fan-out left claims that go stale after ``stale_after``: finish
        # that fan-out then, not at the next hourly (or daily) run.
        add(
            run_scheduled,
            DateTrigger(run_date=now + self.ctx.ledger.stale_after + timedelta(seconds=30)),
            args=[self.ctx, "resume"],
            id="alerts.resume",
            replace_existing=True,
        )
        self.scheduler.start()
        log.info(
            "alert scheduler started (only the lease holder sends; Message Center checked every %d min)",
            settings.mc_poll_minutes,
        )

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking work, let messages in flight finish (up to ``grace`` s), hand the lease back."""
        self.ctx.stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        running = [task for task in self.ctx.running if not task.done()]
        if running:
            _, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        try:
            await self.ctx.lease.release(self.ctx.clock())
        except Exception as error:  # noqa: BLE001 - it expires on its own
            log.warning(
                "could not hand the alerts lease back (%s); it expires by itself", type(error).__name__
            )


class AlertRuntime:
    """The alerts side of a running bot: the jobs' context, and the scheduler if this process runs one."""

    def __init__(self, ctx: AlertContext, scheduler: AlertScheduler | None) -> None:
        self.ctx = ctx
        self.scheduler = scheduler

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()


async def start_alerts(services: Any, sender: CardSender) -> AlertRuntime:
    """Build the alert jobs for the app and start their scheduler (unless ALERTS_SCHEDULER=off)."""
    settings = alert_settings(services.settings)
    ctx = build_context(
        services.db.engine, services.timeline, default_sources(services), settings, services.clock, sender
    )
    scheduler = AlertScheduler(ctx) if settings.scheduler else None
    if scheduler is not None:
        scheduler.start()
    else:
        log.info("alert scheduler off in this process (ALERTS_SCHEDULER=off)")
    return AlertRuntime(ctx, scheduler)
