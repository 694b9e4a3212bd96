"""``python -m bot devices {import-eac,export,scan}``: the device inventory from a shell.

``import-eac FILE`` reads the EAC "SMTP AUTH clients" CSV export into the inventory, all rows or
none: on success it prints one summary line (exit 0); otherwise it prints every bad line's number
and reason to stderr and imports nothing (exit 1). ``export FILE`` writes the inventory as CSV
(UTF-8 with BOM, for Excel in Japan; ``-`` writes to stdout). ``scan`` runs sign-in discovery once
(live Graph when GRAPH_* is set, the demo tenant otherwise) and prints what it found.

Messages follow ``--lang`` (default DEFAULT_LANGUAGE); ``--at`` (default the CLOCK_AT setting) runs a
command as if it were that moment, as the server does with CLOCK_AT. Exit codes: 0 done, 1 refused or failed,
2 bad arguments, settings or an unreadable file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.devices.config import device_settings, inventory_tenant
from bot.devices.export import inventory_csv
from bot.devices.importer import ImportRefused, import_report
from bot.devices.store import DeviceStore
from bot.operator import add_at_option, begin, command_clock
from bot.settings import Settings
from bot.storage.db import Database
from bot.tenant.posture import Posture, parse_posture
from bot.tenant.snapshots import SnapshotStore

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 50 * 2**20


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot devices", description="Import, export or scan the device inventory.")
    parser.add_argument("--lang", choices=("en", "ja"), help="language of the messages (default DEFAULT_LANGUAGE)")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import-eac", help="import the EAC SMTP AUTH clients report (CSV), all rows or none")
    imp.add_argument("file", type=Path)
    imp.add_argument("--actor", default="cli", help="who is importing, for the audit trail (default: cli)")
    exp = commands.add_parser("export", help="write the inventory as CSV (UTF-8 with BOM); '-' for stdout")
    exp.add_argument("file")
    scan = commands.add_parser("scan", help="read the sign-in logs once and merge what they show")
    for command in (imp, scan):
        add_at_option(command)
    return parser


async def _last_posture(database: Database, settings: Settings) -> Posture | None:
    """The last good posture the bot fetched (no network from the command line)."""
    from bot.tenant.source import demo_tenant_id

    tenant = settings.m365.tenant_id if settings.m365 is not None else demo_tenant_id()
    snapshot = await SnapshotStore(database.engine).get(f"posture:{tenant}")
    return parse_posture(snapshot.data) if snapshot and snapshot.data else None


async def _import(settings: Settings, clock: Clock, path: Path, actor: str, lang: str) -> int:
    try:
        data = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as error:
        print(f"{path}: {error.strerror or error}", file=sys.stderr)
        return 2
    database = Database(settings.database_url)
    await database.open()
    try:
        store = DeviceStore(database.engine, inventory_tenant(settings))
        result = await import_report(store, data, actor, clock())
    finally:
        await database.close()
    if isinstance(result, ImportRefused):
        header = "何も取り込んでいません:" if lang == "ja" else "Nothing was imported:"
        print(f"{path}: {header}", file=sys.stderr)
        for line in result.lines(lang):
            print(f"  {line}", file=sys.stderr)
        return 1
    print(result.line(lang))
    return 0


async def _export(settings: Settings, target: str, lang: str) -> int:
    database = Database(settings.database_url)
    await database.open()
    try:
        devices = await DeviceStore(database.engine, inventory_tenant(settings)).all()
        data = inventory_csv(devices, await _last_posture(database, settings))
    finally:
        await database.close()
    if target == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    try:
        Path(target).write_bytes(data)
    except OSError as error:
        print(f"{target}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(f"{target}: {len(devices):,} 台を書き出しました。" if lang == "ja" else f"Wrote {len(devices):,} devices to {target}.")
    return 0


async def _scan(settings: Settings, clock: Clock, lang: str) -> int:
    from bot.devices.scan import Scanner

    client: Any = None
    database = Database(settings.database_url)
    await database.open()
    try:
        if settings.m365 is not None:
            from bot.m365.http import M365Client
            from bot.tenant.live import LiveSource

            client = M365Client(settings.m365)
            await client.start()
            sign_ins = LiveSource(client).sign_ins
        else:
            from bot.tenant.source import DemoSource

            sign_ins = DemoSource(clock).sign_ins
        scanner = Scanner(database.engine, inventory_tenant(settings), sign_ins, clock, device_settings(settings))

        async def progress(events: int, oldest: str) -> None:
            print(f"… {events:,}", file=sys.stderr)

        outcome = await scanner.run(progress)
    finally:
        if client is not None:
            await client.close()
        await database.close()
    if outcome.busy:
        print("スキャンはすでに実行中です。" if lang == "ja" else "A scan is already running.", file=sys.stderr)
        return 1
    if outcome.error is not None:
        print(outcome.error.get(lang) or outcome.error["en"], file=sys.stderr)
        return 1
    result = outcome.result
    assert result is not None
    if lang == "ja":
        print(f"{result.events:,} 件のサインインを読み取りました: 新しいデバイス {len(result.new_devices):,}、"
              f"新しい送信者 {len(result.new_senders):,}、送信が途絶えた送信者 {len(result.gone_senders):,}。")
    else:
        print(f"Read {result.events:,} sign-ins: {len(result.new_devices):,} new devices, "
              f"{len(result.new_senders):,} new senders, {len(result.gone_senders):,} gone silent.")
    return 0


def main(argv: list[str]) -> int:
    started = begin(_parser(), argv, device_settings, log_level=logging.WARNING)
    if isinstance(started, int):
        return started
    args, settings = started
    lang = args.lang or settings.default_language
    clock = command_clock(args, settings)
    if args.command == "import-eac":
        return asyncio.run(_import(settings, clock, args.file, args.actor, lang))
    if args.command == "export":
        return asyncio.run(_export(settings, args.file, lang))
    return asyncio.run(_scan(settings, clock, lang))
