"""Shared fixtures: the bot's real aiohttp app on loopback, a fake Bot Connector, databases, a frozen clock."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from app import create_app
from bot.m365.http import M365Client
from bot.settings import Settings, load_settings
from connector_fake import FakeConnector
from m365_fakes import FakeM365, running_fakes, trust_fake_ca

# 12:00 in Tokyo on Monday 23 November 2026: 38 days before 31 December 2026.
FROZEN_NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def frozen_now() -> datetime:
    return FROZEN_NOW


@pytest.fixture
async def m365(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeM365]:
    """Fake Microsoft 365 (token endpoint, Graph, Exchange) on loopback HTTPS, its CA trusted, no proxies."""
    async with running_fakes(tmp_path) as fakes:
        trust_fake_ca(monkeypatch, fakes.ca_path)
        yield fakes


@pytest.fixture
async def m365_client(m365: FakeM365) -> AsyncIterator[M365Client]:
    """An opened ``M365Client`` (client secret) against the fakes; retries record instead of sleeping."""
    async with m365.client() as client:
        yield client


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.close()


async def _create_pg_database(base_url: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A throwaway database per test, so PostgreSQL tests never see each other's rows."""
    import asyncpg

    url = make_url(base_url)
    name = f"smtpbot_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    return url.set(database=name).render_as_string(hide_password=False), drop


def _backends() -> list[Any]:
    backends: list[Any] = ["sqlite"]
    backends.append(
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set"),
        )
    )
    return backends


@pytest.fixture(params=_backends())
async def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[str]:
    """Each storage test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    url, drop = await _create_pg_database(os.environ["TEST_DATABASE_URL"])
    yield url
    await drop()


@dataclass
class BotHarness:
    server: TestServer
    settings: Settings
    session: aiohttp.ClientSession
    connector: FakeConnector

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/messages"))

    async def post(self, activity: Any, headers: dict[str, str] | None = None) -> tuple[int, str]:
        data = activity if isinstance(activity, (bytes, str)) else None
        async with self.session.post(
            self.url,
            json=None if data is not None else activity,
            data=data,
            headers={"Content-Type": "application/json", **(headers or {})},
        ) as response:
            return response.status, await response.text()

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.server.make_url(path)) as response:
            return response.status, await response.json()

    @property
    def services(self) -> Any:
        from app import SERVICES

        return self.server.app[SERVICES]


BotFactory = Callable[..., Awaitable[BotHarness]]


@pytest.fixture
async def make_bot(tmp_path: Any, connector: FakeConnector) -> AsyncIterator[BotFactory]:
    """Start the real app on 127.0.0.1; ``env`` entries override the defaults given here."""
    started: list[BotHarness] = []

    async def start(env: dict[str, str] | None = None, now: datetime = FROZEN_NOW, **settings_overrides: Any) -> BotHarness:
        base = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", "DEFAULT_TIMEZONE": "UTC"}
        settings = load_settings({**base, **(env or {})}, dotenv=tmp_path / "no.env")
        if settings_overrides:
            from dataclasses import replace

            settings = replace(settings, **settings_overrides)
        server = TestServer(create_app(settings, clock=lambda: now), host="127.0.0.1")
        await server.start_server()
        harness = BotHarness(server, settings, aiohttp.ClientSession(), connector)
        started.append(harness)
        return harness

    yield start
    for harness in started:
        await harness.session.close()
        await harness.server.close()
