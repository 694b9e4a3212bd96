"""The posture sentence for each combination of settings, and health narrowing to SMTP issues."""

from __future__ import annotations

import pytest

from bot.tenant.health import parse_health, readable_status
from bot.tenant.posture import parse_posture, posture_notes, posture_sentence


def raw(security=False, org_disabled=False, mailboxes=(), policies=(), oauth=True):
    return {
        "security_defaults": {"isEnabled": security},
        "transport_config": [{"SmtpClientAuthenticationDisabled": org_disabled}],
        "organization_config": {"OAuth2ClientProfileEnabled": oauth},
        "cas_mailboxes": [
            {"UserPrincipalName": upn, "SmtpClientAuthenticationDisabled": value} for upn, value in mailboxes
        ],
        "authentication_policies": [{"Name": name, "AllowBasicAuthSmtp": allow} for name, allow in policies],
    }


@pytest.mark.parametrize(
    "settings, en, ja",
    [
        (raw(security=True, org_disabled=False), "Security defaults are on", "セキュリティの既定値群が有効"),
        (raw(security=True, mailboxes=[("a@x", False)]), "only OAuth works", "OAuth だけ"),
        (raw(org_disabled=True), "Already disabled for the organisation and no mailbox overrides it", "個別に有効化したメールボックスもありません"),
        (raw(org_disabled=True, mailboxes=[("a@x", False), ("b@x", False), ("c@x", True)]), "mailboxes enabled on their own keep working with Basic auth until the final removal: 2", "2 個のメールボックスが個別に有効化"),
        (raw(org_disabled=False), "every mailbox that sends with Basic auth will stop", "すべてのメールボックスが 2026年12月末に送信できなくなります"),
        (raw(org_disabled=False, mailboxes=[("a@x", False)]), "Mailboxes enabled on their own keep working until the final removal: 1", "個別に有効化されている 1 個"),
        (raw(org_disabled=False, mailboxes=[("a@x", None), ("b@x", True)]), "every mailbox that sends with Basic auth will stop", "すべてのメールボックス"),
        ({"transport_config": []}, "could not read", "読み取れなかった"),
    ],
)
def test_posture_sentence(settings, en, ja):
    posture = parse_posture(settings)
    assert en in posture_sentence(posture, "en")
    assert ja in posture_sentence(posture, "ja")


def test_mailbox_override_wins_and_null_follows_the_org():
    posture = parse_posture(raw(org_disabled=True, mailboxes=[("Scanner@Contoso.com", False), ("x@contoso.com", None)]))
    assert posture.mailbox_setting("scanner@contoso.com") == "enabled"
    assert posture.mailbox_setting("x@contoso.com") is None
    assert [o.address for o in posture.overrides] == ["Scanner@Contoso.com"]


def test_notes_cover_modern_auth_policies_and_disabled_mailboxes():
    posture = parse_posture(raw(oauth=False, policies=[("Strict", False), ("Default", True)], mailboxes=[("a@x", True)]))
    notes = " ".join(posture_notes(posture, "en"))
    assert "OAuth2ClientProfileEnabled $true" in notes
    assert "Strict" in notes and "Default" not in notes
    assert "Mailboxes with SMTP AUTH disabled on their own: 1" in notes
    assert posture_notes(parse_posture(raw()), "en") == []


def test_string_booleans_from_exchange_are_understood():
    posture = parse_posture({"transport_config": {"SmtpClientAuthenticationDisabled": "True"}})
    assert posture.org_smtp_auth_disabled is True


def test_health_keeps_only_open_smtp_issues():
    health = parse_health(
        {
            "status": "serviceDegradation",
            "issues": [
                {"id": "EX1", "title": "Mail delayed through SMTP AUTH", "isResolved": False, "classification": "incident"},
                {"id": "EX2", "title": "Calendar sync", "isResolved": False},
                {"id": "EX3", "title": "SMTP relay fixed", "isResolved": True},
                {"id": "EX4", "title": "Printers", "isResolved": False, "posts": [{"description": {"content": "client submission errors"}}]},
            ],
        }
    )
    assert [i.id for i in health.smtp_issues] == ["EX1", "EX4"]
    assert readable_status(health.status) == "service degradation"
