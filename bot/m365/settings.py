"""Which app the bot signs in as, and which clouds it talks to: read from the environment, checked once.

The bot reads the admin's own tenant as an app (client credentials). The GRAPH_* settings name that
app; when they are absent the bot's own Bot Framework registration (MicrosoftAppId /
MicrosoftAppPassword / MicrosoftAppTenantId) is used, because a single-tenant bot registered in the
admin's tenant is the simplest setup and its app can be granted the Graph permissions directly.

Rules, in the order they are applied:

* No GRAPH_* credential setting and no complete single-tenant bot registration → ``None``: the bot
  has nothing to read with and runs on demo data.
* The tenant is GRAPH_TENANT_ID, else MicrosoftAppTenantId. It must be a GUID or a domain, never
  ``common``/``organizations``: client credentials need one definite tenant.
* The app is GRAPH_CLIENT_ID, else MicrosoftAppId. MicrosoftAppPassword is only borrowed when the
  app is the bot's own (borrowing another app's password would always fail, and confusingly).
* Exactly one credential: a secret, or a certificate (PEM file with an unencrypted RSA private key
  plus the certificate's SHA-1 thumbprint as shown in the Entra admin center).
* Endpoints must be https and bare origins (no path), so a typo cannot send tokens elsewhere.

A bad combination raises ``ValueError`` with one sentence naming the setting, because the admin
reads a single log line at start-up, not a traceback. ``repr`` never shows the secret.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com"
DEFAULT_EXCHANGE_ENDPOINT = "https://outlook.office365.com"

_GRAPH_CREDENTIAL_VARS = (
    "GRAPH_TENANT_ID",
    "GRAPH_CLIENT_ID",
    "GRAPH_CLIENT_SECRET",
    "GRAPH_CERTIFICATE_PATH",
    "GRAPH_CERTIFICATE_THUMBPRINT",
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")
_SHA1_HEX = re.compile(r"^[0-9A-F]{40}$")
_MULTI_TENANT_ALIASES = {"common", "organizations", "consumers"}
_CERT_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class M365Settings:
    """One app in one tenant, plus the three cloud endpoints; validated on construction."""

    tenant_id: str
    client_id: str
    client_secret: str | None = None
    certificate_path: str | None = None
    certificate_thumbprint: str | None = None
    authority_host: str = DEFAULT_AUTHORITY_HOST
    graph_endpoint: str = DEFAULT_GRAPH_ENDPOINT
    exchange_endpoint: str = DEFAULT_EXCHANGE_ENDPOINT

    def __post_init__(self) -> None:
        # Normalise first so equal settings compare (and hash) equal, then validate.
        object.__setattr__(self, "authority_host", _origin("AUTHORITY_HOST", self.authority_host))
        object.__setattr__(self, "graph_endpoint", _origin("GRAPH_ENDPOINT", self.graph_endpoint))
        object.__setattr__(self, "exchange_endpoint", _origin("EXCHANGE_ENDPOINT", self.exchange_endpoint))
        if self.certificate_thumbprint is not None:
            object.__setattr__(
                self, "certificate_thumbprint", normalise_thumbprint(self.certificate_thumbprint)
            )
        _check_tenant(self.tenant_id)
        if not _GUID.match(self.client_id or ""):
            raise ValueError("GRAPH_CLIENT_ID must be the app's Application (client) ID, a GUID.")
        _check_credential(self)

    @property
    def authority(self) -> str:
        """The msal authority URL for this tenant."""
        return f"{self.authority_host}/{self.tenant_id}"

    @property
    def uses_certificate(self) -> bool:
        return self.certificate_path is not None

    @property
    def graph_scope(self) -> str:
        return f"{self.graph_endpoint}/.default"

    @property
    def exchange_scope(self) -> str:
        return f"{self.exchange_endpoint}/.default"

    def __repr__(self) -> str:
        secret = "<set>" if self.client_secret else None
        return (
            f"M365Settings(tenant_id={self.tenant_id!r}, client_id={self.client_id!r}, "
            f"client_secret={secret!r}, certificate_path={self.certificate_path!r}, "
            f"certificate_thumbprint={self.certificate_thumbprint!r}, "
            f"authority_host={self.authority_host!r}, graph_endpoint={self.graph_endpoint!r}, "
            f"exchange_endpoint={self.exchange_endpoint!r})"
        )

    __str__ = __repr__

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> M365Settings | None:
        """Settings from environment variables, ``None`` when nothing to sign in with is configured."""
        return from_env(env)


def from_env(env: Mapping[str, str]) -> M365Settings | None:
    """See the module docstring for the rules; raises ``ValueError`` naming the bad setting."""

    def get(name: str) -> str | None:
        value = env.get(name)
        return value.strip() if value and value.strip() else None

    graph_configured = any(get(name) for name in _GRAPH_CREDENTIAL_VARS)
    bot_id, bot_password, bot_tenant = (
        get("MicrosoftAppId"),
        get("MicrosoftAppPassword"),
        get("MicrosoftAppTenantId"),
    )
    if not graph_configured and not (bot_id and bot_password and bot_tenant):
        return None

    tenant = get("GRAPH_TENANT_ID") or bot_tenant
    if not tenant:
        raise ValueError(
            "GRAPH_TENANT_ID must be set to the tenant to read; MicrosoftAppTenantId is not set either."
        )
    client_id = get("GRAPH_CLIENT_ID") or bot_id
    if not client_id:
        raise ValueError(
            "GRAPH_CLIENT_ID must be set to the Application (client) ID of the app that reads the tenant."
        )
    certificate_path = get("GRAPH_CERTIFICATE_PATH")
    secret = get("GRAPH_CLIENT_SECRET")
    if secret is None and certificate_path is None and get("GRAPH_CLIENT_ID") is None:
        secret = bot_password  # the bot's own app, with the bot's own password
    return M365Settings(
        tenant_id=tenant,
        client_id=client_id,
        client_secret=secret,
        certificate_path=certificate_path,
        certificate_thumbprint=get("GRAPH_CERTIFICATE_THUMBPRINT"),
        authority_host=get("AUTHORITY_HOST") or DEFAULT_AUTHORITY_HOST,
        graph_endpoint=get("GRAPH_ENDPOINT") or DEFAULT_GRAPH_ENDPOINT,
        exchange_endpoint=get("EXCHANGE_ENDPOINT") or DEFAULT_EXCHANGE_ENDPOINT,
    )


def normalise_thumbprint(value: str) -> str:
    """Thumbprints get pasted with colons, spaces or in lower case; msal needs bare hex."""
    return re.sub(r"[\s:]", "", value).upper()


def certificate_sha1_thumbprint(pem: bytes) -> str | None:
    """SHA-1 thumbprint of the first certificate in a PEM blob (what the Entra admin center shows)."""
    match = _CERT_BLOCK.search(pem)
    if match is None:
        return None
    cert = x509.load_pem_x509_certificate(match.group(0))
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def _origin(name: str, value: str) -> str:
    raw = (value or "").strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{name} must be an https URL such as https://host, not {raw!r}.")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{name} must be just https://host[:port] without a path, not {raw!r}.")
    return f"https://{parts.netloc.lower()}"


def _check_tenant(tenant: str) -> None:
    if (tenant or "").lower() in _MULTI_TENANT_ALIASES:
        raise ValueError(
            f"GRAPH_TENANT_ID must name one tenant (GUID or domain); {tenant!r} does not work for apps."
        )
    if not (_GUID.match(tenant or "") or _DOMAIN.match(tenant or "")):
        raise ValueError(
            "GRAPH_TENANT_ID must be a tenant ID (GUID) or a domain such as contoso.onmicrosoft.com."
        )


def _check_credential(settings: M365Settings) -> None:
    has_secret = bool(settings.client_secret)
    has_path = settings.certificate_path is not None
    has_thumbprint = settings.certificate_thumbprint is not None
    if has_secret and (has_path or has_thumbprint):
        raise ValueError("Set either GRAPH_CLIENT_SECRET or GRAPH_CERTIFICATE_PATH, not both.")
    if has_thumbprint and not has_path:
        raise ValueError("GRAPH_CERTIFICATE_PATH must be set when GRAPH_CERTIFICATE_THUMBPRINT is set.")
    if has_path and not has_thumbprint:
        raise ValueError("GRAPH_CERTIFICATE_THUMBPRINT must be set when GRAPH_CERTIFICATE_PATH is set.")
    if not (has_secret or has_path):
        raise ValueError(
            f"GRAPH_CLIENT_SECRET or GRAPH_CERTIFICATE_PATH must be set for the app {settings.client_id}."
        )
    if has_path:
        _check_certificate(str(settings.certificate_path), str(settings.certificate_thumbprint))


def _check_certificate(path: str, thumbprint: str) -> None:
    if not _SHA1_HEX.match(thumbprint):
        raise ValueError(
            "GRAPH_CERTIFICATE_THUMBPRINT must be the certificate's SHA-1 thumbprint (40 hex digits)."
        )
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"GRAPH_CERTIFICATE_PATH {path!r} cannot be read: {exc.strerror or exc}.") from None
    if b"ENCRYPTED PRIVATE KEY" in pem or b"Proc-Type: 4,ENCRYPTED" in pem:
        raise ValueError(
            f"GRAPH_CERTIFICATE_PATH {path!r} holds an encrypted key; store it without a passphrase."
        )
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ValueError(
            f"GRAPH_CERTIFICATE_PATH {path!r} must be a PEM file containing the app's private key."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(
            f"GRAPH_CERTIFICATE_PATH {path!r} must hold an RSA private key (Entra signs with RS256)."
        )
    try:
        actual = certificate_sha1_thumbprint(pem)
    except ValueError:
        raise ValueError(
            f"GRAPH_CERTIFICATE_PATH {path!r} contains a certificate that cannot be read."
        ) from None
    if actual is not None and actual != thumbprint:
        raise ValueError(
            f"GRAPH_CERTIFICATE_THUMBPRINT does not match the certificate in the PEM file ({actual})."
        )
