"""Benchmark: one alert to 1,000 subscribed channels through the rate-limiting fake Bot Connector.

Runs the real countdown job (rules, ledger claims, the CloudAdapter sender, the rate limiter) against
the loopback fake connector from the tests, which answers 429 to anything over Teams' limits. The
connector runs in its own process, as the real one is elsewhere: in the bot's event loop it would
steal the bot's CPU and timestamp arrivals late whenever the bot's loop is busy. The bound the
limits allow is channels / 50 per second (the per-app-per-tenant limit): 20 s for 1,000.

    .venv/bin/python bench/alerts_fanout.py [--channels 1000] [--database-url URL] [--latency 0.0]
        [--concurrency 16] [--in-flight 1]

Prints the wall time beside that bound, and the lost, duplicate and throttled (429) counts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import sqlalchemy as sa  # noqa: E402
from connector_fake import FakeConnector, Fault  # noqa: E402

from bot.alerts import jobs  # noqa: E402
from bot.alerts.config import AlertSettings  # noqa: E402
from bot.alerts.scheduler import build_context  # noqa: E402
from bot.alerts.sources import Sources  # noqa: E402
from bot.alerts.tables import alert_subscriptions  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.storage.db import Database  # noqa: E402
from bot.storage.schema import conversations  # noqa: E402
from bot.teams.adapter import build_adapter, build_auth  # noqa: E402
from bot.teams.proactive import ProactiveSender  # noqa: E402
from bot.timeline import load_timeline  # noqa: E402

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIBED = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
RUNG_30 = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)  # 09:00 on 1 December in Tokyo
TENANT_RPS = 50


def reference(service_url: str, cid: str) -> dict[str, object]:
    return {
        "bot": {"id": "28:bench-bot", "name": "SMTP AUTH Readiness"},
        "user": {"id": "29:bench-user"},
        "conversation": {"id": cid, "conversationType": "channel", "isGroup": True, "tenantId": TENANT},
        "channelId": "msteams",
        "serviceUrl": service_url,
    }


async def seed(database: Database, service_url: str, channels: list[str]) -> None:
    rows = [
        dict(
            tenant_id=TENANT,
            conversation_id=cid,
            conversation_type="channel",
            team_id=cid,
            channel_id=cid,
            service_url=service_url,
            bot_id="28:bench-bot",
            reference=reference(service_url, cid),
            installed_at=SUBSCRIBED,
            updated_at=SUBSCRIBED,
        )
        for cid in channels
    ]
    subs = [
        dict(
            tenant_id=TENANT,
            conversation_id=cid,
            conversation_type="channel",
            kinds="countdown",
            lang="ja",
            timezone="Asia/Tokyo",
            send_time="09:00",
            active=True,
            snoozes={},
            created_by="bench",
            created_at=SUBSCRIBED,
            updated_at=SUBSCRIBED,
        )
        for cid in channels
    ]
    async with database.engine.begin() as conn:
        await conn.execute(sa.insert(conversations), rows)
        await conn.execute(sa.insert(alert_subscriptions), subs)


async def serve_connector(latency: float) -> None:
    """The fake connector's own process: prints its URL, answers until stdin says "report"."""
    # It keeps every message it receives; the collector's full passes over them paused it for
    # 50-70 ms, so it stamped arrivals late and answered 429 to sends that were within the limits.
    gc.disable()
    connector = FakeConnector(enforce_limits=True)
    if latency:
        connector.faults = _SlowForEveryone(latency)  # type: ignore[assignment]
    await connector.start()
    print(connector.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    received = Counter(m.conversation_id for m in connector.messages())
    accepted = [a.at for a in connector.attempts if a.status == 200]
    span = (max(accepted) - min(accepted)) if accepted else 0.0
    first = min(accepted) if accepted else 0.0
    throttled_at = [round(a.at - first, 2) for a in connector.attempts if a.status == 429]
    report = {"received": received, "throttled": connector.throttled, "span": span, "throttled_at": throttled_at}
    print(json.dumps(report), flush=True)
    await connector.close()


class _SlowForEveryone(dict):  # type: ignore[type-arg]
    """Every conversation's next request takes ``latency`` seconds (a far-away connector)."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    def get(self, key, default=None):  # type: ignore[no-untyped-def]
        from collections import deque

        return deque([Fault(delay=self.latency)])


async def run(
    channel_count: int, database_url: str | None, latency: float, concurrency: int, in_flight: int
) -> int:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve-connector",
        "--latency",
        str(latency),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None and server.stdin is not None
    connector_url = (await server.stdout.readline()).decode().strip()
    channels = [f"19:bench-{n:04d}@thread.tacv2" for n in range(channel_count)]
    with tempfile.TemporaryDirectory() as scratch:
        url = database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        database = Database(url)
        await database.open()
        try:
            await seed(database, connector_url, channels)
            settings = load_settings({}, dotenv=None)
            sender = ProactiveSender(build_adapter(settings, build_auth(settings)), settings.app_id)
            ctx = build_context(
                database.engine,
                load_timeline(),
                Sources(),
                AlertSettings(concurrency=concurrency, in_flight=in_flight),
                lambda: RUNG_30,
                sender,
            )
            started = time.monotonic()
            result = await jobs.countdown_job(ctx)
            elapsed = time.monotonic() - started
            again = await jobs.countdown_job(ctx)  # the same moment once more: must send nothing
        finally:
            await database.close()
    server.stdin.write(b"report\n")
    await server.stdin.drain()
    stats = json.loads((await server.stdout.readline()).decode())
    await server.wait()

    received = Counter(stats["received"])
    lost = sum(1 for cid in channels if received[cid] == 0)
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    bound = channel_count / TENANT_RPS
    print(f"channels            {channel_count}")
    print(f"wall time           {elapsed:.2f} s")
    print(f"bound (n / {TENANT_RPS}/s)     {bound:.2f} s")
    print(f"ratio               {elapsed / bound:.3f} x  (target <= 1.10)")
    print(f"sent                {result.counts.get('sent', 0)}")
    print(f"lost                {lost}")
    print(f"duplicates          {duplicates}")
    print(f"throttled (429)     {stats['throttled']}" + (f" at {stats['throttled_at']} s" if stats["throttled_at"] else ""))
    print(f"first to last post  {stats['span']:.2f} s (as the connector saw them)")
    print(f"second run sent     {again.counts.get('sent', 0)}")
    print(f"database            {Database(url).dialect if database_url else 'sqlite (temporary file)'}")
    print(f"concurrency         {concurrency} prepared, {in_flight} in flight; connector latency {latency * 1000:.0f} ms")
    ok = lost == 0 and duplicates == 0 and again.counts.get("sent", 0) == 0 and elapsed <= 1.1 * bound
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds the fake connector takes per message"
    )
    parser.add_argument("--concurrency", type=int, default=AlertSettings().concurrency)
    parser.add_argument(
        "--in-flight", type=int, default=AlertSettings().in_flight, help="ALERTS_IN_FLIGHT (default 1)"
    )
    parser.add_argument("--serve-connector", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.serve_connector:
        asyncio.run(serve_connector(args.latency))
        return 0
    return asyncio.run(run(args.channels, args.database_url, args.latency, args.concurrency, args.in_flight))


if __name__ == "__main__":
    sys.exit(main())
