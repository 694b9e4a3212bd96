"""Which way one device or app should leave Basic-auth SMTP AUTH, and why.

This module owns the migration-path decision: given what the admin knows about one printer, scanner
or application, it recommends exactly one path with a one-sentence reason, concrete next steps and
warnings, in English and Japanese. It is a pure function of ``DeviceFacts``; nothing here talks to
Exchange.

The rules, first match wins (``RULES`` names them in this order):

1. ``already_oauth``   - the report shows this sender on OAuth            -> none_needed
2. ``not_needed``      - nobody needs the device or app any more           -> retire
3. ``oauth``           - it supports OAuth (XOAUTH2)                        -> oauth
4. ``oauth_unknown``   - OAuth support is unknown                           -> oauth, "check with the vendor
                         first"; the path rules 5-9 would give without OAuth is named as the fallback
5. ``internal_no_auth``- no OAuth, internal recipients only, and it cannot sign in at all -> direct_send
6. ``internal``        - no OAuth, internal recipients only                 -> hve
7. ``static_ip``       - no OAuth, external (or unknown) recipients, static public IP -> connector_relay
8. ``hybrid``          - no OAuth, Exchange Server on-premises in hybrid    -> onprem_relay
9. ``third_party``     - anything else                                      -> third_party

Why HVE before direct send for internal-only devices: HVE is one of the alternatives MC786329 lists,
it keeps a sign-in (the device's existing user name and password work; shared facts §7), and it does
not depend on the Reject Direct Send setting. Direct send is chosen only for a device that cannot
authenticate at all, because then HVE is impossible too.

Unknown recipient scope is treated as "may include external recipients": HVE and direct send cannot
deliver outside the organisation, so they are never recommended, nor offered as alternatives, unless
the admin says every recipient is internal.

Azure Communication Services is never recommended: the 2026-01-27 text of MC786329 lists OAuth, High
Volume Email, on-premises Exchange in hybrid, or a third-party solution, and no longer Azure
Communication Services (``ACS_NOTE``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

log = logging.getLogger(__name__)

Localized = dict[str, str]


class DeviceKind(StrEnum):
    PRINTER_MFP = "printer_mfp"
    SCANNER = "scanner"
    APPLICATION = "application"
    SERVICE = "service"
    UNKNOWN = "unknown"


class RecipientScope(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"
    UNKNOWN = "unknown"


class ObservedAuth(StrEnum):
    BASIC = "basic"
    OAUTH = "oauth"
    UNKNOWN = "unknown"


class MigrationPath(StrEnum):
    OAUTH = "oauth"
    HVE = "hve"
    CONNECTOR_RELAY = "connector_relay"
    DIRECT_SEND = "direct_send"
    ONPREM_RELAY = "onprem_relay"
    THIRD_PARTY = "third_party"
    RETIRE = "retire"
    NONE_NEEDED = "none_needed"


RULES: Final = (
    "already_oauth",
    "not_needed",
    "oauth",
    "oauth_unknown",
    "internal_no_auth",
    "internal",
    "static_ip",
    "hybrid",
    "third_party",
)

PATH_LABELS: Final[Mapping[MigrationPath, Localized]] = {
    MigrationPath.OAUTH: {"en": "OAuth (XOAUTH2) for SMTP AUTH", "ja": "SMTP AUTH の OAuth (XOAUTH2) 化"},
    MigrationPath.HVE: {
        "en": "High Volume Email (internal recipients only)",
        "ja": "High Volume Email (HVE、組織内の宛先のみ)",
    },
    MigrationPath.CONNECTOR_RELAY: {
        "en": "SMTP relay through an inbound connector",
        "ja": "受信コネクタ経由の SMTP リレー",
    },
    MigrationPath.DIRECT_SEND: {
        "en": "Direct send (internal recipients only)",
        "ja": "直接送信 (Direct Send、組織内の宛先のみ)",
    },
    MigrationPath.ONPREM_RELAY: {
        "en": "Relay through on-premises Exchange (hybrid)",
        "ja": "オンプレミス Exchange (ハイブリッド) 経由のリレー",
    },
    MigrationPath.THIRD_PARTY: {
        "en": "Third-party relay or mail service",
        "ja": "サードパーティのリレー/メール送信サービス",
    },
    MigrationPath.RETIRE: {"en": "Retire the device or app", "ja": "機器・アプリの利用停止"},
    MigrationPath.NONE_NEEDED: {"en": "No change needed (already OAuth)", "ja": "対応不要 (OAuth 利用済み)"},
}

MC786329_LISTED_PATHS: Final = frozenset(
    {MigrationPath.OAUTH, MigrationPath.HVE, MigrationPath.ONPREM_RELAY, MigrationPath.THIRD_PARTY}
)
"""The ways out that MC786329 (2026-01-27 text) itself names; the relay paths come from Microsoft's
guide for multifunction devices and applications instead."""

ACS_NOTE: Final[Localized] = {
    "en": "Microsoft's 2026-01-27 version of MC786329 lists OAuth, High Volume Email, on-premises Exchange "
    "in hybrid, or a third-party solution as the alternatives. It no longer lists Azure Communication "
    "Services, which some older articles (including Japanese ones) still mention. This bot therefore "
    "never recommends ACS as a Microsoft-listed path; if you consider ACS Email over SMTP, evaluate it "
    "like any other third-party-style sending service.",
    "ja": "2026 年 1 月 27 日版の MC786329 が挙げている代替手段は、OAuth、High Volume Email、"
    "ハイブリッド構成のオンプレミス Exchange、サードパーティ製ソリューションです。以前の記事 (日本語の記事を含む) "
    "には Azure Communication Services (ACS) が載っていますが、現在の MC786329 には記載がありません。"
    "そのため本ボットは ACS を Microsoft が挙げる移行先としては提示しません。ACS Email の SMTP 送信を検討する場合は、"
    "他のサードパーティの送信サービスと同じ基準で評価してください。",
}

SMTP_AUTH_DAILY_RECIPIENT_LIMIT: Final = 10_000
"""Per-mailbox SMTP AUTH limit (shared facts §6): 10,000 recipients a day, 30 messages a minute."""

_LEGACY_TLS: Final = frozenset({"1.0", "1.1"})
_DEVICE_KINDS: Final = frozenset({DeviceKind.PRINTER_MFP, DeviceKind.SCANNER})
_APP_KINDS: Final = frozenset({DeviceKind.APPLICATION, DeviceKind.SERVICE})


# ---------------------------------------------------------------- inputs and result


@dataclass(frozen=True)
class DeviceFacts:
    """What the admin knows about one sender. ``None`` means "don't know", which the rules treat
    differently from "no". Strings are accepted for the enum fields so chat input can be passed as is.

    ``can_authenticate`` says whether it can send a user name and password at all; a sender seen on
    Basic auth in the report evidently can, so it is inferred from ``observed_auth``."""

    kind: DeviceKind = DeviceKind.UNKNOWN
    supports_oauth: bool | None = None
    recipient_scope: RecipientScope = RecipientScope.UNKNOWN
    hybrid_onprem: bool = False
    has_static_ip: bool | None = None
    supports_tls12: bool | None = None
    tls_versions_seen: frozenset[str] = frozenset()
    still_needed: bool = True
    observed_auth: ObservedAuth = ObservedAuth.UNKNOWN
    messages_per_day: int | None = None
    can_authenticate: bool | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DeviceKind(self.kind))
        object.__setattr__(self, "recipient_scope", RecipientScope(self.recipient_scope))
        object.__setattr__(self, "observed_auth", ObservedAuth(self.observed_auth))
        object.__setattr__(
            self, "tls_versions_seen", frozenset(map(normalize_tls_version, self.tls_versions_seen))
        )
        if self.messages_per_day is not None and self.messages_per_day < 0:
            raise ValueError("messages_per_day must be 0 or more")
        if self.observed_auth is not ObservedAuth.UNKNOWN and self.can_authenticate is None:
            object.__setattr__(self, "can_authenticate", True)
        if self.can_authenticate is False and (
            self.supports_oauth is True or self.observed_auth is not ObservedAuth.UNKNOWN
        ):
            raise ValueError("a sender that cannot authenticate can neither use OAuth nor be seen signing in")

    @property
    def oauth_possible(self) -> bool | None:
        """OAuth support, with "cannot sign in at all" settling it as no."""
        return False if self.can_authenticate is False else self.supports_oauth

    @property
    def uses_legacy_tls(self) -> bool:
        return self.supports_tls12 is False or bool(self.tls_versions_seen & _LEGACY_TLS)


@dataclass(frozen=True)
class Recommendation:
    """One path and everything needed to act on it. ``alternatives`` are the other paths that the facts
    leave viable, best first; ``rule`` is the name in ``RULES`` that decided, so the choice can be
    explained and tested."""

    path: MigrationPath
    reason: Localized
    steps: list[Localized]
    warnings: list[Localized]
    alternatives: list[MigrationPath]
    rule: str
    notes: list[Localized] = field(default_factory=list)


def normalize_tls_version(value: str) -> str:
    """ "TLS 1.0", "tls1.0", "TLSv1", "1" -> "1.0"; the report and admins write versions many ways."""
    text = str(value).strip().lower().replace("tls", "").replace("v", "").replace(" ", "").replace("_", ".")
    if text in {"1", "1.0", "10"}:
        return "1.0"
    if text in {"1.1", "11"}:
        return "1.1"
    if text in {"1.2", "12"}:
        return "1.2"
    if text in {"1.3", "13"}:
        return "1.3"
    raise ValueError(f"unknown TLS version {value!r}")


def tls_versions_from_percentages(
    tls10: float | None, tls11: float | None, tls12: float | None
) -> frozenset[str]:
    """The versions that carried any traffic, from the EAC report's TLS percentage columns."""
    pairs = (("1.0", tls10), ("1.1", tls11), ("1.2", tls12))
    return frozenset(version for version, share in pairs if share is not None and share > 0.0)


# ---------------------------------------------------------------- decision


def recommend(facts: DeviceFacts) -> Recommendation:
    """Apply the rules in order (module docstring) and dress the winning path with text."""
    path, rule = decide(facts)
    if rule == "oauth_unknown":
        fallback, _ = _without_oauth(facts)
        reason = _reason_oauth_unknown(fallback)
        steps = [
            _VENDOR_CHECK[_kind_group(facts.kind)],
            *_steps(MigrationPath.OAUTH, facts),
            _fallback_step(fallback),
        ]
        alternatives = [fallback, *[p for p in _viable(facts) if p not in (path, fallback)]]
    else:
        reason = _reason(path, facts)
        steps = _steps(path, facts)
        alternatives = [p for p in _viable(facts) if p is not path]
    recommendation = Recommendation(
        path=path,
        reason=dict(reason),
        steps=_copies(steps),
        warnings=_copies(_warnings(path, facts)),
        alternatives=alternatives,
        rule=rule,
        notes=_copies(_notes(path)),
    )
    log.debug("recommended %s by rule %s", path, rule)
    return recommendation


def _copies(texts: list[Localized]) -> list[Localized]:
    """Fresh dicts, so a caller that edits a recommendation cannot change the module's constants."""
    return [dict(text) for text in texts]


def decide(facts: DeviceFacts) -> tuple[MigrationPath, str]:
    """The path and the name of the rule that chose it, without any text."""
    if facts.observed_auth is ObservedAuth.OAUTH:
        return MigrationPath.NONE_NEEDED, "already_oauth"
    if not facts.still_needed:
        return MigrationPath.RETIRE, "not_needed"
    if facts.oauth_possible is True:
        return MigrationPath.OAUTH, "oauth"
    if facts.oauth_possible is None:
        return MigrationPath.OAUTH, "oauth_unknown"
    return _without_oauth(facts)


def _without_oauth(facts: DeviceFacts) -> tuple[MigrationPath, str]:
    """Rules 5-9: where a sender goes when OAuth is off the table."""
    if facts.recipient_scope is RecipientScope.INTERNAL:
        if facts.can_authenticate is False:
            return MigrationPath.DIRECT_SEND, "internal_no_auth"
        return MigrationPath.HVE, "internal"
    if facts.has_static_ip is True:
        return MigrationPath.CONNECTOR_RELAY, "static_ip"
    if facts.hybrid_onprem:
        return MigrationPath.ONPREM_RELAY, "hybrid"
    return MigrationPath.THIRD_PARTY, "third_party"


def _viable(facts: DeviceFacts) -> list[MigrationPath]:
    """Every path the facts do not rule out, in the rules' order of preference."""
    if facts.observed_auth is ObservedAuth.OAUTH:
        return [MigrationPath.NONE_NEEDED] + ([] if facts.still_needed else [MigrationPath.RETIRE])
    if not facts.still_needed:
        return [MigrationPath.RETIRE]
    internal = facts.recipient_scope is RecipientScope.INTERNAL
    candidates = [
        (MigrationPath.OAUTH, facts.oauth_possible is not False),
        (MigrationPath.DIRECT_SEND, internal and facts.can_authenticate is False),
        (MigrationPath.HVE, internal and facts.can_authenticate is not False),
        (MigrationPath.CONNECTOR_RELAY, facts.has_static_ip is not False),
        (MigrationPath.ONPREM_RELAY, facts.hybrid_onprem),
        (MigrationPath.DIRECT_SEND, internal and facts.can_authenticate is not False),
        (MigrationPath.THIRD_PARTY, True),
    ]
    seen: list[MigrationPath] = []
    for path, ok in candidates:
        if ok and path not in seen:
            seen.append(path)
    return seen


# ---------------------------------------------------------------- reasons


def _kind_group(kind: DeviceKind) -> str:
    if kind in _DEVICE_KINDS:
        return "device"
    if kind in _APP_KINDS:
        return "app"
    return "unknown"


def _scope_phrase(facts: DeviceFacts) -> Localized:
    if facts.recipient_scope is RecipientScope.EXTERNAL:
        return {"en": "mails external recipients", "ja": "外部の宛先にも送信します"}
    return {
        "en": "may mail external recipients (the recipient scope is unknown)",
        "ja": "宛先の範囲が不明で外部に送信する可能性もあります",
    }


def _reason(path: MigrationPath, facts: DeviceFacts) -> Localized:
    scope = _scope_phrase(facts)
    if path is MigrationPath.NONE_NEEDED:
        return {
            "en": "This sender already submits mail with OAuth, so the Basic-auth retirement does not "
            "affect it.",
            "ja": "この送信者はすでに OAuth で送信しているため、基本認証の廃止による影響はありません。",
        }
    if path is MigrationPath.RETIRE:
        return {
            "en": "Nobody needs this device or app any more, so retiring it is cheaper and safer than "
            "migrating it.",
            "ja": "この機器・アプリはもう使われていないため、移行するよりも利用を停止するほうが手間もリスクも少なく済みます。",
        }
    if path is MigrationPath.OAUTH:
        return {
            "en": "It supports OAuth, so it can keep sending through SMTP AUTH after Basic auth is turned "
            "off, with no change to how mail flows.",
            "ja": "OAuth に対応しているため、基本認証が無効になった後もメールの流れを変えずに SMTP AUTH で送信を続けられます。",
        }
    if path is MigrationPath.HVE:
        return {
            "en": "It cannot use OAuth but only mails people inside your organization, which High Volume "
            "Email supports with a user name and password.",
            "ja": "OAuth には対応していませんが宛先が組織内だけなので、ユーザー名とパスワードで送信できる High Volume Email (HVE) を使えます。",
        }
    if path is MigrationPath.DIRECT_SEND:
        return {
            "en": "It cannot sign in at all and only mails people inside your organization, which direct "
            "send to your MX endpoint allows without authentication.",
            "ja": "認証そのものができず、宛先も組織内だけなので、認証なしで MX エンドポイントへ送る直接送信 (Direct Send) を使えます。",
        }
    if path is MigrationPath.CONNECTOR_RELAY:
        return {
            "en": f"It cannot use OAuth and {scope['en']}, and its static public IP lets an inbound "
            "connector recognise it without a password.",
            "ja": f"OAuth に対応しておらず{scope['ja']}が、固定のグローバル IP アドレスがあるため、パスワードなしで受信コネクタに識別させてリレーできます。",
        }
    if path is MigrationPath.ONPREM_RELAY:
        return {
            "en": f"It cannot use OAuth and {scope['en']}, and your on-premises Exchange Server in hybrid "
            "can relay for it, as MC786329 allows.",
            "ja": f"OAuth に対応しておらず{scope['ja']}が、MC786329 にあるとおりハイブリッド構成のオンプレミス Exchange Server でリレーできます。",
        }
    return {
        "en": f"It cannot use OAuth and {scope['en']}, with no confirmed static public IP and no hybrid "
        "Exchange Server, so a third-party relay or mail service is the way left.",
        "ja": f"OAuth に対応しておらず{scope['ja']}。固定のグローバル IP アドレスもハイブリッド構成の Exchange Server も確認できないため、"
        "サードパーティのリレー/メール送信サービスを使う方法が残ります。",
    }


def _reason_oauth_unknown(fallback: MigrationPath) -> Localized:
    label = PATH_LABELS[fallback]
    return {
        "en": "OAuth is the least disruptive way out if the vendor supports it, so confirm that first; if "
        f"it does not, use {label['en']}.",
        "ja": f"メーカーが対応していれば OAuth が最も影響の少ない移行方法なので、まず対応状況を確認してください。非対応の場合は「{label['ja']}」を使います。",
    }


# ---------------------------------------------------------------- steps


_VENDOR_CHECK: Final[Mapping[str, Localized]] = {
    "device": {
        "en": "Ask the vendor whether this model supports OAuth 2.0 (XOAUTH2) for Microsoft 365 SMTP, and "
        'from which firmware version (check the release notes for "OAuth" or "Modern Authentication").',
        "ja": "この機種が Microsoft 365 の SMTP 送信で OAuth 2.0 (XOAUTH2) に対応しているか、"
        "対応ファームウェアのバージョンとあわせてメーカーに確認してください (リリースノートで「OAuth」「先進認証」を探します)。",
    },
    "app": {
        "en": "Check whether the application or its mail library can send with OAuth 2.0 (XOAUTH2) to "
        "smtp.office365.com; ask the vendor if it is a product.",
        "ja": "アプリケーション (またはメール送信ライブラリ) が smtp.office365.com へ OAuth 2.0 (XOAUTH2) で送信できるか確認してください。"
        "製品の場合はベンダーに問い合わせます。",
    },
    "unknown": {
        "en": "Ask the vendor (or the app's developer) whether it can send with OAuth 2.0 (XOAUTH2) to "
        "Microsoft 365 SMTP.",
        "ja": "Microsoft 365 の SMTP へ OAuth 2.0 (XOAUTH2) で送信できるか、メーカー (またはアプリの開発元) に確認してください。",
    },
}


def _fallback_step(fallback: MigrationPath) -> Localized:
    label = PATH_LABELS[fallback]
    return {
        "en": f"If the vendor says no, plan for {label['en']} instead.",
        "ja": f"メーカーが非対応と回答した場合は、代わりに「{label['ja']}」で準備を進めてください。",
    }


def _steps(path: MigrationPath, facts: DeviceFacts) -> list[Localized]:
    builders = {
        MigrationPath.NONE_NEEDED: _steps_none_needed,
        MigrationPath.RETIRE: _steps_retire,
        MigrationPath.OAUTH: _steps_oauth,
        MigrationPath.HVE: _steps_hve,
        MigrationPath.DIRECT_SEND: _steps_direct_send,
        MigrationPath.CONNECTOR_RELAY: _steps_connector_relay,
        MigrationPath.ONPREM_RELAY: _steps_onprem_relay,
        MigrationPath.THIRD_PARTY: _steps_third_party,
    }
    return builders[path](facts)


def _steps_none_needed(facts: DeviceFacts) -> list[Localized]:
    return [
        {
            "en": "Nothing to migrate for this sender: keep its firmware or app current.",
            "ja": "この送信者については移行作業は不要です。ファームウェアやアプリは最新の状態を保ってください。",
        },
        {
            "en": "In the SMTP AUTH clients report, check that the same sender has no Basic row left "
            "(another device may share the mailbox).",
            "ja": "SMTP AUTH クライアント レポートで、同じ送信者に Basic の行が残っていないか確認してください (別の機器が同じメールボックスを共用している場合があります)。",
        },
    ]


def _steps_retire(facts: DeviceFacts) -> list[Localized]:
    return [
        {
            "en": "Confirm nobody still relies on it: look for recent messages from this sender in the SMTP "
            "AUTH clients report.",
            "ja": "SMTP AUTH クライアント レポートでこの送信者の最近の送信がないか確認し、誰も使っていないことを確かめます。",
        },
        {
            "en": "Remove the saved mailbox password from the device or app, then switch off its mail "
            "sending.",
            "ja": "機器・アプリに保存されているメールボックスのパスワードを削除し、メール送信の設定を無効にします。",
        },
        {
            "en": "If the mailbox no longer needs SMTP AUTH, turn it off: Set-CASMailbox -Identity "
            "<mailbox> -SmtpClientAuthenticationDisabled $true",
            "ja": "そのメールボックスで SMTP AUTH が不要になったら無効にします: Set-CASMailbox -Identity <mailbox> "
            "-SmtpClientAuthenticationDisabled $true",
        },
    ]


_OAUTH_DEVICE: Final[list[Localized]] = [
    {
        "en": "Update the device to firmware that supports OAuth 2.0 for Microsoft 365, then follow the "
        "vendor's guide to register or consent to its app in Microsoft Entra ID and sign the device in "
        "with the sending mailbox.",
        "ja": "Microsoft 365 の OAuth 2.0 に対応したファームウェアに更新し、メーカーの手順に従って Microsoft Entra ID でアプリの登録 (または同意) "
        "を行い、送信に使うメールボックスで機器からサインインします。",
    },
]
_OAUTH_APP: Final[list[Localized]] = [
    {
        "en": "Register an app in Microsoft Entra ID, add the application permission SMTP.SendAsApp (Office "
        "365 Exchange Online) and grant admin consent; request tokens with the scope "
        "https://outlook.office365.com/.default (client credentials).",
        "ja": "Microsoft Entra ID でアプリを登録し、アプリケーションのアクセス許可 SMTP.SendAsApp (Office 365 Exchange Online) "
        "を追加して管理者の同意を与えます。トークンはスコープ https://outlook.office365.com/.default (クライアント資格情報フロー) で取得します。",
    },
    {
        "en": "Register the app in Exchange Online and give it the mailbox: New-ServicePrincipal -AppId "
        "<APPLICATION_ID> -ObjectId <ENTERPRISE_APP_OBJECT_ID>, then Add-MailboxPermission -Identity "
        "<mailbox> -User <SERVICE_PRINCIPAL_ID> -AccessRights FullAccess. Use the Object ID of the "
        "Enterprise Application, not of the App Registration.",
        "ja": "Exchange Online にアプリを登録し、メールボックスへのアクセス権を与えます: New-ServicePrincipal -AppId <APPLICATION_ID> "
        "-ObjectId <ENTERPRISE_APP_OBJECT_ID> の後、Add-MailboxPermission -Identity <mailbox> -User "
        "<SERVICE_PRINCIPAL_ID> -AccessRights FullAccess。ObjectId には「アプリの登録」ではなく「エンタープライズ "
        "アプリケーション」のオブジェクト ID を指定します。",
    },
    {
        "en": "If the app sends as a signed-in user instead, use the delegated scope "
        "https://outlook.office.com/SMTP.Send.",
        "ja": "サインインしたユーザーとして送信するアプリの場合は、委任スコープ https://outlook.office.com/SMTP.Send を使います。",
    },
]
_OAUTH_COMMON: Final[list[Localized]] = [
    {
        "en": "Send to smtp.office365.com, port 587 (recommended) or 25, with STARTTLS and TLS 1.2 or "
        "later, from a licensed mailbox.",
        "ja": "送信先は smtp.office365.com、ポート 587 (推奨) または 25、STARTTLS で TLS 1.2 以上を使い、"
        "ライセンスが割り当てられたメールボックスから送信します。",
    },
    {
        "en": "OAuth still uses the SMTP AUTH protocol, so keep it enabled for that mailbox: Set-CASMailbox "
        "-Identity <mailbox> -SmtpClientAuthenticationDisabled $false",
        "ja": "OAuth でも SMTP AUTH プロトコルを使うため、そのメールボックスでは有効にしておきます: Set-CASMailbox -Identity <mailbox> "
        "-SmtpClientAuthenticationDisabled $false",
    },
    {
        "en": "Afterwards, check the SMTP AUTH clients report: this sender should show OAuth, not Basic.",
        "ja": "切り替え後、SMTP AUTH クライアント レポートでこの送信者が Basic ではなく OAuth と表示されることを確認します。",
    },
]


def _steps_oauth(facts: DeviceFacts) -> list[Localized]:
    group = _kind_group(facts.kind)
    if group == "device":
        specific = _OAUTH_DEVICE
    elif group == "app":
        specific = _OAUTH_APP
    else:
        specific = [*_OAUTH_DEVICE, *_OAUTH_APP[:1]]
    return [*specific, *_OAUTH_COMMON]


def _steps_hve(facts: DeviceFacts) -> list[Localized]:
    return [
        {
            "en": "Create an HVE account in the Exchange admin center (under Mail flow) or with PowerShell: "
            "New-MailUser -HVEAccount -Name <name> -PrimarySmtpAddress <hve-sender@yourdomain> "
            "-Password (Read-Host -AsSecureString)",
            "ja": "Exchange 管理センター ([メール フロー] 配下) または PowerShell で HVE アカウントを作成します: New-MailUser "
            "-HVEAccount -Name <name> -PrimarySmtpAddress <hve-sender@yourdomain> -Password (Read-Host "
            "-AsSecureString)",
        },
        {
            "en": "Point the device at smtp.hve.mx.microsoft, port 587, STARTTLS, signing in with the HVE "
            "account. Confirm the host name on Microsoft's current HVE page first: the older "
            "smtp-hve.office365.com is being retired.",
            "ja": "機器の送信先を smtp.hve.mx.microsoft、ポート 587、STARTTLS にし、HVE アカウントでサインインさせます。ホスト名は事前に Microsoft "
            "の最新の HVE のページで確認してください (旧ホスト smtp-hve.office365.com は廃止予定です)。",
        },
        {
            "en": "Send only to recipients in your organization: HVE rejects external recipients (550 "
            "5.5.105 External sending is not supported for High Volume Email accounts).",
            "ja": "宛先は組織内のユーザーだけにしてください。HVE は外部宛てを拒否します (550 5.5.105 External sending is not supported for "
            "High Volume Email accounts)。",
        },
        {
            "en": "If the device later gains OAuth support, HVE accepts OAuth too: allow its Entra app on "
            "the HVE account with Add-HVEAppAccess (up to 10 apps per account).",
            "ja": "将来 OAuth に対応した場合は HVE でも OAuth を使えます。Add-HVEAppAccess で HVE アカウントに Entra アプリを許可します (1 "
            "アカウントにつき最大 10 個)。",
        },
    ]


def _mx_step() -> Localized:
    return {
        "en": "Find your MX endpoint with Resolve-DnsName -Type MX <yourdomain>; it looks like "
        "contoso-com.mail.protection.outlook.com.",
        "ja": "MX エンドポイントは Resolve-DnsName -Type MX <yourdomain> で確認します "
        "(contoso-com.mail.protection.outlook.com のような形式です)。",
    }


def _steps_direct_send(facts: DeviceFacts) -> list[Localized]:
    return [
        _mx_step(),
        {
            "en": "Point the device at that MX endpoint, port 25, with no sign-in; use TLS if the device "
            "offers it.",
            "ja": "機器の送信先をその MX エンドポイント、ポート 25 にし、認証はなしにします。機器が対応していれば TLS を使います。",
        },
        {
            "en": "Send only to mailboxes in your organization: direct send cannot deliver to external "
            "recipients.",
            "ja": "宛先は組織内のメールボックスだけにしてください。直接送信では外部の宛先には配信できません。",
        },
        {
            "en": "Add your office's public IP to your SPF record, for example v=spf1 ip4:<public IP> "
            "include:spf.protection.outlook.com -all",
            "ja": "拠点のグローバル IP アドレスを SPF レコードに追加します (例: v=spf1 ip4:<public IP> "
            "include:spf.protection.outlook.com -all)。",
        },
        {
            "en": "Check whether Reject Direct Send is on: Get-OrganizationConfig | Format-List "
            "RejectDirectSend. If it is True, direct send is refused (550 5.7.68) unless the device "
            "matches an inbound connector by IP or certificate; use connector relay then.",
            "ja": "Reject Direct Send が有効か確認します: Get-OrganizationConfig | Format-List RejectDirectSend。"
            "True の場合、IP アドレスか証明書で受信コネクタに一致しない直接送信は拒否されます (550 5.7.68)。"
            "その場合は受信コネクタ経由の SMTP リレーを使ってください。",
        },
    ]


def _steps_connector_relay(facts: DeviceFacts) -> list[Localized]:
    return [
        {
            "en": "Create an inbound connector from your organization's email server that recognises the "
            'static public IP: New-InboundConnector -Name "SMTP relay - devices" -ConnectorType OnPremises '
            "-SenderDomains * -SenderIPAddresses <static public IP> (or match a certificate with "
            "-TlsSenderCertificateName <certificate domain>).",
            "ja": "固定のグローバル IP アドレスで識別する受信コネクタ (組織のメール サーバーから) を作成します: "
            'New-InboundConnector -Name "SMTP relay - devices" -ConnectorType OnPremises -SenderDomains * '
            "-SenderIPAddresses <static public IP> "
            "(証明書で識別する場合は -TlsSenderCertificateName <certificate domain>)。",
        },
        _mx_step(),
        {
            "en": "Point the device at that MX endpoint, port 25, with no sign-in; use TLS if the device "
            "offers it.",
            "ja": "機器の送信先をその MX エンドポイント、ポート 25 にし、認証はなしにします。機器が対応していれば TLS を使います。",
        },
        {
            "en": "Send from an address in one of your accepted domains, and add the public IP to your SPF "
            "record.",
            "ja": "差出人には承認済みドメインのアドレスを使い、グローバル IP アドレスを SPF レコードに追加します。",
        },
    ]


def _steps_onprem_relay(facts: DeviceFacts) -> list[Localized]:
    return [
        {
            "en": "On the on-premises Exchange Server (Exchange Management Shell), create a Receive "
            'connector limited to the devices\' IPs: New-ReceiveConnector -Name "Anonymous Relay" -TransportRole '
            "FrontendTransport -Custom -Bindings 0.0.0.0:25 -RemoteIpRanges <device IPs>",
            "ja": "オンプレミスの Exchange Server (Exchange 管理シェル) で、機器の IP アドレスに限定した受信コネクタを作成します: "
            'New-ReceiveConnector -Name "Anonymous Relay" -TransportRole FrontendTransport -Custom '
            "-Bindings 0.0.0.0:25 -RemoteIpRanges <device IPs>",
        },
        {
            "en": 'Allow anonymous relay on it: Set-ReceiveConnector "Anonymous Relay" -PermissionGroups '
            'AnonymousUsers; then Get-ReceiveConnector "Anonymous Relay" | Add-ADPermission -User '
            '"NT AUTHORITY\\ANONYMOUS LOGON" -ExtendedRights "Ms-Exch-SMTP-Accept-Any-Recipient"',
            "ja": 'そのコネクタで匿名リレーを許可します: Set-ReceiveConnector "Anonymous Relay" -PermissionGroups '
            'AnonymousUsers の後、Get-ReceiveConnector "Anonymous Relay" | Add-ADPermission -User '
            '"NT AUTHORITY\\ANONYMOUS LOGON" -ExtendedRights "Ms-Exch-SMTP-Accept-Any-Recipient"',
        },
        {
            "en": "Point the device at the on-premises server's name, port 25. A device that can sign in "
            "may instead authenticate to the on-premises server with Basic auth, which MC786329 also "
            "allows.",
            "ja": "機器の送信先をオンプレミス サーバーのホスト名、ポート 25 にします。認証できる機器であれば、"
            "オンプレミス サーバーに基本認証でサインインして送信する方法も MC786329 で認められています。",
        },
    ]


def _steps_third_party(facts: DeviceFacts) -> list[Localized]:
    steps: list[Localized] = [
        {
            "en": "Choose a relay or mail-sending service (or a relay server of your own) that accepts what "
            "the device can do, for example a user name and password over TLS or an IP allow-list, and "
            "delivers onward.",
            "ja": "機器が対応している方式 (TLS 上のユーザー名とパスワード、IP アドレスによる許可など) で受け付けて"
            "転送できるリレー/メール送信サービス (または自社のリレー サーバー) を選びます。",
        },
        {
            "en": "Authorize the service to send as your domain: add it to your SPF record and set up DKIM "
            "as the provider describes.",
            "ja": "そのサービスが自社ドメインで送信できるよう、SPF レコードに追加し、提供元の手順に従って DKIM を設定します。",
        },
        {
            "en": "Point the device at the service's host and port, then test delivery to internal and "
            "external recipients.",
            "ja": "機器の送信先をサービスのホスト名とポートに変更し、組織内と外部の両方の宛先へ届くことをテストします。",
        },
    ]
    if facts.has_static_ip is None:
        steps.append(
            {
                "en": "If your office has a static public IP, SMTP relay through an inbound connector "
                "avoids a third party: check with your network provider.",
                "ja": "拠点に固定のグローバル IP アドレスがあれば、受信コネクタ経由の SMTP リレーでサードパーティを使わずに済みます。回線事業者などに確認してください。",
            }
        )
    return steps


# ---------------------------------------------------------------- warnings and notes


def _warnings(path: MigrationPath, facts: DeviceFacts) -> list[Localized]:
    warnings: list[Localized] = []
    if path is not MigrationPath.RETIRE and facts.uses_legacy_tls:
        warnings.append(_tls_warning(path))
    settled = path in (MigrationPath.NONE_NEEDED, MigrationPath.RETIRE)
    if facts.recipient_scope is RecipientScope.UNKNOWN and facts.oauth_possible is not True and not settled:
        warnings.append(_unknown_scope_warning(facts))
    volume = facts.messages_per_day or 0
    if path in (MigrationPath.OAUTH, MigrationPath.NONE_NEEDED) and volume > SMTP_AUTH_DAILY_RECIPIENT_LIMIT:
        warnings.append(
            {
                "en": f"About {volume:,} messages a day is more than one mailbox may send through SMTP AUTH "
                "(10,000 recipients a day, 30 messages a minute); spread the load or use another path.",
                "ja": f"1 日あたり約 {volume:,} 通は、1 つのメールボックスが SMTP AUTH で送信できる上限 (1 日 10,000 受信者、1 分あたり 30 通) "
                "を超えています。送信を分散するか別の方法を検討してください。",
            }
        )
    warnings.extend(_path_warnings(path))
    return warnings


def _unknown_scope_warning(facts: DeviceFacts) -> Localized:
    """Internal-only paths are held back while the scope is unknown; say what knowing it would unlock."""
    if facts.can_authenticate is False:
        unlocked = {"en": "direct send", "ja": "直接送信"}
    else:
        unlocked = {"en": "High Volume Email (or direct send)", "ja": "High Volume Email (または直接送信)"}
    return {
        "en": "Recipient scope is unknown, so external recipients were assumed. If it only mails people in "
        f"your organization, {unlocked['en']} also becomes possible.",
        "ja": f"宛先の範囲が不明なため、外部宛てもあるものとして判断しました。宛先が組織内だけであれば、{unlocked['ja']}も使えるようになります。",
    }


def _tls_warning(path: MigrationPath) -> Localized:
    """TLS below 1.2 needs a firmware or runtime fix; the legacy endpoint applies only to SMTP AUTH paths."""
    if path in (MigrationPath.OAUTH, MigrationPath.NONE_NEEDED):
        return {
            "en": "It uses TLS below 1.2, which smtp.office365.com refuses. Update the firmware or runtime "
            "to TLS 1.2 or later. Only as a temporary stopgap, SMTP AUTH clients can use "
            "smtp-legacy.office365.com after Set-TransportConfig -AllowLegacyTLSClients $true (not "
            "available in GCC, GCC High or DoD).",
            "ja": "TLS 1.2 未満を使っていますが、smtp.office365.com では受け付けられません。ファームウェアや実行環境を更新して TLS 1.2 以上にしてください。"
            "一時的な回避策に限り、Set-TransportConfig -AllowLegacyTLSClients $true を設定して "
            "smtp-legacy.office365.com を使う方法があります (GCC、GCC High、DoD では使えません)。",
        }
    return {
        "en": "It uses TLS below 1.2. Update the firmware or runtime to TLS 1.2 or later; TLS 1.0 and 1.1 "
        "are insecure and Microsoft 365 endpoints expect TLS 1.2.",
        "ja": "TLS 1.2 未満を使っています。ファームウェアや実行環境を更新して TLS 1.2 以上にしてください。TLS 1.0/1.1 は安全ではなく、Microsoft 365 "
        "の各エンドポイントは TLS 1.2 を前提としています。",
    }


def _path_warnings(path: MigrationPath) -> list[Localized]:
    if path is MigrationPath.HVE:
        return [
            {
                "en": "HVE is reported to accept Basic auth only until September 2028 (press coverage of "
                "Microsoft's announcement; not confirmed from Microsoft's own page): plan OAuth or "
                "another path before then.",
                "ja": "HVE での基本認証は 2028 年 9 月までと報じられています (Microsoft の発表の報道による情報で、Microsoft のページでは未確認)。それまでに "
                "OAuth など別の方法への移行を計画してください。",
            },
            {
                "en": "Check HVE's current sending limits and billing before rollout; they were not "
                "confirmed from a primary Microsoft source.",
                "ja": "導入前に HVE の最新の送信上限と課金条件を確認してください (Microsoft の一次情報では未確認です)。",
            },
        ]
    if path is MigrationPath.DIRECT_SEND:
        return [
            {
                "en": "If Reject Direct Send (Set-OrganizationConfig -RejectDirectSend $true) is or will be "
                "turned on, this device's mail is rejected unless it matches an inbound connector.",
                "ja": "Reject Direct Send (Set-OrganizationConfig -RejectDirectSend $true) を有効にしている、"
                "または今後有効にする場合、受信コネクタに一致しない限りこの機器のメールは拒否されます。",
            },
            {
                "en": "Direct send is unauthenticated, so its mail is filtered like Internet mail and may "
                "land in junk without a correct SPF record.",
                "ja": "直接送信は認証なしのため、インターネットからのメールと同様にフィルターされ、SPF が正しくないと迷惑メールに振り分けられることがあります。",
            },
        ]
    if path is MigrationPath.CONNECTOR_RELAY:
        return [
            {
                "en": "The IP must be your own static public address: relay through a connector cannot be "
                "used from third-party clouds such as Azure.",
                "ja": "IP アドレスは自社の固定グローバル IP である必要があります。Azure などのサードパーティのクラウドからはコネクタ経由のリレーを使えません。",
            },
            {
                "en": "External recipients are allowed within reasonable limits; suspicious mail goes out "
                "through the high-risk delivery pool.",
                "ja": "外部宛ても一定の範囲で送信できますが、疑わしいメールは高リスク配信プールから送信されます。",
            },
        ]
    if path is MigrationPath.ONPREM_RELAY:
        return [
            {
                "en": "Keep -RemoteIpRanges to the devices' addresses: a wider range turns the server into "
                "an open relay. Keep the on-premises server supported and patched.",
                "ja": "-RemoteIpRanges は機器のアドレスだけに限定してください。範囲を広げるとオープン リレーになります。オンプレミス サーバーはサポート対象のバージョンで、"
                "更新プログラムを適用した状態を保ってください。",
            }
        ]
    if path is MigrationPath.THIRD_PARTY:
        return [ACS_NOTE]
    return []


def _notes(path: MigrationPath) -> list[Localized]:
    if path in (MigrationPath.DIRECT_SEND, MigrationPath.CONNECTOR_RELAY):
        return [
            {
                "en": "MC786329 does not list this path among its alternatives; Microsoft documents it for "
                "multifunction devices and applications that send email.",
                "ja": "この方法は MC786329 の代替手段には挙げられていませんが、複合機やアプリケーションからのメール送信方法として Microsoft "
                "のドキュメントに記載されています。",
            }
        ]
    return []
