"""Who gets which alerts: one subscription per conversation, its kinds, language, zone and send time.

Parsing ``/subscribe`` arguments is pure (``parse_options``); the store is a thin async layer over
``alert_subscriptions``. A subscription is never deleted by a failed delivery, only deactivated
with a reason, so ``/alerts`` elsewhere can show what happened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts.tables import alert_subscriptions
from bot.storage.conversations import base_conversation_id

KINDS: tuple[str, ...] = ("countdown", "mc", "senders", "digest")
DEFAULT_KINDS: tuple[str, ...] = KINDS
LANGUAGES = ("en", "ja")
_KIND_WORDS = {
    "countdown": "countdown",
    "ladder": "countdown",
    "カウントダウン": "countdown",
    "mc": "mc",
    "messagecenter": "mc",
    "メッセージセンター": "mc",
    "senders": "senders",
    "sender": "senders",
    "送信者": "senders",
    "digest": "digest",
    "weekly": "digest",
    "ダイジェスト": "digest",
    "週次": "digest",
}
_ALL_WORDS = {"all", "すべて", "全部"}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# Why a subscription stopped: the connector said the bot is gone, or we lost the reference.
REASON_BOT_REMOVED = "bot_removed"
REASON_REFERENCE_GONE = "reference_gone"


@dataclass(frozen=True)
class Subscription:
    tenant_id: str
    conversation_id: str
    conversation_type: str
    kinds: tuple[str, ...]
    lang: str
    timezone: str
    send_time: str
    active: bool = True
    status_reason: str | None = None
    status_changed_at: datetime | None = None
    snoozes: Mapping[str, str] = field(default_factory=dict)
    created_by: str = ""
    created_by_name: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_send_time(self) -> time:
        hour, minute = self.send_time.split(":")
        return time(int(hour), int(minute))

    def wants(self, kind: str) -> bool:
        return self.active and kind in self.kinds

    def snoozed_until(self, kind: str) -> datetime | None:
        raw = self.snoozes.get(kind)
        return datetime.fromisoformat(raw) if raw else None

    def is_snoozed(self, kind: str, now: datetime) -> bool:
        until = self.snoozed_until(kind)
        return until is not None and now < until


@dataclass(frozen=True)
class Options:
    """What ``/subscribe`` or ``/unsubscribe`` asked for; ``None`` means "not given"."""

    kinds: tuple[str, ...] | None = None
    lang: str | None = None
    timezone: str | None = None
    send_time: str | None = None
    unknown: tuple[str, ...] = ()


def normalise_time(raw: str) -> str | None:
    match = _TIME.match(raw.strip())
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else None


def valid_timezone(raw: str) -> str | None:
    if not raw or len(raw) > 64:
        return None
    try:
        return ZoneInfo(raw).key
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_options(args: str) -> Options:
    """``countdown mc ja Asia/Tokyo 08:30`` (any order; ``tz=``/``time=``/``lang=`` also accepted)."""
    kinds: list[str] = []
    lang = zone = send_time = None
    unknown: list[str] = []
    for raw in args.replace(",", " ").replace("、", " ").split():
        word = raw.strip()
        key, sep, value = word.partition("=")
        lowered = word.lower()
        if sep:
            key = key.lower()
            if key in ("tz", "timezone") and valid_timezone(value):
                zone = valid_timezone(value)
            elif key in ("time", "at") and normalise_time(value):
                send_time = normalise_time(value)
            elif key in ("lang", "language") and value.lower() in LANGUAGES:
                lang = value.lower()
            else:
                unknown.append(word)
        elif lowered in _ALL_WORDS:
            kinds.extend(KINDS)
        elif lowered in _KIND_WORDS:
            kinds.append(_KIND_WORDS[lowered])
        elif lowered in LANGUAGES or lowered in ("english", "japanese", "日本語", "英語"):
            lang = "ja" if lowered in ("ja", "japanese", "日本語") else "en"
        elif normalise_time(word):
            send_time = normalise_time(word)
        elif "/" in word and valid_timezone(word):
            zone = valid_timezone(word)
        else:
            unknown.append(word)
    ordered = tuple(kind for kind in KINDS if kind in kinds) or None
    return Options(ordered, lang, zone, send_time, tuple(unknown))


def _row_to_subscription(row: Mapping[Any, Any]) -> Subscription:
    values = dict(row)
    values["kinds"] = tuple(kind for kind in str(values["kinds"]).split(",") if kind in KINDS)
    values["snoozes"] = dict(values.get("snoozes") or {})
    return Subscription(**values)


def _values(sub: Subscription) -> dict[str, Any]:
    return {
        "conversation_type": sub.conversation_type,
        "kinds": ",".join(sub.kinds),
        "lang": sub.lang,
        "timezone": sub.timezone,
        "send_time": sub.send_time,
        "active": sub.active,
        "status_reason": sub.status_reason,
        "status_changed_at": sub.status_changed_at,
        "snoozes": dict(sub.snoozes),
        "created_by": sub.created_by,
        "created_by_name": sub.created_by_name,
        "created_at": sub.created_at,
        "updated_at": sub.updated_at,
    }


class SubscriptionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @staticmethod
    def _key(tenant_id: str, conversation_id: str) -> Any:
        table = alert_subscriptions
        return sa.and_(
            table.c.tenant_id == tenant_id, table.c.conversation_id == base_conversation_id(conversation_id)
        )

    async def get(self, tenant_id: str, conversation_id: str) -> Subscription | None:
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        sa.select(alert_subscriptions).where(self._key(tenant_id, conversation_id))
                    )
                )
                .mappings()
                .first()
            )
        return _row_to_subscription(row) if row else None

    async def save(self, sub: Subscription, now: datetime) -> Subscription:
        """Insert or replace; ``created_at`` is kept from the first save."""
        sub = replace(sub, conversation_id=base_conversation_id(sub.conversation_id), updated_at=now)
        async with self._engine.begin() as conn:
            existing = (
                await conn.execute(
                    sa.select(alert_subscriptions.c.created_at).where(
                        self._key(sub.tenant_id, sub.conversation_id)
                    )
                )
            ).scalar()
            if existing is not None:
                sub = replace(sub, created_at=existing)
                values = _values(sub)
                await conn.execute(
                    alert_subscriptions.update()
                    .where(self._key(sub.tenant_id, sub.conversation_id))
                    .values(**values)
                )
            else:
                sub = replace(sub, created_at=sub.created_at or now)
                await conn.execute(
                    alert_subscriptions.insert().values(
                        tenant_id=sub.tenant_id, conversation_id=sub.conversation_id, **_values(sub)
                    )
                )
        return sub

    async def delete(self, tenant_id: str, conversation_id: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                alert_subscriptions.delete().where(self._key(tenant_id, conversation_id))
            )
        return result.rowcount > 0

    async def all(self, tenant_id: str | None = None, *, active_only: bool = False) -> list[Subscription]:
        query = sa.select(alert_subscriptions).order_by(
            alert_subscriptions.c.tenant_id, alert_subscriptions.c.conversation_id
        )
        if tenant_id is not None:
            query = query.where(alert_subscriptions.c.tenant_id == tenant_id)
        if active_only:
            query = query.where(alert_subscriptions.c.active.is_(True))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_row_to_subscription(row) for row in rows]

    async def deactivate(self, tenant_id: str, conversation_id: str, reason: str, now: datetime) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                alert_subscriptions.update()
                .where(self._key(tenant_id, conversation_id), alert_subscriptions.c.active.is_(True))
                .values(active=False, status_reason=reason, status_changed_at=now, updated_at=now)
            )
        return result.rowcount > 0

    async def snooze(
        self, tenant_id: str, conversation_id: str, kind: str, until: datetime, now: datetime
    ) -> bool:
        sub = await self.get(tenant_id, conversation_id)
        if sub is None:
            return False
        snoozes = {**sub.snoozes, kind: until.isoformat()}
        async with self._engine.begin() as conn:
            result = await conn.execute(
                alert_subscriptions.update()
                .where(self._key(tenant_id, conversation_id))
                .values(snoozes=snoozes, updated_at=now)
            )
        return result.rowcount > 0


def merge_kinds(current: Iterable[str], added: Iterable[str]) -> tuple[str, ...]:
    wanted = set(current) | set(added)
    return tuple(kind for kind in KINDS if kind in wanted)


def remove_kinds(current: Iterable[str], removed: Iterable[str]) -> tuple[str, ...]:
    gone = set(removed)
    return tuple(kind for kind in KINDS if kind in set(current) and kind not in gone)
