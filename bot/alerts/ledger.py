"""The alert ledger: every alert is claimed in the database before it is sent and marked after.

A row is keyed by (tenant, conversation, kind, subject, version) — e.g. a countdown rung, a Message
Center post version, one sender fact — and rows sent together as one message share a ``batch``.
The claim is one transaction of compare-and-set writes, so two processes (or two runs) can never
both own a key; a claim left behind by a dead process becomes claimable again after
``stale_after``. A claim moves to ``sending`` just before its message is handed to the connector
and to ``sent`` when the connector answers, so after a crash the ledger tells apart what was only
claimed (never posted: sent again, no duplicate) from what was in flight (maybe delivered: sent
again with a warning). That in-flight message is the only way an alert can go out twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.alerts.tables import alert_ledger
from bot.storage.conversations import base_conversation_id

log = logging.getLogger(__name__)

CLAIMED, SENDING, SENT, FAILED, GONE = "claimed", "sending", "sent", "failed", "gone"
SETTLED = frozenset({SENT, GONE})
HELD = (CLAIMED, SENDING)  # owned by a live sender, until the claim goes stale


class ClaimLost(Exception):
    """Our claim was taken over (we were presumed dead): the message must not be sent by us."""


class _Taken(Exception):
    """One key of a batch is not claimable: roll the whole claim back."""


@dataclass(frozen=True)
class LedgerKey:
    tenant_id: str
    conversation_id: str
    kind: str
    subject: str
    version: str

    def short(self) -> str:
        return f"{self.subject}/{self.version}"


@dataclass(frozen=True)
class LedgerRow:
    id: int
    key: LedgerKey
    batch: str
    state: str
    holder: str
    attempts: int
    claimed_at: datetime
    sent_at: datetime | None
    activity_id: str | None
    payload: Mapping[str, Any]
    acked_by: str | None
    acked_by_name: str | None
    acked_at: datetime | None
    last_error: str | None


def _row(raw: Mapping[Any, Any]) -> LedgerRow:
    key = LedgerKey(raw["tenant_id"], raw["conversation_id"], raw["kind"], raw["subject"], raw["version"])
    return LedgerRow(
        id=int(raw["id"]),
        key=key,
        batch=raw["batch"],
        state=raw["state"],
        holder=raw["holder"],
        attempts=int(raw["attempts"]),
        claimed_at=raw["claimed_at"],
        sent_at=raw["sent_at"],
        activity_id=raw["activity_id"],
        payload=raw["payload"] or {},
        acked_by=raw["acked_by"],
        acked_by_name=raw["acked_by_name"],
        acked_at=raw["acked_at"],
        last_error=raw["last_error"],
    )


def _key_clause(key: LedgerKey) -> Any:
    c = alert_ledger.c
    return sa.and_(
        c.tenant_id == key.tenant_id,
        c.conversation_id == key.conversation_id,
        c.kind == key.kind,
        c.subject == key.subject,
        c.version == key.version,
    )


class Ledger:
    def __init__(
        self, engine: AsyncEngine, holder: str, *, stale_after: timedelta = timedelta(minutes=5)
    ) -> None:
        self._engine = engine
        self.holder = holder
        self.stale_after = stale_after
        # Sends the database did not hear about (it was down): written before anything else is claimed.
        self._unflushed: dict[str, tuple[str | None, datetime]] = {}
        self._flush_lock = asyncio.Lock()

    async def _insert_new(self, conn: AsyncConnection, values: dict[str, Any]) -> bool:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(alert_ledger)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=["tenant_id", "conversation_id", "kind", "subject", "version"]
            )
        )
        return (await conn.execute(statement)).rowcount == 1

    async def _claim_one(
        self, conn: AsyncConnection, key: LedgerKey, batch: str, payload: Mapping[str, Any], now: datetime
    ) -> bool:
        claim = {
            "batch": batch,
            "state": CLAIMED,
            "holder": self.holder,
            "claimed_at": now,
            "payload": dict(payload),
        }
        if await self._insert_new(conn, {**key.__dict__, **claim, "attempts": 1, "created_at": now}):
            return True
        current = (
            (
                await conn.execute(
                    sa.select(
                        alert_ledger.c.id,
                        alert_ledger.c.state,
                        alert_ledger.c.attempts,
                        alert_ledger.c.claimed_at,
                        alert_ledger.c.holder,
                    ).where(_key_clause(key))
                )
            )
            .mappings()
            .first()
        )
        if current is None or current["state"] in SETTLED:
            return False
        if current["state"] in HELD:
            if current["claimed_at"] > now - self.stale_after:
                return False  # someone is sending it right now
            if current["state"] == SENDING:
                log.warning(
                    "re-claiming %s alert %s for a conversation: it was being sent at %s by %s, which "
                    "never heard back (that process died mid-send), so it may have been delivered once",
                    key.kind,
                    key.short(),
                    current["claimed_at"].isoformat(),
                    current["holder"],
                )
            else:
                log.info(
                    "re-claiming %s alert %s: claimed by %s but never handed to the connector",
                    key.kind,
                    key.short(),
                    current["holder"],
                )
        updated = await conn.execute(
            alert_ledger.update()
            .where(
                alert_ledger.c.id == current["id"],
                alert_ledger.c.state == current["state"],
                alert_ledger.c.attempts == current["attempts"],
            )
            .values(**claim, attempts=current["attempts"] + 1, last_error=None)
        )
        return updated.rowcount == 1

    async def claim(
        self, keys: Sequence[LedgerKey], payloads: Sequence[Mapping[str, Any]], now: datetime
    ) -> str | None:
        """Claim every key or none; the batch id on success, None if any key is taken or settled."""
        await self.flush()
        batch = str(uuid.uuid4())
        try:
            async with self._engine.begin() as conn:
                for key, payload in zip(keys, payloads, strict=True):
                    if not await self._claim_one(conn, key, batch, payload, now):
                        raise _Taken
        except _Taken:
            return None
        return batch

    async def claim_each(
        self, items: Sequence[tuple[LedgerKey, Mapping[str, Any]]], now: datetime
    ) -> list[str | None]:
        """Claim single keys, each on its own, in one transaction: a batch id per claimed key, else None.

        A fan-out claims a few messages ahead this way instead of one transaction per message.
        """
        await self.flush()
        claimed: list[str | None] = []
        async with self._engine.begin() as conn:
            for key, payload in items:
                batch = str(uuid.uuid4())
                claimed.append(batch if await self._claim_one(conn, key, batch, payload, now) else None)
        return claimed

    async def mark_sending(self, batch: str, now: datetime) -> None:
        """The message is about to reach the connector: from here on a crash leaves it ambiguous.

        Raises ``ClaimLost`` if another holder took the claim over (it then sends it, not us).
        """
        async with self._engine.begin() as conn:
            result = await conn.execute(
                alert_ledger.update()
                .where(
                    alert_ledger.c.batch == batch,
                    alert_ledger.c.state.in_(HELD),
                    alert_ledger.c.holder == self.holder,
                )
                .values(state=SENDING, claimed_at=now)
            )
        if result.rowcount == 0:
            raise ClaimLost(batch)

    async def mark_sent(self, batch: str, activity_id: str | None, now: datetime) -> None:
        """Record the delivery; if the database is down, remember it and write it before the next claim."""
        try:
            await self._write_sent(batch, activity_id, now)
        except BaseException:
            self._unflushed[batch] = (activity_id, now)
            raise

    async def flush(self) -> None:
        """Write the deliveries the database missed; raises (and keeps them) while it is still down."""
        async with self._flush_lock:
            for batch, (activity_id, sent_at) in list(self._unflushed.items()):
                await self._write_sent(batch, activity_id, sent_at)
                self._unflushed.pop(batch, None)

    async def _write_sent(self, batch: str, activity_id: str | None, sent_at: datetime) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                alert_ledger.update()
                .where(alert_ledger.c.batch == batch, alert_ledger.c.state.in_(HELD))
                .values(state=SENT, sent_at=sent_at, activity_id=(activity_id or "")[:256] or None)
            )
        if result.rowcount == 0:
            log.warning("alert batch %s was sent but its claim had been taken over", batch)

    @property
    def unflushed(self) -> int:
        return len(self._unflushed)

    async def release(self, batch: str, error: str, now: datetime) -> None:
        """Not sent this time: leave it for the next run."""
        await self._finish(batch, FAILED, error)

    async def mark_gone(self, batch: str, error: str, now: datetime) -> None:
        """The conversation is unreachable for good (bot removed); never retried."""
        await self._finish(batch, GONE, error)

    async def _finish(self, batch: str, state: str, error: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                alert_ledger.update()
                .where(
                    alert_ledger.c.batch == batch,
                    alert_ledger.c.state.in_(HELD),
                    alert_ledger.c.holder == self.holder,
                )
                .values(state=state, last_error=error[:200])
            )

    async def states(self, kinds: Iterable[str], since: datetime) -> dict[LedgerKey, tuple[str, datetime]]:
        """State and claim time of every key of these kinds created since ``since``."""
        c = alert_ledger.c
        query = sa.select(
            c.tenant_id, c.conversation_id, c.kind, c.subject, c.version, c.state, c.claimed_at
        ).where(c.kind.in_(list(kinds)), c.created_at >= since)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {LedgerKey(*row[:5]): (row[5], row[6]) for row in rows}

    def is_open(self, state: tuple[str, datetime] | None, now: datetime) -> bool:
        """Would a claim of this key succeed now?"""
        if state is None:
            return True
        status, claimed_at = state
        if status in SETTLED:
            return False
        return status == FAILED or claimed_at <= now - self.stale_after

    async def batch(self, batch: str) -> list[LedgerRow]:
        async with self._engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        sa.select(alert_ledger)
                        .where(alert_ledger.c.batch == batch)
                        .order_by(alert_ledger.c.id)
                    )
                )
                .mappings()
                .all()
            )
        return [_row(row) for row in rows]

    async def acknowledge(self, batch: str, user_id: str, user_name: str | None, now: datetime) -> bool:
        """The first acknowledgement stands; pressing again changes nothing."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                alert_ledger.update()
                .where(alert_ledger.c.batch == batch, alert_ledger.c.acked_at.is_(None))
                .values(acked_by=user_id[:64], acked_by_name=(user_name or "")[:128] or None, acked_at=now)
            )
        return result.rowcount > 0

    async def last_sent(self, tenant_id: str, conversation_id: str) -> dict[str, datetime]:
        """When each kind last reached this conversation."""
        c = alert_ledger.c
        query = (
            sa.select(c.kind, sa.func.max(c.sent_at))
            .where(
                c.tenant_id == tenant_id,
                c.conversation_id == base_conversation_id(conversation_id),
                c.state == SENT,
            )
            .group_by(c.kind)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {kind: sent_at for kind, sent_at in rows if sent_at is not None}

    async def sent_since(self, kinds: Iterable[str], since: datetime) -> list[LedgerRow]:
        c = alert_ledger.c
        query = sa.select(alert_ledger).where(c.kind.in_(list(kinds)), c.state == SENT, c.sent_at >= since)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(c.id))).mappings().all()
        return [_row(row) for row in rows]
