"""``python -m bot devices`` as an operator runs it: real subprocesses against a real database (SQLite,
and PostgreSQL with TEST_DATABASE_URL), with the EAC fixtures as input."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.clock import parse_moment
from bot.devices.config import inventory_tenant
from bot.devices.store import DeviceStore
from bot.settings import load_settings
from bot.storage.db import Database
from support import subprocess_env

PROJECT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "eac"


async def run(database_url: str, *args: str, **env: str) -> tuple[int, str, str, bytes]:
    environment = {**subprocess_env(), "DATABASE_URL": database_url, **env}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "devices", *args, cwd=PROJECT, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode("utf-8", "replace"), err.decode(), out


async def inventory(database_url: str) -> list:
    settings = load_settings({"DATABASE_URL": database_url}, dotenv=Path("/nonexistent"))
    database = Database(settings.database_url)
    await database.open()
    try:
        return await DeviceStore(database.engine, inventory_tenant(settings)).all()
    finally:
        await database.close()


async def test_import_prints_one_line_and_exits_0(database_url):
    code, out, err, _ = await run(database_url, "import-eac", str(DATA / "with_auth_bom.csv"))
    assert code == 0, err
    assert out.strip().splitlines() == [
        "Imported 4 rows for 3 senders (3 new devices, 0 updated, 0 unchanged): 2 Basic, 0 OAuth, 1 unknown, 1 below TLS 1.2."
    ]
    assert len(await inventory(database_url)) == 3


async def test_a_bad_file_lists_every_bad_line_and_imports_nothing(database_url):
    code, out, err, _ = await run(database_url, "--lang", "ja", "import-eac", str(DATA / "bad_lines.csv"))
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert lines[0].endswith("何も取り込んでいません:")
    numbers = [line.split(" 行目")[0].strip() for line in lines[1:]]
    assert numbers == ["3", "4", "6", "7", "7", "8", "9", "10", "11", "12"]
    assert await inventory(database_url) == []


async def test_wrong_encoding_duplicates_and_garbage_are_refused(database_url, tmp_path):
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes((i * 97 + 5) % 256 for i in range(8000)))
    code, _, err, _ = await run(database_url, "import-eac", str(garbage))
    assert code == 1 and "Nothing was imported" in err
    code, _, err, _ = await run(database_url, "import-eac", str(DATA / "duplicates.csv"))
    assert code == 1 and "are the same sender" in err
    code, _, err, _ = await run(database_url, "import-eac", str(tmp_path / "missing.csv"))
    assert code == 2 and "No such file" in err
    code, _, err, _ = await run(database_url, "import-eac")
    assert code == 2
    assert await inventory(database_url) == []


async def test_export_writes_excel_ready_csv(database_url, tmp_path):
    assert (await run(database_url, "import-eac", str(DATA / "japanese_cp932.csv")))[0] == 0
    target = tmp_path / "devices.csv"
    code, out, err, _ = await run(database_url, "export", str(target))
    assert code == 0, err
    devices = await inventory(database_url)
    assert out.strip() == f"Wrote {len(devices)} devices to {target}."
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(r["sender"] for r in rows) == sorted(d.sender for d in devices)
    assert all(r["status"] == "not_started" and r["path"] == "" for r in rows)
    code, _, _, raw = await run(database_url, "export", "-")
    assert code == 0 and raw == data


# Before the default-disable, in its last half hour in Tokyo, after it, and months later.
SCAN_MOMENTS = ["2026-11-23T12:00+09:00", "2026-12-31T23:30+09:00", "2027-01-15T09:00+09:00", "2027-09-01T09:00+09:00"]


@pytest.mark.parametrize("at", SCAN_MOMENTS)
async def test_scan_from_the_command_line_tells_the_demo_story_on_any_date(database_url, at):
    code, out, err, _ = await run(database_url, "scan", "--at", at)
    assert code == 0, err
    assert out.endswith(": 8 new devices, 5 new senders, 1 gone silent.\n"), out
    devices = {device.name: device for device in await inventory(database_url)}
    assert len(devices) == 8
    today = parse_moment(at).date()
    assert devices["helpdesk-app"].first_seen.date() == today - timedelta(days=3)  # the new app
    assert devices["former-fax"].last_seen.date() == today - timedelta(days=22)  # gone quiet


async def test_scan_takes_the_servers_clock_setting(database_url):
    code, out, err, _ = await run(database_url, "scan", CLOCK_AT="2027-01-15T09:00+09:00")
    assert code == 0, err
    devices = {device.name: device for device in await inventory(database_url)}
    assert devices["helpdesk-app"].first_seen.date() == date(2027, 1, 12)
    code, _, err, _ = await run(database_url, "scan", CLOCK_AT="15 January")
    assert code == 2 and err.strip().splitlines() == [
        "configuration error: CLOCK_AT: '15 January' is not an ISO date-time (e.g. 2027-01-15T09:00+09:00)"
    ]
    code, _, err, _ = await run(database_url, "scan", "--at", "2027-01-15T09:00")
    assert code == 2 and "has no UTC offset" in err
