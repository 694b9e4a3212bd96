"""Opening the tenant's data: live Microsoft Graph and Exchange Online when credentials are set,
otherwise the built-in demo tenant. The web server and the operator commands open it the same way,
so ``alerts run-once`` polls the same Message Center the running bot does.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.settings import Settings
from bot.tenant.service import TenantData
from bot.tenant.source import DemoSource, TenantSource


async def open_tenant_source(settings: Settings, clock: Clock) -> tuple[TenantSource, Any]:
    """The source and, when live, its started HTTP client (the caller closes it)."""
    if settings.m365 is None:
        return DemoSource(clock), None
    from bot.m365.http import M365Client
    from bot.tenant.live import LiveSource

    client = M365Client(settings.m365)
    await client.start()
    return LiveSource(client), client


@contextlib.asynccontextmanager
async def tenant_data(settings: Settings, engine: AsyncEngine, clock: Clock) -> AsyncIterator[TenantData]:
    """``TenantData`` for as long as the block runs; the live client is closed after it."""
    source, client = await open_tenant_source(settings, clock)
    try:
        yield TenantData(source, engine, clock, watchlist=settings.mc_watchlist)
    finally:
        if client is not None:
            await client.close()
