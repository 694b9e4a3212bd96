"""Tables for tenant data (Message Center history, last good snapshots) and their migration (v2)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.storage.types import UTCDateTime


def _define(meta: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    versions = sa.Table(
        "mc_versions",
        meta,
        sa.Column("post_id", sa.String(32), primary_key=True),
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("last_modified", UTCDateTime),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("raw", sa.JSON, nullable=False),
    )
    snapshots = sa.Table(
        "snapshots",
        meta,
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON),
        sa.Column("fetched_at", UTCDateTime),
        sa.Column("error", sa.Text),
        sa.Column("error_at", UTCDateTime),
    )
    return versions, snapshots


def migrate_v2(conn: Connection) -> None:
    """Create the v2 tables from their own frozen definition."""
    meta = sa.MetaData()
    _define(meta)
    meta.create_all(conn)


# The tables as queries see them today; a later migration that alters them changes these too.
_meta = sa.MetaData()
mc_versions, snapshots = _define(_meta)
