"""The alert tables: subscriptions, the delivery ledger, recorded events and the scheduler lease.

``migrate_v4`` creates them (schema migration 4). The live tables for queries are, for now, exactly
version 4's; a later migration that changes them must leave ``_v4_tables`` alone (an old migration
means the same thing forever) and define the new live tables below instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.storage.types import UTCDateTime

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _v4_tables(meta: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table, sa.Table]:
    subscriptions = sa.Table(
        "alert_subscriptions",
        meta,
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(512), primary_key=True),
        sa.Column("conversation_type", sa.String(32), nullable=False),
        sa.Column("kinds", sa.String(128), nullable=False),  # comma list, e.g. "countdown,mc"
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("send_time", sa.String(5), nullable=False),  # local "HH:MM"
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("status_reason", sa.String(64)),  # why it was deactivated (bot removed, reference gone)
        sa.Column("status_changed_at", UTCDateTime),
        sa.Column("snoozes", sa.JSON, nullable=False),  # kind -> ISO moment the snooze ends
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_by_name", sa.String(128)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    ledger = sa.Table(
        "alert_ledger",
        meta,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("batch", sa.String(36), nullable=False),  # rows sent together as one message
        sa.Column("state", sa.String(16), nullable=False),  # claimed | sending | sent | failed | gone
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(200)),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("activity_id", sa.String(256)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("acked_by", sa.String(64)),
        sa.Column("acked_by_name", sa.String(128)),
        sa.Column("acked_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "conversation_id", "kind", "subject", "version", name="uq_alert_ledger_key"
        ),
        sa.Index("ix_alert_ledger_batch", "batch"),
        sa.Index("ix_alert_ledger_kind_created", "kind", "created_at"),
    )
    events = sa.Table(
        "alert_events",
        meta,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),  # mc | sender
        sa.Column("tenant_id", sa.String(64), nullable=False),  # "" for events that concern every tenant
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("kind", "tenant_id", "subject", "version", name="uq_alert_events_key"),
        sa.Index("ix_alert_events_kind_created", "kind", "created_at"),
    )
    lease = sa.Table(
        "alert_lease",
        meta,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("term", sa.Integer, nullable=False),  # +1 each time the lease changes hands
        sa.Column("acquired_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    return subscriptions, ledger, events, lease


def migrate_v4(conn: Connection) -> None:
    """Schema migration 4: the alert tables."""
    meta = sa.MetaData()
    _v4_tables(meta)
    meta.create_all(conn)


metadata = sa.MetaData()
alert_subscriptions, alert_ledger, alert_events, alert_lease = _v4_tables(metadata)
