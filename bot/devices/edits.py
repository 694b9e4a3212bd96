"""Checking what an admin typed into a device form, before anything is stored.

Card inputs arrive as strings in the ``Action.Execute`` data (and a tampered payload can send
anything), so each field is validated here into the inventory's types, and every problem is
reported with a message key rather than half-applied.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

from bot.devices.eac_report import is_email
from bot.devices.model import (
    DeviceDraft,
    DeviceKind,
    DeviceStatus,
    MigrationPath,
    RecipientScope,
    normalize_upn,
)

MAX_TEXT = 200
MAX_NOTES = 2000


@dataclass(frozen=True)
class FieldError:
    field: str
    key: str  # message key in devices.json


def clean(value: Any, limit: int, *, multiline: bool = False) -> str:
    """A string without control characters (newlines kept in notes), NFC-normalised, trimmed."""
    text = unicodedata.normalize("NFC", str(value))
    allowed = "\n" if multiline else ""
    text = "".join(ch for ch in text if ch >= " " or ch in allowed)
    return text.strip()[:limit]


def _tri(value: str) -> bool | None:
    return {"": None, "unknown": None, "true": True, "false": False}[value]


_ENUMS: dict[str, Any] = {
    "status": DeviceStatus,
    "kind": DeviceKind,
    "recipient_scope": RecipientScope,
}


def parse_edit(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The changes a device form asks for (only the fields present), or what is wrong with them."""
    changes: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name in ("name", "owner", "location", "vendor_model"):
        if name in data:
            value = clean(data[name], MAX_TEXT)
            if name == "name" and not value:
                errors.append(FieldError(name, "devices.edit.error.name"))
                continue
            changes[name] = value
    if "notes" in data:
        changes["notes"] = clean(data["notes"], MAX_NOTES, multiline=True)
    for name, enum in _ENUMS.items():
        if name in data:
            try:
                changes[name] = enum(str(data[name]).strip())
            except ValueError:
                errors.append(FieldError(name, "devices.edit.error.choice"))
    if "path" in data:
        raw = str(data["path"]).strip()
        try:
            changes["path"] = MigrationPath(raw) if raw and raw != "recommended" else None
        except ValueError:
            errors.append(FieldError("path", "devices.edit.error.choice"))
    for name in ("supports_oauth", "has_static_ip"):
        if name in data:
            try:
                changes[name] = _tri(str(data[name]).strip().lower())
            except KeyError:
                errors.append(FieldError(name, "devices.edit.error.choice"))
    return changes, errors


def parse_draft(data: Mapping[str, Any]) -> tuple[DeviceDraft | None, list[FieldError]]:
    """A new device from the add form, or everything wrong with the form."""
    errors: list[FieldError] = []
    sender = normalize_upn(clean(data.get("sender", ""), 320))
    if not is_email(sender):
        errors.append(FieldError("sender", "devices.edit.error.sender"))
    ip = clean(data.get("source_ip", ""), 64)
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            errors.append(FieldError("source_ip", "devices.edit.error.ip"))
    changes, more = parse_edit({k: v for k, v in data.items() if k in ("name", "owner", "location", "vendor_model", "notes",
                                                                     "kind", "recipient_scope")})
    errors.extend(more)
    if "name" not in data or not clean(data.get("name", ""), MAX_TEXT):
        if not any(e.field == "name" for e in errors):
            errors.append(FieldError("name", "devices.edit.error.name"))
    if errors:
        return None, errors
    return (
        DeviceDraft(
            sender=sender,
            name=changes["name"],
            kind=changes.get("kind", DeviceKind.UNKNOWN),
            source_ip=ip,
            location=changes.get("location", ""),
            owner=changes.get("owner", ""),
            vendor_model=changes.get("vendor_model", ""),
            recipient_scope=changes.get("recipient_scope", RecipientScope.UNKNOWN),
            notes=changes.get("notes", ""),
        ),
        [],
    )
