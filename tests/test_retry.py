"""One backoff rule and one Retry-After reader for Graph, the Bot Connector and alerts."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

import bot.alerts.delivery as delivery
import bot.m365.http as m365_http
import bot.teams.connector as connector
from bot.retry import backoff_delay, parse_retry_after

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("nan", None),
        ("inf", None),
        (format_datetime(NOW + timedelta(seconds=45), usegmt=True), 45.0),
        ("Wed, 02 Dec 2026 09:00:45 -0000", 45.0),  # no zone: read as UTC, like every HTTP date
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
        ("tomorrow", None),
        ("   ", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(header, expected):
    assert parse_retry_after(header, NOW) == expected


def test_retry_after_date_without_a_clock_counts_from_now():
    soon = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=600), usegmt=True)
    assert 590 <= (parse_retry_after(soon) or 0) <= 600


def test_every_caller_reads_retry_after_with_the_same_function():
    assert m365_http.parse_retry_after is parse_retry_after
    assert delivery.parse_retry_after is parse_retry_after
    assert connector.backoff_delay is backoff_delay


def test_backoff_doubles_up_to_the_cap_with_the_upper_half_jittered():
    low = [backoff_delay(n, base=1.0, cap=8.0, jitter=0.0) for n in range(1, 6)]
    high = [backoff_delay(n, base=1.0, cap=8.0, jitter=1.0) for n in range(1, 6)]
    assert low == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert high == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff_delay(9, base=0.8) == 0.8 * 2**8  # no cap, no jitter: the connector's plain doubling
    assert math.isclose(backoff_delay(2, base=1.0, retry_after=7.0, spread=0.25), 7.25)


def test_callers_keep_their_own_rules():
    """Graph waits exactly Retry-After; alerts add a little spread; the connector doubles from 0.8 s."""
    graph = m365_http.RetryPolicy(base_delay=1.0, max_delay=30.0, jitter=lambda: 1.0)
    assert m365_http.backoff_delay(2, 12.0, graph) == 12.0
    assert m365_http.backoff_delay(3, None, graph) == 4.0
    import random

    alerts = delivery.RetryPolicy(base=0.5, cap=30.0)
    rng = random.Random(1)
    assert all(12.0 <= delivery.backoff_delay(2, 12.0, alerts, rng) <= 12.5 for _ in range(20))
    reply = connector.SendPolicy()
    assert [backoff_delay(n, base=reply.backoff) for n in (1, 2)] == [0.8, 1.6]
