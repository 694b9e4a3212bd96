"""Reading what /check needs about one sender from the tenant: the thin async edge of ``check.py``.

Every read runs at once, each bounded by the tenant's fetch timeout so the answer reaches Teams in
time. A read that fails becomes ``Unavailable`` with the admin-facing reason the access layer gives
(``M365Error.message``: which permission or licence is missing, what timed out), so one missing
permission shows as one open line on the card rather than an error in place of the card.
The organisation's settings come from the cached posture (``TenantData.posture``), which /status and
/posture share.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.diagnostics.check import CheckFacts, InventoryEntry, Unavailable, msg
from bot.diagnostics.inventory import inventory_lookup
from bot.diagnostics.smtp_replies import Localized
from bot.m365.errors import M365Error
from bot.settings import Settings
from bot.tenant.posture import Posture
from bot.tenant.service import Section, TenantData, reason_text

log = logging.getLogger(__name__)
T = TypeVar("T")

SIGN_IN_DAYS = 30  # what Entra ID P1/P2 keeps (facts §2)
MAX_SIGN_INS = 1_000


@dataclass(frozen=True)
class Gathered:
    """The facts for ``check.evaluate``, plus the organisation section for its freshness line."""

    facts: CheckFacts
    org: Section[Posture]


def unavailable(error: BaseException, timeout: float) -> Unavailable:
    if isinstance(error, M365Error):
        return Unavailable(Localized(error.message("en"), error.message("ja")))
    return Unavailable(msg("diag.check.timeout", seconds=f"{timeout:g}"))


async def bounded(read: Awaitable[T], timeout: float) -> T | Unavailable:
    """``read``'s result, or why there is none; other exceptions are bugs and reach the turn's error handler."""
    try:
        return await asyncio.wait_for(read, timeout)
    except (TimeoutError, M365Error) as error:
        log.info("check: a read failed: %s", error)
        return unavailable(error, timeout)


async def collect(events: AsyncIterator[dict[str, Any]], limit: int = MAX_SIGN_INS) -> list[dict[str, Any]]:
    """The newest ``limit`` events; stopping early closes the pager, so no further page is fetched."""
    found: list[dict[str, Any]] = []
    async for event in events:
        found.append(event)
        if len(found) >= limit:
            break
    return found


def org_settings(section: Section[Posture]) -> dict[str, Any] | Unavailable:
    snapshot = section.snapshot
    if not snapshot.available or not isinstance(snapshot.data, dict):
        reason = snapshot.error
        return Unavailable(Localized(reason_text(reason, "en") or "—", reason_text(reason, "ja") or "—"))
    return snapshot.data


async def read_inventory(engine: Any, settings: Settings, address: str) -> Sequence[InventoryEntry] | Unavailable:
    lookup = await inventory_lookup(engine, settings)
    if lookup is None:
        return Unavailable(msg("diag.check.inventory.not_built"))
    return await lookup.devices_for(address)


async def gather(tenant: TenantData, engine: Any, settings: Settings, address: str, now: datetime) -> Gathered | None:
    """Everything about ``address``; None when Entra ID has no such user (the caller says so)."""
    source = tenant.source
    timeout = tenant.fetch_timeout
    since = now - timedelta(days=SIGN_IN_DAYS)
    org_task = asyncio.ensure_future(tenant.posture())
    inventory_task = asyncio.ensure_future(read_inventory(engine, settings, address))
    try:
        user, mailbox, exchange_user, mfa, sign_ins = await asyncio.gather(
            bounded(source.user(address), timeout),
            bounded(source.cas_mailbox(address), timeout),
            bounded(source.exchange_user(address), timeout),
            bounded(source.per_user_mfa(address), timeout),
            bounded(collect(source.user_sign_ins(address, since, now)), timeout),
        )
        org, inventory = await org_task, await inventory_task
    finally:
        for task in (org_task, inventory_task):
            task.cancel()  # a no-op once done; stops them if a read above raised
    if user is None:
        return None
    facts = CheckFacts(
        upn=address,
        user=user,
        mailbox=mailbox,
        exchange_user=exchange_user,
        mfa_state=mfa,
        org=org_settings(org),
        sign_ins=sign_ins,
        inventory=inventory,
        window_days=SIGN_IN_DAYS,
        demo=tenant.demo,
    )
    return Gathered(facts, org)
