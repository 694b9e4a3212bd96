"""Sending alerts: typed connector failures, retries with backoff, and the fan-out.

The Teams edge (``bot.teams.proactive``) turns HTTP answers into the errors below; everything
else here is plain Python. One message goes: reference → ledger claim → in-flight slot → ledger
"sending" → rate-limit slot → send → ledger "sent". 429/412/502/504 are retried with exponential
backoff and jitter (never sooner than Retry-After); 403/404 mean the bot is gone from that
conversation, so its subscription is deactivated; anything else (a timeout included) is left for
the next run, and the fan-out goes on with the others.

Claims and card building run a few messages ahead, but only ``in_flight`` messages (one by
default) are with the connector at a time: a crash can then duplicate at most that many. One is
enough to keep Teams' pace of 50 messages a second per tenant while the connector answers within
about 20 ms; a farther connector needs more (``ALERTS_IN_FLIGHT``), a hanging one holds the
fan-out up for at most the send timeout.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from bot.alerts.ledger import ClaimLost, Ledger
from bot.alerts.ratelimit import RateLimiter
from bot.alerts.rules import Due
from bot.alerts.subscriptions import REASON_BOT_REMOVED, REASON_REFERENCE_GONE, SubscriptionStore
from bot.clock import Clock
from bot.metrics import count_alert_throttled, count_alerts
from bot.retry import backoff_delay as shared_backoff
from bot.retry import parse_retry_after
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


class _LedgerDown(Exception):
    """The ledger could not record that a message is being sent, so it was not sent."""


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


Gate = Callable[[], Awaitable[Any]]


class CardSender(Protocol):
    async def send(
        self, conversation: ConversationRecord, card: Mapping[str, Any], *, gate: Gate, timeout: float
    ) -> str | None:
        """Post ``card`` as a new message; return the new activity id. Raises ``DeliveryError``.

        ``gate`` (the rate limiter) is awaited right before the HTTP request, after the SDK's own
        preparation, so what the limiter counts is as close as possible to what the connector sees;
        ``timeout`` bounds the request alone, not the wait at the gate.
        """
        ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # sends per message per run, the first included
    base: float = 0.5  # seconds; doubles each retry
    cap: float = 30.0
    max_retry_after: float = 120.0  # longer than this: give up for this run, try next run


def backoff_delay(attempt: int, retry_after: float | None, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with jitter (half fixed, half random), never shorter than Retry-After."""
    spread = rng.uniform(0, policy.base) if retry_after is not None else 0.0
    return shared_backoff(
        attempt, base=policy.base, cap=policy.cap, jitter=rng.random(), retry_after=retry_after, spread=spread
    )


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


@dataclass
class Deliverer:
    """Sends a list of due alerts through the ledger, the limiter and the sender."""

    ledger: Ledger
    subscriptions: SubscriptionStore
    sender: CardSender
    limiter: RateLimiter
    clock: Clock
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 15.0
    concurrency: int = 16  # messages being claimed and prepared at once
    in_flight: int = 1  # messages handed to the connector and not yet answered, at most
    may_send: Callable[[], bool] = lambda: True  # False once the lease is lost or we are stopping
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    _in_flight: asyncio.Semaphore | None = field(default=None, init=False, repr=False)

    async def fan_out(
        self, items: Sequence[Due], references: Mapping[tuple[str, str], ConversationRecord], render: Render
    ) -> Report:
        """Claim a few messages ahead (one transaction per handful) and send them with a few workers.

        Claims run at most about two handfuls ahead of the sends, so if the process dies, what it
        claimed but never sent waits only for the claims to go stale (it was not sent: no duplicate).
        """
        report = Report()
        workers = max(1, min(self.concurrency, len(items)))
        ready: asyncio.Queue[tuple[Due, ConversationRecord, str] | None] = asyncio.Queue(
            maxsize=self.concurrency
        )

        async def claimer() -> None:
            try:
                for start in range(0, len(items), self.concurrency):
                    for claimed in await self._claim(
                        items[start : start + self.concurrency], references, report
                    ):
                        await ready.put(claimed)
            finally:
                for _ in range(workers):
                    await ready.put(None)

        async def worker() -> None:
            while (claimed := await ready.get()) is not None:
                due, reference, batch = claimed
                report.outcomes.append(await self._render_and_send(due, reference, batch, render))

        await asyncio.gather(claimer(), *(worker() for _ in range(workers)))
        count_alerts((outcome.due.kind, outcome.status.value) for outcome in report.outcomes)
        return report

    async def _claim(
        self, chunk: Sequence[Due], references: Mapping[tuple[str, str], ConversationRecord], report: Report
    ) -> list[tuple[Due, ConversationRecord, str]]:
        """Claim a handful; what cannot go (no reference, taken, database down) is reported here."""
        candidates: list[tuple[Due, ConversationRecord]] = []
        for due in chunk:
            reference = references.get((due.tenant_id, due.conversation_id))
            if not self.may_send():
                report.outcomes.append(
                    Outcome(due, Status.DEFERRED, error="not sending (lease lost or stopping)")
                )
            elif reference is None:
                report.outcomes.append(await self._no_reference(due))
            else:
                candidates.append((due, reference))
        now = self.clock()
        singles = [(due, ref) for due, ref in candidates if len(due.keys) == 1]
        claimed: list[tuple[Due, ConversationRecord, str | None]] = []
        try:
            batches = await self.ledger.claim_each(
                [(due.keys[0], due.payloads[0]) for due, _ in singles], now
            )
            claimed.extend((due, ref, batch) for (due, ref), batch in zip(singles, batches))
        except Exception as error:  # noqa: BLE001 - database trouble: these wait for the next run
            log.warning("%d alerts deferred: could not claim them (%s)", len(singles), type(error).__name__)
            report.outcomes.extend(
                Outcome(due, Status.DEFERRED, error=type(error).__name__) for due, _ in singles
            )
        for due, ref in candidates:
            if len(due.keys) == 1:
                continue
            try:
                claimed.append((due, ref, await self.ledger.claim(due.keys, due.payloads, now)))
            except Exception as error:  # noqa: BLE001 - as above
                log.warning("%s alert deferred: could not claim it (%s)", due.kind, type(error).__name__)
                report.outcomes.append(Outcome(due, Status.DEFERRED, error=type(error).__name__))
        ready = []
        for due, ref, batch in claimed:
            if batch is None:
                report.outcomes.append(Outcome(due, Status.SKIPPED))
            else:
                ready.append((due, ref, batch))
        return ready

    async def _no_reference(self, due: Due) -> Outcome:
        log.warning(
            "%s alert not sent: no conversation reference for a %s subscription (bot removed?); "
            "deactivating it",
            due.kind,
            due.subscription.conversation_type,
        )
        try:
            await self.subscriptions.deactivate(
                due.tenant_id, due.conversation_id, REASON_REFERENCE_GONE, self.clock()
            )
        except Exception:  # noqa: BLE001 - the next run tries again
            log.warning("could not deactivate the subscription", exc_info=True)
        return Outcome(due, Status.NO_REFERENCE, error="no conversation reference")

    async def _render_and_send(
        self, due: Due, reference: ConversationRecord, batch: str, render: Render
    ) -> Outcome:
        try:
            card = render(due, batch)
        except Exception as error:  # noqa: BLE001 - a bad payload must not stop the fan-out
            log.exception("could not build the %s alert card", due.kind)
            return await self._finish_failed(due, batch, 0, f"render: {type(error).__name__}")
        if not self.may_send():
            return await self._finish_failed(due, batch, 0, "not sending (lease lost or stopping)")
        return await self._send(due, reference, card, batch)

    async def _send(
        self, due: Due, reference: ConversationRecord, card: Mapping[str, Any], batch: str
    ) -> Outcome:
        attempt = 0
        while True:
            attempt += 1

            def gate() -> Awaitable[float]:
                return self.limiter.acquire(due.tenant_id, due.conversation_id)

            try:
                await self._post(due, reference, card, batch, gate)
            except ClaimLost:
                log.warning("%s alert: another process took over its claim; leaving it to that one", due.kind)
                return Outcome(due, Status.SKIPPED, attempt, "claim taken over", batch)
            except _LedgerDown as error:
                log.warning("%s alert deferred: could not record that it is being sent (%s)", due.kind, error)
                return Outcome(due, Status.DEFERRED, attempt, str(error), batch)
            except (Throttled, Transient) as error:
                retry_after = error.retry_after if isinstance(error, Throttled) else None
                if isinstance(error, Throttled):
                    count_alert_throttled(due.kind)
                    self.limiter.throttled(
                        due.conversation_id, retry_after if retry_after is not None else self.policy.base
                    )
                too_long = retry_after is not None and retry_after > self.policy.max_retry_after
                if attempt >= self.policy.attempts or too_long or not self.may_send():
                    log.warning(
                        "%s alert not sent after %d attempts (%s); next run retries", due.kind, attempt, error
                    )
                    return await self._finish_failed(due, batch, attempt, str(error))
                await self.sleep(backoff_delay(attempt, retry_after, self.policy, self.rng))
                continue
            except Gone as error:
                log.warning(
                    "%s alert: the bot is no longer in this %s conversation (%s); "
                    "deactivating its subscription",
                    due.kind,
                    due.subscription.conversation_type,
                    error,
                )
                try:
                    now = self.clock()
                    await self.ledger.mark_gone(batch, str(error), now)
                    await self.subscriptions.deactivate(
                        due.tenant_id, due.conversation_id, REASON_BOT_REMOVED, now
                    )
                except Exception:  # noqa: BLE001 - logged; the next run meets the same 403/404
                    log.warning("could not record the removed conversation", exc_info=True)
                return Outcome(due, Status.GONE, attempt, str(error), batch)
            except (TimeoutError, DeliveryTimeout):
                log.warning(
                    "%s alert: the connector did not answer within %.0f s; next run retries",
                    due.kind,
                    self.timeout,
                )
                return await self._finish_failed(due, batch, attempt, "timeout")
            except DeliveryError as error:
                log.warning("%s alert not sent (%s); next run retries", due.kind, error)
                return await self._finish_failed(due, batch, attempt, str(error))
            except Exception as error:  # noqa: BLE001 - an unexpected bug in one send must not stop the rest
                log.exception("%s alert: unexpected failure while sending", due.kind)
                return await self._finish_failed(due, batch, attempt, type(error).__name__)
            return Outcome(due, Status.SENT, attempt, None, batch)

    async def _post(
        self, due: Due, reference: ConversationRecord, card: Mapping[str, Any], batch: str, gate: Gate
    ) -> None:
        """One attempt, from "sending" in the ledger to "sent", holding one of the in-flight slots.

        The slot is held until the ledger knows the answer, so a crash can leave at most
        ``in_flight`` messages whose delivery nobody knows about: those are the only possible
        duplicates. Backoff sleeps happen outside the slot.
        """
        async with self._slots():
            try:
                await self.ledger.mark_sending(batch, self.clock())
            except ClaimLost:
                raise
            except Exception as error:  # noqa: BLE001 - database trouble: not sent, claim goes stale
                raise _LedgerDown(type(error).__name__) from None
            activity_id = await self.sender.send(reference, card, gate=gate, timeout=self.timeout)
            try:
                await self.ledger.mark_sent(batch, activity_id, self.clock())
            except Exception as error:  # noqa: BLE001 - remembered in memory, written before the next claim
                log.warning(
                    "%s alert sent, but the ledger could not record it yet (%s); it is kept in memory and "
                    "written before anything else is claimed",
                    due.kind,
                    type(error).__name__,
                )

    def _slots(self) -> asyncio.Semaphore:
        if self._in_flight is None:
            self._in_flight = asyncio.Semaphore(max(1, self.in_flight))
        return self._in_flight

    async def _finish_failed(self, due: Due, batch: str, attempts: int, error: str) -> Outcome:
        try:
            await self.ledger.release(batch, error, self.clock())
        except Exception:  # noqa: BLE001 - the claim goes stale and is retried later
            log.warning("could not release a failed %s alert claim", due.kind, exc_info=True)
        return Outcome(due, Status.FAILED, attempts, error, batch)
