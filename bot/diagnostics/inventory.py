"""The seam between /check and the device inventory: which devices send as this address, and their path.

``InventoryLookup`` is all /check needs. ``DeviceStoreLookup`` implements it over the inventory that
``bot/devices/`` keeps in the database (``DeviceStore``, keyed by ``inventory_tenant``), asking
``bot.devices.classify`` for each device's path (the admin's choice, else the recommendation), so
/check and /device never disagree. ``inventory_lookup`` returns None when that inventory can't be
used (its tables not migrated yet, or the feature absent); the check card then says so. Whatever
the devices feature changes stays behind this one class.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot.diagnostics.check import InventoryEntry, msg
from bot.diagnostics.smtp_replies import Localized
from bot.settings import Settings

log = logging.getLogger(__name__)


class InventoryLookup(Protocol):
    async def devices_for(self, sender: str) -> Sequence[InventoryEntry]:
        """Every device that sends as ``sender`` (case-insensitive), empty when none does."""
        ...


def _pair(raw: Mapping[str, str] | None) -> Localized | None:
    return Localized(raw["en"], raw["ja"]) if raw else None


def kind_label(kind: str) -> Localized:
    return msg(f"diag.kind.{kind}") if kind in ("printer_mfp", "scanner", "application", "service") else msg("diag.kind.unknown")


class DeviceStoreLookup:
    """The database inventory of ``bot/devices/`` for one tenant."""

    def __init__(self, store: Any) -> None:
        self.store = store

    async def devices_for(self, sender: str) -> Sequence[InventoryEntry]:
        from bot.devices.classify import classify
        from bot.devices.migration import PATH_LABELS
        from bot.devices.model import normalize_upn

        wanted = normalize_upn(sender)
        entries = []
        for device in await self.store.all():
            if device.sender != wanted:
                continue
            classified = classify(device)
            entries.append(
                InventoryEntry(
                    name=device.name,
                    kind=kind_label(device.kind.value),
                    path=_pair(PATH_LABELS[classified.path]),
                    ready=device.done,
                    note=_pair(classified.recommendation.reason),
                )
            )
        return entries


async def inventory_lookup(engine: Any, settings: Settings) -> InventoryLookup | None:
    """The database inventory of the tenant the bot reads, or None when it can't be used."""
    try:
        from bot.devices.config import inventory_tenant
        from bot.devices.store import DeviceStore
    except ImportError:
        log.info("device inventory: bot.devices is not available")
        return None
    store = DeviceStore(engine, inventory_tenant(settings))
    try:
        await store.count()
    except SQLAlchemyError:
        log.info("device inventory: its tables are not set up in this database")
        return None
    return DeviceStoreLookup(store)
