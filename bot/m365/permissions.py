"""The application permissions and role the bot needs to read a tenant, why, and one call that proves each.

One table for ``python -m bot setup`` (which checks them against the tenant), for the grant script
``deploy/grant-permissions.sh`` (a test keeps its list equal to this one) and for the README.
Every call is a read: the bot never asks for a write permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from bot.m365 import exchange, graph
from bot.m365.errors import GLOBAL_READER
from bot.m365.http import M365Client

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"  # Office 365 Exchange Online
NO_SUCH_USER = "00000000-0000-0000-0000-000000000000"

Probe = Callable[[M365Client, datetime], Awaitable[object]]


@dataclass(frozen=True)
class Requirement:
    permission: str  # the application permission (app role) value
    api: str
    api_app_id: str
    why: str
    probe: Probe
    not_found_means_granted: bool = False  # the probe asks for something that does not exist


async def _messages(client: M365Client, now: datetime) -> object:
    return await client.get_json(graph.service_messages_url(client.settings.graph_endpoint, now - timedelta(days=1)),
                                 client.settings.graph_scope)


async def _health(client: M365Client, now: datetime) -> object:
    return await graph.exchange_health(client)


async def _policy(client: M365Client, now: datetime) -> object:
    return await graph.security_defaults_enabled(client)


async def _sign_ins(client: M365Client, now: datetime) -> object:
    url = graph.sign_ins_url(client.settings.graph_endpoint, now - timedelta(hours=1))
    return await client.get_json(url, client.settings.graph_scope)


async def _users(client: M365Client, now: datetime) -> object:
    return await client.get_json(graph.user_url(client.settings.graph_endpoint, NO_SUCH_USER), client.settings.graph_scope)


async def _exchange(client: M365Client, now: datetime) -> object:
    return await exchange.organization_config(client)


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("ServiceMessage.Read.All", "Microsoft Graph", GRAPH_APP_ID,
                "read MC786329 and the other watched Message Center posts (/mc, /status, mc alerts)", _messages),
    Requirement("ServiceHealth.Read.All", "Microsoft Graph", GRAPH_APP_ID,
                "Exchange Online service health and SMTP incidents on /status", _health),
    Requirement("Policy.Read.All", "Microsoft Graph", GRAPH_APP_ID,
                "security defaults and per-user MFA (/posture, /check)", _policy),
    Requirement("AuditLog.Read.All", "Microsoft Graph", GRAPH_APP_ID,
                "find SMTP AUTH senders in the sign-in logs (/scan, senders alerts; needs Entra ID P1 or P2)",
                _sign_ins),
    Requirement("User.Read.All", "Microsoft Graph", GRAPH_APP_ID,
                "look up the sender's user for /check", _users, not_found_means_granted=True),
    Requirement("Exchange.ManageAsApp", "Office 365 Exchange Online", EXCHANGE_APP_ID,
                "run read-only Get-* cmdlets (Get-TransportConfig, Get-CASMailbox, Get-OrganizationConfig, "
                f"Get-AuthenticationPolicy, Get-User) for /posture, /check and device readiness; also needs an "
                f"Entra role for the app such as {GLOBAL_READER}", _exchange),
)

ENTRA_ROLE = GLOBAL_READER


def admin_consent_url(authority_host: str, tenant: str, client_id: str) -> str:
    """The admin-consent page for the app in the tenant: it grants what the app registration lists."""
    return f"{authority_host.rstrip('/')}/{tenant}/adminconsent?client_id={client_id}"
