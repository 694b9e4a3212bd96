"""Demo data for the diagnostics cards in the gallery (``cards.gallery``): every state worth seeing.

The check cards are built from hand-written facts rather than the demo tenant so the gallery shows
the extremes: all four usual causes at once (the largest card), a sender that breaks only at the
default-disable, and one where a missing permission and licence leave questions open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.diagnostics.check import CheckFacts, InventoryEntry, Unavailable, evaluate, msg
from bot.diagnostics.smtp_replies import Localized, default_table, explain
from bot.m365.errors import LicenseRequiredError, PermissionMissingError
from bot.tenant.posture import parse_posture
from bot.tenant.service import Section
from bot.tenant.snapshots import Snapshot
from cards.diagnostics import (
    CheckView,
    Choice,
    ExplainView,
    build_check_card,
    build_explain_card,
    build_paths_card,
    build_question_choice_card,
)

TZ = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
UPN = "scanner@contoso.com"

Entry = tuple[str, str, Callable[[str], dict[str, Any]]]


def org(*, org_disabled: bool = False, security_defaults: bool = False, modern_auth: bool = True) -> dict[str, Any]:
    return {
        "security_defaults": {"isEnabled": security_defaults},
        "transport_config": [{"SmtpClientAuthenticationDisabled": org_disabled}],
        "organization_config": [{"OAuth2ClientProfileEnabled": modern_auth, "DefaultAuthenticationPolicy": None}],
        "cas_mailboxes": [],
        "authentication_policies": [{"Name": "Block Basic SMTP", "AllowBasicAuthSmtp": False}],
    }


def sign_in(hours: int, code: int = 0, reason: str | None = None) -> dict[str, Any]:
    when = datetime.fromtimestamp(NOW.timestamp() - hours * 3600, UTC)
    return {"createdDateTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "status": {"errorCode": code, "failureReason": reason}}


def facts(**overrides: Any) -> CheckFacts:
    values: dict[str, Any] = {
        "upn": UPN,
        "user": {"userPrincipalName": UPN, "displayName": "Scanner 1F", "accountEnabled": True},
        "mailbox": {"Identity": UPN, "SmtpClientAuthenticationDisabled": None},
        "exchange_user": {"AuthenticationPolicy": None},
        "mfa_state": "disabled",
        "org": org(),
        "sign_ins": [sign_in(3), sign_in(27)],
        "inventory": [InventoryEntry("Scanner 1F", msg("diag.kind.scanner"), Localized("OAuth (XOAUTH2) for SMTP AUTH", "SMTP AUTH の OAuth (XOAUTH2) 化"))],
        "demo": True,
    }
    values.update(overrides)
    return CheckFacts(**values)


def _section(data: dict[str, Any]) -> Section[Any]:
    return Section(Snapshot("posture", "demo", data, NOW), parse_posture(data), True)


def _check(**overrides: Any) -> Callable[[str], dict[str, Any]]:
    case = facts(**overrides)
    view = CheckView(evaluate(case), _section(case.org) if isinstance(case.org, dict) else None, TZ)
    return lambda lang: build_check_card(view, lang)


def _error(error: Exception) -> Unavailable:
    return Unavailable(Localized(error.message("en"), error.message("ja")))  # type: ignore[attr-defined]


def _explain(text: str, automatic: bool = False, sender: str | None = None) -> Callable[[str], dict[str, Any]]:
    table = default_table()
    explanation = explain(text, table)
    known = tuple(dict.fromkeys(e.code for e in table.entries)) if not explanation.items else ()
    view = ExplainView(explanation, automatic=automatic, sender=sender, known_codes=known)
    return lambda lang: build_explain_card(view, lang)


def _paths(lang: str) -> dict[str, Any]:
    from bot.diagnostics.answers import paths_view

    return build_paths_card(paths_view(devices_command=True), lang)


NDR = (
    "Remote Server returned '550 5.7.30 Basic authentication is not supported for Client Submission.'\n"
    "Earlier: 535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy.\n"
    "And: 432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information.\n"
    "Then: 554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"
)


def diagnostics_entries() -> list[Entry]:
    all_four = facts(
        mailbox={"Identity": UPN, "SmtpClientAuthenticationDisabled": True},
        org=org(org_disabled=True, security_defaults=True, modern_auth=False),
        mfa_state="enforced",
        exchange_user={"AuthenticationPolicy": "Block Basic SMTP"},
        sign_ins=[sign_in(1, 50076, "MFA required"), sign_in(2, 50126, "Invalid password"), sign_in(5, 53003, "Blocked by CA"), sign_in(9, 50053, "Locked")],
    )
    return [
        ("explain-retirement", "build_explain_card", _explain("550 5.7.30 Basic authentication is not supported for Client Submission.")),
        ("explain-auto-ndr", "build_explain_card", _explain(NDR, automatic=True, sender=UPN)),
        ("explain-unknown", "build_explain_card", _explain("/explain 5.7.99")),
        ("explain-ambiguous", "build_explain_card", _explain("535 5.7.139")),
        ("explain-nothing", "build_explain_card", _explain("hello")),
        ("question-choice", "build_question_choice_card", lambda lang: build_question_choice_card(
            UPN, [Choice(f"/device {UPN}", "One device in detail"), Choice(f"/check {UPN}", "Why it would fail")], lang)),
        ("check-breaks-after", "build_check_card", _check()),
        ("check-all-four-causes", "build_check_card", lambda lang: build_check_card(CheckView(evaluate(all_four), _section(all_four.org), TZ), lang)),  # type: ignore[arg-type]
        ("check-unknowns", "build_check_card", _check(
            mfa_state=_error(PermissionMissingError("graph", permission="Policy.Read.All")),
            sign_ins=_error(LicenseRequiredError()),
            inventory=Unavailable(msg("diag.check.inventory.not_built")),
        )),
        ("paths", "build_paths_card", _paths),
    ]
