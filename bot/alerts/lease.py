"""Which process runs the alert jobs: a lease row in the database that moves if its holder dies.

Several bot processes may share one PostgreSQL database; each starts a scheduler, but only the
lease holder does any work. The holder renews the lease every ``ttl / 3``; if it dies, the lease
expires after ``ttl`` and the next process to ask takes it (the ``term`` goes up). The writes are
compare-and-set ``UPDATE``s plus an ``INSERT`` that can only succeed once, so they mean the same on
SQLite and PostgreSQL. Hosts are assumed to keep time with NTP: a skew far below ``ttl`` is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts.tables import alert_lease
from bot.storage.types import UTCDateTime

log = logging.getLogger(__name__)

LEASE_NAME = "alerts-scheduler"
# A released lease "expired" long ago, so any clock (even a rehearsal's --at in the past) may take it.
RELEASED = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class LeaseState:
    holder: str
    term: int
    expires_at: datetime


class Lease:
    def __init__(
        self,
        engine: AsyncEngine,
        holder: str,
        *,
        ttl: timedelta = timedelta(seconds=60),
        name: str = LEASE_NAME,
    ) -> None:
        self._engine = engine
        self.holder = holder
        self.ttl = ttl
        self.name = name
        self.valid_until: datetime | None = None
        self.term: int | None = None
        self._local = asyncio.Lock()

    def held(self, now: datetime) -> bool:
        """Whether this process may act now, by what it last wrote (no database round trip)."""
        return self.valid_until is not None and now < self.valid_until

    async def acquire(self, now: datetime) -> bool:
        """Take or renew the lease; False if another live process holds it."""
        async with self._local:  # the heartbeat and a job may ask at once
            term = await self._acquire(now)
        if term is None:
            self.valid_until = None
            return False
        if self.term != term:
            log.info("this process now runs the alert jobs (lease term %d)", term)
        self.term = term
        self.valid_until = now + self.ttl
        return True

    async def _acquire(self, now: datetime) -> int | None:
        # A write comes first so SQLite takes its write lock at once: a read that later turns into a
        # write is what deadlocks two SQLite connections. The UPDATE only matches if we hold the
        # lease or it has expired, so it is also the whole compare-and-set on PostgreSQL.
        c = alert_lease.c
        mine = c.holder == self.holder
        async with self._engine.begin() as conn:
            updated = await conn.execute(
                alert_lease.update()
                .where(c.name == self.name, sa.or_(mine, c.expires_at <= now))
                .values(
                    term=sa.case((mine, c.term), else_=c.term + 1),
                    acquired_at=sa.case((mine, c.acquired_at), else_=sa.literal(now, UTCDateTime)),
                    holder=self.holder,
                    expires_at=now + self.ttl,
                )
            )
            if updated.rowcount == 1:
                return int((await conn.execute(sa.select(c.term).where(c.name == self.name))).scalar_one())
            if (await conn.execute(sa.select(c.holder).where(c.name == self.name))).first() is not None:
                return None  # another process holds it and it has not expired
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        alert_lease.insert().values(
                            name=self.name,
                            holder=self.holder,
                            term=1,
                            acquired_at=now,
                            expires_at=now + self.ttl,
                        )
                    )
            except IntegrityError:
                return None  # another process created it a moment ago
            return 1

    async def release(self, now: datetime) -> None:
        """Hand the lease back at shutdown so another process need not wait for it to expire."""
        if self.valid_until is None:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                alert_lease.update()
                .where(alert_lease.c.name == self.name, alert_lease.c.holder == self.holder)
                .values(expires_at=RELEASED)
            )
        self.valid_until = None

    async def state(self) -> LeaseState | None:
        c = alert_lease.c
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(c.holder, c.term, c.expires_at).where(c.name == self.name))
            ).first()
        return LeaseState(*row) if row else None
