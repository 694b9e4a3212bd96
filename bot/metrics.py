"""What ``/metrics`` tells Prometheus (or Azure Monitor's Prometheus scraper) about a running bot.

Counters are counted where things happen (a turn ends, an alert is sent, Graph answers); the gauges
that describe shared state (how old the last Message Center read is, who holds the alerts lease)
are read from the database when ``/metrics`` is scraped, so every process reports the same truth.
The metric names are a contract with dashboards: add, don't rename.

The library's default registry is used, so a process exposes one set of numbers however many apps
it builds (tests build many: they compare before and after).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from bot.context import TurnLabels, close_turn, open_turn

PREFIX = "smtp_auth_bot"

TURNS = Counter(
    f"{PREFIX}_turns_total",
    "Activities received on /api/messages, by command (or card action, or activity type) and outcome.",
    ["command", "outcome"],
)
TURN_SECONDS = Histogram(
    f"{PREFIX}_turn_duration_seconds",
    "Time from receiving an activity to answering the HTTP request, replies to the connector included.",
    ["command"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ALERTS = Counter(
    f"{PREFIX}_alerts_total",
    "Proactive alerts by kind and outcome (sent, failed, gone, deferred, skipped, no_reference).",
    ["kind", "outcome"],
)
ALERTS_THROTTLED = Counter(
    f"{PREFIX}_alerts_throttled_total",
    "429 answers from the Bot Connector while sending alerts (each is retried after Retry-After).",
    ["kind"],
)
M365_REQUESTS = Counter(
    f"{PREFIX}_m365_requests_total",
    "HTTP requests to Microsoft Graph and the Exchange admin API, by service and status "
    "(the HTTP status, or timeout / network / tls when there was none).",
    ["service", "status"],
)
MC_READ_AGE = Gauge(
    f"{PREFIX}_message_center_read_age_seconds",
    "Seconds since the Message Center was last read successfully (NaN: never).",
)
MC_READ_FAILING = Gauge(
    f"{PREFIX}_message_center_read_failing",
    "1 when the latest Message Center read failed (the bot answers from the last good copy).",
)
LEASE_HELD = Gauge(
    f"{PREFIX}_scheduler_lease_held",
    "1 when this process holds the alerts scheduler lease (only the holder sends alerts).",
)
LEASE_HOLDER = Gauge(
    f"{PREFIX}_scheduler_lease_holder",
    "1 for the process recorded as holding the alerts scheduler lease; expired=1 once it lapsed.",
    ["holder", "expired"],
)


def _outcome(labels: TurnLabels, status: int) -> str:
    if labels.outcome:
        return labels.outcome
    if status >= 500:
        return "error"
    if status >= 400:
        return "rejected"
    return "ok"


@contextmanager
def observe_turn() -> Iterator[TurnLabels]:
    """Around one ``/api/messages`` request: opens its labels, then counts and times it.

    The caller puts the HTTP status it answered in ``labels.status``; an aiohttp HTTP exception
    (401, 413) brings its own, anything else raised counts as an error.
    """
    labels, token = open_turn()
    started = time.perf_counter()
    status = 500
    try:
        yield labels
        status = labels.status
    except BaseException as error:
        status = int(getattr(error, "status", 500) or 500)
        raise
    finally:
        TURN_SECONDS.labels(labels.command).observe(time.perf_counter() - started)
        TURNS.labels(labels.command, _outcome(labels, status)).inc()
        close_turn(token)


def count_m365(service: str, status: int | str) -> None:
    M365_REQUESTS.labels(service, str(status)).inc()


def count_alerts(kind_and_status: Iterator[tuple[str, str]]) -> None:
    for kind, outcome in kind_and_status:
        ALERTS.labels(kind, outcome).inc()


def count_alert_throttled(kind: str) -> None:
    ALERTS_THROTTLED.labels(kind).inc()


def set_message_center(last_read: datetime | None, failing: bool, now: datetime) -> None:
    MC_READ_AGE.set((now - last_read).total_seconds() if last_read is not None else math.nan)
    MC_READ_FAILING.set(1 if failing else 0)


def set_lease(held: bool, holder: str | None, expired: bool) -> None:
    LEASE_HELD.set(1 if held else 0)
    LEASE_HOLDER.clear()
    if holder:
        LEASE_HOLDER.labels(holder, "1" if expired else "0").set(1)


def exposition() -> tuple[bytes, str]:
    """The body and content type of ``/metrics``."""
    return generate_latest(), CONTENT_TYPE_LATEST
