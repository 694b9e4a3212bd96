"""Typed wrappers for the Microsoft Graph reads the bot needs, and nothing else.

Each function builds one URL (pure helpers below, testable without a server) and hands it to
``M365Client``; paging, retries and error mapping live there. Permissions per call, from the
Graph docs (see /work/shared/reference/facts.md §1–3):

* service messages: ServiceMessage.Read.All; health overviews and issues: ServiceHealth.Read.All
* sign-in logs: AuditLog.Read.All, and the tenant needs Entra ID P1 (else LicenseRequiredError)
* security defaults and per-user MFA (beta): Policy.Read.All; users: User.Read.All

Dates in filters are UTC with a ``Z``; a naive datetime is refused because "since 9:00" in an
unknown zone silently shifts the window by hours.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, AsyncIterator, Mapping
from urllib.parse import quote, urlsplit

from bot.m365.errors import MalformedResponseError
from bot.m365.http import M365Client

MAX_PAGE_SIZE = {"Prefer": "odata.maxpagesize=1000"}
SMTP_CLIENT_APP = "Authenticated SMTP"
SIGN_IN_FIELDS = (
    "id",
    "createdDateTime",
    "userPrincipalName",
    "userId",
    "ipAddress",
    "clientAppUsed",
    "appDisplayName",
    "status",
    "location",
)
USER_FIELDS = ("id", "userPrincipalName", "displayName", "mail", "accountEnabled")
EXCHANGE_HEALTH_ID = "Exchange"
MFA_STATES = frozenset({"disabled", "enabled", "enforced", "unknownFutureValue"})


def graph_datetime(value: datetime) -> str:
    """``2024-05-01T09:00:00Z``: the DateTimeOffset form Graph filters take (UTC, seconds precision)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("Graph filters need a timezone-aware datetime")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def query_string(params: Mapping[str, str]) -> str:
    """OData query with ``$`` names kept literal and spaces as %20 (OData reads ``+`` as a plus)."""
    return "&".join(
        f"{quote(key, safe='$')}={quote(value, safe=chr(39) + '(),:/$')}" for key, value in params.items()
    )


def _url(endpoint: str, path: str, params: Mapping[str, str] | None = None) -> str:
    return f"{endpoint}{path}" + (f"?{query_string(params)}" if params else "")


def service_messages_url(endpoint: str, since: datetime | None = None) -> str:
    params = {"$filter": f"lastModifiedDateTime ge {graph_datetime(since)}"} if since else None
    return _url(endpoint, "/v1.0/admin/serviceAnnouncement/messages", params)


def service_message_url(endpoint: str, message_id: str) -> str:
    return _url(endpoint, f"/v1.0/admin/serviceAnnouncement/messages/{quote(message_id, safe='')}")


def exchange_health_url(endpoint: str) -> str:
    return _url(
        endpoint,
        f"/v1.0/admin/serviceAnnouncement/healthOverviews/{EXCHANGE_HEALTH_ID}",
        {"$expand": "issues"},
    )


def issues_url(endpoint: str) -> str:
    return _url(endpoint, "/v1.0/admin/serviceAnnouncement/issues")


def sign_ins_url(endpoint: str, since: datetime, until: datetime | None = None) -> str:
    """SMTP AUTH sign-ins: ``clientAppUsed`` supports ``eq`` only, ``createdDateTime`` ``ge``/``le``."""
    clauses = [f"clientAppUsed eq '{SMTP_CLIENT_APP}'", f"createdDateTime ge {graph_datetime(since)}"]
    if until is not None:
        if until <= since:
            raise ValueError("'until' must be later than 'since'")
        clauses.append(f"createdDateTime le {graph_datetime(until)}")
    return _url(
        endpoint,
        "/v1.0/auditLogs/signIns",
        {"$filter": " and ".join(clauses), "$select": ",".join(SIGN_IN_FIELDS)},
    )


def security_defaults_url(endpoint: str) -> str:
    return _url(endpoint, "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy")


def user_segment(upn_or_id: str) -> str:
    """A user id or UPN as one path segment (guest UPNs contain ``#EXT#``, which must be escaped)."""
    if not upn_or_id or not upn_or_id.strip():
        raise ValueError("a user id or UPN is required")
    return quote(upn_or_id.strip(), safe="@")


def mfa_requirements_url(endpoint: str, upn_or_id: str) -> str:
    return _url(endpoint, f"/beta/users/{user_segment(upn_or_id)}/authentication/requirements")


def user_url(endpoint: str, upn_or_id: str) -> str:
    return _url(endpoint, f"/v1.0/users/{user_segment(upn_or_id)}", {"$select": ",".join(USER_FIELDS)})


def list_service_messages(client: M365Client, since: datetime | None = None) -> AsyncIterator[dict[str, Any]]:
    """Message center posts, all of them or those changed since ``since`` (1,000 per page)."""
    settings = client.settings
    return client.paged(
        service_messages_url(settings.graph_endpoint, since), settings.graph_scope, headers=MAX_PAGE_SIZE
    )


async def get_service_message(client: M365Client, message_id: str) -> dict[str, Any]:
    """One message center post such as ``MC786329``; ``NotFoundError`` when the tenant does not have it."""
    settings = client.settings
    return await client.get_json(
        service_message_url(settings.graph_endpoint, message_id), settings.graph_scope
    )


async def exchange_health(client: M365Client) -> dict[str, Any]:
    """Exchange Online's health overview (``status``) with its current ``issues``."""
    settings = client.settings
    return await client.get_json(exchange_health_url(settings.graph_endpoint), settings.graph_scope)


async def list_issues(
    client: M365Client, service: str | None = "Exchange Online"
) -> AsyncIterator[dict[str, Any]]:
    """Service health issues for ``service`` (None: all services).

    Filtered here rather than with ``$filter``: the docs list no supported filter for issues, and a
    tenant has few enough of them that reading all is cheap.
    """
    settings = client.settings
    wanted = service.casefold() if service else None
    async for issue in client.paged(
        issues_url(settings.graph_endpoint), settings.graph_scope, headers=MAX_PAGE_SIZE
    ):
        if wanted is None or str(issue.get("service", "")).casefold() == wanted:
            yield issue


def sign_ins(
    client: M365Client, since: datetime, until: datetime | None = None, *, page_cap: int | None = None
) -> AsyncIterator[dict[str, Any]]:
    """SMTP AUTH (``Authenticated SMTP``) sign-ins in the window, newest first, 1,000 per page.

    Needs AuditLog.Read.All and Entra ID P1; a free tenant raises ``LicenseRequiredError``.
    """
    settings = client.settings
    return client.paged(
        sign_ins_url(settings.graph_endpoint, since, until), settings.graph_scope, page_cap=page_cap
    )


async def security_defaults_enabled(client: M365Client) -> bool:
    """Whether security defaults are on (then SMTP AUTH is already blocked for the tenant)."""
    settings = client.settings
    url = security_defaults_url(settings.graph_endpoint)
    policy = await client.get_json(url, settings.graph_scope)
    enabled = policy.get("isEnabled")
    if not isinstance(enabled, bool):
        raise MalformedResponseError(host=urlsplit(url).netloc, detail="the policy has no boolean isEnabled")
    return enabled


async def per_user_mfa_state(client: M365Client, upn_or_id: str) -> str:
    """Legacy per-user MFA state (``disabled``/``enabled``/``enforced``) from the beta endpoint."""
    settings = client.settings
    url = mfa_requirements_url(settings.graph_endpoint, upn_or_id)
    requirements = await client.get_json(url, settings.graph_scope)
    state = requirements.get("perUserMfaState")
    if not isinstance(state, str) or not state:
        raise MalformedResponseError(host=urlsplit(url).netloc, detail="no perUserMfaState in the answer")
    return state


async def get_user(client: M365Client, upn_or_id: str) -> dict[str, Any]:
    """A user by object id or UPN (id, UPN, display name, mail, enabled); ``NotFoundError`` if absent."""
    settings = client.settings
    return await client.get_json(user_url(settings.graph_endpoint, upn_or_id), settings.graph_scope)
