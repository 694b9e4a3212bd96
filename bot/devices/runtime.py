"""What the device feature keeps for the life of the app: its settings, the scanner and chat scans.

Built once in ``app.py`` (``open_devices``) after the Teams adapter exists, because scans report
progress through the ``Outbox``; handlers reach it as ``services.devices``. Without it (a bare
``Services``), ``runtime_of`` builds one without an outbox, and ``/scan`` then answers in the turn.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Coroutine

from bot.devices.config import DeviceSettings, device_settings, inventory_tenant
from bot.devices.outbox import Outbox
from bot.devices.scan import ChatScans, Scanner
from bot.devices.store import DeviceStore

log = logging.getLogger(__name__)


@dataclass
class DevicesRuntime:
    settings: DeviceSettings
    tenant_id: str
    scanner: Scanner
    outbox: Outbox | None = None
    chat_scans: ChatScans | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def store(self) -> DeviceStore:
        return self.scanner.store

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the turn has been answered (a big import), keeping a handle to wait or cancel."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("device background work failed", exc_info=task.exception())

    async def idle(self) -> None:
        """Wait for background work and a running chat scan (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
        if self.chat_scans is not None:
            await self.chat_scans.idle()

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
        if self.chat_scans is not None:
            await self.chat_scans.close()


def build_runtime(services: Any, outbox: Outbox | None = None) -> DevicesRuntime:
    """The runtime over ``services`` (settings, database, tenant source, clock)."""
    from cards.devices import build_scan_card

    settings = device_settings(services.settings)
    scanner = Scanner(
        engine=services.db.engine,
        tenant_id=inventory_tenant(services.settings),
        sign_ins=services.tenant.source.sign_ins,
        clock=services.clock,
        settings=settings,
    )
    chat = ChatScans(scanner, outbox, build_scan_card, demo=services.tenant.demo) if outbox is not None else None
    return DevicesRuntime(settings, scanner.tenant_id, scanner, outbox, chat)


def runtime_of(services: Any) -> DevicesRuntime:
    runtime = getattr(services, "devices", None)
    return runtime if isinstance(runtime, DevicesRuntime) else build_runtime(services)
