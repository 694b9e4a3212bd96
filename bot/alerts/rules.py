"""What is due now, for whom: pure rules over subscriptions, recorded events and the ledger.

Every rule answers with ``Due`` items, each one future message: the ledger keys it settles and
the plain data it is built from. Nothing here touches the database or the network, so preview,
run-once and the scheduler all ask the same question and get the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.alerts import ladder
from bot.alerts.events import MC, SENDER, Event
from bot.alerts.ledger import LedgerKey
from bot.alerts.subscriptions import Subscription
from bot.timeline import Timeline

COUNTDOWN, MESSAGE_CENTER, SENDERS, DIGEST = "countdown", "mc", "senders", "digest"
KINDS_ORDER: tuple[str, ...] = (COUNTDOWN, MESSAGE_CENTER, SENDERS, DIGEST)
EVENT_HORIZON = timedelta(days=30)  # older recorded changes are history, not news
LEDGER_HORIZON = timedelta(days=40)  # covers the longest gap between two rungs (30 days) and a digest week
DIGEST_SUBJECT = "weekly"

OpenKey = Callable[[LedgerKey], bool]


@dataclass(frozen=True)
class Due:
    """One message to one conversation, and the ledger keys it settles."""

    kind: str
    subscription: Subscription
    keys: tuple[LedgerKey, ...]
    payloads: tuple[Mapping[str, Any], ...]
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tenant_id(self) -> str:
        return self.subscription.tenant_id

    @property
    def conversation_id(self) -> str:
        return self.subscription.conversation_id

    def key_text(self) -> str:
        if len(self.keys) == 1:
            return self.keys[0].short()
        return f"{self.kind}/{len(self.keys)} facts"

    def preview(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "tenant": self.tenant_id,
            "conversation": self.conversation_id,
            "kind": self.kind,
            "key": self.key_text(),
        }
        if len(self.keys) > 1:
            line["keys"] = [key.short() for key in self.keys]
        return line


def _key(sub: Subscription, kind: str, subject: str, version: str) -> LedgerKey:
    return LedgerKey(sub.tenant_id, sub.conversation_id, kind, subject[:255], version[:128])


def _started(sub: Subscription) -> datetime:
    assert sub.created_at is not None
    return sub.created_at


def countdown_due(sub: Subscription, timeline: Timeline, now: datetime, open_key: OpenKey) -> list[Due]:
    if not sub.wants(COUNTDOWN) or sub.is_snoozed(COUNTDOWN, now):
        return []
    owed = []
    for rung in ladder.due_rungs(timeline, now, sub.tz, sub.local_send_time, _started(sub)):
        key = _key(sub, COUNTDOWN, rung.subject, rung.version)
        if open_key(key):
            payload = {
                "milestone": rung.milestone.id,
                "target_day": rung.target_day.isoformat(),
                "rung": rung.days,
            }
            owed.append(Due(COUNTDOWN, sub, (key,), (payload,)))
    return owed


def message_center_due(
    sub: Subscription, events: Sequence[Event], now: datetime, open_key: OpenKey
) -> list[Due]:
    if not sub.wants(MESSAGE_CENTER) or sub.is_snoozed(MESSAGE_CENTER, now):
        return []
    owed = []
    for event in events:
        if event.kind != MC or event.created_at < _started(sub) or event.created_at < now - EVENT_HORIZON:
            continue
        key = _key(sub, MESSAGE_CENTER, event.subject, event.version)
        if open_key(key):
            owed.append(Due(MESSAGE_CENTER, sub, (key,), (dict(event.payload),)))
    return owed


def senders_due(sub: Subscription, events: Sequence[Event], now: datetime, open_key: OpenKey) -> list[Due]:
    """All sender facts this conversation has not been told yet, as one message."""
    if not sub.wants(SENDERS) or sub.is_snoozed(SENDERS, now):
        return []
    keys, payloads = [], []
    for event in events:
        if (
            event.kind != SENDER
            or event.tenant_id != sub.tenant_id
            or event.created_at < _started(sub)
            or event.created_at < now - EVENT_HORIZON
        ):
            continue
        key = _key(sub, SENDERS, event.subject, event.version)
        if open_key(key):
            keys.append(key)
            payloads.append(dict(event.payload))
    return [Due(SENDERS, sub, tuple(keys), tuple(payloads))] if keys else []


def week_start(now: datetime, sub: Subscription) -> date:
    local = now.astimezone(sub.tz).date()
    return local - timedelta(days=local.weekday())


def digest_due(sub: Subscription, now: datetime, open_key: OpenKey) -> list[Due]:
    """This week's digest, from Monday at the local send time until sent."""
    if not sub.wants(DIGEST) or sub.is_snoozed(DIGEST, now):
        return []
    monday = week_start(now, sub)
    due_at = ladder.local_moment(monday, sub.local_send_time, sub.tz)
    if now < due_at or due_at < _started(sub):
        return []
    year, week, _ = monday.isocalendar()
    key = _key(sub, DIGEST, DIGEST_SUBJECT, f"{year}-W{week:02d}")
    if not open_key(key):
        return []
    return [Due(DIGEST, sub, (key,), ({"week_start": monday.isoformat(), "week": key.version},))]


def next_digest(sub: Subscription, now: datetime) -> datetime:
    monday = week_start(now, sub)
    due_at = ladder.local_moment(monday, sub.local_send_time, sub.tz)
    return (
        due_at
        if due_at > now
        else ladder.local_moment(monday + timedelta(days=7), sub.local_send_time, sub.tz)
    )
