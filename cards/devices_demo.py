"""Demo data for the device cards in the gallery (``cards.gallery``): every state worth seeing.

The inventory is the demo tenant's own: its sign-ins folded by the real discovery code, then the
Basic/OAuth facts an EAC report would add, and a few statuses an admin would have set.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Callable
from zoneinfo import ZoneInfo

from bot.devices.classify import classify
from bot.devices.cutoff import device_verdict
from bot.devices.discovery import Aggregator, DiscoveryResult, plan_discovery
from bot.devices.eac_report import EacReport, parse_eac_report
from bot.devices.importer import ImportRefused, plan_import
from bot.devices.model import AuditEntry, Device, DeviceKind, DeviceStatus, MigrationPath, RecipientScope
from bot.devices.readiness import DeviceFilter, page_of, select, summarize
from bot.devices.scan import ScanView
from bot.m365.errors import LicenseRequiredError
from bot.tenant.demo_signins import demo_sign_ins
from bot.tenant.posture import Posture, parse_posture
from bot.tenant.source import _demo_file
from cards.devices import (
    DeviceListView,
    DeviceView,
    ImportView,
    ReadinessView,
    build_device_card,
    build_device_form_card,
    build_device_list_card,
    build_device_unknown_card,
    build_import_card,
    build_readiness_card,
    build_scan_card,
)

TZ = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
TENANT = "00000000-0000-4000-8000-00000000c0de"
Entry = tuple[str, str, Callable[[str], dict[str, Any]]]

GOOD_REPORT = (
    "Sender address,Domain,TLS 1.0 (%),TLS 1.1 (%),TLS 1.2 (%),Messages sent,Authentication Protocol\r\n"
    "printer-3f@contoso.com,contoso.com,100,0,0,1204,Basic\r\n"
    "scan-to-mail@contoso.com,contoso.com,0,0,100,2311,Basic\r\n"
    "erp-notify@contoso.com,contoso.com,0,0,100,15820,Basic\r\n"
    "monitoring@contoso.com,contoso.com,0,0,100,740,OAuth\r\n"
).encode("utf-8-sig")
BAD_REPORT = (
    "Sender address,Domain,TLS 1.0 (%),TLS 1.1 (%),TLS 1.2 (%),Messages sent\r\n"
    "printer-3f@contoso.com,contoso.com,100,0,0,1204\r\n"
    "not-an-address,contoso.com,0,0,100,12\r\n"
    "scan-to-mail@contoso.com,contoso.com,120,0,0,3\r\n"
    "printer-3f@contoso.com,contoso.com,0,0,100,9\r\n"
).encode("utf-8")


def demo_posture() -> Posture:
    tenant = _demo_file("tenant.json")
    keys = ("security_defaults", "transport_config", "organization_config", "cas_mailboxes", "authentication_policies")
    return parse_posture({key: tenant[key] for key in keys})


@lru_cache(maxsize=1)
def demo_inventory() -> tuple[Device, ...]:
    """The demo tenant after one scan, one EAC import and a few edits (ids as a database would give)."""
    aggregator = Aggregator()
    for event in demo_sign_ins(NOW - timedelta(days=30), NOW, NOW.date()):
        aggregator.add(event)
    plan, _, _ = plan_discovery(aggregator.pairs, [], [], TENANT, NOW, timedelta(days=14), aggregator.events)
    devices = [replace(d, id=number) for number, d in enumerate(plan.inserts, start=1)]
    report = parse_eac_report(GOOD_REPORT)
    assert isinstance(report, EacReport)
    eac_plan, _ = plan_import(report, devices, TENANT, "eac-import", NOW)
    updated = {before.id: after for before, after in eac_plan.updates}
    devices = [updated.get(d.id, d) for d in devices]
    edits: dict[str, dict[str, Any]] = {
        "printer-3f": {"kind": DeviceKind.PRINTER_MFP, "location": "Osaka 3F", "owner": "Tanaka", "vendor_model": "Contoso MFP 5000",
                       "recipient_scope": RecipientScope.EXTERNAL, "supports_oauth": False, "has_static_ip": True},
        "scan-to-mail": {"kind": DeviceKind.PRINTER_MFP, "location": "Osaka 2F", "owner": "Tanaka",
                         "recipient_scope": RecipientScope.INTERNAL, "supports_oauth": False, "status": DeviceStatus.IN_PROGRESS},
        "scan-to-mail (198.51.100.20)": {"kind": DeviceKind.SCANNER, "location": "Tokyo HQ", "owner": "Suzuki"},
        "erp-notify": {"kind": DeviceKind.APPLICATION, "owner": "ERP team", "supports_oauth": True,
                       "path": MigrationPath.OAUTH, "status": DeviceStatus.IN_PROGRESS},
        "monitoring": {"kind": DeviceKind.SERVICE, "status": DeviceStatus.VERIFIED},
        "former-fax": {"kind": DeviceKind.SERVICE, "status": DeviceStatus.RETIRED, "notes": "Fax gateway removed in October."},
    }
    return tuple(replace(d, **edits.get(d.name, {})) for d in devices)


def _device(name: str) -> Device:
    return next(d for d in demo_inventory() if d.name == name)


def _readiness(empty: bool = False, posture: bool = True) -> Callable[[str], dict[str, Any]]:
    def build(lang: str) -> dict[str, Any]:
        devices = [] if empty else list(demo_inventory())
        summary = summarize(devices, demo_posture() if posture else None)
        view = ReadinessView(summary, True, TZ, None if empty else NOW - timedelta(hours=2), None if empty else 1924)
        return build_readiness_card(view, lang)

    return build


def _list(wanted: DeviceFilter, page: int = 1, error: bool = False) -> Callable[[str], dict[str, Any]]:
    def build(lang: str) -> dict[str, Any]:
        devices = list(demo_inventory())
        items = select(devices, wanted, demo_posture())
        shown, page_no, pages = page_of(items, page, 5)
        verdicts = {i.device.id: device_verdict(i.device, demo_posture()) for i in shown}
        message = {"en": "I don't know the filter \"urgent\".", "ja": "「urgent」という絞り込みは使えません。"}[lang] if error else None
        return build_device_list_card(DeviceListView(shown, verdicts, wanted, page_no, pages, len(items), True, message), lang)

    return build


def _detail(name: str, notice: bool = False) -> Callable[[str], dict[str, Any]]:
    def build(lang: str) -> dict[str, Any]:
        device = _device(name)
        audit = [
            AuditEntry(device.id, NOW - timedelta(days=2), "discovery", "created", None, device.name),
            AuditEntry(device.id, NOW - timedelta(days=1), "eac-import", "observed_auth", "unknown", device.observed_auth.value),
            AuditEntry(device.id, NOW - timedelta(hours=3), "Aiko Tanaka (6b8d2b1e)", "owner", "", device.owner or "Tanaka"),
        ][::-1]
        text = {"en": "Not saved: only the bot's admins (ADMIN_USER_IDS) can change the device inventory.",
                "ja": "保存していません: デバイスのインベントリを変更できるのはボットの管理者だけです。"}[lang] if notice else None
        siblings = sum(1 for d in demo_inventory() if d.sender == device.sender and d.id != device.id)
        view = DeviceView(classify(device), device_verdict(device, demo_posture()), audit, True, TZ,
                          notice=text, notice_style="attention", siblings=siblings)
        return build_device_card(view, lang)

    return build


def _scan(state: str) -> Callable[[str], dict[str, Any]]:
    def build(lang: str) -> dict[str, Any]:
        since, until = NOW - timedelta(days=30), NOW
        if state == "running":
            view = ScanView("running", 45_000, NOW - timedelta(days=12), demo=True, tz=TZ)
        elif state == "failed":
            error = LicenseRequiredError(status=403, host="graph.microsoft.com")
            view = ScanView("failed", since=since, until=until, error={"en": error.message("en"), "ja": error.message("ja")},
                            demo=True, tz=TZ)
        elif state == "busy":
            view = ScanView("busy", demo=True, tz=TZ)
        else:
            result = DiscoveryResult(1924, 8, ["printer-3f", "scan-to-mail (198.51.100.20)"], ["helpdesk-app@contoso.com"],
                                     ["former-fax@contoso.com"], 6)
            view = ScanView("done", 1924, since=since, until=until, result=result, demo=True, tz=TZ)
        return build_scan_card(view, lang)

    return build


def _import(good: bool) -> Callable[[str], dict[str, Any]]:
    def build(lang: str) -> dict[str, Any]:
        if good:
            report = parse_eac_report(GOOD_REPORT)
            assert isinstance(report, EacReport)
            _, summary = plan_import(report, [], TENANT, "eac-import", NOW)
            return build_import_card(ImportView("SMTPAuthClients.csv", summary=summary, demo=True), lang)
        refused = parse_eac_report(BAD_REPORT)
        assert not isinstance(refused, EacReport)
        return build_import_card(ImportView("SMTPAuthClients.csv", refused=ImportRefused(refused), demo=True), lang)

    return build


def device_entries() -> list[Entry]:
    return [
        ("readiness", "build_readiness_card", _readiness()),
        ("readiness-empty", "build_readiness_card", _readiness(empty=True)),
        ("readiness-no-posture", "build_readiness_card", _readiness(posture=False)),
        ("devices", "build_device_list_card", _list(DeviceFilter())),
        ("devices-page-2", "build_device_list_card", _list(DeviceFilter(), page=2)),
        ("devices-breaks", "build_device_list_card", _list(DeviceFilter("breaks"))),
        ("devices-bad-filter", "build_device_list_card", _list(DeviceFilter(), error=True)),
        ("device-breaks", "build_device_card", _detail("printer-3f")),
        ("device-borrowed", "build_device_card", _detail("scan-to-mail")),
        ("device-unknown-auth", "build_device_card", _detail("scan-to-mail (198.51.100.20)")),
        ("device-refused", "build_device_card", _detail("erp-notify", notice=True)),
        ("device-unknown", "build_device_unknown_card",
         lambda lang: build_device_unknown_card("printer3f", ["printer-3f", "printer-3f@contoso.com"], lang, demo=True)),
        ("device-form", "build_device_form_card", lambda lang: build_device_form_card(lang, demo=True)),
        ("scan-running", "build_scan_card", _scan("running")),
        ("scan-done", "build_scan_card", _scan("done")),
        ("scan-failed", "build_scan_card", _scan("failed")),
        ("scan-busy", "build_scan_card", _scan("busy")),
        ("import-done", "build_import_card", _import(True)),
        ("import-refused", "build_import_card", _import(False)),
        ("import-pending", "build_import_card",
         lambda lang: build_import_card(ImportView("SMTPAuthClients.csv", pending_rows=100_000, demo=True), lang)),
        ("import-failed", "build_import_card",
         lambda lang: build_import_card(ImportView("SMTPAuthClients.csv", failed="IntegrityError", demo=True), lang)),
    ]
