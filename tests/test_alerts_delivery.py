"""Delivery under Teams' limits: the pure limiter and backoff, then real sends through the CloudAdapter
(``bot.teams.proactive``) to a fake Bot Connector on loopback that enforces the limits and injects faults."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timezone

import pytest
from activities import TENANT
from alerts_support import channel_reference
from connector_fake import FakeConnector, Fault

from bot.alerts.delivery import (
    Deliverer,
    DeliveryTimeout,
    Gone,
    Rejected,
    RetryPolicy,
    Status,
    Throttled,
    Transient,
    backoff_delay,
    classify,
    parse_retry_after,
)
from bot.alerts.ledger import Ledger, LedgerKey
from bot.alerts.ratelimit import RateLimiter, SlidingWindows, Window
from bot.alerts.rules import Due
from bot.alerts.subscriptions import Subscription, SubscriptionStore
from bot.settings import load_settings
from bot.storage.conversations import ConversationRecord
from bot.storage.db import Database

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)


# --- pure parts ------------------------------------------------------------------------------


def test_sliding_windows_say_how_long_to_wait():
    windows = SlidingWindows((Window(7, 1.0), Window(8, 2.0)), margin=0.0)
    for n in range(7):
        assert windows.wait("c", 10.0 + n * 0.01) == 0
        windows.record("c", 10.0 + n * 0.01)
    assert windows.wait("c", 10.07) == pytest.approx(
        1.0 - 0.07
    )  # 7 in a second: wait for the first to age out
    windows.record("c", 11.0)  # the 8th, one second later
    assert windows.wait("c", 11.01) == pytest.approx(12.0 - 11.01)  # 8 in 2 s: until the first is 2 s old
    assert windows.wait("other", 11.01) == 0  # limits are per key
    windows.block("c", 20.0)
    assert windows.wait("c", 15.0) == pytest.approx(5.0)


async def acquire_times(limiter_keys: list[tuple[str, str]], **options) -> list[float]:
    """When each acquire returned, on a fake clock that only moves when the limiter sleeps."""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(clock=lambda: now[0], sleep=sleep, **options)
    times = []
    for tenant, conversation in limiter_keys:
        await limiter.acquire(tenant, conversation)
        times.append(now[0])
    return times


def respects(times: list[float], limit: int, seconds: float) -> bool:
    return all(later - earlier >= seconds for earlier, later in zip(times, times[limit:]))


async def test_one_conversation_gets_no_more_than_teams_allows_in_any_window():
    times = await acquire_times([("t", "c")] * 130)
    for limit, seconds in ((7, 1.0), (8, 2.0), (60, 30.0)):
        assert respects(times, limit, seconds), (limit, seconds)
    assert not respects(times, 7, 1.2)  # and no slower than it needs to be
    assert times[-1] < 70.0  # 130 messages: the 60-per-30-s window dominates


async def test_a_tenant_fan_out_is_paced_at_just_under_50_a_second():
    times = await acquire_times([("t", f"c{n}") for n in range(500)])
    assert respects(times, 50, 1.0)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) < 0.1 and respects(times, 6, 0.06)  # paced: never a burst of 50 and a long pause
    assert 499 / 50 <= times[-1] <= 499 / 50 * 1.05  # within 5 % of the limit


def test_backoff_grows_with_jitter_and_never_undercuts_retry_after():
    policy = RetryPolicy(base=0.5, cap=8.0)
    rng = random.Random(7)
    for attempt, (low, high) in enumerate(
        [(0.25, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0), (4.0, 8.0)], 1
    ):
        delays = {backoff_delay(attempt, None, policy, rng) for _ in range(50)}
        assert all(low <= d <= high for d in delays) and len(delays) > 40, attempt
    assert all(3.0 <= backoff_delay(1, 3.0, policy, rng) <= 3.5 for _ in range(50))


def test_connector_answers_map_to_typed_errors():
    assert isinstance(classify(429, "7"), Throttled) and classify(429, "7").retry_after == 7.0
    assert classify(429, None).retry_after is None
    assert all(isinstance(classify(status), Transient) for status in (412, 502, 504))
    assert all(isinstance(classify(status), Gone) for status in (403, 404))
    assert all(isinstance(classify(status), Rejected) for status in (400, 401, 500, 503))
    when = datetime(2026, 12, 1, 0, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Tue, 01 Dec 2026 00:00:30 GMT", when) == 30.0
    assert parse_retry_after("soon", when) is None


# --- real sends to the fake connector ------------------------------------------------------------


@pytest.fixture
async def ledger(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'delivery.db'}")
    await database.open()
    yield Ledger(database.engine, "test-process"), SubscriptionStore(database.engine)
    await database.close()


def sender():
    from bot.teams.adapter import build_adapter, build_auth
    from bot.teams.proactive import ProactiveSender

    settings = load_settings({}, dotenv=None)
    return ProactiveSender(build_adapter(settings, build_auth(settings)), settings.app_id)


def dues_for(conversations: list[str], per_conversation: int = 1) -> list[Due]:
    dues = []
    for cid in conversations:
        sub = Subscription(TENANT, cid, "channel", ("mc",), "en", "UTC", "09:00", created_at=NOW)
        for n in range(per_conversation):
            dues.append(Due("mc", sub, (LedgerKey(TENANT, cid, "mc", "MC786329", f"v{n}"),), ({"n": n},)))
    return dues


def references(connector: FakeConnector, conversations: list[str]) -> dict:
    return {
        (TENANT, cid): ConversationRecord(
            TENANT, cid, "channel", connector.url, "28:bot", channel_reference(connector.url, cid)
        )
        for cid in conversations
    }


def card(due: Due, batch: str) -> dict:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": batch, "wrap": True}],
    }


class VirtualTime:
    """Seconds that pass only when the code under test sleeps.

    The bot's limiter, its retry backoff and the fake connector's limits all read this one clock, so
    "8 messages per 2 seconds" is exact arithmetic on any machine, and the test takes no real time.
    Exact because one message is in flight (the default): one sender sleeps at a time.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def deliverer(ledger, limiter: RateLimiter | None = None, **options) -> Deliverer:
    store, subscriptions = ledger
    return Deliverer(
        store,
        subscriptions,
        sender(),
        limiter or RateLimiter(),
        lambda: NOW,
        policy=options.pop("policy", RetryPolicy(base=0.05)),
        **options,
    )


@pytest.fixture
def virtual_time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
async def strict_connector(virtual_time):
    fake = FakeConnector(enforce_limits=True, clock=virtual_time)
    await fake.start()
    yield fake
    await fake.close()


def paced(ledger, virtual_time: VirtualTime, limiter: RateLimiter | None = None, **options) -> Deliverer:
    """A deliverer whose limiter and backoff live in ``virtual_time``, like the strict connector."""
    limiter = limiter or RateLimiter(clock=virtual_time, sleep=virtual_time.sleep)
    return deliverer(ledger, limiter, sleep=virtual_time.sleep, **options)


async def test_many_alerts_to_one_channel_stay_under_its_limits(ledger, strict_connector, virtual_time):
    conversations = ["19:busy@thread.tacv2"]
    report = await paced(ledger, virtual_time).fan_out(
        dues_for(conversations, 10), references(strict_connector, conversations), card
    )
    assert report.counts()["sent"] == 10 and len(strict_connector.messages()) == 10
    assert strict_connector.throttled == 0  # a burst of 10 without the limiter draws 3 or more
    assert virtual_time.now >= 2.0  # 8 per 2 seconds: the 9th and 10th had to wait


async def test_a_fan_out_stays_under_the_tenant_limit(ledger, strict_connector, virtual_time):
    conversations = [f"19:c{n}@thread.tacv2" for n in range(110)]
    report = await paced(ledger, virtual_time).fan_out(
        dues_for(conversations), references(strict_connector, conversations), card
    )
    # Without our limiter these 110 draw a couple of dozen 429s; with it none, and each arrives once.
    assert report.counts()["sent"] == 110 and strict_connector.throttled == 0
    assert virtual_time.now >= 2.0  # 50 a second: 110 messages cannot go in under 2 s
    assert sorted(m.conversation_id for m in strict_connector.messages()) == sorted(conversations)


async def test_without_our_limiter_the_connector_throttles_and_retries_still_deliver_once(
    ledger, strict_connector, virtual_time
):
    conversations = ["19:busy@thread.tacv2"]
    no_limits = RateLimiter((Window(1000, 1.0),), (Window(1000, 1.0),), margin=0.0, clock=virtual_time,
                            sleep=virtual_time.sleep)
    report = await paced(ledger, virtual_time, no_limits, policy=RetryPolicy(base=0.05, attempts=8)).fan_out(
        dues_for(conversations, 9), references(strict_connector, conversations), card
    )
    assert strict_connector.throttled >= 2  # the fake really enforces the limits
    assert report.counts()["sent"] == 9 and len(strict_connector.messages()) == 9


async def test_retryable_failures_are_retried_up_to_the_policy_then_left_for_the_next_run(ledger, connector):
    conversations = ["19:flaky@thread.tacv2"]
    connector.inject(conversations[0], *[Fault(status=502)] * 6)
    report = await deliverer(ledger, policy=RetryPolicy(base=0.01, attempts=5)).fan_out(
        dues_for(conversations), references(connector, conversations), card
    )
    [outcome] = report.outcomes
    assert outcome.status is Status.FAILED and outcome.attempts == 5
    assert [a.status for a in connector.attempts] == [502] * 5  # five sends, none hidden inside the SDK
    [row] = await ledger[0].batch(outcome.batch)
    assert row.state == "failed" and "502" in row.last_error


async def test_404_means_gone_and_other_conversations_still_get_theirs(ledger, connector):
    conversations = ["19:a@thread.tacv2", "19:b@thread.tacv2", "19:c@thread.tacv2"]
    connector.inject("19:b@thread.tacv2", Fault(status=404))
    report = await deliverer(ledger).fan_out(
        dues_for(conversations), references(connector, conversations), card
    )
    assert sorted((o.due.conversation_id, o.status.value) for o in report.outcomes) == [
        ("19:a@thread.tacv2", "sent"),
        ("19:b@thread.tacv2", "gone"),
        ("19:c@thread.tacv2", "sent"),
    ]


async def test_a_slow_connector_within_the_timeout_is_fine(ledger, connector):
    conversations = ["19:slow@thread.tacv2"]
    connector.inject(conversations[0], Fault(delay=0.5))
    report = await deliverer(ledger, timeout=5.0).fan_out(
        dues_for(conversations), references(connector, conversations), card
    )
    assert report.counts()["sent"] == 1


@pytest.mark.parametrize("in_flight", [1, 4])
async def test_no_more_messages_are_with_the_connector_than_in_flight_allows(ledger, connector, in_flight):
    conversations = [f"19:f{n}@thread.tacv2" for n in range(12)]
    connector.hold()  # each request waits at the connector until the test lets one go
    fan_out = asyncio.create_task(
        deliverer(ledger, concurrency=8, in_flight=in_flight).fan_out(
            dues_for(conversations), references(connector, conversations), card
        )
    )
    for remaining in range(len(conversations), 0, -1):
        await connector.until_held(min(in_flight, remaining))  # with room, the fan-out uses all of it
        assert connector.held == min(in_flight, remaining) and connector.open_requests <= in_flight  # never more
        connector.release()
    report = await fan_out
    assert report.counts()["sent"] == 12
    assert connector.most_open == in_flight


async def test_the_ledger_marks_a_message_sending_only_while_the_connector_has_it(ledger, connector):
    conversations = ["19:watched@thread.tacv2"]
    store = ledger[0]
    seen: list[str] = []

    async def look(_request) -> None:  # the connector has the message and has not answered yet
        seen.extend(state for state, _ in (await store.states(["mc"], NOW)).values())

    connector.before_answer = look
    report = await deliverer(ledger).fan_out(dues_for(conversations), references(connector, conversations), card)
    [row] = await store.batch(report.outcomes[0].batch)
    assert seen == ["sending"] and row.state == "sent"


def test_a_read_timeout_is_a_delivery_timeout_not_a_retry_now():
    import requests
    from msrest.exceptions import ClientRequestError

    from bot.teams.proactive import to_delivery_error

    read = ClientRequestError("Error occurred in request.", requests.exceptions.ReadTimeout())
    refused = ClientRequestError("Error occurred in request.", requests.exceptions.ConnectionError())
    assert isinstance(to_delivery_error(read), DeliveryTimeout)
    assert isinstance(to_delivery_error(refused), Transient)
