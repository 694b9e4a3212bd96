"""The device inventory in the database: read it, change it with an audit trail, merge evidence into it.

One ``DeviceStore`` per inventory (tenant). Every write runs in one transaction and writes its audit
entries in the same transaction, so a change and its record can never part; bulk merges (an EAC
report, a discovery run) are therefore all or nothing too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.devices.model import (
    AuditEntry,
    Device,
    DeviceDraft,
    DeviceKind,
    DeviceStatus,
    MigrationPath,
    ObservedAuth,
    RecipientScope,
    SenderFlag,
    SenderRecord,
    Source,
    display_value,
    normalize_upn,
)
from bot.devices.tables import device_audit, device_senders, devices

log = logging.getLogger(__name__)

_CHUNK = 2_000  # rows per executemany: keeps PostgreSQL's parameter limit (32,767) far away


class DeviceConflict(ValueError):
    """A change that would break the inventory's rules (duplicate name, sender+IP already listed)."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field} {value!r} is already used by another device")
        self.field = field
        self.value = value


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _device(row: RowMapping) -> Device:
    return Device(
        id=int(row["id"]),
        tenant_id=row["tenant_id"],
        sender=row["sender"],
        source_ip=row["source_ip"] or "",
        name=row["name"],
        kind=DeviceKind(row["kind"]),
        location=row["location"] or "",
        owner=row["owner"] or "",
        vendor_model=row["vendor_model"] or "",
        sources=frozenset(Source(s) for s in row["sources"] or ()),
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        observed_auth=ObservedAuth(row["observed_auth"]),
        tls_versions=frozenset(row["tls_versions"] or ()),
        recipient_scope=RecipientScope(row["recipient_scope"]),
        supports_oauth=row["supports_oauth"],
        has_static_ip=row["has_static_ip"],
        path=MigrationPath(row["path"]) if row["path"] else None,
        status=DeviceStatus(row["status"]),
        notes=row["notes"] or "",
        sign_ins_ok=int(row["sign_ins_ok"] or 0),
        sign_ins_failed=int(row["sign_ins_failed"] or 0),
        messages=row["messages"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def to_columns(device: Device) -> dict[str, Any]:
    """The row for ``device`` (without its id), with enums and sets as the column types want."""
    return {
        "tenant_id": device.tenant_id,
        "sender": device.sender,
        "source_ip": device.source_ip,
        "name": device.name,
        "name_key": name_key(device.name),
        "kind": device.kind.value,
        "location": device.location,
        "owner": device.owner,
        "vendor_model": device.vendor_model,
        "sources": sorted(s.value for s in device.sources),
        "first_seen": device.first_seen,
        "last_seen": device.last_seen,
        "observed_auth": device.observed_auth.value,
        "tls_versions": sorted(device.tls_versions),
        "recipient_scope": device.recipient_scope.value,
        "supports_oauth": device.supports_oauth,
        "has_static_ip": device.has_static_ip,
        "path": device.path.value if device.path else None,
        "status": device.status.value,
        "notes": device.notes,
        "sign_ins_ok": device.sign_ins_ok,
        "sign_ins_failed": device.sign_ins_failed,
        "messages": device.messages,
        "created_at": device.created_at,
        "updated_at": device.updated_at,
    }


_DEFAULTS: dict[str, Any] = {
    "source_ip": "", "kind": "unknown", "location": "", "owner": "", "vendor_model": "", "tls_versions": [],
    "observed_auth": "unknown", "recipient_scope": "unknown", "status": "not_started", "notes": "",
    "sign_ins_ok": 0, "sign_ins_failed": 0, "first_seen": None, "last_seen": None, "supports_oauth": None,
    "has_static_ip": None, "path": None, "messages": None,
}
"""Column values the table fills in itself (server defaults): new rows leave them out, because binding
two dozen columns per row is most of the cost of importing a 100k-row report."""


def sparse(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in _DEFAULTS or v != _DEFAULTS[k] or isinstance(v, bool)}


_AUDITED = (
    "name", "kind", "location", "owner", "vendor_model", "sources", "observed_auth", "tls_versions",
    "recipient_scope", "supports_oauth", "has_static_ip", "path", "status", "notes", "source_ip", "messages",
)
"""Fields whose changes are written to the audit trail; counters and timestamps change too often to list."""


def field_changes(before: Device, after: Device) -> list[tuple[str, str | None, str | None]]:
    """(field, old, new) for every audited field that differs, as the trail shows them."""
    changes = []
    for name in _AUDITED:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes.append((name, display_value(old), display_value(new)))
    return changes


@dataclass(frozen=True)
class Plan:
    """A bulk change worked out in memory: rows to insert, rows to replace, and who is doing it."""

    inserts: list[Device]
    updates: list[tuple[Device, Device]]  # (before, after)
    actor: str


class DeviceStore:
    def __init__(self, engine: AsyncEngine, tenant_id: str) -> None:
        self._engine = engine
        self.tenant_id = tenant_id

    # ------------------------------------------------------------------ reads

    async def all(self) -> list[Device]:
        query = (
            sa.select(devices)
            .where(devices.c.tenant_id == self.tenant_id)
            .order_by(devices.c.sender, devices.c.source_ip, devices.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_device(row) for row in rows]

    async def count(self) -> int:
        query = sa.select(sa.func.count()).select_from(devices).where(devices.c.tenant_id == self.tenant_id)
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def get(self, device_id: int) -> Device | None:
        async with self._engine.connect() as conn:
            return await self._get(conn, device_id)

    async def _get(self, conn: AsyncConnection, device_id: int) -> Device | None:
        row = (
            await conn.execute(
                sa.select(devices).where(devices.c.tenant_id == self.tenant_id, devices.c.id == device_id)
            )
        ).mappings().first()
        return _device(row) if row else None

    async def audit(self, device_id: int, limit: int = 20) -> list[AuditEntry]:
        """The newest ``limit`` changes of one device, newest first."""
        query = (
            sa.select(device_audit)
            .where(device_audit.c.tenant_id == self.tenant_id, device_audit.c.device_id == device_id)
            .order_by(device_audit.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [AuditEntry(r["device_id"], r["at"], r["actor"], r["field"], r["old"], r["new"]) for r in rows]

    async def audit_since(self, since: datetime, fields: Sequence[str] = ("status",)) -> list[tuple[Device | None, AuditEntry]]:
        """Changes of ``fields`` since ``since`` across the inventory (for sender-change alerts)."""
        query = (
            sa.select(device_audit)
            .where(
                device_audit.c.tenant_id == self.tenant_id,
                device_audit.c.at >= since,
                device_audit.c.field.in_(list(fields)),
            )
            .order_by(device_audit.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
            found = []
            for r in rows:
                entry = AuditEntry(r["device_id"], r["at"], r["actor"], r["field"], r["old"], r["new"])
                found.append((await self._get(conn, entry.device_id), entry))
        return found

    async def senders(self) -> list[SenderRecord]:
        query = sa.select(device_senders).where(device_senders.c.tenant_id == self.tenant_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            SenderRecord(r["tenant_id"], r["upn"], r["first_seen"], r["last_seen"],
                         SenderFlag(r["flag"]) if r["flag"] else None, r["flagged_at"])
            for r in rows
        ]

    # ------------------------------------------------------------------ single changes

    async def add(self, draft: DeviceDraft, actor: str, now: datetime) -> Device:
        """A device added by hand; its name and (sender, IP) must be free."""
        device = Device(
            id=0,
            tenant_id=self.tenant_id,
            sender=normalize_upn(draft.sender),
            source_ip=draft.source_ip.strip(),
            name=" ".join(draft.name.split()),
            kind=draft.kind,
            location=draft.location.strip(),
            owner=draft.owner.strip(),
            vendor_model=draft.vendor_model.strip(),
            sources=frozenset({Source.MANUAL}),
            recipient_scope=draft.recipient_scope,
            notes=draft.notes.strip(),
            created_at=now,
            updated_at=now,
        )
        async with self._engine.begin() as conn:
            await self._check_free(conn, device)
            result = await conn.execute(devices.insert().values(**to_columns(device)))
            assert result.inserted_primary_key is not None
            device = replace(device, id=int(result.inserted_primary_key[0]))
            await self._write_audit(conn, [(device.id, "created", None, device.name)], actor, now)
        log.info("device %d added by hand", device.id)
        return device

    async def update(self, device_id: int, changes: Mapping[str, Any], actor: str, now: datetime) -> Device | None:
        """Apply ``changes`` (already validated values) to one device; None when it does not exist."""
        async with self._engine.begin() as conn:
            before = await self._get(conn, device_id)
            if before is None:
                return None
            after = replace(before, **dict(changes))
            diff = field_changes(before, after)
            if not diff:
                return before
            after = replace(after, updated_at=now)
            if "name" in changes and name_key(after.name) != name_key(before.name):
                await self._check_free(conn, after, names_only=True)
            values = to_columns(after)
            await conn.execute(devices.update().where(devices.c.id == device_id).values(**values))
            await self._write_audit(conn, [(device_id, f, o, n) for f, o, n in diff], actor, now)
        log.info("device %d changed by %s: %s", device_id, actor, ", ".join(f for f, _, _ in diff))
        return after

    async def _check_free(self, conn: AsyncConnection, device: Device, *, names_only: bool = False) -> None:
        clash = (
            await conn.execute(
                sa.select(devices.c.id).where(
                    devices.c.tenant_id == self.tenant_id,
                    devices.c.name_key == name_key(device.name),
                    devices.c.id != device.id,
                )
            )
        ).first()
        if clash:
            raise DeviceConflict("name", device.name)
        if names_only:
            return
        clash = (
            await conn.execute(
                sa.select(devices.c.id).where(
                    devices.c.tenant_id == self.tenant_id,
                    devices.c.sender == device.sender,
                    devices.c.source_ip == device.source_ip,
                )
            )
        ).first()
        if clash:
            raise DeviceConflict("sender", f"{device.sender} {device.source_ip}".strip())

    async def _write_audit(
        self, conn: AsyncConnection, entries: Iterable[tuple[int, str, str | None, str | None]], actor: str, now: datetime
    ) -> int:
        rows = [
            {"tenant_id": self.tenant_id, "device_id": d, "at": now, "actor": actor[:200], "field": f[:64], "old": o, "new": n}
            for d, f, o, n in entries
        ]
        for start in range(0, len(rows), _CHUNK):
            await conn.execute(device_audit.insert(), rows[start:start + _CHUNK])
        return len(rows)

    # ------------------------------------------------------------------ bulk merges

    async def apply(self, plan: Plan, now: datetime, conn: AsyncConnection | None = None) -> list[int]:
        """Write a plan in one transaction (or inside the caller's); returns the new devices' ids in plan order."""
        if conn is None:
            async with self._engine.begin() as own:
                return await self._apply(own, plan, now)
        return await self._apply(conn, plan, now)

    async def _apply(self, conn: AsyncConnection, plan: Plan, now: datetime) -> list[int]:
        entries: list[tuple[int, str, str | None, str | None]] = []
        updates = [(before, after) for before, after in plan.updates if before != after]
        rows = []
        for before, after in updates:
            values = to_columns(after)
            values["_id"] = before.id
            rows.append(values)
            entries.extend((before.id, f, o, n) for f, o, n in field_changes(before, after))
        if rows:
            statement = (
                devices.update()
                .where(devices.c.id == sa.bindparam("_id"))
                .values({name: sa.bindparam(name) for name in rows[0] if name != "_id"})
            )
            for start in range(0, len(rows), _CHUNK):
                await conn.execute(statement, rows[start:start + _CHUNK])
        # Rows with the same columns go in one executemany; the database fills the left-out defaults.
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for device in plan.inserts:
            values = sparse(to_columns(device))
            shapes.setdefault(tuple(values), []).append(values)
        for group in shapes.values():
            for start in range(0, len(group), _CHUNK):
                await conn.execute(devices.insert(), group[start:start + _CHUNK])
        inserted: list[int] = []
        if plan.inserts:
            # (sender, IP) is unique per tenant: one read gives every new id (cheaper than RETURNING per row).
            found = await conn.execute(
                sa.select(devices.c.id, devices.c.sender, devices.c.source_ip).where(devices.c.tenant_id == self.tenant_id)
            )
            ids = {(r.sender, r.source_ip): int(r.id) for r in found}
            inserted = [ids[(d.sender, d.source_ip)] for d in plan.inserts]
        entries.extend((new_id, "created", None, d.name) for new_id, d in zip(inserted, plan.inserts, strict=True))
        await self._write_audit(conn, entries, plan.actor, now)
        return inserted

    async def upsert_senders(self, conn: AsyncConnection, records: Sequence[SenderRecord]) -> None:
        """Replace the sender-level rows given (discovery owns them)."""
        if not records:
            return
        upns = [r.upn for r in records]
        for start in range(0, len(upns), _CHUNK):
            await conn.execute(
                device_senders.delete().where(
                    device_senders.c.tenant_id == self.tenant_id, device_senders.c.upn.in_(upns[start:start + _CHUNK])
                )
            )
        rows = [
            {"tenant_id": self.tenant_id, "upn": r.upn, "first_seen": r.first_seen, "last_seen": r.last_seen,
             "flag": r.flag.value if r.flag else None, "flagged_at": r.flagged_at}
            for r in records
        ]
        for start in range(0, len(rows), _CHUNK):
            await conn.execute(device_senders.insert(), rows[start:start + _CHUNK])

    def begin(self) -> Any:
        """A transaction for callers that combine several writes (discovery)."""
        return self._engine.begin()
