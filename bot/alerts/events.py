"""What the alert sources reported, recorded before anyone is told, so nothing is lost.

A Message Center poll or a sender discovery returns changes once; if the process died after the
poll but before the fan-out, they would be gone. So the jobs record them here first (one row per
post version, one per changed sender fact) and fan out from these rows, run after run, until every
subscribed conversation has them. Recording is idempotent: the same post version, or the same
fact about a sender, is recorded once however often it is reported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts.sources import PostChange, SenderChange, post_change_to_data, sender_change_to_data
from bot.alerts.tables import alert_events

MC, SENDER = "mc", "sender"
GLOBAL_TENANT = ""  # Message Center posts concern every tenant the bot serves


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    tenant_id: str
    subject: str
    version: str
    payload: Mapping[str, Any]
    created_at: datetime


def sender_fact_hash(change: SenderChange) -> str:
    """What makes a sender fact "the same fact": who, what happened, and how it is described."""
    canonical = json.dumps(
        [change.upn.lower(), change.change, dict(sorted(change.description.items()))], ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


def _event(row: Mapping[Any, Any]) -> Event:
    return Event(
        int(row["id"]),
        row["kind"],
        row["tenant_id"],
        row["subject"],
        row["version"],
        row["payload"] or {},
        row["created_at"],
    )


class EventStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record_post_changes(self, changes: Sequence[PostChange], now: datetime) -> int:
        """Record new post versions; returns how many were new."""
        new = 0
        async with self._engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            for change in changes:
                statement = (
                    dialect.insert(alert_events)
                    .values(
                        kind=MC,
                        tenant_id=GLOBAL_TENANT,
                        subject=change.post_id[:255],
                        version=change.version_key[:128],
                        payload=post_change_to_data(change),
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["kind", "tenant_id", "subject", "version"])
                )
                new += (await conn.execute(statement)).rowcount
        return new

    async def record_sender_changes(self, changes: Sequence[SenderChange], now: datetime) -> int:
        """Record sender facts that differ from the last fact recorded about that sender."""
        new = 0
        c = alert_events.c
        async with self._engine.begin() as conn:
            for change in changes:
                tenant, subject = change.tenant_id.lower(), change.upn.lower()[:255]
                fact = sender_fact_hash(change)
                history = (
                    (
                        await conn.execute(
                            sa.select(c.version)
                            .where(c.kind == SENDER, c.tenant_id == tenant, c.subject == subject)
                            .order_by(c.id.desc())
                        )
                    )
                    .scalars()
                    .all()
                )
                if history and history[0].split(":", 1)[-1] == fact:
                    continue  # unchanged: already told (or being told)
                await conn.execute(
                    alert_events.insert().values(
                        kind=SENDER,
                        tenant_id=tenant,
                        subject=subject,
                        version=f"{len(history) + 1}:{fact}",
                        payload=sender_change_to_data(change),
                        created_at=now,
                    )
                )
                new += 1
        return new

    async def recent(
        self, kinds: Iterable[str], since: datetime, tenant_id: str | None = None
    ) -> list[Event]:
        c = alert_events.c
        query = sa.select(alert_events).where(c.kind.in_(list(kinds)), c.created_at >= since).order_by(c.id)
        if tenant_id is not None:
            query = query.where(c.tenant_id == tenant_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_event(row) for row in rows]
