"""Why one sender would succeed or fail with SMTP AUTH, now and after the end-of-December-2026 default-disable.

Input is what the tenant says about the sender (``CheckFacts``: the Entra user, the mailbox's CAS
settings, the organisation's settings, per-user MFA, the authentication policy that applies, recent
'Authenticated SMTP' sign-ins, the device inventory entry). Output is a ``CheckReport``: one
``Finding`` per setting, each pass/fail with the admin-center path and the PowerShell line that
fixes it, and three verdicts: Basic auth now, Basic auth after the default-disable, and OAuth (the
way out). Pure: the async gathering lives in ``gather.py``, the card in ``cards/diagnostics.py``.

The rules are Exchange Online's own precedence (facts §3, §4b) and the four causes the Japanese admin
guide walks through by hand (seeds/003):

1. the mailbox's ``SmtpClientAuthenticationDisabled``: True blocks, False allows whatever the
   organisation says, unset follows the organisation;
2. the organisation's ``SmtpClientAuthenticationDisabled`` (Get-TransportConfig);
3. security defaults block Basic auth for everyone;
4. per-user MFA (enabled or enforced) blocks Basic auth for that user.

Beyond the guide: an authentication policy with ``AllowBasicAuthSmtp`` False blocks Basic auth for
the users it applies to (the user's own policy, else the organisation's default); an account that is
disabled or has no mailbox cannot send at all; ``OAuth2ClientProfileEnabled`` False blocks the OAuth
way out. The SMTP AUTH switches (1, 2) apply to OAuth too; security defaults, MFA and authentication
policies only stop Basic auth.

After the default-disable the bot reads MC786329 as the rest of the bot does (``bot.tenant.posture``):
a mailbox that follows an enabled organisation stops working with Basic auth; a mailbox enabled
explicitly keeps working until the final removal, whose date Microsoft announces in the second half
of 2027.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.diagnostics.smtp_replies import Localized
from bot.i18n import t

Status = Literal["pass", "fail", "warn", "unknown", "info"]
Outcome = Literal["works", "fails", "unknown"]
MFA_BLOCKING = frozenset({"enabled", "enforced"})
MAX_FAILURE_CODES = 4


@dataclass(frozen=True)
class Unavailable:
    """A piece of tenant data the bot could not read, and why (a permission, a licence, a timeout)."""

    reason: Localized


@dataclass(frozen=True)
class InventoryEntry:
    """What the device inventory knows about this sender (see ``inventory.py``)."""

    name: str
    kind: Localized
    path: Localized | None = None
    ready: bool | None = None
    note: Localized | None = None


Maybe = Unavailable | None  # None: the tenant has none; Unavailable: the bot could not read it


@dataclass(frozen=True)
class CheckFacts:
    """Everything read about one sender; ``None`` means "there is none", ``Unavailable`` "could not read"."""

    upn: str
    user: Mapping[str, Any] | Maybe
    mailbox: Mapping[str, Any] | Maybe
    exchange_user: Mapping[str, Any] | Maybe
    mfa_state: str | Maybe
    org: Mapping[str, Any] | Unavailable
    sign_ins: Sequence[Mapping[str, Any]] | Unavailable
    inventory: Sequence[InventoryEntry] | Unavailable
    window_days: int = 30
    demo: bool = False


@dataclass(frozen=True)
class Fix:
    text: Localized
    admin_center: Localized | None = None
    powershell: str | None = None


@dataclass(frozen=True)
class Finding:
    id: str
    status: Status
    found: Localized
    effect: Localized | None = None
    fix: Fix | None = None
    blocks_now: bool = False
    blocks_after: bool = False
    blocks_oauth: bool = False
    unknown_for: frozenset[str] = frozenset()  # verdicts ("now", "after", "oauth") this unknown leaves open

    @property
    def title(self) -> Localized:
        return msg(f"diag.check.{self.id}.title")


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    blockers: tuple[str, ...] = ()
    open_questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignInSummary:
    successes: int
    failures: int
    last_success: datetime | None
    last_failure: datetime | None
    codes: tuple[tuple[int, int, str], ...]  # (errorCode, count, failureReason), most frequent first
    oauth: int = 0  # successes the log marks as OAuth (beta ``authenticationProtocol``; v1.0 doesn't say)

    @property
    def only_oauth(self) -> bool:
        return self.successes > 0 and self.oauth == self.successes and not self.failures


@dataclass(frozen=True)
class CheckReport:
    upn: str
    display_name: str | None
    findings: tuple[Finding, ...]
    now: Verdict
    after: Verdict
    oauth: Verdict
    advice: Localized
    sign_ins: SignInSummary | None = None
    demo: bool = False

    def finding(self, finding_id: str) -> Finding:
        return next(f for f in self.findings if f.id == finding_id)


def msg(key: str, **values: object) -> Localized:
    """A catalog message in both languages, so findings stay language-free until the card picks one.

    A ``Localized`` value is filled in per language (a path name in the sentence's own language)."""

    def one(lang: str) -> str:
        return t(key, lang, **{k: v.text(lang) if isinstance(v, Localized) else v for k, v in values.items()})

    return Localized(one("en"), one("ja"))


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _first(value: Any) -> Mapping[str, Any]:
    if isinstance(value, list):
        return value[0] if value and isinstance(value[0], Mapping) else {}
    return value if isinstance(value, Mapping) else {}


def ps_quote(value: str) -> str:
    """A PowerShell single-quoted string: only the quote itself needs escaping (doubled)."""
    return "'" + value.replace("'", "''") + "'"


# --- one finding per setting ---------------------------------------------------------------------


def _unknown(finding_id: str, reason: Localized, verdicts: set[str]) -> Finding:
    return Finding(finding_id, "unknown", msg("diag.check.unknown"), effect=reason, unknown_for=frozenset(verdicts))


def account_finding(facts: CheckFacts) -> Finding:
    user = facts.user
    if isinstance(user, Unavailable):
        return _unknown("account", user.reason, {"now", "after", "oauth"})
    if user is None:
        return Finding("account", "fail", msg("diag.check.account.missing"), blocks_now=True, blocks_after=True, blocks_oauth=True)
    if _bool(user.get("accountEnabled")) is False:
        return Finding(
            "account", "fail", msg("diag.check.account.disabled"),
            effect=msg("diag.check.account.disabled.effect"),
            fix=Fix(
                msg("diag.check.account.fix"),
                msg("diag.check.account.admin"),
                f"Update-MgUser -UserId {ps_quote(facts.upn)} -AccountEnabled:$true",
            ),
            blocks_now=True, blocks_after=True, blocks_oauth=True,
        )
    return Finding("account", "pass", msg("diag.check.account.ok"))


def mailbox_setting(mailbox: Mapping[str, Any]) -> bool | None:
    """The mailbox's SmtpClientAuthenticationDisabled: True/False, or None when it follows the organisation."""
    return _bool(mailbox.get("SmtpClientAuthenticationDisabled"))


def mailbox_finding(facts: CheckFacts) -> Finding:
    mailbox = facts.mailbox
    upn = facts.upn
    enable = f"Set-CASMailbox -Identity {ps_quote(upn)} -SmtpClientAuthenticationDisabled $false"
    if isinstance(mailbox, Unavailable):
        return _unknown("mailbox", mailbox.reason, {"now", "after", "oauth"})
    if mailbox is None:
        return Finding(
            "mailbox", "fail", msg("diag.check.mailbox.missing"),
            effect=msg("diag.check.mailbox.missing.effect"),
            fix=Fix(
                msg("diag.check.mailbox.missing.fix"),
                msg("diag.check.mailbox.missing.admin"),
                f"Set-MgUserLicense -UserId {ps_quote(upn)} -AddLicenses @{{SkuId='<SKU id with Exchange Online>'}} -RemoveLicenses @()",
            ),
            blocks_now=True, blocks_after=True, blocks_oauth=True,
        )
    setting = mailbox_setting(mailbox)
    if setting is True:
        return Finding(
            "mailbox", "fail", msg("diag.check.mailbox.disabled"),
            effect=msg("diag.check.mailbox.disabled.effect"),
            fix=Fix(msg("diag.check.mailbox.disabled.fix"), msg("diag.check.mailbox.admin"), enable),
            blocks_now=True, blocks_after=True, blocks_oauth=True,
        )
    if setting is False:
        return Finding("mailbox", "pass", msg("diag.check.mailbox.enabled"), effect=msg("diag.check.mailbox.enabled.effect"))
    return Finding("mailbox", "info", msg("diag.check.mailbox.inherits"), effect=msg("diag.check.mailbox.inherits.effect"))


def org_finding(facts: CheckFacts) -> Finding:
    mailbox = facts.mailbox if isinstance(facts.mailbox, Mapping) else None
    own = mailbox_setting(mailbox) if mailbox is not None else None
    inherits = mailbox is not None and own is None
    if isinstance(facts.org, Unavailable):
        verdicts = {"now", "after", "oauth"} if inherits or mailbox is None else set()
        return _unknown("org", facts.org.reason, verdicts)
    org_disabled = _bool(_first(facts.org.get("transport_config")).get("SmtpClientAuthenticationDisabled"))
    enable_mailbox = f"Set-CASMailbox -Identity {ps_quote(facts.upn)} -SmtpClientAuthenticationDisabled $false"
    if org_disabled is None:
        return _unknown("org", msg("diag.check.org.unreadable"), {"now", "after", "oauth"} if inherits else set())
    if mailbox is None:
        found = msg("diag.check.org.disabled" if org_disabled else "diag.check.org.enabled")
        return Finding("org", "info", found, effect=msg("diag.check.org.no_mailbox"))
    if org_disabled:
        if not inherits:
            return Finding("org", "info", msg("diag.check.org.disabled"), effect=msg("diag.check.org.overridden"))
        return Finding(
            "org", "fail", msg("diag.check.org.disabled"),
            effect=msg("diag.check.org.disabled.effect"),
            fix=Fix(msg("diag.check.org.disabled.fix"), msg("diag.check.org.admin"), enable_mailbox),
            blocks_now=True, blocks_after=True, blocks_oauth=True,
        )
    if inherits:
        return Finding(
            "org", "warn", msg("diag.check.org.enabled"),
            effect=msg("diag.check.org.enabled.after"),
            fix=Fix(msg("diag.check.org.enabled.fix"), msg("diag.check.mailbox.admin"), enable_mailbox),
            blocks_after=True,
        )
    return Finding("org", "info", msg("diag.check.org.enabled"), effect=msg("diag.check.org.overridden"))


def security_defaults_finding(facts: CheckFacts) -> Finding:
    if isinstance(facts.org, Unavailable):
        return _unknown("security_defaults", facts.org.reason, {"now", "after"})
    enabled = _bool(_first(facts.org.get("security_defaults")).get("isEnabled"))
    if enabled is None:
        return _unknown("security_defaults", msg("diag.check.security_defaults.unreadable"), {"now", "after"})
    if enabled:
        return Finding(
            "security_defaults", "fail", msg("diag.check.security_defaults.on"),
            effect=msg("diag.check.security_defaults.on.effect"),
            fix=Fix(
                msg("diag.check.security_defaults.fix"),
                msg("diag.check.security_defaults.admin"),
                "Update-MgPolicyIdentitySecurityDefaultEnforcementPolicy -IsEnabled:$false",
            ),
            blocks_now=True, blocks_after=True,
        )
    return Finding("security_defaults", "pass", msg("diag.check.security_defaults.off"))


def mfa_finding(facts: CheckFacts) -> Finding:
    state = facts.mfa_state
    if isinstance(state, Unavailable):
        return _unknown("mfa", state.reason, {"now", "after"})
    if state is None or state not in ("disabled", *MFA_BLOCKING):
        return _unknown("mfa", msg("diag.check.mfa.unreadable", state=state or "—"), {"now", "after"})
    if state in MFA_BLOCKING:
        uri = f"https://graph.microsoft.com/beta/users/{facts.upn}/authentication/requirements"
        return Finding(
            "mfa", "fail", msg(f"diag.check.mfa.{state}"),
            effect=msg("diag.check.mfa.on.effect"),
            fix=Fix(
                msg("diag.check.mfa.fix"),
                msg("diag.check.mfa.admin"),
                f"Invoke-MgGraphRequest -Method PATCH -Uri {ps_quote(uri)} -Body '{{\"perUserMfaState\":\"disabled\"}}'",
            ),
            blocks_now=True, blocks_after=True,
        )
    return Finding("mfa", "pass", msg("diag.check.mfa.disabled"))


def applied_policy(facts: CheckFacts) -> tuple[str | None, str]:
    """The authentication policy that applies to the user and where it comes from ("user"/"default")."""
    user_policy = facts.exchange_user.get("AuthenticationPolicy") if isinstance(facts.exchange_user, Mapping) else None
    if isinstance(user_policy, str) and user_policy.strip():
        return user_policy.strip(), "user"
    if isinstance(facts.org, Mapping):
        default = _first(facts.org.get("organization_config")).get("DefaultAuthenticationPolicy")
        if isinstance(default, str) and default.strip():
            return default.strip(), "default"
        for policy in facts.org.get("authentication_policies") or []:
            if isinstance(policy, Mapping) and _bool(policy.get("IsDefault")):
                return str(policy.get("Name") or "?"), "default"
    return None, "none"


def policy_finding(facts: CheckFacts) -> Finding:
    if isinstance(facts.exchange_user, Unavailable):
        return _unknown("policy", facts.exchange_user.reason, {"now", "after"})
    if isinstance(facts.org, Unavailable):
        return _unknown("policy", facts.org.reason, {"now", "after"})
    name, origin = applied_policy(facts)
    if name is None:
        return Finding("policy", "pass", msg("diag.check.policy.none"))
    policies = {str(p.get("Name", "")).lower(): p for p in facts.org.get("authentication_policies") or [] if isinstance(p, Mapping)}
    policy = policies.get(name.lower())
    if policy is None:
        return _unknown("policy", msg("diag.check.policy.unlisted", name=name), {"now", "after"})
    allowed = _bool(policy.get("AllowBasicAuthSmtp"))
    found = msg(f"diag.check.policy.{origin}", name=name)
    if allowed is False:
        return Finding(
            "policy", "fail", found,
            effect=msg("diag.check.policy.blocks.effect"),
            fix=Fix(
                msg("diag.check.policy.fix", name=name),
                msg("diag.check.policy.admin"),
                f"Set-AuthenticationPolicy -Identity {ps_quote(name)} -AllowBasicAuthSmtp",
            ),
            blocks_now=True, blocks_after=True,
        )
    return Finding("policy", "pass", found, effect=msg("diag.check.policy.allows.effect"))


def modern_auth_finding(facts: CheckFacts) -> Finding:
    if isinstance(facts.org, Unavailable):
        return _unknown("modern_auth", facts.org.reason, {"oauth"})
    enabled = _bool(_first(facts.org.get("organization_config")).get("OAuth2ClientProfileEnabled"))
    if enabled is None:
        return _unknown("modern_auth", msg("diag.check.modern_auth.unreadable"), {"oauth"})
    if not enabled:
        return Finding(
            "modern_auth", "fail", msg("diag.check.modern_auth.off"),
            effect=msg("diag.check.modern_auth.off.effect"),
            fix=Fix(msg("diag.check.modern_auth.fix"), msg("diag.check.modern_auth.admin"), "Set-OrganizationConfig -OAuth2ClientProfileEnabled $true"),
            blocks_oauth=True,
        )
    return Finding("modern_auth", "pass", msg("diag.check.modern_auth.on"))


def summarize_sign_ins(events: Sequence[Mapping[str, Any]]) -> SignInSummary:
    """Successes and failures (grouped by Entra error code) of 'Authenticated SMTP' sign-ins."""
    successes = failures = oauth = 0
    last_success: datetime | None = None
    last_failure: datetime | None = None
    codes: Counter[int] = Counter()
    reasons: dict[int, str] = {}
    for event in events:
        raw_status = event.get("status")
        status: Mapping[str, Any] = raw_status if isinstance(raw_status, Mapping) else {}
        raw_code = status.get("errorCode")
        code = raw_code if isinstance(raw_code, int) else 0
        when = _when(event.get("createdDateTime"))
        if code == 0:
            successes += 1
            oauth += str(event.get("authenticationProtocol") or "").lower() == "oauth2"
            last_success = max(filter(None, (last_success, when)), default=None)
        else:
            failures += 1
            codes[code] += 1
            reasons.setdefault(code, str(status.get("failureReason") or "").strip())
            last_failure = max(filter(None, (last_failure, when)), default=None)
    ranked = tuple((code, count, reasons.get(code, "")) for code, count in codes.most_common(MAX_FAILURE_CODES))
    return SignInSummary(successes, failures, last_success, last_failure, ranked, oauth)


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)  # Python 3.11 reads the trailing "Z" itself
    except ValueError:
        return None


def sign_in_finding(facts: CheckFacts) -> tuple[Finding, SignInSummary | None]:
    if isinstance(facts.sign_ins, Unavailable):
        return _unknown("sign_ins", facts.sign_ins.reason, set()), None
    summary = summarize_sign_ins(facts.sign_ins)
    days = facts.window_days
    if not summary.successes and not summary.failures:
        return Finding("sign_ins", "info", msg("diag.check.sign_ins.none", days=days), effect=msg("diag.check.sign_ins.none.effect")), summary
    found = msg("diag.check.sign_ins.counts", days=days, successes=summary.successes, failures=summary.failures)
    if summary.failures:
        return Finding(
            "sign_ins", "warn", found, effect=msg("diag.check.sign_ins.failures.effect"),
            fix=Fix(
                msg("diag.check.sign_ins.fix"),
                msg("diag.check.sign_ins.admin"),
                "Get-MgAuditLogSignIn -Filter "
                f"\"userPrincipalName eq {ps_quote(facts.upn)} and clientAppUsed eq 'Authenticated SMTP'\" -Top 50",
            ),
        ), summary
    effect = "diag.check.sign_ins.oauth.effect" if summary.only_oauth else "diag.check.sign_ins.basic.effect"
    return Finding("sign_ins", "pass", found, effect=msg(effect)), summary


def inventory_finding(facts: CheckFacts) -> Finding:
    entries = facts.inventory
    if isinstance(entries, Unavailable):
        return Finding("inventory", "info", msg("diag.check.inventory.unavailable"), effect=entries.reason)
    if not entries:
        return Finding("inventory", "info", msg("diag.check.inventory.missing"), effect=msg("diag.check.inventory.missing.effect"))
    names = [msg("diag.check.inventory.device", name=entry.name, kind=entry.kind) for entry in entries[:3]]
    found = Localized("; ".join(n.en for n in names), "、".join(n.ja for n in names))
    entry = entries[0]
    effect = msg("diag.check.inventory.path", path=entry.path) if entry.path else entry.note
    status: Status = "pass" if entry.ready else "info"
    return Finding("inventory", status, msg("diag.check.inventory.found", devices=found), effect=effect)


# --- verdicts -------------------------------------------------------------------------------------


def _verdict(findings: Sequence[Finding], which: str) -> Verdict:
    blockers = tuple(f.id for f in findings if f.status in ("fail", "warn") and getattr(f, f"blocks_{which}"))
    if blockers:
        return Verdict("fails", blockers)
    open_questions = tuple(f.id for f in findings if f.status == "unknown" and which in f.unknown_for)
    return Verdict("unknown", open_questions=open_questions) if open_questions else Verdict("works")


def _advice(now: Verdict, after: Verdict, oauth: Verdict, facts: CheckFacts, sign_ins: SignInSummary | None) -> Localized:
    if sign_ins is not None and sign_ins.only_oauth and oauth.outcome == "works":
        return msg("diag.check.advice.on_oauth")
    listed = facts.inventory if not isinstance(facts.inventory, Unavailable) else ()
    path = listed[0].path if listed and listed[0].path else None
    way_out = path or msg("diag.check.advice.oauth_path")
    if now.outcome == "fails":
        return msg("diag.check.advice.fails_now" if oauth.outcome != "fails" else "diag.check.advice.fails_all", path=way_out)
    if now.outcome == "unknown" or after.outcome == "unknown":
        return msg("diag.check.advice.unknown")
    if after.outcome == "fails":
        return msg("diag.check.advice.fails_after", path=way_out)
    return msg("diag.check.advice.keeps_working", path=way_out)


def evaluate(facts: CheckFacts) -> CheckReport:
    """Every finding for ``facts`` and the three verdicts they add up to."""
    sign_ins, summary = sign_in_finding(facts)
    findings = (
        account_finding(facts),
        mailbox_finding(facts),
        org_finding(facts),
        security_defaults_finding(facts),
        mfa_finding(facts),
        policy_finding(facts),
        modern_auth_finding(facts),
        sign_ins,
        inventory_finding(facts),
    )
    now, after, oauth = (_verdict(findings, which) for which in ("now", "after", "oauth"))
    display = facts.user.get("displayName") if isinstance(facts.user, Mapping) else None
    return CheckReport(
        upn=str(facts.user.get("userPrincipalName") or facts.upn) if isinstance(facts.user, Mapping) else facts.upn,
        display_name=str(display) if display else None,
        findings=findings,
        now=now,
        after=after,
        oauth=oauth,
        advice=_advice(now, after, oauth, facts, summary),
        sign_ins=summary,
        demo=facts.demo,
    )
