"""/check's rules on their own: every combination of the settings that decide SMTP AUTH for one sender."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.diagnostics.check import CheckFacts, InventoryEntry, Unavailable, evaluate, msg, summarize_sign_ins
from bot.diagnostics.smtp_replies import Localized

UPN = "scanner@contoso.com"
POLICIES = {"none": None, "allows": "Allow SMTP Basic", "blocks": "Block SMTP Basic"}


def facts(
    mailbox: bool | None = None,
    org_disabled: bool = False,
    security_defaults: bool = False,
    mfa: str = "disabled",
    policy: str = "none",
    modern_auth: bool = True,
    **overrides: Any,
) -> CheckFacts:
    values: dict[str, Any] = {
        "upn": UPN,
        "user": {"userPrincipalName": UPN, "displayName": "Scanner", "accountEnabled": True},
        "mailbox": {"Identity": UPN, "SmtpClientAuthenticationDisabled": mailbox},
        "exchange_user": {"AuthenticationPolicy": POLICIES[policy]},
        "mfa_state": mfa,
        "org": {
            "security_defaults": {"isEnabled": security_defaults},
            "transport_config": [{"SmtpClientAuthenticationDisabled": org_disabled}],
            "organization_config": [{"OAuth2ClientProfileEnabled": modern_auth, "DefaultAuthenticationPolicy": None}],
            "authentication_policies": [
                {"Name": "Allow SMTP Basic", "AllowBasicAuthSmtp": True},
                {"Name": "Block SMTP Basic", "AllowBasicAuthSmtp": False},
            ],
        },
        "sign_ins": [],
        "inventory": [],
    }
    values.update(overrides)
    return CheckFacts(**values)


def expected(mailbox: bool | None, org_disabled: bool, security_defaults: bool, mfa: str, policy: str, modern_auth: bool) -> tuple[str, str, str]:
    """The rules as the shared facts and the Japanese admin guide state them, written independently."""
    smtp_auth_on = mailbox is False or (mailbox is None and not org_disabled)
    basic_blocked = security_defaults or mfa in ("enabled", "enforced") or policy == "blocks"
    now = smtp_auth_on and not basic_blocked
    after = mailbox is False and not basic_blocked  # only an explicitly enabled mailbox survives the default-disable
    oauth = smtp_auth_on and modern_auth
    return tuple("works" if ok else "fails" for ok in (now, after, oauth))  # type: ignore[return-value]


COMBINATIONS = list(
    itertools.product([True, False, None], [True, False], [True, False], ["disabled", "enabled", "enforced"], list(POLICIES), [True, False])
)


@pytest.mark.parametrize("combination", COMBINATIONS, ids=lambda c: "-".join(str(v) for v in c))
def test_every_combination_of_settings(combination):
    report = evaluate(facts(*combination))
    assert (report.now.outcome, report.after.outcome, report.oauth.outcome) == expected(*combination)
    # Every failing verdict names what blocks it, and every blocker carries a fix with a PowerShell line.
    for verdict in (report.now, report.after, report.oauth):
        assert (verdict.outcome == "fails") == bool(verdict.blockers)
        for blocker in verdict.blockers:
            finding = report.finding(blocker)
            assert finding.fix is not None and finding.fix.powershell and finding.fix.admin_center, blocker


SEED_CAUSES = {
    "mailbox": {"mailbox": True},
    "org": {"org_disabled": True},
    "security_defaults": {"security_defaults": True},
    "mfa": {"mfa": "enforced"},
}


@pytest.mark.parametrize("cause", list(SEED_CAUSES))
def test_each_of_the_guides_four_causes_alone_is_named_with_its_fix(cause):
    report = evaluate(facts(**SEED_CAUSES[cause]))
    assert report.now.outcome == "fails"
    assert report.now.blockers == (cause,)
    finding = report.finding(cause)
    assert finding.status == "fail"
    # The guide's cause number is named in both languages.
    number = list(SEED_CAUSES).index(cause) + 1
    assert f"cause {number} of the usual four" in finding.effect.en
    assert f"{number} つ目" in finding.effect.ja


def test_all_four_causes_together_are_all_named():
    report = evaluate(facts(mailbox=True, org_disabled=True, security_defaults=True, mfa="enabled"))
    # The organisation's setting doesn't matter once the mailbox sets its own, so three block.
    assert set(report.now.blockers) == {"mailbox", "security_defaults", "mfa"}
    assert report.finding("org").status == "info"
    report = evaluate(facts(mailbox=None, org_disabled=True, security_defaults=True, mfa="enforced"))
    assert set(report.now.blockers) == {"org", "security_defaults", "mfa"}
    assert report.oauth.blockers == ("org",)


def test_fixes_name_the_sender_and_the_policy_in_powershell():
    report = evaluate(facts(mailbox=True, policy="blocks", mfa="enforced"))
    assert report.finding("mailbox").fix.powershell == (
        "Set-CASMailbox -Identity 'scanner@contoso.com' -SmtpClientAuthenticationDisabled $false"
    )
    assert report.finding("policy").fix.powershell == "Set-AuthenticationPolicy -Identity 'Block SMTP Basic' -AllowBasicAuthSmtp"
    assert "users/scanner@contoso.com/authentication/requirements" in report.finding("mfa").fix.powershell
    quoted = evaluate(facts(mailbox=True, upn="o'brien@contoso.com"))
    assert "-Identity 'o''brien@contoso.com'" in quoted.finding("mailbox").fix.powershell


def test_the_default_policy_applies_when_the_user_has_none():
    org = facts().org
    org = {**org, "organization_config": [{"OAuth2ClientProfileEnabled": True, "DefaultAuthenticationPolicy": "Block SMTP Basic"}]}
    report = evaluate(facts(org=org))
    assert report.now.blockers == ("policy",)
    assert "default authentication policy “Block SMTP Basic”" in report.finding("policy").found.en
    # The user's own policy wins over the default.
    report = evaluate(facts(org=org, policy="allows"))
    assert report.now.outcome == "works"


def test_account_and_mailbox_problems_block_everything():
    report = evaluate(facts(mailbox=False, user={"userPrincipalName": UPN, "accountEnabled": False}))
    assert report.now.blockers == report.after.blockers == report.oauth.blockers == ("account",)
    report = evaluate(replace(facts(), mailbox=None))  # no mailbox at all
    assert report.finding("mailbox").status == "fail" and report.oauth.blockers == ("mailbox",)
    assert report.finding("org").status == "info"  # nothing to inherit without a mailbox


def test_what_cannot_be_read_leaves_the_verdict_open_with_the_reason():
    reason = Unavailable(Localized("The app lacks Policy.Read.All", "Policy.Read.All がありません"))
    report = evaluate(facts(mfa_state=reason))
    assert report.now.outcome == "unknown" and report.now.open_questions == ("mfa",)
    assert report.oauth.outcome == "works"  # MFA doesn't decide OAuth
    assert report.finding("mfa").effect == reason.reason
    # A known blocker still decides, whatever else is unknown.
    report = evaluate(facts(mailbox=True, mfa_state=reason))
    assert report.now.outcome == "fails"
    # Settings that can't be read at all leave every verdict open.
    report = evaluate(facts(org=reason, mailbox=None))
    assert {report.now.outcome, report.after.outcome, report.oauth.outcome} == {"unknown"}


def test_sign_ins_are_summarised_by_error_code():
    events = [
        {"createdDateTime": "2026-11-20T01:00:00Z", "status": {"errorCode": 0}},
        {"createdDateTime": "2026-11-22T01:00:00Z", "status": {"errorCode": 50126, "failureReason": "Invalid username or password."}},
        {"createdDateTime": "2026-11-21T01:00:00Z", "status": {"errorCode": 50126, "failureReason": "Invalid username or password."}},
        {"createdDateTime": "2026-11-19T01:00:00Z", "status": {"errorCode": 50076, "failureReason": "MFA"}},
        {"createdDateTime": "not a date", "status": {}},
    ]
    summary = summarize_sign_ins(events)
    assert (summary.successes, summary.failures) == (2, 3)
    assert summary.codes == ((50126, 2, "Invalid username or password."), (50076, 1, "MFA"))
    assert summary.last_success == datetime(2026, 11, 20, 1, tzinfo=UTC)
    assert summary.last_failure == datetime(2026, 11, 22, 1, tzinfo=UTC)
    report = evaluate(facts(sign_ins=events))
    assert report.finding("sign_ins").status == "warn"
    assert report.now.outcome == "works"  # evidence, not a setting: it never decides a verdict


def test_advice_follows_the_verdicts_and_the_inventorys_path():
    path = Localized("High Volume Email", "High Volume Email (HVE)")
    entry = InventoryEntry("MFP 3F", msg("diag.kind.printer_mfp"), path)
    report = evaluate(facts(inventory=[entry]))
    assert "stops at the end of December 2026" in report.advice.en and "High Volume Email" in report.advice.en
    assert "In the device inventory: MFP 3F (printer/MFP)." == report.finding("inventory").found.en
    assert "High Volume Email (HVE)" in report.finding("inventory").effect.ja
    report = evaluate(facts(mailbox=False))
    assert "keeps working after the end-of-December-2026 default-disable" in report.advice.en
    assert "second half of 2027" in report.advice.en
    report = evaluate(facts(mailbox=True))
    assert "not even with OAuth" in report.advice.en
    report = evaluate(facts(mfa="enforced"))
    assert "The way out is open" in report.advice.en


def test_a_sender_whose_sign_ins_are_all_oauth_is_told_so():
    events = [
        {"createdDateTime": "2026-11-22T01:00:00Z", "status": {"errorCode": 0}, "authenticationProtocol": "oAuth2"},
        {"createdDateTime": "2026-11-21T01:00:00Z", "status": {"errorCode": 0}, "authenticationProtocol": "oAuth2"},
    ]
    report = evaluate(facts(sign_ins=events))
    assert report.sign_ins is not None and report.sign_ins.only_oauth
    assert "already signs in with OAuth" in report.advice.en
    # One Basic-auth (or unlabelled) success is enough to make the usual advice apply again.
    report = evaluate(facts(sign_ins=[*events, {"createdDateTime": "2026-11-20T01:00:00Z", "status": {"errorCode": 0}}]))
    assert not report.sign_ins.only_oauth
    assert "stops at the end of December 2026" in report.advice.en
