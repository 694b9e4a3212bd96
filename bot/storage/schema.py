"""The current tables, for queries. Their history (how they came to be) is in ``migrations``."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.types import UTCDateTime

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

conversations = sa.Table(
    "conversations",
    metadata,
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
