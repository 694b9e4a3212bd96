"""The device inventory's vocabulary: what a device is, the values its fields take, and one change.

A *sender* is a mailbox (UPN) that submits mail through SMTP AUTH; a *device* is one printer, scanner
or application that sends as it. One sender can have several devices, told apart by source IP. The
EAC report knows senders only (no IP), sign-in logs know (sender, IP) pairs, and admins add devices
by hand; ``Device.sources`` says which of the three vouched for a device.

Everything here is plain data with no storage or chat code, so the rules (readiness, the cutoff,
the classifier's inputs) can be tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Mapping

from bot.devices.migration import DeviceKind, MigrationPath, ObservedAuth, RecipientScope

__all__ = [
    "AuditEntry",
    "Device",
    "DeviceKind",
    "DeviceStatus",
    "EDITABLE_FIELDS",
    "MigrationPath",
    "ObservedAuth",
    "RecipientScope",
    "SenderFlag",
    "Source",
    "normalize_upn",
]


class DeviceStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    MIGRATED = "migrated"
    VERIFIED = "verified"
    RETIRED = "retired"


DONE_STATUSES = frozenset({DeviceStatus.MIGRATED, DeviceStatus.VERIFIED, DeviceStatus.RETIRED})
"""Statuses in which a device no longer depends on Basic auth (whatever older reports said)."""


class Source(StrEnum):
    SIGN_INS = "sign_ins"
    EAC = "eac"
    MANUAL = "manual"


class SenderFlag(StrEnum):
    NEW = "new"  # first seen by the latest discovery run
    GONE = "gone"  # silent for longer than DEVICES_GONE_DAYS


EDITABLE_FIELDS = (
    "name", "kind", "location", "owner", "vendor_model", "recipient_scope", "supports_oauth",
    "has_static_ip", "path", "status", "notes",
)
"""Fields an admin may change from a card or the add form; everything else comes from evidence."""


def normalize_upn(value: str) -> str:
    """Exchange addresses are case-insensitive: one sender must never split in two by case."""
    return value.strip().lower()


@dataclass(frozen=True)
class Device:
    """One row of the inventory, as cards and rules see it."""

    id: int
    tenant_id: str
    sender: str
    source_ip: str  # "" when no sign-in has told us the address yet
    name: str
    kind: DeviceKind = DeviceKind.UNKNOWN
    location: str = ""
    owner: str = ""
    vendor_model: str = ""
    sources: frozenset[Source] = frozenset()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    observed_auth: ObservedAuth = ObservedAuth.UNKNOWN
    tls_versions: frozenset[str] = frozenset()
    recipient_scope: RecipientScope = RecipientScope.UNKNOWN
    supports_oauth: bool | None = None
    has_static_ip: bool | None = None
    path: MigrationPath | None = None  # chosen by an admin; None means "not chosen yet"
    status: DeviceStatus = DeviceStatus.NOT_STARTED
    notes: str = ""
    sign_ins_ok: int = 0
    sign_ins_failed: int = 0
    messages: int | None = None  # from the EAC report (its date range)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES

    @property
    def legacy_tls(self) -> bool:
        return bool(self.tls_versions & {"1.0", "1.1"})


@dataclass(frozen=True)
class AuditEntry:
    """Who changed what on which device, and when; ``actor`` is a name, "discovery", "eac-import"...."""

    device_id: int
    at: datetime
    actor: str
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class SenderRecord:
    """Sender-level facts: when discovery saw it and whether it is new or gone."""

    tenant_id: str
    upn: str
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    flag: SenderFlag | None = None
    flagged_at: datetime | None = None


def display_value(value: Any) -> str | None:
    """How a field value is written into the audit trail and the CSV export."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (frozenset, set, list, tuple)):
        return ",".join(sorted(str(v) for v in value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class DeviceDraft:
    """A device an admin adds by hand, before it has an id."""

    sender: str
    name: str
    kind: DeviceKind = DeviceKind.UNKNOWN
    source_ip: str = ""
    location: str = ""
    owner: str = ""
    vendor_model: str = ""
    recipient_scope: RecipientScope = RecipientScope.UNKNOWN
    notes: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
