"""Versioned schema migrations, applied in order at start and recorded in ``schema_version``.

Each migration defines the tables it creates itself (never the live ``schema`` module), so an old
migration means the same thing forever. Concurrent starts are serialised: PostgreSQL takes an
advisory lock, SQLite a write lock, so two processes never apply the same step twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.storage.types import UTCDateTime

log = logging.getLogger(__name__)
_ADVISORY_LOCK_ID = 786_329_001


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1_conversations(conn: Connection) -> None:
    meta = sa.MetaData()
    sa.Table(
        "conversations",
        meta,
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(512), primary_key=True),
        sa.Column("conversation_type", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(512)),
        sa.Column("channel_id", sa.String(512)),
        sa.Column("service_url", sa.Text, nullable=False),
        sa.Column("bot_id", sa.String(128), nullable=False),
        sa.Column("reference", sa.JSON, nullable=False),
        sa.Column("installed_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    meta.create_all(conn)


def _v2_tenant_data(conn: Connection) -> None:
    from bot.tenant.tables import migrate_v2

    migrate_v2(conn)


def _v3_devices(conn: Connection) -> None:
    from bot.devices.tables import migrate_v3

    migrate_v3(conn)


def _v4_alerts(conn: Connection) -> None:
    from bot.alerts.tables import migrate_v4

    migrate_v4(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "conversation references for proactive messages", _v1_conversations),
    Migration(2, "Message Center version history and last good tenant snapshots", _v2_tenant_data),
    Migration(3, "device inventory: devices, senders, audit trail, discovery state", _v3_devices),
    Migration(4, "proactive alerts: subscriptions, delivery ledger, events, scheduler lease", _v4_alerts),
)


def _version_table() -> sa.Table:
    return sa.Table(
        "schema_version",
        sa.MetaData(),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("applied_at", UTCDateTime, nullable=False),
    )


def migrate(conn: Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply what is missing inside the caller's transaction; return the versions applied."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
    elif conn.dialect.name == "sqlite":
        # Take the write lock now so a second process waits instead of racing the same DDL.
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS _migration_lock (id INTEGER)")
        conn.exec_driver_sql("DELETE FROM _migration_lock")
    versions = _version_table()
    versions.metadata.create_all(conn)
    done = set(conn.execute(sa.select(versions.c.version)).scalars())
    applied = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version in done:
            continue
        log.info("applying schema migration %d: %s", migration.version, migration.description)
        migration.apply(conn)
        conn.execute(
            versions.insert().values(
                version=migration.version, description=migration.description, applied_at=datetime.now(timezone.utc)
            )
        )
        applied.append(migration.version)
    newest = max((m.version for m in migrations), default=0)
    unknown = [v for v in done if v > newest]
    if unknown:
        raise RuntimeError(
            f"the database has schema version {max(unknown)}, newer than this code knows ({newest}); upgrade the bot"
        )
    return applied
