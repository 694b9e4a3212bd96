"""The database handle: engine creation, migrations at start, and a health probe."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.storage.migrations import MIGRATIONS, migrate

log = logging.getLogger(__name__)


def _prepare_sqlite(url: str) -> None:
    """SQLite files live under ./data by default; make the folder so a fresh checkout just works."""
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


class Database:
    """One engine per process. ``open()`` migrates; ``close()`` disposes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self._engine: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("database is not open")
        return self._engine

    async def open(self) -> list[int]:
        if self.dialect == "sqlite":
            _prepare_sqlite(self.url)
            engine = create_async_engine(self.url, connect_args={"timeout": 30})
        else:
            engine = create_async_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        self._engine = engine
        async with engine.begin() as conn:
            applied = await conn.run_sync(migrate)
        if applied:
            log.info("database schema now at version %d", max(applied))
        return applied

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def healthy(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - a probe reports, it never raises
            log.warning("database health probe failed", exc_info=True)
            return False

    @property
    def schema_version(self) -> int:
        return max(m.version for m in MIGRATIONS)

    def describe(self) -> str:
        """The URL without credentials, for logs and /healthz."""
        return make_url(self.url).render_as_string(hide_password=True)
