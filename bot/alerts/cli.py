"""``python -m bot alerts {preview,run-once}``: rehearse or run the alert jobs from a shell.

``preview [--at ISO-DATETIME]`` prints, without sending or claiming anything, one JSON line per
alert that would go out at that moment (tenant, conversation, kind, key). It does not poll the
Message Center or sender sources (a poll consumes what it returns); it shows what is recorded.

``run-once`` runs every job once at the current time and sends what is due through the Bot
Connector, then exits; a second run at the same moment sends nothing (the ledger says it went).
Its Message Center job polls the tenant (live with Graph credentials, else the demo tenant) as the
bot's scheduler does.
It takes the same lease as the bot's scheduler, so it refuses to run while a bot process holds it.
``--at`` (or the CLOCK_AT setting) makes it act as if it were that moment: for rehearsals against
a test connector only.

Exit codes: 0 done, 1 a job failed or the lease is held elsewhere, 2 bad arguments or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from types import SimpleNamespace

from bot.alerts.config import alert_settings
from bot.alerts.jobs import AlertContext, due_now, run_all
from bot.alerts.scheduler import build_context
from bot.alerts.sources import default_sources
from bot.clock import Clock, clock_from, fixed
from bot.operator import begin, parse_at
from bot.settings import Settings
from bot.storage.db import Database
from bot.timeline import load_timeline

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot alerts", description="Rehearse or run proactive alerts."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("preview", help="print the alerts due at a moment, without sending")
    preview.add_argument("--at", type=parse_at, help="the moment (ISO 8601 with offset); default CLOCK_AT or now")
    run = commands.add_parser("run-once", help="run every job once now and send what is due")
    run.add_argument(
        "--at", type=parse_at, help="act as if it were this moment (rehearsals with a test connector); default CLOCK_AT"
    )
    return parser


@contextlib.asynccontextmanager
async def _context(
    settings: Settings, clock: Clock, send: bool
) -> AsyncIterator[AlertContext]:
    database = Database(settings.database_url)
    await database.open()
    try:
        timeline = load_timeline()
        services = SimpleNamespace(settings=settings, db=database, timeline=timeline, clock=clock)
        sender = None
        async with contextlib.AsyncExitStack() as stack:
            if send:  # a preview polls nothing: a poll consumes what it returns
                from bot.teams.adapter import build_adapter, build_auth
                from bot.teams.proactive import ProactiveSender
                from bot.tenant.connect import tenant_data

                services.tenant = await stack.enter_async_context(
                    tenant_data(settings, database.engine, clock)
                )
                auth = build_auth(settings)
                stack.push_async_callback(auth.close)  # its connector session
                sender = ProactiveSender(build_adapter(settings, auth), settings.app_id)
            yield build_context(
                database.engine, timeline, default_sources(services), alert_settings(settings), clock, sender
            )
    finally:
        await database.close()


async def _keep_lease(ctx: AlertContext) -> None:
    while True:
        await asyncio.sleep(ctx.lease.ttl.total_seconds() / 3)
        try:
            await ctx.lease.acquire(ctx.clock())
        except Exception as error:  # noqa: BLE001 - sends stop by themselves once the lease lapses
            log.warning("could not renew the alerts lease (%s)", type(error).__name__)


async def preview(settings: Settings, at: datetime | None) -> int:
    moment = at or clock_from(settings.clock_at)()
    async with _context(settings, fixed(moment), send=False) as ctx:
        dues = await due_now(ctx, moment)
    for due in dues:
        print(json.dumps(due.preview(), ensure_ascii=False))
    print(f"{len(dues)} alert(s) due at {moment.isoformat()}", file=sys.stderr)
    return 0


async def run_once(settings: Settings, at: datetime | None) -> int:
    at = at or settings.clock_at
    if at is not None:
        print(f"warning: acting as if it were {at.isoformat()}; this really sends", file=sys.stderr)
    clock = clock_from(at)
    async with _context(settings, clock, send=True) as ctx:
        if not await ctx.lease.acquire(clock()):
            state = await ctx.lease.state()
            until = state.expires_at.isoformat() if state else "?"
            print(
                f"another process runs the alert jobs (its lease lasts until {until}); nothing sent",
                file=sys.stderr,
            )
            return 1
        keeper = asyncio.create_task(_keep_lease(ctx))
        try:
            results = await run_all(ctx)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await ctx.lease.release(clock())
    for result in results:
        print(json.dumps(result.summary(), ensure_ascii=False))
    return 1 if any(r.skipped and r.skipped.startswith("failed") for r in results) else 0


def main(argv: list[str]) -> int:
    started = begin(_parser(), argv, alert_settings)
    if isinstance(started, int):
        return started
    args, settings = started
    if args.command == "preview":
        return asyncio.run(preview(settings, args.at))
    return asyncio.run(run_once(settings, args.at))
