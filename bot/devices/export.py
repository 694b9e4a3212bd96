"""The inventory as a CSV file that Excel (including Japanese Excel) opens correctly.

UTF-8 with a byte-order mark, because Japanese Excel reads a BOM-less CSV as Shift_JIS and turns
Japanese names into mojibake; CRLF line ends, one row per device. Cells that Excel would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) get a leading apostrophe, because
device names, notes and owners are typed by people and a CSV must not become a macro.
"""

from __future__ import annotations

import csv
import io
from typing import Sequence

from bot.devices.classify import classify
from bot.devices.cutoff import device_verdict
from bot.devices.model import Device, display_value
from bot.tenant.posture import Posture

COLUMNS = (
    "name", "sender", "source_ip", "kind", "status", "path", "recommended_path", "owner", "location",
    "vendor_model", "observed_auth", "tls_versions", "recipient_scope", "supports_oauth", "has_static_ip",
    "breaks_at_cutoff", "first_seen", "last_seen", "sign_ins_ok", "sign_ins_failed", "messages", "sources", "notes", "id",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def device_row(device: Device, posture: Posture | None) -> list[str]:
    item = classify(device)
    values = {
        "name": device.name,
        "sender": device.sender,
        "source_ip": device.source_ip,
        "kind": device.kind.value,
        "status": device.status.value,
        "path": device.path.value if device.path else "",
        "recommended_path": item.recommendation.path.value,
        "owner": device.owner,
        "location": device.location,
        "vendor_model": device.vendor_model,
        "observed_auth": device.observed_auth.value,
        "tls_versions": display_value(device.tls_versions) or "",
        "recipient_scope": device.recipient_scope.value,
        "supports_oauth": display_value(device.supports_oauth) or "",
        "has_static_ip": display_value(device.has_static_ip) or "",
        "breaks_at_cutoff": device_verdict(device, posture).value if posture is not None else "",
        "first_seen": display_value(device.first_seen) or "",
        "last_seen": display_value(device.last_seen) or "",
        "sign_ins_ok": str(device.sign_ins_ok),
        "sign_ins_failed": str(device.sign_ins_failed),
        "messages": "" if device.messages is None else str(device.messages),
        "sources": display_value(device.sources) or "",
        "notes": device.notes,
        "id": str(device.id),
    }
    return [safe_cell(values[column]) for column in COLUMNS]


def inventory_csv(devices: Sequence[Device], posture: Posture | None = None) -> bytes:
    """The whole inventory; ``breaks_at_cutoff`` is filled only when the posture is known."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for device in devices:
        writer.writerow(device_row(device, posture))
    return buffer.getvalue().encode("utf-8-sig")


def export_file_name(tenant_label: str, day: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in tenant_label)[:40] or "tenant"
    return f"smtp-auth-devices-{safe}-{day}.csv"
