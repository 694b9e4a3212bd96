"""The device inventory as a source for proactive alerts (``bot.alerts.sources``' seams).

``InventoryReadiness`` gives the countdown card its numbers: senders still on Basic auth and, of
those, how many stop at the default-disable. ``InventorySenderChanges`` gives the daily sender alert
its facts: senders discovery flagged new or gone, and device status changes from the audit trail;
in the bot process it first runs an incremental sign-in scan, so the daily alert job is also the
daily discovery. Plug them in with ``device_sources(services)`` in ``bot.alerts.sources.default_sources``.

The inventory belongs to the one Microsoft 365 tenant the bot reads; every Teams tenant the bot
serves (``ALLOWED_TENANT_IDS`` decides which) sees it, as /status and /readiness do. Sender facts are
therefore addressed to each tenant the bot has a conversation in.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Sequence

from bot.alerts.sources import ReadinessNumbers, SenderChange, SenderChangeKind
from bot.devices.config import inventory_tenant
from bot.devices.cutoff import cutoff_report
from bot.devices.model import DeviceStatus, SenderFlag
from bot.devices.store import DeviceStore
from bot.i18n import format_date, t
from bot.storage.conversations import ConversationStore
from bot.tenant.posture import Posture, parse_posture
from bot.tenant.snapshots import SnapshotStore

log = logging.getLogger(__name__)

STATUS_LOOKBACK = timedelta(days=2)


async def current_posture(services: Any) -> Posture | None:
    """Fresh posture in the bot; the last good copy where there is no tenant source (the alerts CLI)."""
    tenant = getattr(services, "tenant", None)
    if tenant is not None:
        return (await tenant.posture()).value
    from bot.tenant.source import demo_tenant_id

    settings = services.settings
    key = settings.m365.tenant_id if settings.m365 is not None else demo_tenant_id()
    snapshot = await SnapshotStore(services.db.engine).get(f"posture:{key}")
    return parse_posture(snapshot.data) if snapshot and snapshot.data else None


def _store(services: Any) -> DeviceStore:
    return DeviceStore(services.db.engine, inventory_tenant(services.settings))


class InventoryReadiness:
    def __init__(self, services: Any) -> None:
        self._services = services

    async def numbers(self, tenant_id: str) -> ReadinessNumbers | None:
        devices = await _store(self._services).all()
        if not devices:
            return None
        report = cutoff_report(devices, await current_posture(self._services))
        return ReadinessNumbers(basic_auth_senders=report.basic_senders, break_at_cutoff=report.breaking_senders)


def _pair(key: str, **values: object) -> dict[str, str]:
    return {lang: t(key, lang, **values) for lang in ("en", "ja")}


class InventorySenderChanges:
    def __init__(self, services: Any, *, scan: bool = True) -> None:
        self._services = services
        self._scan = scan

    async def _discover(self) -> None:
        """An incremental scan when this process has a tenant source; failures only cost freshness."""
        runtime = getattr(self._services, "devices", None)
        if not self._scan or runtime is None:
            return
        outcome = await runtime.scanner.run()
        if outcome.error is not None:
            log.warning("daily sender discovery failed: %s", outcome.error["en"])

    async def changes(self) -> Sequence[SenderChange]:
        await self._discover()
        services = self._services
        store = _store(services)
        facts: list[tuple[str, SenderChangeKind, dict[str, str]]] = []
        for sender in await store.senders():
            if sender.flag is SenderFlag.NEW:
                facts.append((sender.upn, "new", _pair("devices.alert.new")))
            elif sender.flag is SenderFlag.GONE and sender.last_seen is not None:
                facts.append((sender.upn, "gone", {lang: t("devices.alert.gone", lang, when=format_date(sender.last_seen.date(), lang))
                                                   for lang in ("en", "ja")}))
        now: datetime = services.clock()
        for device, entry in await store.audit_since(now - STATUS_LOOKBACK, ("status",)):
            if device is None or entry.new is None:
                continue
            try:
                new = DeviceStatus(entry.new)
            except ValueError:
                continue
            facts.append((device.sender, "status", {
                lang: t("devices.alert.status", lang, name=device.name, status=t(f"devices.status.{new.value}", lang))
                for lang in ("en", "ja")}))
        if not facts:
            return ()
        tenants = sorted({record.tenant_id for record in await ConversationStore(services.db.engine).all()})
        return tuple(SenderChange(tenant, upn, change, description) for tenant in tenants for upn, change, description in facts)


def device_sources(services: Any) -> tuple[InventoryReadiness, InventorySenderChanges]:
    return InventoryReadiness(services), InventorySenderChanges(services)
