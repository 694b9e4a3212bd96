"""The tenant's SMTP AUTH posture and what the end-of-December-2026 default-disable will do to it.

Inputs are the raw settings (Graph security defaults, Get-TransportConfig, Get-CASMailbox,
Get-OrganizationConfig, Get-AuthenticationPolicy); the output is a typed ``Posture`` and one plain
sentence per language. The rules follow Exchange's own precedence: a mailbox's explicit setting wins
over the organisation's, security defaults block Basic auth for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping

from bot.i18n import t

MailboxSetting = Literal["enabled", "disabled"]


@dataclass(frozen=True)
class MailboxOverride:
    address: str
    setting: MailboxSetting  # SmtpClientAuthenticationDisabled False → enabled, True → disabled


@dataclass(frozen=True)
class AuthPolicy:
    name: str
    allow_basic_smtp: bool
    is_default: bool = False


@dataclass(frozen=True)
class Posture:
    security_defaults: bool | None
    org_smtp_auth_disabled: bool | None
    overrides: tuple[MailboxOverride, ...]
    policies: tuple[AuthPolicy, ...]
    oauth2_client_profile_enabled: bool | None

    @property
    def enabled_overrides(self) -> tuple[MailboxOverride, ...]:
        return tuple(o for o in self.overrides if o.setting == "enabled")

    @property
    def disabled_overrides(self) -> tuple[MailboxOverride, ...]:
        return tuple(o for o in self.overrides if o.setting == "disabled")

    @property
    def blocking_policies(self) -> tuple[AuthPolicy, ...]:
        return tuple(p for p in self.policies if not p.allow_basic_smtp)

    def mailbox_setting(self, address: str) -> MailboxSetting | None:
        wanted = address.strip().lower()
        return next((o.setting for o in self.overrides if o.address.lower() == wanted), None)


def _first(value: Any) -> Mapping[str, Any]:
    """Cmdlet output arrives as a list of objects; org-wide cmdlets return one."""
    if isinstance(value, list):
        return value[0] if value and isinstance(value[0], Mapping) else {}
    return value if isinstance(value, Mapping) else {}


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def parse_posture(raw: Mapping[str, Any]) -> Posture:
    overrides = []
    for mailbox in raw.get("cas_mailboxes") or []:
        setting = _bool(mailbox.get("SmtpClientAuthenticationDisabled"))
        if setting is None:
            continue  # null: the mailbox follows the organisation
        address = mailbox.get("UserPrincipalName") or mailbox.get("PrimarySmtpAddress") or mailbox.get("Identity") or "?"
        overrides.append(MailboxOverride(str(address), "disabled" if setting else "enabled"))
    policies = tuple(
        AuthPolicy(str(p.get("Name", "?")), bool(_bool(p.get("AllowBasicAuthSmtp"))), bool(_bool(p.get("IsDefault"))))
        for p in raw.get("authentication_policies") or []
    )
    return Posture(
        security_defaults=_bool(_first(raw.get("security_defaults")).get("isEnabled")),
        org_smtp_auth_disabled=_bool(_first(raw.get("transport_config")).get("SmtpClientAuthenticationDisabled")),
        overrides=tuple(sorted(overrides, key=lambda o: o.address.lower())),
        policies=policies,
        oauth2_client_profile_enabled=_bool(_first(raw.get("organization_config")).get("OAuth2ClientProfileEnabled")),
    )


def posture_sentence(posture: Posture, lang: str) -> str:
    """One sentence: what the end-of-December-2026 default-disable does to this tenant."""
    enabled = len(posture.enabled_overrides)
    if posture.security_defaults:
        return t("posture.sentence.security_defaults", lang)
    if posture.org_smtp_auth_disabled is None:
        return t("posture.sentence.unknown", lang)
    if posture.org_smtp_auth_disabled:
        if enabled:
            return t("posture.sentence.disabled_with_overrides", lang, count=enabled)
        return t("posture.sentence.disabled", lang)
    if enabled:
        return t("posture.sentence.enabled_with_overrides", lang, count=enabled)
    return t("posture.sentence.enabled", lang)


def posture_notes(posture: Posture, lang: str) -> list[str]:
    """Further facts an admin should act on, each one line."""
    notes = []
    if posture.oauth2_client_profile_enabled is False:
        notes.append(t("posture.note.modern_auth_off", lang))
    blocking = posture.blocking_policies
    if blocking:
        notes.append(t("posture.note.blocking_policies", lang, count=len(blocking), names=", ".join(p.name for p in blocking)))
    disabled = posture.disabled_overrides
    if disabled and not posture.security_defaults:
        notes.append(t("posture.note.disabled_mailboxes", lang, count=len(disabled)))
    return notes
