"""Which process runs the alert jobs: a lease row in the database that moves if its holder dies.

Several bot processes may share one PostgreSQL database; each starts a scheduler, but only the
lease holder does any work. The holder renews the lease every ``ttl / 3``; if it dies, the lease
expires after ``ttl`` and the next process to ask takes it (the ``term`` goes up). The writes are
compare-and-set ``UPDATE``s plus an ``INSERT`` that can only succeed once, so they mean the same on
SQLite and PostgreSQL. Hosts are assumed to keep time with NTP: a skew far below ``ttl`` is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts.tables import alert_lease

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

    def held(self, now: datetime) -> bool:
        """Whether this process may act now, by what it last wrote (no database round trip)."""
        return self.valid_until is not None and now < self.valid_until

    async def acquire(self, now: datetime) -> bool:
        """Take or renew the lease; False if another live process holds it."""
        c = alert_lease.c
        expires = now + self.ttl
        async with self._engine.begin() as conn:
            current = (
                await conn.execute(sa.select(c.holder, c.term, c.expires_at).where(c.name == self.name))
            ).first()
            if current is None:
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            alert_lease.insert().values(
                                name=self.name,
                                holder=self.holder,
                                term=1,
                                acquired_at=now,
                                expires_at=expires,
                            )
                        )
                except IntegrityError:
                    self.valid_until = None
                    return False
                term = 1
            else:
                holder, term, expires_at = current
                if holder != self.holder and expires_at > now:
                    self.valid_until = None
                    return False
                new_term = term if holder == self.holder else term + 1
                updated = await conn.execute(
                    alert_lease.update()
                    .where(c.name == self.name, c.holder == holder, c.term == term)
                    .values(
                        holder=self.holder,
                        term=new_term,
                        expires_at=expires,
                        **({} if holder == self.holder else {"acquired_at": now}),
                    )
                )
                if updated.rowcount != 1:
                    self.valid_until = None
                    return False
                if holder != self.holder:
                    log.info(
                        "alerts lease taken over (term %d; the previous holder's lease had expired)", new_term
                    )
                term = new_term
        if self.term != term:
            log.info("this process now runs the alert jobs (lease term %d)", term)
        self.term = term
        self.valid_until = expires
        return True

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
