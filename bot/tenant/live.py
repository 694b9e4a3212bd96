"""The live tenant: Microsoft Graph and the Exchange Online admin REST endpoint, through ``bot.m365``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, AsyncIterator

from bot.m365 import exchange, graph
from bot.m365.errors import ExchangeCommandError, M365Error, NotFoundError
from bot.m365.http import M365Client
from bot.tenant.source import SourceKind

EXCHANGE_USER_FIELDS = ("Identity", "UserPrincipalName", "RecipientTypeDetails", "AuthenticationPolicy")
# Exchange reports a missing object only in the cmdlet's message (no documented error code).
_NOT_FOUND_MARKERS = ("ManagementObjectNotFoundException", "couldn't be found", "could not be found")


def user_sign_ins_url(endpoint: str, upn: str, since: datetime, until: datetime) -> str:
    """One user's SMTP AUTH sign-ins; userPrincipalName supports ``eq`` (facts §2), quotes doubled for OData."""
    clauses = [
        f"clientAppUsed eq '{graph.SMTP_CLIENT_APP}'",
        f"userPrincipalName eq '{upn.replace(chr(39), chr(39) * 2)}'",
        f"createdDateTime ge {graph.graph_datetime(since)}",
        f"createdDateTime le {graph.graph_datetime(until)}",
    ]
    params = {"$filter": " and ".join(clauses), "$select": ",".join(graph.SIGN_IN_FIELDS)}
    return f"{endpoint}/v1.0/auditLogs/signIns?{graph.query_string(params)}"


def object_missing(error: M365Error) -> bool:
    """Whether a Graph or Exchange failure means "no such user/mailbox" rather than a real problem."""
    if isinstance(error, NotFoundError):
        return True
    return isinstance(error, ExchangeCommandError) and any(marker in error.detail for marker in _NOT_FOUND_MARKERS)


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

    async def user(self, upn: str) -> dict[str, Any] | None:
        try:
            return await graph.get_user(self.client, upn)
        except NotFoundError:
            return None

    async def per_user_mfa(self, upn: str) -> str | None:
        try:
            return await graph.per_user_mfa_state(self.client, upn)
        except NotFoundError:
            return None

    async def _one(self, cmdlet: str, upn: str, select: tuple[str, ...]) -> dict[str, Any] | None:
        try:
            found = await exchange.invoke_command(self.client, cmdlet, {"Identity": upn}, select=select)
        except (ExchangeCommandError, NotFoundError) as error:
            if object_missing(error):
                return None
            raise
        return found[0] if found else None

    async def cas_mailbox(self, upn: str) -> dict[str, Any] | None:
        return await self._one("Get-CASMailbox", upn, exchange.CAS_MAILBOX_FIELDS)

    async def exchange_user(self, upn: str) -> dict[str, Any] | None:
        return await self._one("Get-User", upn, EXCHANGE_USER_FIELDS)

    async def user_sign_ins(self, upn: str, since: datetime, until: datetime) -> AsyncIterator[dict[str, Any]]:
        settings = self.client.settings
        url = user_sign_ins_url(settings.graph_endpoint, upn, since, until)
        async for event in self.client.paged(url, settings.graph_scope):  # the caller stops reading early
            yield event
