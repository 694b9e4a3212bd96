"""Conversation references: where the bot was installed or spoken to, so alerts can reach it later.

The reference is kept as the Bot Framework JSON it came from (opaque here) plus the columns we
query by. A channel's thread ids (``;messageid=``) are folded into the channel's id, because an
alert starts a new post in the channel rather than replying to an old thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.schema import conversations


def base_conversation_id(conversation_id: str) -> str:
    return conversation_id.split(";messageid=")[0]


@dataclass(frozen=True)
class ConversationRecord:
    tenant_id: str
    conversation_id: str
    conversation_type: str
    service_url: str
    bot_id: str
    reference: dict[str, Any]
    team_id: str | None = None
    channel_id: str | None = None
    installed_at: datetime | None = None
    updated_at: datetime | None = None


class ConversationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # What we last wrote per conversation: every message upserts, but only changes hit the disk.
        self._seen: dict[tuple[str, str], tuple[Any, ...]] = {}

    async def save(self, record: ConversationRecord, now: datetime) -> bool:
        """Insert or update; returns False when nothing changed since this process last wrote it."""
        key = (record.tenant_id, base_conversation_id(record.conversation_id))
        fingerprint = (record.conversation_type, record.service_url, record.bot_id, record.team_id, record.channel_id)
        if self._seen.get(key) == fingerprint:
            return False
        values = {
            "conversation_type": record.conversation_type,
            "team_id": record.team_id,
            "channel_id": record.channel_id,
            "service_url": record.service_url,
            "bot_id": record.bot_id,
            "reference": record.reference,
            "updated_at": now,
        }
        async with self._engine.begin() as conn:
            updated = await conn.execute(
                conversations.update()
                .where(conversations.c.tenant_id == key[0], conversations.c.conversation_id == key[1])
                .values(**values)
            )
            if updated.rowcount == 0:
                await conn.execute(
                    conversations.insert().values(
                        tenant_id=key[0], conversation_id=key[1], installed_at=now, **values
                    )
                )
        self._seen[key] = fingerprint
        return True

    async def delete(self, tenant_id: str, conversation_id: str) -> bool:
        key = (tenant_id, base_conversation_id(conversation_id))
        self._seen.pop(key, None)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                conversations.delete().where(
                    conversations.c.tenant_id == key[0], conversations.c.conversation_id == key[1]
                )
            )
        return result.rowcount > 0

    async def get(self, tenant_id: str, conversation_id: str) -> ConversationRecord | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(conversations).where(
                        conversations.c.tenant_id == tenant_id,
                        conversations.c.conversation_id == base_conversation_id(conversation_id),
                    )
                )
            ).mappings().first()
        return ConversationRecord(**row) if row else None

    async def all(self, tenant_id: str | None = None) -> list[ConversationRecord]:
        query = sa.select(conversations).order_by(conversations.c.tenant_id, conversations.c.conversation_id)
        if tenant_id is not None:
            query = query.where(conversations.c.tenant_id == tenant_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [ConversationRecord(**row) for row in rows]
