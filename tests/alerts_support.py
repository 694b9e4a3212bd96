"""Helpers for the alert tests: a movable frozen clock, the real app with it, and fake alert sources.

The sources are the outside world's seams (readiness inventory, Message Center, sender discovery):
these fakes stand in for the features other engineers build, never for our own code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from activities import ADMIN_AAD, TENANT
from aiohttp.test_utils import TestServer

from app import ALERTS, SERVICES, create_app
from bot.alerts.sources import PostChange, ReadinessNumbers, SenderChange
from bot.settings import load_settings


class MovableClock:
    """A frozen clock the test moves by hand: time never passes unless the test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


@dataclass
class FixedReadiness:
    numbers_by_tenant: dict[str, ReadinessNumbers] = field(default_factory=dict)

    async def numbers(self, tenant_id: str) -> ReadinessNumbers | None:
        return self.numbers_by_tenant.get(tenant_id)


@dataclass
class ScriptedMessageCenter:
    """Returns ``pending`` on the next poll; ``repeat`` keeps returning it (a source that re-reports)."""

    pending: list[PostChange] = field(default_factory=list)
    repeat: bool = False
    polls: int = 0

    async def poll(self) -> Sequence[PostChange]:
        self.polls += 1
        found = list(self.pending)
        if not self.repeat:
            self.pending = []
        return found


@dataclass
class ScriptedSenders:
    current: list[SenderChange] = field(default_factory=list)

    async def changes(self) -> Sequence[SenderChange]:
        return list(self.current)


@dataclass
class AlertBot:
    server: TestServer
    session: aiohttp.ClientSession
    clock: MovableClock

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/messages"))

    @property
    def runtime(self) -> Any:
        return self.server.app[ALERTS]

    @property
    def ctx(self) -> Any:
        return self.runtime.ctx

    @property
    def services(self) -> Any:
        return self.server.app[SERVICES]

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        async with self.session.post(self.url, json=activity) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    async def close(self) -> None:
        if not self.session.closed:
            await self.session.close()
            await self.server.close()


async def start_alert_bot(database_url: str, clock: MovableClock, **env: str) -> AlertBot:
    """The real app on loopback with the scheduler off: the tests call the jobs themselves."""
    base = {
        "DATABASE_URL": database_url,
        "DEFAULT_TIMEZONE": "UTC",
        "ADMIN_USER_IDS": ADMIN_AAD,
        "ALERTS_SCHEDULER": "off",
    }
    settings = load_settings({**base, **env}, dotenv=None)
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    return AlertBot(server, aiohttp.ClientSession(), clock)


def channel_reference(service_url: str, conversation_id: str, tenant: str = TENANT) -> dict[str, Any]:
    """A stored conversation reference as the bot saves it from a Teams channel activity."""
    return {
        "bot": {"id": "28:00000000-0000-0000-0000-00000000b07", "name": "SMTP AUTH Readiness"},
        "user": {"id": "29:user-1", "name": "Aiko Tanaka"},
        "conversation": {
            "id": conversation_id,
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": tenant,
        },
        "channelId": "msteams",
        "locale": "en-US",
        "serviceUrl": service_url,
    }
