"""The alert jobs: countdown, Message Center watch, sender discovery and weekly digest.

Each job is a module-level coroutine ``job(ctx, now=None)`` that the scheduler, ``run-once`` and
the tests all call the same way. A job: takes (or renews) the lease, records what its source
reports (so nothing is lost if the process dies), asks the rules what is due, adds the data the
cards need, and hands the list to the fan-out. ``due_now`` is the same question without any side
effect, for ``alerts preview``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts import rules
from bot.alerts.config import AlertSettings
from bot.alerts.delivery import Deliverer, Report
from bot.alerts.events import MC, SENDER, EventStore
from bot.alerts.lease import Lease
from bot.alerts.ledger import Ledger
from bot.alerts.render import Marks, numbers_to_data, render_alert
from bot.alerts.rules import COUNTDOWN, DIGEST, MESSAGE_CENTER, SENDERS, Due
from bot.alerts.sources import ReadinessNumbers, Sources
from bot.alerts.subscriptions import Subscription, SubscriptionStore
from bot.clock import Clock
from bot.storage.conversations import ConversationRecord, ConversationStore
from bot.timeline import Timeline

log = logging.getLogger(__name__)


@dataclass
class AlertContext:
    """What the jobs work with; one per process (the scheduler, or one CLI run)."""

    engine: AsyncEngine
    timeline: Timeline
    sources: Sources
    settings: AlertSettings
    clock: Clock
    holder: str = field(default_factory=lambda: f"alerts-{uuid.uuid4().hex[:12]}")
    deliverer: Deliverer | None = None  # None: this context only previews
    stopping: bool = False
    running: set[asyncio.Task[Any]] = field(default_factory=set)  # scheduled jobs in progress
    # Polled but not yet recorded (the database was down), per job: recorded first on the next run.
    unrecorded: dict[str, list[Any]] = field(default_factory=dict)
    conversations: ConversationStore = field(init=False)
    subscriptions: SubscriptionStore = field(init=False)
    ledger: Ledger = field(init=False)
    events: EventStore = field(init=False)
    lease: Lease = field(init=False)

    def __post_init__(self) -> None:
        self.conversations = ConversationStore(self.engine)
        self.subscriptions = SubscriptionStore(self.engine)
        self.ledger = Ledger(self.engine, self.holder)
        self.events = EventStore(self.engine)
        self.lease = Lease(self.engine, self.holder)

    def may_send(self) -> bool:
        return not self.stopping and self.lease.held(self.clock())


@dataclass
class JobResult:
    job: str
    due: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    recorded: int = 0
    skipped: str | None = None  # why the job did nothing (another process holds the lease)

    def summary(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "job": self.job,
            "due": self.due,
            **{k: v for k, v in self.counts.items() if v},
        }
        if self.recorded:
            line["recorded"] = self.recorded
        if self.skipped:
            line["skipped"] = self.skipped
        return line


# --- what is due (no side effects) ---------------------------------------------------------


async def _open_key(ctx: AlertContext, kinds: Sequence[str], now: datetime) -> Callable[[Any], bool]:
    states = await ctx.ledger.states(kinds, now - rules.LEDGER_HORIZON)
    return lambda key: ctx.ledger.is_open(states.get(key), now)


async def _due(ctx: AlertContext, kind: str, now: datetime, subs: Sequence[Subscription]) -> list[Due]:
    open_key = await _open_key(ctx, [kind], now)
    if kind == COUNTDOWN:
        return [due for sub in subs for due in rules.countdown_due(sub, ctx.timeline, now, open_key)]
    if kind == DIGEST:
        return [due for sub in subs for due in rules.digest_due(sub, now, open_key)]
    events = await ctx.events.recent([MC if kind == MESSAGE_CENTER else SENDER], now - rules.EVENT_HORIZON)
    if kind == MESSAGE_CENTER:
        return [due for sub in subs for due in rules.message_center_due(sub, events, now, open_key)]
    return [due for sub in subs for due in rules.senders_due(sub, events, now, open_key)]


async def due_now(ctx: AlertContext, now: datetime, kinds: Sequence[str] = rules.KINDS_ORDER) -> list[Due]:
    """Everything that would be sent at ``now``, without polling sources, claiming or sending."""
    subs = await ctx.subscriptions.all(active_only=True)
    found: list[Due] = []
    for kind in kinds:
        found.extend(await _due(ctx, kind, now, subs))
    return found


# --- adding what the cards show ------------------------------------------------------------


class _Numbers:
    """Readiness numbers per tenant, asked once per run; a failing source means "no numbers"."""

    def __init__(self, sources: Sources) -> None:
        self._sources = sources
        self._cache: dict[str, ReadinessNumbers | None] = {}

    async def get(self, tenant_id: str) -> ReadinessNumbers | None:
        if tenant_id not in self._cache:
            try:
                self._cache[tenant_id] = await self._sources.readiness.numbers(tenant_id)
            except Exception:  # noqa: BLE001 - an alert without numbers beats no alert
                log.warning("readiness numbers unavailable for a tenant; the alert says so", exc_info=True)
                self._cache[tenant_id] = None
        return self._cache[tenant_id]


def _base(sub: Subscription) -> dict[str, Any]:
    return {"lang": sub.lang, "tz": sub.timezone}


def _next_countdown(ctx: AlertContext, sub: Subscription, now: datetime) -> tuple[Any, Any, int] | None:
    today = now.astimezone(sub.tz).date()
    milestone = ctx.timeline.next_countdown(today)
    if milestone is None or milestone.when is None:
        return None
    target = milestone.when.last_day()
    return milestone, target, (target - today).days


async def _enrich(ctx: AlertContext, due: Due, now: datetime, numbers: _Numbers) -> Due:
    sub = due.subscription
    base = _base(sub)
    if due.kind == COUNTDOWN:
        [payload] = due.payloads
        target = date.fromisoformat(payload["target_day"])
        days = (target - now.astimezone(sub.tz).date()).days
        enriched = {
            **payload,
            **base,
            "days_left": days,
            "numbers": numbers_to_data(await numbers.get(sub.tenant_id)),
        }
        return replace(due, payloads=(enriched,))
    if due.kind == MESSAGE_CENTER:
        upcoming = _next_countdown(ctx, sub, now)
        extra = {"countdown_milestone": upcoming[0].id if upcoming else None}
        return replace(due, payloads=tuple({**p, **base, **extra} for p in due.payloads))
    if due.kind == SENDERS:
        return replace(due, payloads=tuple({**p, **base} for p in due.payloads))
    [payload] = due.payloads
    week_ago = now - timedelta(days=7)
    events = await ctx.events.recent([MC, SENDER], week_ago)
    posts = [e.payload.get("title") or {"en": e.subject} for e in events if e.kind == MC]
    senders = Counter(
        str(e.payload.get("change")) for e in events if e.kind == SENDER and e.tenant_id == sub.tenant_id
    )
    upcoming = _next_countdown(ctx, sub, now)
    enriched = {
        **payload,
        **base,
        "milestone": upcoming[0].id if upcoming else None,
        "target_day": upcoming[1].isoformat() if upcoming else None,
        "days_left": upcoming[2] if upcoming else None,
        "numbers": numbers_to_data(await numbers.get(sub.tenant_id)),
        "posts": posts,
        "sender_counts": dict(senders),
    }
    return replace(due, payloads=(enriched,))


# --- the jobs ------------------------------------------------------------------------------


async def references(ctx: AlertContext, dues: Sequence[Due]) -> dict[tuple[str, str], ConversationRecord]:
    """The stored conversation references the fan-out needs, by (tenant, conversation)."""
    tenants = {due.tenant_id for due in dues}
    found: dict[tuple[str, str], ConversationRecord] = {}
    for tenant in tenants:
        for record in await ctx.conversations.all(tenant):
            found[(record.tenant_id, record.conversation_id)] = record
    return found


def _render(ctx: AlertContext) -> Callable[[Due, str], dict[str, Any]]:
    return lambda due, batch: render_alert(due.kind, due.payloads, batch, ctx.timeline, Marks())


async def _deliver(ctx: AlertContext, job: str, kind: str, now: datetime, recorded: int = 0) -> JobResult:
    subs = await ctx.subscriptions.all(active_only=True)
    dues = await _due(ctx, kind, now, subs)
    if not dues:
        return JobResult(job, 0, {}, recorded)
    numbers = _Numbers(ctx.sources)
    dues = [await _enrich(ctx, due, now, numbers) for due in dues]
    assert ctx.deliverer is not None, "this context only previews"
    report: Report = await ctx.deliverer.fan_out(dues, await references(ctx, dues), _render(ctx))
    result = JobResult(job, len(dues), report.counts(), recorded)
    log.info("alerts job %s: %s", job, result.summary())
    return result


async def _leased(ctx: AlertContext, job: str, now: datetime) -> JobResult | None:
    """None when this process may run the job; else the result saying why it did not."""
    await ctx.ledger.flush()
    if not await ctx.lease.acquire(now):
        log.debug("alerts job %s skipped: another process holds the lease", job)
        return JobResult(job, skipped="lease held by another process")
    return None


async def countdown_job(ctx: AlertContext, now: datetime | None = None) -> JobResult:
    """Hourly: the ladder rung that is due for each subscription, at its local send time."""
    now = now or ctx.clock()
    return await _leased(ctx, "countdown", now) or await _deliver(ctx, "countdown", COUNTDOWN, now)


async def digest_job(ctx: AlertContext, now: datetime | None = None) -> JobResult:
    """Hourly check; a digest goes out on Monday at each subscription's local send time."""
    now = now or ctx.clock()
    return await _leased(ctx, "digest", now) or await _deliver(ctx, "digest", DIGEST, now)


async def _record_then_deliver(
    ctx: AlertContext,
    job: str,
    kind: str,
    now: datetime,
    poll: Callable[[], Awaitable[Sequence[Any]]],
    record: Callable[[Sequence[Any], datetime], Awaitable[int]],
) -> JobResult:
    """Record what a source says changed, then alert everyone not yet told.

    A poll consumes what it returns, so changes are kept in memory until the database has them.
    """
    skipped = await _leased(ctx, job, now)
    if skipped:
        return skipped
    changes = [*ctx.unrecorded.get(job, ()), *await poll()]
    ctx.unrecorded[job] = changes
    recorded = await record(changes, now) if changes else 0
    ctx.unrecorded[job] = []
    return await _deliver(ctx, job, kind, now, recorded)


async def mc_job(ctx: AlertContext, now: datetime | None = None) -> JobResult:
    """Every MC_POLL_MINUTES: new versions of watched posts."""
    return await _record_then_deliver(
        ctx, "mc", MESSAGE_CENTER, now or ctx.clock(),
        ctx.sources.message_center.poll, ctx.events.record_post_changes,
    )


async def senders_job(ctx: AlertContext, now: datetime | None = None) -> JobResult:
    """Daily: sender facts that changed, one card per conversation with what is new to it."""
    return await _record_then_deliver(
        ctx, "senders", SENDERS, now or ctx.clock(),
        ctx.sources.senders.changes, ctx.events.record_sender_changes,
    )


async def resume_job(ctx: AlertContext, now: datetime | None = None) -> JobResult:
    """Once after start, when a dead process's claims have gone stale: deliver whatever is owed.

    A fan-out a crash cut short would otherwise wait for the next run of its job (an hour for
    countdowns, a day for senders); this polls no source, it only sends what the ledger and the
    recorded events say is still owed, so running it changes nothing when nothing was cut short.
    """
    now = now or ctx.clock()
    skipped = await _leased(ctx, "resume", now)
    if skipped:
        return skipped
    due, counts = 0, Counter[str]()
    for job, kind in (("countdown", COUNTDOWN), ("mc", MESSAGE_CENTER), ("senders", SENDERS), ("digest", DIGEST)):
        result = await _deliver(ctx, job, kind, now)
        due += result.due
        counts.update(result.counts)
    return JobResult("resume", due, dict(counts))


JOBS: dict[str, Callable[[AlertContext, datetime | None], Awaitable[JobResult]]] = {
    "countdown": countdown_job,
    "mc": mc_job,
    "senders": senders_job,
    "digest": digest_job,
}


async def run_all(ctx: AlertContext, now: datetime | None = None) -> list[JobResult]:
    """Every job once (``alerts run-once``); one job failing does not stop the others."""
    results = []
    for name, job in JOBS.items():
        try:
            results.append(await job(ctx, now))
        except Exception as error:  # noqa: BLE001 - reported per job; the next run catches up
            log.exception("alerts job %s failed this run; the next run catches up", name)
            results.append(JobResult(name, skipped=f"failed: {type(error).__name__}"))
    return results
