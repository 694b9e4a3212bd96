"""Exchange Online settings through the admin REST endpoint behind ExchangeOnlineManagement v3.

Microsoft does not document ``POST {exchange}/adminapi/beta/{tenant}/InvokeCommand``; its shape
comes from the module's own traffic and public code (facts.md §4a): body
``{"CmdletInput": {"CmdletName": ..., "Parameters": {...}}}``, token scope
``{exchange}/.default``, the system-mailbox ``X-AnchorMailbox``, ``Prefer: odata.maxpagesize=1000``,
``@odata.nextLink`` paging (the same body is POSTed to each next link) and warnings in
``@adminapi.warnings``. The app needs Exchange.ManageAsApp plus an Entra role such as Global
Reader; without them ``PermissionMissingError`` says so.

Only Get-* cmdlets are sent. The SMTP AUTH settings read here (facts.md §4b):

* ``Get-TransportConfig`` → ``SmtpClientAuthenticationDisabled`` (True: tenant-wide off)
* ``Get-CASMailbox`` → per-mailbox ``SmtpClientAuthenticationDisabled`` (None: follows the tenant;
  True/False: an override). ``Get-CASMailbox`` returns the property as is; ``-PropertySets All``
  is only needed with ``Get-EXOCasMailbox``, which this endpoint does not use. ``-ResultSize
  Unlimited`` is required, the cmdlet stops at 1,000 otherwise. No OPATH ``-Filter`` is used: whether
  the property is filterable is not documented, so mailboxes are filtered here.
* ``Get-OrganizationConfig`` (``OAuth2ClientProfileEnabled``, ``DefaultAuthenticationPolicy``)
* ``Get-AuthenticationPolicy`` (``AllowBasicAuthSmtp``)
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence
from urllib.parse import quote, urlsplit

from bot.m365.errors import ExchangeCommandError, MalformedResponseError, ServiceError
from bot.m365.http import M365Client

log = logging.getLogger(__name__)

SYSTEM_MAILBOX = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"
CAS_MAILBOX_FIELDS = (
    "Identity",
    "Name",
    "DisplayName",
    "PrimarySmtpAddress",
    "ExternalDirectoryObjectId",
    "SmtpClientAuthenticationDisabled",
)


def invoke_command_url(exchange_endpoint: str, tenant: str, select: Sequence[str] | None = None) -> str:
    url = f"{exchange_endpoint}/adminapi/beta/{quote(tenant, safe='')}/InvokeCommand"
    return url + (f"?$select={quote(','.join(select), safe=',')}" if select else "")


def anchor_mailbox(tenant: str) -> str:
    """The routing hint the Exchange module sends for app-only calls."""
    return f"APP:{SYSTEM_MAILBOX}@{tenant}"


def command_body(cmdlet: str, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    if not cmdlet.startswith("Get-"):
        raise ValueError(f"only read-only Get-* cmdlets are sent, not {cmdlet!r}")
    return {"CmdletInput": {"CmdletName": cmdlet, "Parameters": dict(parameters or {})}}


def _host(endpoint: str) -> str:
    return urlsplit(endpoint).netloc


def has_smtp_override(mailbox: Mapping[str, Any]) -> bool:
    """True when a mailbox sets SMTP AUTH itself (True or False) instead of following the tenant."""
    return mailbox.get("SmtpClientAuthenticationDisabled") is not None


async def invoke_command(
    client: M365Client,
    cmdlet: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    select: Sequence[str] | None = None,
    page_cap: int | None = None,
) -> list[dict[str, Any]]:
    """Run a Get-* cmdlet and return all result objects (warnings are logged, not returned)."""
    settings = client.settings
    tenant = settings.tenant_id
    headers = {"X-AnchorMailbox": anchor_mailbox(tenant), "Prefer": "odata.maxpagesize=1000"}
    url = invoke_command_url(settings.exchange_endpoint, tenant, select)
    results: list[dict[str, Any]] = []
    try:
        async for page in client.pages(
            url,
            settings.exchange_scope,
            method="POST",
            body=command_body(cmdlet, parameters),
            headers=headers,
            page_cap=page_cap,
        ):
            for warning in page.get("@adminapi.warnings") or []:
                log.warning("Exchange %s warned: %s", cmdlet, str(warning)[:300])
            value = page.get("value")
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                raise MalformedResponseError(
                    host=_host(settings.exchange_endpoint), detail=f"{cmdlet} returned no object list"
                )
            results.extend(value)
    except ServiceError as exc:  # 400/500 with the cmdlet's own message
        raise ExchangeCommandError(
            cmdlet=cmdlet, status=exc.status, code=exc.code, detail=exc.detail
        ) from None
    log.debug("Exchange %s returned %d objects", cmdlet, len(results))
    return results


async def _single(client: M365Client, cmdlet: str) -> dict[str, Any]:
    results = await invoke_command(client, cmdlet)
    if len(results) != 1:
        raise MalformedResponseError(
            host=_host(client.settings.exchange_endpoint),
            detail=f"{cmdlet} returned {len(results)} objects, expected 1",
        )
    return results[0]


async def transport_config(client: M365Client) -> dict[str, Any]:
    """Get-TransportConfig: tenant-wide ``SmtpClientAuthenticationDisabled`` and ``AllowLegacyTLSClients``."""
    return await _single(client, "Get-TransportConfig")


async def organization_config(client: M365Client) -> dict[str, Any]:
    """Get-OrganizationConfig: modern auth (``OAuth2ClientProfileEnabled``) and the default auth policy."""
    return await _single(client, "Get-OrganizationConfig")


async def authentication_policies(client: M365Client) -> list[dict[str, Any]]:
    """Get-AuthenticationPolicy: which policies allow Basic auth for SMTP (``AllowBasicAuthSmtp``)."""
    return await invoke_command(client, "Get-AuthenticationPolicy")


async def cas_mailboxes_with_smtp_override(client: M365Client) -> list[dict[str, Any]]:
    """Mailboxes whose ``SmtpClientAuthenticationDisabled`` is set (True or False), not inherited."""
    mailboxes = await invoke_command(
        client, "Get-CASMailbox", {"ResultSize": "Unlimited"}, select=CAS_MAILBOX_FIELDS
    )
    return [mailbox for mailbox in mailboxes if has_smtp_override(mailbox)]
