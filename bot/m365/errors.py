"""What can go wrong when the bot reads Microsoft 365, phrased as what the admin has to fix.

Every failure of the access layer is an ``M365Error`` subclass with a ``kind`` (for code that
branches), a ``reason`` (which variant of that kind), ``message(lang)`` in English or Japanese (for
the admin), and, where it applies, the ``permission`` to grant. The texts name the exact place in
the Entra admin center because the reader is an admin who has to click there, not a developer.

This module also owns reading error bodies (Graph and the Exchange admin API use slightly different
shapes), mapping an endpoint to the permission it needs, and redaction: server text that ends up in
an exception or a log line goes through ``redact`` first, so a token echoed by a misbehaving server
(or a proxy error page) never reaches a log or a chat.
"""

from __future__ import annotations

import json
import re
from typing import ClassVar
from urllib.parse import urlsplit

GLOBAL_READER = "Global Reader"
EXCHANGE_PERMISSION = "Exchange.ManageAsApp"

# Longest/most specific first: the first path fragment found in the URL decides.
_PERMISSION_BY_PATH: tuple[tuple[str, str], ...] = (
    ("/admin/serviceannouncement/messages", "ServiceMessage.Read.All"),
    ("/admin/serviceannouncement/", "ServiceHealth.Read.All"),
    ("/auditlogs/signins", "AuditLog.Read.All"),
    ("/authentication/requirements", "Policy.Read.All"),
    ("/policies/", "Policy.Read.All"),
    ("/users", "User.Read.All"),
    ("/adminapi/", EXCHANGE_PERMISSION),
)

_NON_PREMIUM_MARKERS = ("RequestFromNonPremiumTenant", "NonPremiumTenantOrB2CTenant")

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+")
_SECRET_FIELD = re.compile(
    r"(?i)\b(client_secret|client_assertion|access_token|refresh_token|password)"
    r"([\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;]+"
)
_DETAIL_LIMIT = 400

# (kind, reason) -> {lang: text}. Fields in braces come from the error's params; a missing field
# prints as "?" rather than failing, because an error message must never raise.
_TEXT: dict[tuple[str, str], dict[str, str]] = {
    ("m365", "unknown"): {
        "en": "Reading Microsoft 365 failed: {detail}",
        "ja": "Microsoft 365 の読み取りに失敗しました: {detail}",
    },
    ("credentials", "app_not_found"): {
        "en": "Microsoft Entra ID does not know the app {client_id} in tenant {tenant}. Check "
        "GRAPH_CLIENT_ID and GRAPH_TENANT_ID; if the app is registered in another tenant, an administrator "
        "of this tenant has to grant it admin consent first.",
        "ja": "Microsoft Entra ID のテナント {tenant} にアプリ {client_id} が見つかりません。GRAPH_CLIENT_ID と "
        "GRAPH_TENANT_ID を確認してください。別のテナントで登録したアプリの場合は、先にこのテナントの管理者が"
        "管理者の同意を与える必要があります。",
    },
    ("credentials", "invalid_secret"): {
        "en": "Microsoft Entra ID rejected the client secret. Put the secret's Value (not its Secret ID) "
        "into GRAPH_CLIENT_SECRET, or create a new one under App registrations > Certificates & secrets.",
        "ja": "Microsoft Entra ID がクライアント シークレットを拒否しました。GRAPH_CLIENT_SECRET にはシークレット ID "
        "ではなく「値」を設定するか、［アプリの登録］>［証明書とシークレット］で新しいシークレットを作成してください。",
    },
    ("credentials", "expired_secret"): {
        "en": "The client secret has expired. Create a new one under App registrations > Certificates & "
        "secrets and put its Value into GRAPH_CLIENT_SECRET.",
        "ja": "クライアント シークレットの有効期限が切れています。［アプリの登録］>［証明書とシークレット］で新しい"
        "シークレットを作成し、その「値」を GRAPH_CLIENT_SECRET に設定してください。",
    },
    ("credentials", "invalid_certificate"): {
        "en": "Microsoft Entra ID rejected the certificate. Upload the public certificate that belongs to "
        "the key in GRAPH_CERTIFICATE_PATH under App registrations > Certificates & secrets, and set "
        "GRAPH_CERTIFICATE_THUMBPRINT to the thumbprint shown there.",
        "ja": "Microsoft Entra ID が証明書を拒否しました。GRAPH_CERTIFICATE_PATH の秘密キーに対応する公開証明書を"
        "［アプリの登録］>［証明書とシークレット］にアップロードし、そこに表示される拇印を "
        "GRAPH_CERTIFICATE_THUMBPRINT に設定してください。",
    },
    ("credentials", "invalid_certificate_key"): {
        "en": "The private key in GRAPH_CERTIFICATE_PATH could not be used to sign in ({detail}). It must be "
        "an unencrypted RSA key in PEM format.",
        "ja": "GRAPH_CERTIFICATE_PATH の秘密キーでサインインできませんでした ({detail})。暗号化されていない PEM "
        "形式の RSA キーを指定してください。",
    },
    ("credentials", "invalid_client"): {
        "en": "Microsoft Entra ID rejected the app's credentials ({detail}). Check GRAPH_CLIENT_ID and the "
        "client secret or certificate.",
        "ja": "Microsoft Entra ID がアプリの資格情報を拒否しました ({detail})。GRAPH_CLIENT_ID とクライアント "
        "シークレットまたは証明書を確認してください。",
    },
    ("credentials", "tenant_not_found"): {
        "en": "Tenant {tenant} was not found. Set GRAPH_TENANT_ID to your tenant ID (a GUID shown on the "
        "Microsoft Entra admin center overview page) or its .onmicrosoft.com domain.",
        "ja": "テナント {tenant} が見つかりません。GRAPH_TENANT_ID にテナント ID (Microsoft Entra 管理センターの"
        "［概要］に表示される GUID) または .onmicrosoft.com ドメインを設定してください。",
    },
    ("credentials", "resource_not_found"): {
        "en": "The tenant has no service for {scope}. Check that the tenant has that service and that "
        "GRAPH_ENDPOINT / EXCHANGE_ENDPOINT belong to your cloud.",
        "ja": "テナントに {scope} のサービスがありません。テナントでそのサービスが使えること、また GRAPH_ENDPOINT / "
        "EXCHANGE_ENDPOINT がご利用のクラウドのものであることを確認してください。",
    },
    ("credentials", "app_disabled"): {
        "en": "The app {client_id} is disabled in this tenant. Enable it under Enterprise applications > "
        "Properties > Enabled for users to sign in.",
        "ja": "アプリ {client_id} はこのテナントで無効になっています。［エンタープライズ アプリケーション］>"
        "［プロパティ］>［ユーザーのサインインが有効になっていますか?］を「はい」にしてください。",
    },
    ("credentials", "blocked_by_policy"): {
        "en": "A Conditional Access policy blocked the app from signing in. Exclude the app (workload "
        "identity) from that policy or allow the bot's network location.",
        "ja": "条件付きアクセス ポリシーによってアプリのサインインがブロックされました。そのポリシーからアプリ "
        "(ワークロード ID) を除外するか、ボットのネットワークの場所を許可してください。",
    },
    ("credentials", "token_rejected"): {
        "en": "{host} rejected the app's access token even after a fresh sign-in. Check that GRAPH_TENANT_ID "
        "is the tenant you want to read and that the endpoints match your cloud.",
        "ja": "新しくサインインし直しても {host} がアプリのアクセス トークンを拒否しました。GRAPH_TENANT_ID が"
        "読み取りたいテナントであること、各エンドポイントがご利用のクラウドのものであることを確認してください。",
    },
    ("credentials", "unknown"): {
        "en": "Signing in as the app failed: {detail}",
        "ja": "アプリとしてのサインインに失敗しました: {detail}",
    },
    ("consent", "missing"): {
        "en": "Admin consent has not been granted for the app {client_id}. In the Microsoft Entra admin "
        'center open App registrations > API permissions and click "Grant admin consent".',
        "ja": "アプリ {client_id} に管理者の同意が与えられていません。Microsoft Entra 管理センターの［アプリの登録］>"
        "［API のアクセス許可］で［管理者の同意を与えます］をクリックしてください。",
    },
    ("permission", "graph"): {
        "en": "The app lacks the Microsoft Graph application permission {permission}. Add it under App "
        "registrations > API permissions > Add a permission > Microsoft Graph > Application "
        'permissions, then click "Grant admin consent".',
        "ja": "アプリに Microsoft Graph のアプリケーションの許可 {permission} がありません。［アプリの登録］>"
        "［API のアクセス許可］>［アクセス許可の追加］>［Microsoft Graph］>［アプリケーションの許可］で追加し、"
        "［管理者の同意を与えます］をクリックしてください。",
    },
    ("permission", "exchange"): {
        "en": "Exchange Online refused the app. Add the application permission Office 365 Exchange Online > "
        "Exchange.ManageAsApp and grant admin consent, then give the app an Entra role such as "
        "{role} (Roles and administrators > {role} > Add assignments).",
        "ja": "Exchange Online がアプリを拒否しました。アプリケーションの許可 Office 365 Exchange Online > "
        "Exchange.ManageAsApp を追加して管理者の同意を与え、アプリに {role_ja} などの Entra ロールを割り当てて"
        "ください (［ロールと管理者］>［{role_ja}］>［割り当ての追加］)。",
    },
    ("license", "entra_p1"): {
        "en": "Microsoft Entra ID P1 required: sign-in logs can only be read through Microsoft Graph in a "
        "tenant with Entra ID P1 or P2. Without it, use the SMTP AUTH clients report in the Exchange "
        "admin center (Reports > Mail flow) instead.",
        "ja": "Microsoft Entra ID P1 が必要です: Microsoft Graph でサインイン ログを読み取れるのは Entra ID P1 または "
        "P2 のあるテナントだけです。ない場合は Exchange 管理センターの［レポート］>［メール フロー］にある "
        "SMTP AUTH クライアント レポートをご利用ください。",
    },
    ("throttled", "gave_up"): {
        "en": "Microsoft 365 is throttling the bot's requests to {host} and kept doing so after {attempts} "
        "tries. Try again in {wait}.",
        "ja": "Microsoft 365 が {host} へのボットの要求を制限しており、{attempts} 回試しても解除されませんでした。"
        "{wait_ja}後にもう一度お試しください。",
    },
    ("unreachable", "network"): {
        "en": "The bot cannot reach {host} ({detail}). Check the network and, behind a proxy, HTTPS_PROXY.",
        "ja": "ボットが {host} に接続できません ({detail})。ネットワークと、プロキシ経由の場合は HTTPS_PROXY を"
        "確認してください。",
    },
    ("unreachable", "tls"): {
        "en": "The TLS certificate of {host} could not be verified. Behind a TLS-inspecting proxy, point "
        "SSL_CERT_FILE and REQUESTS_CA_BUNDLE at a CA bundle that includes the proxy's CA.",
        "ja": "{host} の TLS 証明書を検証できませんでした。TLS を検査するプロキシを使っている場合は、SSL_CERT_FILE と "
        "REQUESTS_CA_BUNDLE にそのプロキシの CA を含む CA バンドルを指定してください。",
    },
    ("unreachable", "timeout"): {
        "en": "{host} did not answer in time ({attempts} tries). Try again later.",
        "ja": "{host} から時間内に応答がありませんでした ({attempts} 回試行)。しばらくしてからもう一度お試しください。",
    },
    ("unreachable", "unavailable"): {
        "en": "{host} kept answering HTTP {status} (temporarily unavailable) after {attempts} tries. Try "
        "again later, and check Microsoft 365 service health if it persists.",
        "ja": "{host} が {attempts} 回とも HTTP {status} (一時的に利用不可) を返しました。しばらくしてからもう一度"
        "お試しください。続く場合は Microsoft 365 のサービス正常性を確認してください。",
    },
    ("malformed", "body"): {
        "en": "{host} sent a response the bot could not read ({detail}). This is usually temporary; try "
        "again later.",
        "ja": "{host} から読み取れない応答が返されました ({detail})。通常は一時的なものです。しばらくしてから"
        "もう一度お試しください。",
    },
    ("paging", "page_cap"): {
        "en": "The list from {host} had not ended after {pages} pages, so the bot stopped reading it. Narrow "
        "the request (for example a shorter time range) and try again.",
        "ja": "{host} からの一覧が {pages} ページを超えても終わらなかったため、読み取りを中止しました。条件を絞って "
        "(たとえば期間を短くして) もう一度お試しください。",
    },
    ("not_found", "missing"): {
        "en": "{host} has no such item ({detail}).",
        "ja": "{host} に該当する項目がありません ({detail})。",
    },
    ("service", "http"): {
        "en": "{host} answered HTTP {status}: {detail}",
        "ja": "{host} が HTTP {status} を返しました: {detail}",
    },
    ("exchange_command", "failed"): {
        "en": "Exchange Online could not run {cmdlet}: {detail}",
        "ja": "Exchange Online で {cmdlet} を実行できませんでした: {detail}",
    },
}

_ROLE_JA = {GLOBAL_READER: "グローバル閲覧者", "Exchange Administrator": "Exchange 管理者"}


def redact(text: object, limit: int = _DETAIL_LIMIT) -> str:
    """Server text shown to people can echo what we sent; strip anything token-shaped and clip it."""
    cleaned = _JWT.sub("[redacted token]", str(text))
    cleaned = _BEARER.sub(r"\1[redacted]", cleaned)
    cleaned = _SECRET_FIELD.sub(r"\1\2[redacted]", cleaned)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def permission_for(url: str) -> str | None:
    """The application permission an endpoint needs, so a 403 can name it instead of saying 'forbidden'."""
    path = urlsplit(url).path.lower()
    for fragment, permission in _PERMISSION_BY_PATH:
        if fragment in path:
            return permission
    return None


def is_non_premium(body: str) -> bool:
    """Graph answers sign-in log reads from tenants without Entra ID P1 with a 403 naming this."""
    return any(marker in body for marker in _NON_PREMIUM_MARKERS)


def error_code_and_message(body: str) -> tuple[str | None, str]:
    """The code and the most specific message of a Graph or Exchange admin API error body.

    The Exchange admin API nests the useful text in ``error.details[].message`` or
    ``error.innererror.internalException.message``; Graph puts it in ``error.message``.
    """
    try:
        parsed = json.loads(body)
    except ValueError:
        return None, body.strip()
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, str):  # OAuth-style {"error": "...", "error_description": "..."}
        return error, str(parsed.get("error_description") or "")
    if not isinstance(error, dict):
        return None, body.strip()
    code = error.get("code") if isinstance(error.get("code"), str) else None
    details = error.get("details")
    if isinstance(details, list):
        for item in details:
            if isinstance(item, dict) and isinstance(item.get("message"), str) and item["message"]:
                return code, item["message"]
    inner = error.get("innererror")
    if isinstance(inner, dict):
        internal = inner.get("internalException")
        if isinstance(internal, dict) and isinstance(internal.get("message"), str):
            return code, internal["message"]
    message = error.get("message")
    return code, message if isinstance(message, str) else ""


def _wait_text(seconds: float | None, lang: str) -> str:
    if seconds is None or seconds <= 0:
        return "数分" if lang == "ja" else "a few minutes"
    if seconds < 90:
        value = max(1, round(seconds))
        return f"{value} 秒" if lang == "ja" else f"{value} seconds"
    value = max(2, round(seconds / 60))
    return f"{value} 分" if lang == "ja" else f"{value} minutes"


class _Fields(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "?"


def _lang(lang: str | None) -> str:
    return "ja" if lang and lang.strip().lower().replace("_", "-").split("-")[0] == "ja" else "en"


class M365Error(Exception):
    """Base of every access-layer failure; ``str()`` is the English admin message."""

    kind: ClassVar[str] = "m365"
    default_reason: ClassVar[str] = "unknown"

    def __init__(
        self,
        reason: str | None = None,
        *,
        detail: object = "",
        permission: str | None = None,
        status: int | None = None,
        code: str | None = None,
        **params: object,
    ) -> None:
        self.reason = reason or self.default_reason
        self.detail = redact(detail) if detail else ""
        self.permission = permission
        self.status = status
        self.code = code
        self.params = {
            key: redact(value, 200) if isinstance(value, str) else value for key, value in params.items()
        }
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        """The admin-facing text in ``lang`` (``ja``/``ja-JP`` → Japanese, anything else → English)."""
        language = _lang(lang)
        texts = _TEXT.get((self.kind, self.reason)) or _TEXT[("m365", "unknown")]
        fields = _Fields(self.params)
        fields.setdefault("detail", self.detail or (self.code or "no details"))
        fields["permission"] = self.permission or "?"
        fields["status"] = self.status if self.status is not None else "?"
        role = str(self.params.get("role") or GLOBAL_READER)
        fields["role"] = role
        fields["role_ja"] = _ROLE_JA.get(role, role)
        wait = self.params.get("retry_after")
        seconds = float(wait) if isinstance(wait, (int, float)) else None
        fields["wait"] = _wait_text(seconds, "en")
        fields["wait_ja"] = _wait_text(seconds, "ja")
        return texts.get(language, texts["en"]).format_map(fields)


class CredentialsError(M365Error):
    """The token endpoint refused the app: wrong ID, secret, certificate or tenant."""

    kind = "credentials"


class ConsentRequiredError(M365Error):
    """The app exists but nobody granted admin consent in this tenant."""

    kind = "consent"
    default_reason = "missing"


class PermissionMissingError(M365Error):
    """Graph or Exchange answered 403 (or Exchange 401): a permission or role is missing."""

    kind = "permission"
    default_reason = "graph"

    @property
    def role(self) -> str | None:
        """The Entra role the app also needs (Exchange only); None for Graph permissions."""
        return str(self.params.get("role") or GLOBAL_READER) if self.reason == "exchange" else None


class LicenseRequiredError(M365Error):
    """Sign-in logs need Entra ID P1; a free tenant gets a 403 that no permission fixes."""

    kind = "license"
    default_reason = "entra_p1"


class ThrottledError(M365Error):
    """Still 429 after the retry budget; ``params['retry_after']`` is the server's last hint."""

    kind = "throttled"
    default_reason = "gave_up"


class UnreachableError(M365Error):
    """Network, TLS, timeout or repeated 503/504: nothing the admin's tenant settings can fix."""

    kind = "unreachable"
    default_reason = "network"


class MalformedResponseError(M365Error):
    """The server answered 2xx with something that is not the JSON object we expected."""

    kind = "malformed"
    default_reason = "body"


class PagingLimitError(M365Error):
    """A list kept returning ``@odata.nextLink`` past the page cap; stopping beats looping forever."""

    kind = "paging"
    default_reason = "page_cap"


class NotFoundError(M365Error):
    """HTTP 404: the message, user or object asked for does not exist."""

    kind = "not_found"
    default_reason = "missing"


class ServiceError(M365Error):
    """Any other HTTP error, with the server's own code and message."""

    kind = "service"
    default_reason = "http"


class ExchangeCommandError(M365Error):
    """The Exchange admin API accepted the call but the cmdlet failed."""

    kind = "exchange_command"
    default_reason = "failed"
