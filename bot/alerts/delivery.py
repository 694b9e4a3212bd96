"""Sending alerts: typed connector failures, retries with backoff, and the fan-out.

The Teams edge (``bot.teams.proactive``) turns HTTP answers into the errors below; everything
else here is plain Python. One message goes: reference → ledger claim → rate-limit slot → send →
ledger mark. 429/412/502/504 are retried with exponential backoff and jitter (never sooner than
Retry-After); 403/404 mean the bot is gone from that conversation, so its subscription is
deactivated; anything else (a timeout included) is left for the next run. One conversation's
trouble never holds up the others: the fan-out runs a few workers side by side.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any, Awaitable, Callable, Mapping, Protocol, Sequence

from bot.alerts.ledger import Ledger
from bot.alerts.ratelimit import RateLimiter
from bot.alerts.rules import Due
from bot.alerts.subscriptions import REASON_BOT_REMOVED, REASON_REFERENCE_GONE, SubscriptionStore
from bot.storage.conversations import ConversationRecord

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({412, 429, 502, 504})
GONE_STATUSES = frozenset({403, 404})


class DeliveryError(Exception):
    """The connector did not take the message. ``str()`` never contains tokens or bodies."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class Throttled(DeliveryError):
    """429: too many messages; try again after ``retry_after`` seconds (if the connector said)."""

    def __init__(self, reason: str, status: int = 429, retry_after: float | None = None) -> None:
        super().__init__(reason, status)
        self.retry_after = retry_after


class Transient(DeliveryError):
    """412/502/504 or a broken connection: worth retrying soon."""


class Gone(DeliveryError):
    """403/404: the bot was removed from the conversation (or the conversation no longer exists)."""


class DeliveryTimeout(DeliveryError):
    """No answer in time. The connector may or may not have posted it; we try again next run."""


class Rejected(DeliveryError):
    """Any other failure: retried on the next run."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if now is None or moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def classify(status: int, retry_after: str | None = None, now: datetime | None = None) -> DeliveryError:
    """The typed error for a connector answer that was not 2xx."""
    reason = f"connector answered HTTP {status}"
    if status == 429:
        return Throttled(reason, status, parse_retry_after(retry_after, now))
    if status in RETRYABLE_STATUSES:
        return Transient(reason, status)
    if status in GONE_STATUSES:
        return Gone(reason, status)
    return Rejected(reason, status)


class CardSender(Protocol):
    async def send(self, conversation: ConversationRecord, card: Mapping[str, Any]) -> str | None:
        """Post ``card`` as a new message; return the new activity id. Raises ``DeliveryError``."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # sends per message per run, the first included
    base: float = 0.5  # seconds; doubles each retry
    cap: float = 30.0
    max_retry_after: float = 120.0  # longer than this: give up for this run, try next run


def backoff_delay(attempt: int, retry_after: float | None, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with jitter (half fixed, half random), never shorter than Retry-After."""
    exponential = min(policy.cap, policy.base * (2 ** max(0, attempt - 1)))
    jittered = exponential / 2 + rng.uniform(0, exponential / 2)
    if retry_after is not None:
        return retry_after + rng.uniform(0, policy.base)
    return jittered


class Status(str, Enum):
    SENT = "sent"
    SKIPPED = "skipped"  # already sent or being sent (the ledger said no)
    GONE = "gone"  # bot removed: subscription deactivated
    NO_REFERENCE = "no_reference"  # we have no conversation reference: subscription deactivated
    FAILED = "failed"  # retried on the next run
    DEFERRED = "deferred"  # not tried this run (database trouble, lease lost, shutting down)


@dataclass
class Outcome:
    due: Due
    status: Status
    attempts: int = 0
    error: str | None = None
    batch: str | None = None


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counter = Counter(outcome.status.value for outcome in self.outcomes)
        return {status.value: counter.get(status.value, 0) for status in Status}

    @property
    def sent(self) -> int:
        return self.counts()["sent"]


Render = Callable[[Due, str], Mapping[str, Any]]
UtcClock = Callable[[], datetime]


@dataclass
class Deliverer:
    """Sends a list of due alerts through the ledger, the limiter and the sender."""

    ledger: Ledger
    subscriptions: SubscriptionStore
    sender: CardSender
    limiter: RateLimiter
    clock: UtcClock
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 15.0
    concurrency: int = 8
    may_send: Callable[[], bool] = lambda: True  # False once the lease is lost or we are stopping
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)

    async def fan_out(
        self, items: Sequence[Due], references: Mapping[tuple[str, str], ConversationRecord], render: Render
    ) -> Report:
        report = Report()
        queue = iter(items)

        async def worker() -> None:
            for due in queue:
                report.outcomes.append(await self.deliver(due, references.get((due.tenant_id, due.conversation_id)), render))

        workers = max(1, min(self.concurrency, len(items)))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return report

    async def deliver(self, due: Due, reference: ConversationRecord | None, render: Render) -> Outcome:
        """One message, start to finish; never raises except on cancellation."""
        if not self.may_send():
            return Outcome(due, Status.DEFERRED, error="not sending (lease lost or shutting down)")
        if reference is None:
            log.warning(
                "%s alert not sent: no conversation reference for a %s subscription (bot removed?); "
                "deactivating it", due.kind, due.subscription.conversation_type,
            )
            try:
                await self.subscriptions.deactivate(due.tenant_id, due.conversation_id, REASON_REFERENCE_GONE, self.clock())
            except Exception:  # noqa: BLE001 - the next run tries again
                log.warning("could not deactivate the subscription", exc_info=True)
            return Outcome(due, Status.NO_REFERENCE, error="no conversation reference")
        try:
            batch = await self.ledger.claim(due.keys, due.payloads, self.clock())
        except Exception as error:  # noqa: BLE001 - database trouble: this one waits for the next run
            log.warning("%s alert deferred: could not claim it (%s)", due.kind, type(error).__name__)
            return Outcome(due, Status.DEFERRED, error=type(error).__name__)
        if batch is None:
            return Outcome(due, Status.SKIPPED)
        try:
            card = render(due, batch)
        except Exception as error:  # noqa: BLE001 - a bad payload must not stop the fan-out
            log.exception("could not build the %s alert card", due.kind)
            return await self._finish_failed(due, batch, 0, f"render: {type(error).__name__}")
        return await self._send(due, reference, card, batch)

    async def _send(self, due: Due, reference: ConversationRecord, card: Mapping[str, Any], batch: str) -> Outcome:
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(due.tenant_id, due.conversation_id)
            try:
                activity_id = await asyncio.wait_for(self.sender.send(reference, card), self.timeout)
            except (Throttled, Transient) as error:
                retry_after = error.retry_after if isinstance(error, Throttled) else None
                if isinstance(error, Throttled):
                    self.limiter.throttled(due.conversation_id, retry_after if retry_after is not None else self.policy.base)
                too_long = retry_after is not None and retry_after > self.policy.max_retry_after
                if attempt >= self.policy.attempts or too_long or not self.may_send():
                    log.warning("%s alert not sent after %d attempts (%s); next run retries", due.kind, attempt, error)
                    return await self._finish_failed(due, batch, attempt, str(error))
                await self.sleep(backoff_delay(attempt, retry_after, self.policy, self.rng))
                continue
            except Gone as error:
                log.warning(
                    "%s alert: the bot is no longer in this %s conversation (%s); deactivating its subscription",
                    due.kind, due.subscription.conversation_type, error,
                )
                try:
                    now = self.clock()
                    await self.ledger.mark_gone(batch, str(error), now)
                    await self.subscriptions.deactivate(due.tenant_id, due.conversation_id, REASON_BOT_REMOVED, now)
                except Exception:  # noqa: BLE001 - logged; the next run meets the same 403/404
                    log.warning("could not record the removed conversation", exc_info=True)
                return Outcome(due, Status.GONE, attempt, str(error), batch)
            except (asyncio.TimeoutError, DeliveryTimeout):
                log.warning("%s alert: the connector did not answer within %.0f s; next run retries", due.kind, self.timeout)
                return await self._finish_failed(due, batch, attempt, "timeout")
            except DeliveryError as error:
                log.warning("%s alert not sent (%s); next run retries", due.kind, error)
                return await self._finish_failed(due, batch, attempt, str(error))
            except Exception as error:  # noqa: BLE001 - an unexpected bug in one send must not stop the rest
                log.exception("%s alert: unexpected failure while sending", due.kind)
                return await self._finish_failed(due, batch, attempt, type(error).__name__)
            try:
                await self.ledger.mark_sent(batch, activity_id, self.clock())
            except Exception as error:  # noqa: BLE001 - remembered in memory, written before the next claim
                log.warning(
                    "%s alert sent, but the ledger could not record it yet (%s); it is kept in memory and "
                    "written before anything else is claimed", due.kind, type(error).__name__,
                )
            return Outcome(due, Status.SENT, attempt, None, batch)

    async def _finish_failed(self, due: Due, batch: str, attempts: int, error: str) -> Outcome:
        try:
            await self.ledger.release(batch, error, self.clock())
        except Exception:  # noqa: BLE001 - the claim goes stale and is retried later
            log.warning("could not release a failed %s alert claim", due.kind, exc_info=True)
        return Outcome(due, Status.FAILED, attempts, error, batch)
