"""What the device feature keeps for the life of the app: its settings, the scanner and chat scans.

Built once in ``app.py`` (``open_devices``) after the Teams adapter exists, because scans report
progress through the ``Outbox``; handlers reach it as ``services.devices``. Without it (a bare
``Services``), ``runtime_of`` builds one without an outbox, and ``/scan`` then answers in the turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.devices.config import DeviceSettings, device_settings, inventory_tenant
from bot.devices.outbox import Outbox
from bot.devices.scan import ChatScans, Scanner
from bot.devices.store import DeviceStore


@dataclass
class DevicesRuntime:
    settings: DeviceSettings
    tenant_id: str
    scanner: Scanner
    outbox: Outbox | None = None
    chat_scans: ChatScans | None = None

    def store(self) -> DeviceStore:
        return self.scanner.store

    async def close(self) -> None:
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
