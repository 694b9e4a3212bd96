"""/check on a live tenant: the real bot.m365 client against HTTPS fakes of Entra ID, Graph and Exchange.

Each case sets the fakes up the way an admin's tenant would be (the four causes of the Japanese
admin guide one at a time and together, a blocking authentication policy, modern auth off, a missing
permission, a tenant without Entra ID P1) and reads the card the bot posts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from activities import ADMIN_AAD, personal_message
from card_checks import assert_valid_card, card_text
from m365_fakes import FakeM365, iso
from test_diag_check_http import verdicts
from test_tenant_live import live_env

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
UPN = "scanner@contoso.com"


def sign_in(hours: float, code: int = 0, reason: str | None = None, upn: str = UPN) -> dict[str, Any]:
    return {
        "id": f"si-{hours}-{code}-{upn}", "createdDateTime": iso(NOW - timedelta(hours=hours)), "userPrincipalName": upn,
        "userId": "u-1", "appDisplayName": "Office 365 Exchange Online", "ipAddress": "203.0.113.15",
        "clientAppUsed": "Authenticated SMTP", "status": {"errorCode": code, "failureReason": reason},
    }


def tenant(
    fakes: FakeM365,
    *,
    mailbox: bool | None = None,
    org_disabled: bool = False,
    security_defaults: bool = False,
    mfa: str = "disabled",
    policy: str | None = None,
    modern_auth: bool = True,
    has_mailbox: bool = True,
) -> None:
    """One sender, scanner@contoso.com, and the organisation around it."""
    fakes.graph.users = [{"id": "u-1", "userPrincipalName": UPN, "displayName": "Scanner 1F", "mail": UPN, "accountEnabled": True}]
    fakes.graph.mfa_states = {UPN: mfa}
    fakes.graph.security_defaults = security_defaults
    fakes.graph.sign_in_events = [
        sign_in(2), sign_in(5, 50126, "Invalid username or password."),
        sign_in(24 * 40),  # outside the 30-day window
        sign_in(1, upn="someone-else@contoso.com"),  # another user
    ]
    mailboxes = [{"Identity": "other", "Name": "other", "UserPrincipalName": "other@contoso.com",
                  "PrimarySmtpAddress": "other@contoso.com", "SmtpClientAuthenticationDisabled": False}]
    if has_mailbox:
        mailboxes.append({"Identity": "scanner", "Name": "scanner", "UserPrincipalName": UPN, "PrimarySmtpAddress": UPN,
                          "ExternalDirectoryObjectId": "u-1", "SmtpClientAuthenticationDisabled": mailbox})
    cmdlets = fakes.exchange.cmdlets
    cmdlets["Get-CASMailbox"] = mailboxes
    cmdlets["Get-User"] = [{"Identity": "scanner", "UserPrincipalName": UPN, "RecipientTypeDetails": "UserMailbox", "AuthenticationPolicy": policy}]
    cmdlets["Get-TransportConfig"] = [{"Identity": "Transport Settings", "SmtpClientAuthenticationDisabled": org_disabled}]
    cmdlets["Get-OrganizationConfig"] = [{"Name": "contoso.onmicrosoft.com", "OAuth2ClientProfileEnabled": modern_auth, "DefaultAuthenticationPolicy": None}]


async def checked(make_bot, connector, fakes: FakeM365, locale: str = "en-US") -> str:
    bot = await make_bot(env=live_env(fakes), now=NOW)
    status, _ = await bot.post(personal_message(f"/check {UPN}", connector.url, aad=ADMIN_AAD, locale=locale))
    assert status == 200
    cards = connector.cards()
    assert cards, [m.activity.get("text") for m in connector.messages()]
    assert_valid_card(cards[0])
    text = card_text(cards[0])
    assert "Demo data" not in text and "デモ データ" not in text
    return text


CASES = {
    "nothing-set": ({}, ("works", "fails", "works"), ["follows the organisation's setting", "stops at the end of December 2026"]),
    "cause-1-mailbox": ({"mailbox": True}, ("fails", "fails", "fails"), ["cause 1 of the usual four"]),
    "cause-2-org": ({"org_disabled": True}, ("fails", "fails", "fails"), ["cause 2 of the usual four", "Turn off SMTP AUTH protocol for your organization"]),
    "cause-3-security-defaults": ({"security_defaults": True}, ("fails", "fails", "works"), ["cause 3 of the usual four", "Manage security defaults"]),
    "cause-4-mfa": ({"mfa": "enforced"}, ("fails", "fails", "works"), ["cause 4 of the usual four", "Per-user MFA"]),
    "all-four": (
        {"mailbox": True, "org_disabled": True, "security_defaults": True, "mfa": "enabled"},
        ("fails", "fails", "fails"),
        ["cause 1 of the usual four", "cause 3 of the usual four", "cause 4 of the usual four", "overrides it"],
    ),
    "org-off-mailbox-on": ({"mailbox": False, "org_disabled": True}, ("works", "works", "works"), ["keeps working after", "overrides it"]),
    "policy-blocks": ({"policy": "Block Basic Auth"}, ("fails", "fails", "works"), ["AllowBasicAuthSmtp False", "Set-AuthenticationPolicy -Identity 'Block Basic Auth'"]),
    "policy-allows": ({"mailbox": False, "policy": "Allow Basic SMTP for printers"}, ("works", "works", "works"), ["allows Basic auth for SMTP"]),
    "modern-auth-off": ({"modern_auth": False}, ("works", "fails", "fails"), ["Set-OrganizationConfig -OAuth2ClientProfileEnabled $true"]),
    "no-mailbox": ({"has_mailbox": False}, ("fails", "fails", "fails"), ["No Exchange Online mailbox"]),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_settings_combinations_against_the_fakes(make_bot, connector, m365, case):
    settings, expected, phrases = CASES[case]
    tenant(m365, **settings)
    text = await checked(make_bot, connector, m365)
    assert verdicts(text) == expected
    for phrase in phrases:
        assert phrase in text, phrase


async def test_the_bot_asks_exchange_and_graph_about_this_one_sender(make_bot, connector, m365):
    tenant(m365)
    text = await checked(make_bot, connector, m365)
    bodies = [r.body["CmdletInput"] for r in m365.exchange.requests if r.body]
    assert {"CmdletName": "Get-CASMailbox", "Parameters": {"Identity": UPN}} in bodies
    assert {"CmdletName": "Get-User", "Parameters": {"Identity": UPN}} in bodies
    [signins] = m365.graph.requests_to("/auditLogs/signIns")
    assert f"userPrincipalName eq '{UPN}'" in signins.query["$filter"]
    assert "clientAppUsed eq 'Authenticated SMTP'" in signins.query["$filter"]
    assert m365.graph.requests_to(f"/beta/users/{UPN}/authentication/requirements")
    # Only this user's sign-ins within 30 days count.
    assert "Last 30 days: 1 successful and 1 failed" in text
    assert "Error 50126 ×1: wrong user name or password" in text


async def test_a_tenant_without_entra_id_p1_says_so_and_still_decides(make_bot, connector, m365):
    tenant(m365, mfa="enforced")
    m365.graph.premium = False
    text = await checked(make_bot, connector, m365)
    assert "Microsoft Entra ID P1 required" in text
    assert verdicts(text) == ("fails", "fails", "works")


async def test_a_missing_permission_is_named_and_leaves_only_that_open(make_bot, connector, m365):
    tenant(m365, mailbox=False)
    m365.authority.roles.discard("AuditLog.Read.All")
    text = await checked(make_bot, connector, m365, locale="ja-JP")
    assert "AuditLog.Read.All" in text and "アクセス許可" in text
    assert verdicts(text) == ("works", "works", "works")  # sign-ins are evidence, not a setting


async def test_without_policy_read_the_mfa_state_is_open_and_named(make_bot, connector, m365):
    tenant(m365)
    m365.authority.roles.discard("Policy.Read.All")
    text = await checked(make_bot, connector, m365)
    assert "Policy.Read.All" in text
    now, _, _ = verdicts(text)
    assert now == "unknown"
    assert "can't tell yet" in text


async def test_without_an_exchange_role_the_card_names_the_role(make_bot, connector, m365):
    tenant(m365)
    m365.exchange.has_role = False
    text = await checked(make_bot, connector, m365)
    assert "Global Reader" in text and "Exchange.ManageAsApp" in text
    assert verdicts(text) == ("unknown", "unknown", "unknown")


async def test_a_user_that_does_not_exist(make_bot, connector, m365):
    tenant(m365)
    m365.graph.users = []
    bot = await make_bot(env=live_env(m365), now=NOW)
    await bot.post(personal_message(f"/check {UPN}", connector.url, aad=ADMIN_AAD, locale="ja-JP"))
    [message] = connector.messages()
    assert f"Microsoft Entra ID に {UPN} が見つかりません" in message.activity["text"]
    assert "デモ テナント" not in message.activity["text"]


async def test_a_slow_exchange_gives_an_answer_in_time(make_bot, connector, m365):
    from m365_fakes import Fault
    tenant(m365)
    m365.exchange.faults.append(Fault.slow("/InvokeCommand", times=20))
    bot = await make_bot(env=live_env(m365), now=NOW)
    bot.services.tenant.fetch_timeout = 0.5
    await bot.post(personal_message(f"/check {UPN}", connector.url, aad=ADMIN_AAD))
    text = card_text(connector.cards()[0])
    assert "No answer within 0.5 s" in text
    assert verdicts(text)[0] == "unknown"


def test_the_sign_in_filter_quotes_an_apostrophe_the_odata_way():
    from urllib.parse import unquote

    from bot.tenant.live import user_sign_ins_url

    url = user_sign_ins_url("https://graph.example", "o'brien@contoso.com", NOW - timedelta(days=30), NOW)
    decoded = unquote(url)
    assert "userPrincipalName eq 'o''brien@contoso.com'" in decoded
    assert "createdDateTime ge 2026-10-24T03:00:00Z and createdDateTime le 2026-11-23T03:00:00Z" in decoded
