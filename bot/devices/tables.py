"""Tables for the device inventory and their migration (schema version 3).

``devices`` holds one row per device (a sender and, once sign-ins told us, its source IP);
``device_senders`` sender-level facts from discovery (first/last seen, new/gone flags);
``device_audit`` every change to a device, who made it and when; ``device_scans`` where the last
discovery run stopped, so the next one is incremental, and which run holds the scan lease.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.storage.types import UTCDateTime


def _define(meta: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table, sa.Table]:
    devices = sa.Table(
        "devices",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("source_ip", sa.String(64), nullable=False, server_default=""),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False, server_default="unknown"),
        sa.Column("location", sa.String(200), nullable=False, server_default=""),
        sa.Column("owner", sa.String(200), nullable=False, server_default=""),
        sa.Column("vendor_model", sa.String(200), nullable=False, server_default=""),
        sa.Column("sources", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("first_seen", UTCDateTime),
        sa.Column("last_seen", UTCDateTime),
        sa.Column("observed_auth", sa.String(16), nullable=False, server_default="unknown"),
        sa.Column("tls_versions", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("recipient_scope", sa.String(16), nullable=False, server_default="unknown"),
        sa.Column("supports_oauth", sa.Boolean),
        sa.Column("has_static_ip", sa.Boolean),
        sa.Column("path", sa.String(32)),
        sa.Column("status", sa.String(32), nullable=False, server_default="not_started"),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("sign_ins_ok", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("sign_ins_failed", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("messages", sa.BigInteger),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "sender", "source_ip", name="uq_devices_sender_ip"),
        sa.UniqueConstraint("tenant_id", "name_key", name="uq_devices_name"),
    )
    sa.Index("ix_devices_tenant_status", devices.c.tenant_id, devices.c.status)
    senders = sa.Table(
        "device_senders",
        meta,
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("upn", sa.String(320), primary_key=True),
        sa.Column("first_seen", UTCDateTime),
        sa.Column("last_seen", UTCDateTime),
        sa.Column("flag", sa.String(16)),
        sa.Column("flagged_at", UTCDateTime),
    )
    audit = sa.Table(
        "device_audit",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old", sa.Text),
        sa.Column("new", sa.Text),
    )
    sa.Index("ix_device_audit_device", audit.c.tenant_id, audit.c.device_id, audit.c.id)
    scans = sa.Table(
        "device_scans",
        meta,
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("cursor", UTCDateTime),
        sa.Column("boundary", sa.JSON),
        sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_holder", sa.String(64)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("outcome", sa.String(16)),
        sa.Column("events", sa.BigInteger),
        sa.Column("error", sa.Text),
    )
    return devices, senders, audit, scans


def migrate_v3(conn: Connection) -> None:
    """Create the v3 tables from their own frozen definition."""
    meta = sa.MetaData()
    _define(meta)
    meta.create_all(conn)


# The tables as queries see them today; a later migration that alters them changes these too.
_meta = sa.MetaData()
devices, device_senders, device_audit, device_scans = _define(_meta)
