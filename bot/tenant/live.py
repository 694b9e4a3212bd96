"""The live tenant: Microsoft Graph and the Exchange Online admin REST endpoint, through ``bot.m365``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, AsyncIterator

from bot.m365 import exchange, graph
from bot.m365.http import M365Client
from bot.tenant.source import SourceKind


class LiveSource:
    kind: SourceKind = "live"

    def __init__(self, client: M365Client) -> None:
        self.client = client
        self.tenant_id = client.settings.tenant_id

    async def service_messages(self, since: datetime | None) -> list[dict[str, Any]]:
        posts = [post async for post in graph.list_service_messages(self.client, since)]
        return sorted(posts, key=lambda post: str(post.get("lastModifiedDateTime")))

    async def exchange_health(self) -> dict[str, Any]:
        return await graph.exchange_health(self.client)

    async def posture(self) -> dict[str, Any]:
        return {
            "security_defaults": {"isEnabled": await graph.security_defaults_enabled(self.client)},
            "transport_config": await exchange.transport_config(self.client),
            "organization_config": await exchange.organization_config(self.client),
            "cas_mailboxes": await exchange.cas_mailboxes_with_smtp_override(self.client),
            "authentication_policies": await exchange.authentication_policies(self.client),
        }

    async def sign_ins(self, since: datetime, until: datetime | None = None) -> AsyncIterator[dict[str, Any]]:
        async for event in graph.sign_ins(self.client, since, until):
            yield event
