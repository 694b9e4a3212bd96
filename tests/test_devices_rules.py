"""The plain rules of device readiness: what breaks at the cutoff, counts and filters, names and close
matches, form checks, the CSV export, folding sign-ins and EAC rows, and the demo tenant's sign-ins."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from bot.devices.classify import classify
from bot.devices.cutoff import Verdict, cutoff_report, device_verdict, mailbox_verdict
from bot.devices.discovery import Aggregator, day_slices, plan_discovery, stamp
from bot.devices.eac_report import EacRow
from bot.devices.edits import parse_draft, parse_edit
from bot.devices.export import COLUMNS, inventory_csv, safe_cell
from bot.devices.importer import fold_rows
from bot.devices.migration import MigrationPath
from bot.devices.model import Device, DeviceKind, DeviceStatus, ObservedAuth, RecipientScope, SenderFlag, Source
from bot.devices.naming import find, suggested_name
from bot.devices.readiness import DeviceFilter, FilterError, page_of, parse_filter, select, summarize
from bot.tenant.demo_signins import demo_sign_ins
from bot.tenant.posture import MailboxOverride, Posture

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def posture(org_disabled: bool | None = False, security_defaults: bool | None = False, **mailboxes: str) -> Posture:
    overrides = tuple(MailboxOverride(f"{name}@contoso.com", setting) for name, setting in mailboxes.items())
    return Posture(security_defaults, org_disabled, overrides, (), True)


def device(number: int, sender: str, auth: ObservedAuth = ObservedAuth.BASIC, **changes: object) -> Device:
    base = Device(id=number, tenant_id="t", sender=f"{sender}@contoso.com", source_ip=f"203.0.113.{number}",
                  name=f"{sender}-{number}", observed_auth=auth)
    return replace(base, **changes)  # type: ignore[arg-type]


# ---------------------------------------------------------------- what breaks at the cutoff


@pytest.mark.parametrize(
    "tenant, verdict",
    [
        (posture(False), Verdict.BREAKS),  # follows an enabled organisation default
        (posture(False, mfp="enabled"), Verdict.BORROWED_TIME),  # explicit per-mailbox enable
        (posture(False, mfp="disabled"), Verdict.ALREADY_BLOCKED),
        (posture(True), Verdict.ALREADY_BLOCKED),  # organisation already off
        (posture(True, mfp="enabled"), Verdict.BORROWED_TIME),  # the mailbox wins over the organisation
        (posture(False, security_defaults=True, mfp="enabled"), Verdict.ALREADY_BLOCKED),  # security defaults win
        (posture(None), Verdict.UNKNOWN),
        (None, Verdict.UNKNOWN),
    ],
)
def test_mailbox_verdicts_follow_exchange_precedence(tenant, verdict):
    assert mailbox_verdict(tenant, "MFP@contoso.com") is verdict


def test_only_basic_auth_devices_not_yet_migrated_break():
    tenant = posture(False, scanner="enabled")
    assert device_verdict(device(1, "mfp"), tenant) is Verdict.BREAKS
    assert device_verdict(device(2, "mfp", ObservedAuth.OAUTH), tenant) is Verdict.NOT_AFFECTED
    assert device_verdict(device(3, "mfp", status=DeviceStatus.MIGRATED), tenant) is Verdict.NOT_AFFECTED
    assert device_verdict(device(4, "mfp", status=DeviceStatus.RETIRED), tenant) is Verdict.NOT_AFFECTED
    assert device_verdict(device(5, "mfp", ObservedAuth.UNKNOWN), tenant) is Verdict.UNKNOWN  # to check, not counted
    assert device_verdict(device(6, "scanner"), tenant) is Verdict.BORROWED_TIME
    report = cutoff_report([device(1, "mfp"), device(7, "mfp"), device(6, "scanner"), device(5, "app", ObservedAuth.UNKNOWN)], tenant)
    assert report.senders(Verdict.BREAKS) == ["mfp@contoso.com"] and report.breaking_senders == 1
    assert len(report.devices(Verdict.BREAKS)) == 2
    assert report.basic_senders == 2


def test_summary_counts_by_status_and_path():
    devices = [
        device(1, "mfp", kind=DeviceKind.PRINTER_MFP, supports_oauth=False, recipient_scope=RecipientScope.INTERNAL),
        device(2, "app", ObservedAuth.OAUTH),
        device(3, "old", status=DeviceStatus.RETIRED),
        device(4, "erp", path=MigrationPath.THIRD_PARTY, status=DeviceStatus.IN_PROGRESS),
        device(5, "tls", tls_versions=frozenset({"1.0"})),
    ]
    summary = summarize(devices, posture(False))
    assert summary.total == 5 and summary.senders == 5
    assert summary.by_status[DeviceStatus.NOT_STARTED] == 3 and summary.by_status[DeviceStatus.VERIFIED] == 0
    assert summary.by_path == {MigrationPath.HVE: 1, MigrationPath.NONE_NEEDED: 1, MigrationPath.RETIRE: 1,
                               MigrationPath.THIRD_PARTY: 1, MigrationPath.OAUTH: 1}
    assert summary.not_ready == 3  # HVE, third party (chosen), OAuth-unknown; not OAuth nor retired
    assert summary.legacy_tls == 1
    assert [d.id for d in summary.breaking_devices] == [1, 4, 5]
    assert classify(devices[3]).path is MigrationPath.THIRD_PARTY and classify(devices[3]).chosen


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", DeviceFilter()),
        ("not-ready", DeviceFilter("not-ready")),
        ("未対応", DeviceFilter("not-ready")),
        ("BREAKS", DeviceFilter("breaks")),
        ("path:HVE", DeviceFilter("path", "hve")),
        ("path connector", DeviceFilter("path", "connector_relay")),
        ("移行先 oauth", DeviceFilter("path", "oauth")),
        ("owner  田中 太郎", DeviceFilter("owner", "田中 太郎")),
        ("status=in-progress", DeviceFilter("status", "in_progress")),
        ("sender A@Contoso.com", DeviceFilter("sender", "a@contoso.com")),
    ],
)
def test_filters_parse(text, expected):
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text, code", [("path acs", "path"), ("owner", "owner"), ("status done", "status"), ("urgent", "unknown")])
def test_bad_filters_say_which_part_is_wrong(text, code):
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    assert caught.value.code == code


def test_filters_select_and_pages_clamp():
    devices = [device(n, f"s{n}", owner="Tanaka" if n % 2 else "Sato") for n in range(1, 20)]
    assert [i.device.id for i in select(devices, DeviceFilter("owner", "tanaka"), None)] == list(range(1, 20, 2))
    items = select(devices, DeviceFilter(), None)
    shown, page, pages = page_of(items, 99, size=8)
    assert (page, pages, [i.device.id for i in shown]) == (3, 3, [17, 18, 19])
    assert page_of([], 0)[1:] == (1, 1)


# ---------------------------------------------------------------- names and lookups


def test_discovered_names_are_readable_and_unique():
    taken = {"scan-to-mail"}
    assert suggested_name("scan-to-mail@contoso.com", "198.51.100.20", False, taken) == "scan-to-mail (198.51.100.20)"
    assert suggested_name("scan-to-mail@contoso.com", "", True, taken) == "scan-to-mail 2"
    assert suggested_name("scan-to-mail@contoso.com", "", True, taken) == "scan-to-mail 3"


def test_lookup_by_name_sender_id_and_close_matches():
    devices = [device(1, "printer-3f"), device(2, "scan-to-mail"), device(3, "scan-to-mail")]
    assert [d.id for d in find("PRINTER-3F-1", devices).devices] == [1]
    assert [d.id for d in find("Scan-To-Mail@contoso.com", devices).devices] == [2, 3]
    assert [d.id for d in find("#3", devices).devices] == [3]
    typo = find("printer3f", devices)
    assert typo.devices == [] and typo.suggestions[0] in ("printer-3f-1", "printer-3f@contoso.com")
    assert find("scan to mail", devices).suggestions[0] == "scan-to-mail@contoso.com"
    assert "printer-3f-1" in find("printer", devices).suggestions  # part of a name suggests it
    assert find("zzzzzz", devices).suggestions == []


# ---------------------------------------------------------------- forms


def test_edit_forms_are_validated_field_by_field():
    changes, errors = parse_edit({"status": "verified", "path": "recommended", "supports_oauth": "false",
                                  "has_static_ip": "unknown", "owner": " 田中\u0007 ", "notes": "line 1\nline 2"})
    assert errors == []
    assert changes == {"status": DeviceStatus.VERIFIED, "path": None, "supports_oauth": False, "has_static_ip": None,
                       "owner": "田中", "notes": "line 1\nline 2"}
    _, errors = parse_edit({"status": "done", "kind": "toaster", "name": "  ", "supports_oauth": "maybe"})
    assert {e.field for e in errors} == {"status", "kind", "name", "supports_oauth"}
    changes, _ = parse_edit({"owner": "x" * 500})
    assert len(changes["owner"]) == 200


def test_the_add_form_needs_a_mailbox_and_a_name():
    draft, errors = parse_draft({"sender": " Copier@Contoso.COM ", "name": "Copier", "source_ip": "2001:db8::1"})
    assert errors == [] and draft is not None
    assert draft.sender == "copier@contoso.com" and draft.source_ip == "2001:db8::1"
    draft, errors = parse_draft({"sender": "copier", "source_ip": "10.0.0.256"})
    assert draft is None and {e.field for e in errors} == {"sender", "source_ip", "name"}


# ---------------------------------------------------------------- export


def test_export_is_excel_ready_csv_with_one_row_per_device():
    devices = [
        device(1, "mfp", owner="田中", path=MigrationPath.HVE, status=DeviceStatus.IN_PROGRESS, notes="=HYPERLINK(\"x\")"),
        device(2, "app", ObservedAuth.OAUTH, tls_versions=frozenset({"1.2", "1.0"})),
    ]
    data = inventory_csv(devices, posture(False))
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["sender"] == "mfp@contoso.com" and rows[0]["owner"] == "田中"
    assert rows[0]["path"] == "hve" and rows[0]["status"] == "in_progress" and rows[0]["breaks_at_cutoff"] == "breaks"
    assert rows[0]["notes"] == "'=HYPERLINK(\"x\")"  # never a formula in Excel
    assert rows[1]["tls_versions"] == "1.0,1.2" and rows[1]["breaks_at_cutoff"] == "not_affected"
    assert safe_cell("-1") == "'-1" and safe_cell("scan") == "scan"
    assert inventory_csv([], None).decode("utf-8-sig").strip() == ",".join(COLUMNS)


# ---------------------------------------------------------------- folding evidence


def test_eac_rows_fold_per_sender_with_basic_winning():
    rows = [
        EacRow(2, "a@contoso.com", "contoso.com", 100.0, 0.0, 0.0, 10, "basic"),
        EacRow(3, "a@contoso.com", "contoso.com", 0.0, 0.0, 100.0, 5, "oauth"),
        EacRow(4, "b@contoso.com", "contoso.com", None, None, 100.0, None, "oauth"),
        EacRow(5, "c@contoso.com", "contoso.com", 0.0, 50.0, 50.0, 1, None),
        EacRow(6, "c@contoso.com", "contoso.com", 0.0, 0.0, 100.0, 1, "oauth"),
    ]
    facts = fold_rows(rows)
    assert facts["a@contoso.com"].auth is ObservedAuth.BASIC and facts["a@contoso.com"].tls_versions == {"1.0", "1.2"}
    assert facts["a@contoso.com"].messages == 15
    assert facts["b@contoso.com"].auth is ObservedAuth.OAUTH and facts["b@contoso.com"].messages is None
    assert facts["c@contoso.com"].auth is ObservedAuth.UNKNOWN  # a row without a protocol may be Basic


def event(upn: str, ip: str, when: str, *, ok: bool = True, event_id: str | None = None, **extra: object) -> dict[str, object]:
    return {"id": event_id or f"{upn}-{ip}-{when}", "createdDateTime": when, "userPrincipalName": upn, "ipAddress": ip,
            "status": {"errorCode": 0 if ok else 50126}, **extra}


def test_sign_ins_fold_per_sender_and_ip():
    aggregator = Aggregator(skip_ids=frozenset({"old-1"}), skip_before="2026-11-23T02:45:00", boundary_from="2026-11-23T02:50:00")
    aggregator.add(event("MFP@contoso.com", "203.0.113.10", "2026-11-23T02:59:59.1234567Z"))
    aggregator.add(event("mfp@contoso.com", "203.0.113.10", "2026-11-23T01:00:00Z", ok=False))
    aggregator.add(event("mfp@contoso.com", "198.51.100.2", "2026-11-22T01:00:00Z", authenticationProtocol="oAuth2"))
    aggregator.add(event("mfp@contoso.com", "203.0.113.10", "2026-11-23T02:40:00Z", event_id="old-1"))  # counted last run
    aggregator.add({"createdDateTime": "garbage", "userPrincipalName": "x@contoso.com"})
    aggregator.add(event("", "1.1.1.1", "2026-11-23T01:00:00Z"))
    aggregator.add(event("mfp@contoso.com", "203.0.113.10", "2026-11-24T00:00:00Z"), upper="2026-11-24T00:00:00")
    assert (aggregator.events, aggregator.skipped, aggregator.malformed) == (3, 1, 2)
    stats = aggregator.pairs[("mfp@contoso.com", "203.0.113.10")]
    assert (stats.ok, stats.failed, stats.first, stats.last) == (1, 1, "2026-11-23T01:00:00", "2026-11-23T02:59:59")
    assert aggregator.pairs[("mfp@contoso.com", "198.51.100.2")].oauth == 1
    assert aggregator.boundary == ["MFP@contoso.com-203.0.113.10-2026-11-23T02:59:59.1234567Z"]
    assert aggregator.oldest == "2026-11-22T01:00:00"


def test_windows_are_read_a_day_at_a_time_newest_first():
    slices = list(day_slices(NOW - timedelta(days=2, hours=6), NOW))
    assert slices[0] == (NOW - timedelta(days=1), NOW)
    assert slices[-1] == (NOW - timedelta(days=2, hours=6), NOW - timedelta(days=2))
    assert len(slices) == 3 and stamp(NOW) == "2026-11-23T03:00:00"


def test_discovery_plan_names_new_devices_and_lends_placeholders():
    aggregator = Aggregator()
    for e in (event("mfp@contoso.com", "203.0.113.10", "2026-11-23T01:00:00Z"),
              event("mfp@contoso.com", "203.0.113.10", "2026-11-23T02:00:00Z"),
              event("mfp@contoso.com", "198.51.100.20", "2026-11-23T01:30:00Z"),
              event("new@contoso.com", "192.0.2.1", "2026-11-23T01:30:00Z")):
        aggregator.add(e)
    placeholder = Device(9, "t", "mfp@contoso.com", "", "mfp", sources=frozenset({Source.EAC}), observed_auth=ObservedAuth.BASIC)
    plan, records, result = plan_discovery(aggregator.pairs, [placeholder], [], "t", NOW, timedelta(days=14), aggregator.events)
    [(before, after)] = plan.updates
    assert before == placeholder and after.source_ip == "203.0.113.10" and after.sign_ins_ok == 2  # the busier IP
    assert after.sources == {Source.EAC, Source.SIGN_INS} and after.observed_auth is ObservedAuth.BASIC
    assert sorted(d.name for d in plan.inserts) == ["mfp (198.51.100.20)", "new"]
    assert result.new_senders == ["new@contoso.com"] and result.gone_senders == []
    assert {r.upn: r.flag for r in records} == {"mfp@contoso.com": None, "new@contoso.com": SenderFlag.NEW}


# ---------------------------------------------------------------- the demo tenant's sign-ins


def test_demo_sign_ins_are_graph_shaped_deterministic_and_newest_first():
    since, until = NOW - timedelta(days=30), NOW
    events = list(demo_sign_ins(since, until, NOW.date()))
    assert events == list(demo_sign_ins(since, until, NOW.date()))
    assert [e["createdDateTime"] for e in events] == sorted((e["createdDateTime"] for e in events), reverse=True)
    assert len({e["id"] for e in events}) == len(events)
    assert all(e["clientAppUsed"] == "Authenticated SMTP" and e["userPrincipalName"].endswith("@contoso.com") for e in events)
    assert all(set(e) >= {"id", "createdDateTime", "userPrincipalName", "userId", "ipAddress", "status", "appDisplayName"}
               for e in events)
    ips: dict[str, set[str]] = {}
    for e in events:
        ips.setdefault(e["userPrincipalName"], set()).add(e["ipAddress"])
    assert len(ips) >= 5
    assert sum(1 for addresses in ips.values() if len(addresses) > 1) >= 2
    assert any(e["status"]["errorCode"] != 0 for e in events)
    assert any(e.get("authenticationProtocol") == "oAuth2" for e in events)
    edge = events[0]["createdDateTime"]
    moment = datetime.strptime(edge, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert list(demo_sign_ins(moment, moment, NOW.date()))[0]["createdDateTime"] == edge  # both ends inclusive, like ge/le
    assert all(e["createdDateTime"] <= "2026-11-01T23:59:59Z" for e in events if e["userPrincipalName"] == "former-fax@contoso.com")
