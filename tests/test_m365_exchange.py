"""Exchange admin API InvokeCommand wrappers against the fake Exchange endpoint."""

from __future__ import annotations

import logging
from urllib.parse import unquote

import pytest
from m365_fakes import (
    EXCHANGE_ROLE,
    TENANT_ID,
    FakeM365,
    Fault,
    synthetic_cas_mailboxes,
)

from bot.m365 import exchange
from bot.m365.errors import ExchangeCommandError, MalformedResponseError, PermissionMissingError
from bot.m365.http import M365Client

INVOKE = "/InvokeCommand"


def test_pure_helpers() -> None:
    assert (
        exchange.anchor_mailbox(TENANT_ID)
        == f"APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{TENANT_ID}"
    )
    url = exchange.invoke_command_url("https://outlook.office365.com", TENANT_ID, ["Identity", "Name"])
    assert (
        url == f"https://outlook.office365.com/adminapi/beta/{TENANT_ID}/InvokeCommand?$select=Identity,Name"
    )
    assert exchange.command_body("Get-TransportConfig", None) == {
        "CmdletInput": {"CmdletName": "Get-TransportConfig", "Parameters": {}}
    }
    with pytest.raises(ValueError):
        exchange.command_body("Set-TransportConfig", {"SmtpClientAuthenticationDisabled": True})
    assert exchange.has_smtp_override({"SmtpClientAuthenticationDisabled": False})
    assert exchange.has_smtp_override({"SmtpClientAuthenticationDisabled": True})
    assert not exchange.has_smtp_override({"SmtpClientAuthenticationDisabled": None})
    assert not exchange.has_smtp_override({})


async def test_transport_config_request_shape(m365_client: M365Client, m365: FakeM365) -> None:
    config = await exchange.transport_config(m365_client)
    assert config["SmtpClientAuthenticationDisabled"] is True
    request = m365.exchange.requests[-1]
    assert request.path == f"/adminapi/beta/{TENANT_ID}/InvokeCommand"
    assert request.headers["X-AnchorMailbox"] == m365.exchange.anchor
    assert request.headers["Prefer"] == "odata.maxpagesize=1000"
    assert request.body == {"CmdletInput": {"CmdletName": "Get-TransportConfig", "Parameters": {}}}
    assert {r.scope for r in m365.authority.token_requests} == {f"{m365.exchange.base_url}/.default"}


async def test_cas_mailboxes_with_override_across_pages(m365_client: M365Client, m365: FakeM365) -> None:
    m365.exchange.cmdlets["Get-CASMailbox"] = synthetic_cas_mailboxes(2500, override_every=10)
    overrides = await exchange.cas_mailboxes_with_smtp_override(m365_client)
    assert len(overrides) == 250
    assert {m["SmtpClientAuthenticationDisabled"] for m in overrides} == {True, False}
    assert set(overrides[0]) == set(exchange.CAS_MAILBOX_FIELDS)  # $select honoured, no other properties
    requests = m365.exchange.requests
    assert len(requests) == 3
    assert all(r.body["CmdletInput"]["Parameters"] == {"ResultSize": "Unlimited"} for r in requests)
    assert [r.query.get("$skiptoken") for r in requests] == [None, "1000", "2000"]
    assert unquote(requests[0].query["$select"]).split(",") == list(exchange.CAS_MAILBOX_FIELDS)


async def test_organization_config_and_authentication_policies(
    m365_client: M365Client, m365: FakeM365
) -> None:
    organization = await exchange.organization_config(m365_client)
    assert organization["OAuth2ClientProfileEnabled"] is True
    policies = await exchange.authentication_policies(m365_client)
    assert [p["AllowBasicAuthSmtp"] for p in policies] == [True, False]
    assert m365.authority.token_request_count == 1  # one Exchange token for both calls


async def test_warnings_are_logged(
    m365_client: M365Client, m365: FakeM365, caplog: pytest.LogCaptureFixture
) -> None:
    m365.exchange.warnings["Get-AuthenticationPolicy"] = [
        "The command completed successfully but no settings have been modified."
    ]
    caplog.set_level(logging.WARNING, logger="bot.m365.exchange")
    await exchange.authentication_policies(m365_client)
    assert "no settings have been modified" in caplog.text


async def test_unknown_cmdlet_is_an_exchange_command_error(m365_client: M365Client) -> None:
    with pytest.raises(ExchangeCommandError) as caught:
        await exchange.invoke_command(m365_client, "Get-NoSuchThing")
    assert caught.value.status == 400
    assert "Get-NoSuchThing" in caught.value.message("en") and "not recognized" in caught.value.message("en")
    assert "Get-NoSuchThing" in caught.value.message("ja")


async def test_missing_manage_as_app_permission(m365_client: M365Client, m365: FakeM365) -> None:
    m365.authority.roles.discard(EXCHANGE_ROLE)
    with pytest.raises(PermissionMissingError) as caught:
        await exchange.transport_config(m365_client)
    error = caught.value
    assert (error.reason, error.permission, error.role) == (
        "exchange",
        "Exchange.ManageAsApp",
        "Global Reader",
    )
    assert "Exchange.ManageAsApp" in error.message("en") and "Global Reader" in error.message("en")
    assert "グローバル閲覧者" in error.message("ja")
    assert (
        len(m365.exchange.requests) == 2 and m365.authority.token_request_count == 2
    )  # one refresh, then stop


async def test_missing_entra_role(m365_client: M365Client, m365: FakeM365) -> None:
    m365.exchange.has_role = False
    with pytest.raises(PermissionMissingError) as caught:
        await exchange.organization_config(m365_client)
    assert caught.value.status == 403 and caught.value.reason == "exchange"


async def test_throttled_then_served(m365_client: M365Client, m365: FakeM365) -> None:
    m365.exchange.faults.append(Fault.throttle(INVOKE, retry_after="3"))
    assert (await exchange.transport_config(m365_client))["SmtpClientAuthenticationDisabled"] is True
    assert m365.sleeps == [3.0]


async def test_unexpected_result_count_is_malformed(m365_client: M365Client, m365: FakeM365) -> None:
    m365.exchange.cmdlets["Get-TransportConfig"] = []
    with pytest.raises(MalformedResponseError):
        await exchange.transport_config(m365_client)


async def test_certificate_credentials_work_for_exchange(m365: FakeM365) -> None:
    m365.authority.client_secret = None
    async with m365.client(m365.settings(use_certificate=True)) as client:
        config = await exchange.transport_config(client)
    assert config["AllowLegacyTLSClients"] is False
    assert m365.authority.token_requests[0].credential == "certificate"
