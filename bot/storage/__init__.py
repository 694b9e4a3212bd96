"""Persistence: one async SQLAlchemy Core engine serving SQLite (default) and PostgreSQL alike."""
