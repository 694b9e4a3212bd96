"""The device inventory in the database (SQLite, and PostgreSQL with TEST_DATABASE_URL): changes with
their audit trail, all-or-nothing EAC imports up to 100k rows, incremental discovery, the scan lease."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator

import pytest
import sqlalchemy as sa

from bot.devices.config import DeviceSettings
from bot.devices.importer import ImportRefused, ImportSummary, import_report
from bot.devices.model import DeviceDraft, DeviceKind, DeviceStatus, ObservedAuth, SenderFlag, Source
from bot.devices.scan import Scanner, ScanStateStore
from bot.devices.store import DeviceConflict, DeviceStore
from bot.devices.tables import device_audit, devices
from bot.storage.db import Database
from bot.tenant.demo_signins import demo_sign_ins
from bot.tenant.source import DemoSource

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
TENANT = "00000000-0000-4000-8000-00000000c0de"
HEADER = "Sender address,Domain,TLS 1.0 (%),TLS 1.1 (%),TLS 1.2 (%),Messages sent,Authentication Protocol"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.open()
    yield database
    await database.close()


def report(*rows: str) -> bytes:
    return ("\r\n".join((HEADER, *rows)) + "\r\n").encode("utf-8")


async def audit_rows(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(device_audit))).scalar_one())


async def test_migration_3_creates_the_inventory_tables(db):
    async with db.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        versions = set((await conn.execute(sa.text("SELECT version FROM schema_version"))).scalars())
    assert {"devices", "device_senders", "device_audit", "device_scans"} <= set(names)
    assert 3 in versions


async def test_changes_are_audited_and_names_stay_unique(db):
    store = DeviceStore(db.engine, TENANT)
    added = await store.add(DeviceDraft("MFP@Contoso.com", "MFP 3F", DeviceKind.PRINTER_MFP, "203.0.113.9"), "Aiko (a1)", NOW)
    assert added.sender == "mfp@contoso.com" and added.sources == frozenset({Source.MANUAL})
    later = NOW + timedelta(hours=1)
    changed = await store.update(added.id, {"status": DeviceStatus.IN_PROGRESS, "owner": "Tanaka"}, "Ken (k2)", later)
    assert changed is not None and changed.status is DeviceStatus.IN_PROGRESS and changed.updated_at == later
    assert await store.update(added.id, {"owner": "Tanaka"}, "Ken (k2)", later) == changed  # no change, no entry
    trail = await store.audit(added.id)
    assert sorted((e.actor, e.field, e.old, e.new, e.at) for e in trail) == [
        ("Aiko (a1)", "created", None, "MFP 3F", NOW),
        ("Ken (k2)", "owner", "", "Tanaka", later),
        ("Ken (k2)", "status", "not_started", "in_progress", later),
    ]
    assert trail[-1].field == "created"  # newest first
    with pytest.raises(DeviceConflict):
        await store.add(DeviceDraft("other@contoso.com", "mfp  3f"), "Aiko", NOW)  # same name, other spacing/case
    with pytest.raises(DeviceConflict):
        await store.add(DeviceDraft("mfp@contoso.com", "Another", source_ip="203.0.113.9"), "Aiko", NOW)
    other = await store.add(DeviceDraft("other@contoso.com", "Other"), "Aiko", NOW)
    with pytest.raises(DeviceConflict):
        await store.update(other.id, {"name": "MFP 3F"}, "Aiko", NOW)
    assert await store.update(12345, {"owner": "x"}, "Aiko", NOW) is None
    assert await store.count() == 2


async def test_inventories_of_two_tenants_never_mix(db):
    first, second = DeviceStore(db.engine, TENANT), DeviceStore(db.engine, "11111111-2222-3333-4444-555555555555")
    device = await first.add(DeviceDraft("a@contoso.com", "A"), "x", NOW)
    await second.add(DeviceDraft("a@contoso.com", "A"), "x", NOW)  # the same name is free in another tenant
    assert await second.get(device.id) is None
    assert [d.tenant_id for d in await first.all()] == [TENANT]


async def test_eac_import_merges_senders_and_is_all_or_nothing(db):
    store = DeviceStore(db.engine, TENANT)
    await store.add(DeviceDraft("printer@contoso.com", "Printer", DeviceKind.PRINTER_MFP, "203.0.113.5"), "Aiko", NOW)
    result = await import_report(store, report(
        "printer@contoso.com,contoso.com,100,0,0,40,Basic",
        "printer@contoso.com,contoso.com,0,0,100,2,OAuth",
        "app@contoso.com,contoso.com,0,0,100,900,OAuth",
    ), "eac-import: Aiko", NOW)
    assert isinstance(result, ImportSummary)
    assert (result.senders, result.created, result.updated, result.basic, result.oauth, result.legacy_tls) == (2, 1, 1, 1, 1, 1)
    by_sender = {d.sender: d for d in await store.all()}
    printer = by_sender["printer@contoso.com"]
    assert printer.observed_auth is ObservedAuth.BASIC  # Basic and OAuth rows: something still uses a password
    assert printer.tls_versions == frozenset({"1.0", "1.2"}) and printer.messages == 42
    assert printer.sources == frozenset({Source.MANUAL, Source.EAC}) and printer.kind is DeviceKind.PRINTER_MFP
    assert by_sender["app@contoso.com"].observed_auth is ObservedAuth.OAUTH
    audit_before = await audit_rows(db)
    devices_before = await store.all()

    again = await import_report(store, report("printer@contoso.com,contoso.com,100,0,0,40,Basic",
                                              "printer@contoso.com,contoso.com,0,0,100,2,OAuth",
                                              "app@contoso.com,contoso.com,0,0,100,900,OAuth"), "eac", NOW)
    assert isinstance(again, ImportSummary) and (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert await audit_rows(db) == audit_before

    refused = await import_report(store, report(
        "new@contoso.com,contoso.com,0,0,100,1,Basic",
        "printer@contoso.com,contoso.com,0,0,100,1,OAuth",
        "broken,contoso.com,0,0,100,1,Basic",
    ), "eac", NOW)
    assert isinstance(refused, ImportRefused)
    assert refused.lines("en") == ["Line 4: Sender address 'broken' is not an email address."]
    assert await store.all() == devices_before
    assert await audit_rows(db) == audit_before


async def test_a_100k_row_report_imports_whole_or_not_at_all(db):
    store = DeviceStore(db.engine, TENANT)
    rows = [f"sender{i:06d}@contoso.com,contoso.com,0,0,100,{i % 50},{'Basic' if i % 3 else 'OAuth'}" for i in range(100_000)]
    bad = rows[:99_999] + ["sender-last@contoso.com,contoso.com,0,0,100,x,Basic"]
    refused = await import_report(store, report(*bad), "eac", NOW)
    assert isinstance(refused, ImportRefused)
    assert refused.lines("en") == ["Line 100001: Messages sent must be a whole number of 0 or more, such as 1234 or 1,234 (found 'x')."]
    assert await store.count() == 0
    result = await import_report(store, report(*rows), "eac", NOW)
    assert isinstance(result, ImportSummary) and result.created == 100_000
    assert await store.count() == 100_000
    assert await audit_rows(db) == 100_000


async def scanner(db: Database, clock: Any, **settings: Any) -> Scanner:
    return Scanner(db.engine, TENANT, DemoSource(clock).sign_ins, clock, DeviceSettings(**settings))


async def test_discovery_is_incremental_and_flags_new_and_gone_senders(db):
    first_at = NOW + timedelta(minutes=10)  # so the next run's 15-minute overlap holds sign-ins (03:03, 03:07)
    moments = [first_at]
    scan = await scanner(db, lambda: moments[-1])
    first = await scan.run()
    assert first.result is not None
    assert first.result.events == len(list(demo_sign_ins(first_at - timedelta(days=30), first_at, first_at.date())))
    assert set(first.result.new_senders) == {"scan-to-mail@contoso.com", "printer-3f@contoso.com", "erp-notify@contoso.com",
                                             "monitoring@contoso.com", "helpdesk-app@contoso.com"}
    assert first.result.gone_senders == ["former-fax@contoso.com"]  # first seen, but silent since 1 November
    store = scan.store
    totals = {d.name: (d.sign_ins_ok, d.sign_ins_failed, d.last_seen) for d in await store.all()}
    assert totals["scan-to-mail (198.51.100.20)"][1] > 0  # the Tokyo scanner's wrong passwords

    moments.append(first_at + timedelta(days=1))
    second = await scan.run()
    assert second.result is not None
    assert second.since == first_at - timedelta(minutes=15) and second.until == first_at + timedelta(days=1)
    fresh = list(demo_sign_ins(first_at - timedelta(minutes=15), first_at + timedelta(days=1), moments[-1].date()))
    overlap = [e for e in fresh if e["createdDateTime"] <= "2026-11-23T03:10:00Z"]
    assert overlap, "the demo has sign-ins in the overlap, so skipping them is tested"
    assert second.result.events == len(fresh) - len(overlap)
    assert second.result.new_senders == []  # flags of the first run are replaced
    after = {d.name: d for d in await store.all()}
    printer_events = [e for e in fresh if e["userPrincipalName"] == "printer-3f@contoso.com"
                      and e["createdDateTime"] > "2026-11-23T03:10:00Z"]
    assert after["printer-3f"].sign_ins_ok == totals["printer-3f"][0] + len(printer_events)
    senders = {s.upn: s for s in await store.senders()}
    assert senders["former-fax@contoso.com"].flag is SenderFlag.GONE
    assert senders["printer-3f@contoso.com"].flag is None
    state = await ScanStateStore(db.engine, TENANT).get()
    assert state.runs == 2 and state.cursor == first_at + timedelta(days=1) and state.outcome == "ok"


async def test_discovery_lends_an_eac_device_to_its_first_ip(db):
    store = DeviceStore(db.engine, TENANT)
    await import_report(store, report("printer-3f@contoso.com,contoso.com,100,0,0,40,Basic"), "eac", NOW)
    [eac_device] = await store.all()
    assert eac_device.source_ip == ""
    scan = await scanner(db, lambda: NOW)
    await scan.run()
    printer = [d for d in await store.all() if d.sender == "printer-3f@contoso.com"]
    assert len(printer) == 1
    assert printer[0].id == eac_device.id and printer[0].source_ip == "203.0.113.11"
    assert printer[0].sources == frozenset({Source.EAC, Source.SIGN_INS}) and printer[0].observed_auth is ObservedAuth.BASIC
    outcome = await scan.run()
    assert outcome.result is not None and "printer-3f@contoso.com" not in outcome.result.new_senders


async def test_a_failed_scan_saves_nothing_and_the_next_one_rereads(db):
    calls = []

    async def failing(since: datetime, until: datetime | None = None) -> AsyncIterator[dict[str, Any]]:
        calls.append(since)
        for number, event in enumerate(demo_sign_ins(since, until or NOW, NOW.date())):
            if number == 50:
                raise RuntimeError("connection reset")
            yield event

    scan = Scanner(db.engine, TENANT, failing, lambda: NOW, DeviceSettings())
    outcome = await scan.run()
    assert outcome.error is not None and "connection reset" in outcome.error["en"]
    assert await scan.store.count() == 0
    state = await ScanStateStore(db.engine, TENANT).get()
    assert state.cursor is None and state.outcome == "failed" and state.lease_holder is None


async def test_only_one_scan_runs_at_a_time(db):
    reading, gate = asyncio.Event(), asyncio.Event()

    async def slow(since: datetime, until: datetime | None = None) -> AsyncIterator[dict[str, Any]]:
        reading.set()  # the scan holds its lease before it reads anything
        await gate.wait()
        async for event in DemoSource(lambda: NOW).sign_ins(since, until):
            yield event

    first = Scanner(db.engine, TENANT, slow, lambda: NOW, DeviceSettings())
    second = Scanner(db.engine, TENANT, slow, lambda: NOW, DeviceSettings())
    running = asyncio.create_task(first.run())
    await asyncio.wait_for(reading.wait(), 30)
    assert (await ScanStateStore(db.engine, TENANT).get()).lease_holder is not None
    busy = await second.run()
    assert busy.busy
    gate.set()
    done = await running
    assert done.result is not None
    later = Scanner(db.engine, TENANT, slow, lambda: NOW + timedelta(hours=1), DeviceSettings())
    assert (await later.run()).result is not None  # the lease was released


async def test_a_stale_lease_runs_out(db):
    states = ScanStateStore(db.engine, TENANT)
    assert await states.acquire("crashed", NOW)
    assert not await states.acquire("other", NOW + timedelta(minutes=5))
    assert await states.acquire("other", NOW + timedelta(minutes=31))


async def test_device_rows_keep_their_types(db):
    store = DeviceStore(db.engine, TENANT)
    device = await store.add(DeviceDraft("a@contoso.com", "日本語の名前"), "x", NOW)
    await store.update(device.id, {"supports_oauth": False, "has_static_ip": None, "tls_versions": frozenset({"1.0"})}, "x", NOW)
    loaded = await store.get(device.id)
    assert loaded is not None and loaded.name == "日本語の名前"
    assert loaded.supports_oauth is False and loaded.has_static_ip is None and loaded.tls_versions == frozenset({"1.0"})
    async with db.engine.connect() as conn:
        row = (await conn.execute(sa.select(devices.c.sources, devices.c.created_at))).first()
    assert row is not None and row.sources == ["manual"] and row.created_at == NOW
