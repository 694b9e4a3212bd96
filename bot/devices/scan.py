"""Running discovery: one scan at a time per inventory, incremental, with progress and a result.

``Scanner.run`` is the whole job (lease, window, stream, merge, remember where it stopped) and is
what the command line, ``/scan`` and the daily sender alerts call. ``Scanner.start`` is the chat
edge of it: it posts a progress card, runs the scan in the background (a scan of a busy tenant takes
longer than a Teams turn may), updates that one message in place as sign-ins are read, and finally
replaces it with the result. A lease row in ``device_scans`` keeps two processes from scanning the
same tenant at once; a crashed holder's lease simply runs out.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Awaitable, Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.devices.config import DeviceSettings
from bot.devices.discovery import OVERLAP, Aggregator, DiscoveryResult, collect, from_stamp, plan_discovery, stamp
from bot.devices.outbox import Outbox
from bot.devices.store import DeviceStore
from bot.devices.tables import device_scans
from bot.turn import ConversationKey

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=30)
Localized = dict[str, str]


@dataclass(frozen=True)
class ScanState:
    cursor: datetime | None = None
    boundary: tuple[str, ...] = ()
    runs: int = 0
    lease_holder: str | None = None
    lease_until: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: str | None = None  # ok | failed
    events: int | None = None
    error: str | None = None


class ScanStateStore:
    def __init__(self, engine: AsyncEngine, tenant_id: str) -> None:
        self._engine = engine
        self.tenant_id = tenant_id

    async def get(self) -> ScanState:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(device_scans).where(device_scans.c.tenant_id == self.tenant_id))).mappings().first()
        if row is None:
            return ScanState()
        return ScanState(
            row["cursor"], tuple(row["boundary"] or ()), int(row["runs"] or 0), row["lease_holder"], row["lease_until"],
            row["started_at"], row["finished_at"], row["outcome"], row["events"], row["error"],
        )

    async def acquire(self, holder: str, now: datetime) -> bool:
        """Take the scan lease unless someone else holds a current one."""
        try:
            async with self._engine.begin() as conn:
                exists = (
                    await conn.execute(sa.select(device_scans.c.tenant_id).where(device_scans.c.tenant_id == self.tenant_id))
                ).first()
                if exists is None:
                    await conn.execute(device_scans.insert().values(tenant_id=self.tenant_id, runs=0))
        except sa.exc.IntegrityError:
            log.debug("scan state row created concurrently; the lease update below decides who scans")
        async with self._engine.begin() as conn:
            taken = await conn.execute(
                device_scans.update()
                .where(
                    device_scans.c.tenant_id == self.tenant_id,
                    sa.or_(device_scans.c.lease_until.is_(None), device_scans.c.lease_until < now),
                )
                .values(lease_holder=holder, lease_until=now + LEASE, started_at=now)
            )
        return taken.rowcount == 1

    async def release(self, holder: str, values: dict[str, Any]) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                device_scans.update()
                .where(device_scans.c.tenant_id == self.tenant_id, device_scans.c.lease_holder == holder)
                .values(lease_holder=None, lease_until=None, **values)
            )


@dataclass(frozen=True)
class ScanOutcome:
    """How one run ended: a result, a reason it failed (both languages), or "someone else is scanning"."""

    result: DiscoveryResult | None = None
    error: Localized | None = None
    busy: bool = False
    since: datetime | None = None
    until: datetime | None = None


def describe(error: BaseException) -> Localized:
    """The admin-facing reason: M365 errors say what to fix (licence, permission...), in both languages."""
    message = getattr(error, "message", None)
    if callable(message):
        try:
            return {"en": str(message("en")), "ja": str(message("ja"))}
        except Exception:  # noqa: BLE001 - fall back to the plain text below
            pass
    text = f"{type(error).__name__}: {str(error)[:300]}"
    return {"en": text, "ja": text}


SignIns = Callable[[datetime, datetime], AsyncIterator[dict[str, Any]]]
Progress = Callable[[int, str], Awaitable[None]]


@dataclass
class Scanner:
    engine: AsyncEngine
    tenant_id: str
    sign_ins: SignIns
    clock: Callable[[], datetime]
    settings: DeviceSettings
    progress_every: int = 1000

    @property
    def store(self) -> DeviceStore:
        return DeviceStore(self.engine, self.tenant_id)

    @property
    def state(self) -> ScanStateStore:
        return ScanStateStore(self.engine, self.tenant_id)

    def window(self, state: ScanState, now: datetime) -> tuple[datetime, datetime]:
        """From the last run's end (minus the overlap), or the retention window on the first run."""
        earliest = now - timedelta(days=self.settings.scan_days)
        since = max(earliest, state.cursor - OVERLAP) if state.cursor else earliest
        return since, now

    async def run(self, progress: Progress | None = None) -> ScanOutcome:
        holder = uuid.uuid4().hex
        states = self.state
        now = self.clock()
        if not await states.acquire(holder, now):
            return ScanOutcome(busy=True)
        state = await states.get()
        since, until = self.window(state, now)
        aggregator = Aggregator(
            skip_ids=frozenset(state.boundary),
            skip_before=stamp(state.cursor) if state.cursor else "",
            boundary_from=stamp(until - OVERLAP),
        )
        try:
            await collect(self.sign_ins, since, until, aggregator, progress, self.progress_every)
            result = await self._merge(aggregator, now)
        except asyncio.CancelledError:
            await states.release(holder, {"outcome": "failed", "error": "cancelled"})
            raise
        except Exception as error:  # noqa: BLE001 - the reason is shown to the admin and logged
            reason = describe(error)
            log.warning("sign-in scan failed after %d events: %s", aggregator.events, reason["en"])
            await states.release(holder, {"outcome": "failed", "error": reason["en"][:1000], "finished_at": self.clock()})
            return ScanOutcome(error=reason, since=since, until=until)
        await states.release(
            holder,
            {
                "outcome": "ok", "error": None, "cursor": until, "boundary": aggregator.boundary,
                "events": aggregator.events, "runs": state.runs + 1, "finished_at": self.clock(),
            },
        )
        log.info(
            "sign-in scan: %d events, %d (sender, IP) pairs, %d new devices, %d skipped, %d malformed",
            aggregator.events, len(aggregator.pairs), len(result.new_devices), aggregator.skipped, aggregator.malformed,
        )
        return ScanOutcome(result=result, since=since, until=until)

    async def _merge(self, aggregator: Aggregator, now: datetime) -> DiscoveryResult:
        store = self.store
        plan, records, result = plan_discovery(
            aggregator.pairs, await store.all(), await store.senders(), self.tenant_id, now,
            timedelta(days=self.settings.gone_days), aggregator.events,
        )
        async with store.begin() as conn:
            await store.apply(plan, now, conn)
            await store.upsert_senders(conn, records)
        return result


# ---------------------------------------------------------------- the chat edge of a scan


@dataclass(frozen=True)
class ScanView:
    """What the scan card shows at one moment."""

    state: str  # running | done | failed | busy
    events: int = 0
    oldest: datetime | None = None
    since: datetime | None = None
    until: datetime | None = None
    result: DiscoveryResult | None = None
    error: Localized | None = None
    demo: bool = False
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))


CardBuilder = Callable[[ScanView, str], dict[str, Any]]


@dataclass
class ChatScans:
    """Scans started from chat: one background task per inventory, progress shown in one message."""

    scanner: Scanner
    outbox: Outbox
    build_card: CardBuilder
    demo: bool = False
    throttle_seconds: float = 2.0
    monotonic: Callable[[], float] = time.monotonic
    _task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, conversation: ConversationKey, lang: str, tz: ZoneInfo) -> bool:
        """Post the progress card and scan in the background; False when a scan is already running."""
        if self.running:
            return False
        view = ScanView("running", demo=self.demo, tz=tz)
        activity_id = await self.outbox.post(conversation, self.build_card(view, lang))
        self._task = asyncio.create_task(self._scan(conversation, activity_id, lang, tz))
        return True

    async def _scan(self, conversation: ConversationKey, activity_id: str | None, lang: str, tz: ZoneInfo) -> None:
        last_update = self.monotonic()

        async def progress(events: int, oldest: str) -> None:
            nonlocal last_update
            if activity_id is None or self.monotonic() - last_update < self.throttle_seconds:
                return
            last_update = self.monotonic()
            view = ScanView("running", events, from_stamp(oldest) if oldest else None, demo=self.demo, tz=tz)
            await self._show(conversation, activity_id, view, lang)

        try:
            outcome = await self.scanner.run(progress)
        except Exception as error:  # noqa: BLE001 - the user gets the reason; the log the traceback
            log.exception("sign-in scan crashed")
            outcome = ScanOutcome(error=describe(error))
        if outcome.busy:
            view = ScanView("busy", demo=self.demo, tz=tz)
        elif outcome.error is not None:
            view = ScanView("failed", since=outcome.since, until=outcome.until, error=outcome.error, demo=self.demo, tz=tz)
        else:
            assert outcome.result is not None
            view = ScanView("done", outcome.result.events, since=outcome.since, until=outcome.until,
                            result=outcome.result, demo=self.demo, tz=tz)
        card = self.build_card(view, lang)
        if activity_id is not None:
            await self._show(conversation, activity_id, view, lang)
        else:
            await self.outbox.post(conversation, card)

    async def _show(self, conversation: ConversationKey, activity_id: str, view: ScanView, lang: str) -> None:
        try:
            await self.outbox.update(conversation, activity_id, self.build_card(view, lang))
        except Exception:  # noqa: BLE001 - a missed progress update must not stop the scan
            log.warning("could not update the scan progress message", exc_info=True)

    async def idle(self) -> None:
        """Wait until the running scan (if any) has finished and said so."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
