"""Tenant data as handlers and jobs use it: fresh when possible, the last good copy when not.

Every fetch is bounded by a timeout so a slow Graph never holds up an answer in Teams; a failure is
recorded next to the last good data, and cards show both.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.mc.store import McStore
from bot.mc.sync import McUpdate, sync_message_center
from bot.tenant.health import ExchangeHealth, parse_health
from bot.tenant.posture import Posture, parse_posture
from bot.tenant.snapshots import Snapshot, SnapshotStore
from bot.tenant.source import TenantSource

log = logging.getLogger(__name__)
T = TypeVar("T")

POSTURE_MAX_AGE = timedelta(minutes=30)
HEALTH_MAX_AGE = timedelta(minutes=10)


def describe_error(error: BaseException, timeout: float | None = None) -> str:
    """A reason an admin can act on, kept in both languages when the error offers them."""
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return json.dumps(
            {"en": f"no answer within {timeout or '?'} s", "ja": f"{timeout or '?'} 秒以内に応答がありませんでした"},
            ensure_ascii=False,
        )
    message = getattr(error, "message", None)
    if callable(message):
        try:
            return json.dumps({"en": message("en"), "ja": message("ja")}, ensure_ascii=False)
        except Exception:  # noqa: BLE001 - fall back to the plain text below
            pass
    return f"{type(error).__name__}: {str(error)[:300]}"


def reason_text(reason: str | None, lang: str) -> str:
    if not reason:
        return ""
    if reason.startswith("{"):
        try:
            pair = json.loads(reason)
            return str(pair.get(lang) or pair.get("en") or reason)
        except ValueError:
            pass
    return reason


@dataclass(frozen=True)
class Section(Generic[T]):
    """One piece of tenant data with its freshness."""

    snapshot: Snapshot
    value: T | None
    demo: bool


class TenantData:
    def __init__(
        self,
        source: TenantSource,
        engine: AsyncEngine,
        clock: Callable[[], datetime],
        *,
        watchlist: frozenset[str] = frozenset(),
        fetch_timeout: float = 8.0,
    ) -> None:
        self.source = source
        self.snapshots = SnapshotStore(engine)
        self.mc = McStore(engine)
        self.clock = clock
        self.watchlist = watchlist
        self.fetch_timeout = fetch_timeout

    @property
    def demo(self) -> bool:
        return self.source.kind == "demo"

    async def _section(
        self, key: str, fetch: Callable[[], Awaitable[Any]], max_age: timedelta, parse: Callable[[Any], T]
    ) -> Section[T]:
        async def bounded() -> Any:
            return await asyncio.wait_for(fetch(), self.fetch_timeout)

        snapshot = await self.snapshots.fresh(
            f"{key}:{self.source.tenant_id}",
            self.source.kind,
            bounded,
            self.clock(),
            max_age,
            lambda error: describe_error(error, self.fetch_timeout),
        )
        value = parse(snapshot.data) if snapshot.available and snapshot.data is not None else None
        return Section(snapshot, value, self.demo)

    async def posture(self) -> Section[Posture]:
        return await self._section("posture", self.source.posture, POSTURE_MAX_AGE, parse_posture)

    async def health(self) -> Section[ExchangeHealth]:
        return await self._section("health", self.source.exchange_health, HEALTH_MAX_AGE, parse_health)

    async def sync_mc(self) -> list[McUpdate]:
        """Poll the Message Center once; failures are recorded (and shown) but never raised."""
        key = f"mc-sync:{self.source.tenant_id}"
        now = self.clock()
        try:
            updates = await asyncio.wait_for(
                sync_message_center(self.source, self.mc, now, self.watchlist), self.fetch_timeout * 4
            )
        except Exception as error:  # noqa: BLE001 - the watch must keep its schedule whatever happens
            reason = describe_error(error, self.fetch_timeout * 4)
            log.warning("Message Center sync failed: %s", reason)
            await self.snapshots.fail(key, self.source.kind, reason, now)
            return []
        await self.snapshots.put(key, self.source.kind, {"new_versions": len(updates)}, now)
        return updates

    async def mc_sync_state(self) -> Snapshot | None:
        return await self.snapshots.get(f"mc-sync:{self.source.tenant_id}")

    async def ensure_mc(self) -> None:
        """Answer /mc on a fresh install: run the first sync if none has run yet."""
        if await self.mc_sync_state() is None:
            await self.sync_mc()
