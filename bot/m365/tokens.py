"""App-only access tokens for Graph and Exchange Online, from msal, without blocking the event loop.

Why it is built this way:

* msal is synchronous (it uses ``requests``), and even *constructing* a
  ``ConfidentialClientApplication`` performs tenant discovery over the network. Both run in
  ``asyncio.to_thread`` so a slow login endpoint never stalls the bot.
* There is one msal application per (authority, client, credential) in the process, kept in a small
  registry, so every caller shares one token cache and one discovery result.
* msal's own cache does the expiry work for client credentials (verified in msal 1.39
  ``_acquire_token_silent_from_cache_and_possibly_refresh_it``): a cached token with less than five
  minutes left counts as expired and is fetched anew, and a token past its ``refresh_in`` hint is
  refreshed proactively (the old one is kept as a fallback). ``acquire_token_for_client`` has no
  ``force_refresh``, so after a 401 we drop the app's tokens (``remove_tokens_for_client``) and ask
  again.
* For an authority host that is not one of Microsoft's clouds (a private or test authority), msal
  would otherwise call ``https://login.microsoftonline.com/common/discovery/instance`` to validate it;
  instance discovery and authority validation are switched off there so nothing reaches the public
  cloud. For Microsoft's clouds msal's defaults stay on.
* Certificates and proxies: msal's default HTTP client is a ``requests.Session``, which honours
  ``REQUESTS_CA_BUNDLE`` and ``HTTPS_PROXY``/``NO_PROXY``. Certificate checks are never turned off.
* Failures become ``M365Error`` subclasses saying what to fix; the secret, the private key and the
  tokens never reach a log line or an exception text.

Certificate credentials (recommended over a secret; Exchange documents app-only access with
certificates). Create a key and a self-signed certificate, keep both in one PEM file for the bot,
and upload only the public certificate::

    openssl req -x509 -newkey rsa:2048 -sha256 -days 730 -nodes \\
        -subj "/CN=SMTP AUTH Readiness" -keyout app.key -out app.crt
    cat app.key app.crt > app.pem            # GRAPH_CERTIFICATE_PATH=/secure/path/app.pem
    chmod 600 app.pem
    openssl x509 -in app.crt -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :
                                             # GRAPH_CERTIFICATE_THUMBPRINT=<that hex>

Then in the Microsoft Entra admin center: App registrations > (the app) > Certificates & secrets >
Certificates > Upload certificate > ``app.crt``. The thumbprint shown there must equal the one above.
The key must be RSA and unencrypted; msal signs the client assertion with RS256 and the SHA-1
thumbprint as ``x5t``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import threading
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import msal
import requests

from bot.m365.errors import (
    ConsentRequiredError,
    CredentialsError,
    M365Error,
    MalformedResponseError,
    UnreachableError,
)
from bot.m365.settings import M365Settings

log = logging.getLogger(__name__)

# Hosts of Microsoft's own clouds: msal knows these and needs no instance discovery for them.
KNOWN_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.microsoftonline.us",
        "login-us.microsoftonline.com",
        "login.usgovcloudapi.net",
        "login.partner.microsoftonline.cn",
        "login.chinacloudapi.cn",
        "login.microsoftonline.de",
        "login.sovcloud-identity.fr",
        "login.sovcloud-identity.de",
        "login.sovcloud-identity.sg",
    }
)

_REASON_BY_CODE: dict[int, tuple[type[M365Error], str]] = {
    700016: (CredentialsError, "app_not_found"),
    7000215: (CredentialsError, "invalid_secret"),
    7000222: (CredentialsError, "expired_secret"),
    700027: (CredentialsError, "invalid_certificate"),
    700024: (CredentialsError, "invalid_certificate"),
    90002: (CredentialsError, "tenant_not_found"),
    900023: (CredentialsError, "tenant_not_found"),
    65001: (ConsentRequiredError, "missing"),
    500011: (CredentialsError, "resource_not_found"),
    7000112: (CredentialsError, "app_disabled"),
    53003: (CredentialsError, "blocked_by_policy"),
}
_REASON_BY_ERROR: dict[str, tuple[type[M365Error], str]] = {
    "invalid_client": (CredentialsError, "invalid_client"),
    "unauthorized_client": (CredentialsError, "app_not_found"),
    "invalid_tenant": (CredentialsError, "tenant_not_found"),
    "consent_required": (ConsentRequiredError, "missing"),
    "invalid_resource": (CredentialsError, "resource_not_found"),
}
_AADSTS = re.compile(r"AADSTS(\d+)")

_apps: dict[tuple[str, str, str], msal.ConfidentialClientApplication] = {}
_apps_lock = threading.Lock()


def is_known_cloud(authority_host: str) -> bool:
    """True for Microsoft's login hosts, where msal's instance discovery is safe and useful."""
    return (urlsplit(authority_host).hostname or "").lower() in KNOWN_AUTHORITY_HOSTS


def msal_options(settings: M365Settings) -> dict[str, Any]:
    """Authority arguments for msal; a private authority must never trigger public-cloud discovery."""
    known = is_known_cloud(settings.authority_host)
    return {
        "authority": settings.authority,
        "validate_authority": known,
        "instance_discovery": None if known else False,
        # Regional endpoints only exist for Microsoft's clouds; msal would build "<region>.<host>".
        "azure_region": None if known else False,
    }


def client_credential(settings: M365Settings) -> str | dict[str, str]:
    """msal's credential argument: the secret, or the PEM key with its SHA-1 thumbprint."""
    if settings.certificate_path:
        return {
            "private_key": Path(settings.certificate_path).read_text(encoding="utf-8"),
            "thumbprint": str(settings.certificate_thumbprint),
        }
    return str(settings.client_secret)


def token_error(result: Mapping[str, Any], settings: M365Settings, scope: str) -> M365Error:
    """Turn msal's error dict into the error that tells the admin what to change."""
    error = str(result.get("error") or "")
    description = str(result.get("error_description") or "")
    codes = [int(code) for code in result.get("error_codes") or [] if str(code).isdigit()]
    codes += [int(code) for code in _AADSTS.findall(description)]
    cls, reason = next(
        (_REASON_BY_CODE[code] for code in codes if code in _REASON_BY_CODE),
        _REASON_BY_ERROR.get(error, (CredentialsError, "unknown")),
    )
    return cls(
        reason,
        detail=_first_line(_scrub(description, settings)) or error,
        code=f"AADSTS{codes[0]}" if codes else error or None,
        client_id=settings.client_id,
        tenant=settings.tenant_id,
        scope=scope,
    )


def exception_error(exc: BaseException, settings: M365Settings, scope: str) -> M365Error:
    """Turn what msal or requests raised into an admin-facing error (never chaining secrets)."""
    host = urlsplit(settings.authority_host).netloc
    if isinstance(exc, M365Error):
        return exc
    if isinstance(exc, requests.exceptions.SSLError):
        return UnreachableError("tls", host=host)
    if isinstance(exc, requests.exceptions.Timeout):
        return UnreachableError("timeout", host=host, attempts=1)
    if isinstance(exc, requests.exceptions.RequestException):
        return UnreachableError("network", host=host, detail=type(exc).__name__)
    if isinstance(exc, msal.exceptions.MsalServiceError):
        status = re.search(r"\b(\d{3})\b", str(exc))
        return UnreachableError(
            "unavailable", host=host, status=int(status.group(1)) if status else None, attempts=1
        )
    if isinstance(exc, json.JSONDecodeError):
        return MalformedResponseError(host=host, detail="the login endpoint did not return JSON")
    text = _scrub(str(exc), settings)
    if "authority configuration" in text or "OIDC Discovery" in text or "AADSTS90002" in text:
        return CredentialsError("tenant_not_found", tenant=settings.tenant_id, detail=_first_line(text))
    if settings.uses_certificate and isinstance(exc, (ValueError, TypeError)):
        return CredentialsError("invalid_certificate_key", detail=type(exc).__name__)
    return CredentialsError("unknown", detail=f"{type(exc).__name__}: {_first_line(text)}")


def _scrub(text: str, settings: M365Settings) -> str:
    if settings.client_secret:
        text = text.replace(settings.client_secret, "[redacted]")
    return text


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _app_key(settings: M365Settings) -> tuple[str, str, str]:
    if settings.certificate_path:
        credential = f"cert:{settings.certificate_thumbprint}:{settings.certificate_path}"
    else:
        credential = "secret:" + hashlib.sha256(str(settings.client_secret).encode()).hexdigest()
    return settings.authority.lower(), settings.client_id.lower(), credential


def _build_app(settings: M365Settings, timeout: float) -> msal.ConfidentialClientApplication:
    """Blocking: constructing the app fetches the tenant's OpenID configuration."""
    key = _app_key(settings)
    with _apps_lock:
        app = _apps.get(key)
        if app is None:
            app = msal.ConfidentialClientApplication(
                settings.client_id,
                client_credential=client_credential(settings),
                timeout=timeout,
                **msal_options(settings),
            )
            _apps[key] = app
        return app


class TokenProvider:
    """Access tokens for one app in one tenant; safe to share across all tasks of the process."""

    def __init__(self, settings: M365Settings, *, timeout: float = 30.0) -> None:
        self._settings = settings
        self._timeout = timeout
        self._lock: asyncio.Lock | None = None
        self._msal: msal.ConfidentialClientApplication | None = None
        self._last: dict[str, str] = {}

    @property
    def settings(self) -> M365Settings:
        return self._settings

    async def token(self, scope: str) -> str:
        """A valid bearer token for ``scope`` (e.g. ``https://graph.microsoft.com/.default``)."""
        async with self._guard():
            return await self._acquire(scope)

    async def refresh(self, scope: str, rejected: str | None = None) -> str:
        """A new token after ``rejected`` got a 401; callers racing on the same 401 share one refresh."""
        async with self._guard():
            if rejected is None or self._last.get(scope) == rejected:
                app = await self._app()
                await asyncio.to_thread(app.remove_tokens_for_client)
                log.info("dropped cached app tokens after a 401 for %s", scope)
            return await self._acquire(scope)

    def _guard(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _app(self) -> msal.ConfidentialClientApplication:
        if self._msal is None:
            try:
                self._msal = await asyncio.to_thread(_build_app, self._settings, self._timeout)
            except Exception as exc:  # every failure becomes an admin-facing M365Error, unchained
                raise self._failed(exc, "") from None
        return self._msal

    async def _acquire(self, scope: str) -> str:
        app = await self._app()
        try:
            result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[scope])
        except Exception as exc:  # requests, msal and key errors alike; the cause may quote request data
            raise self._failed(exc, scope) from None
        if not isinstance(result, dict) or "access_token" not in result:
            error = token_error(result if isinstance(result, dict) else {}, self._settings, scope)
            log.warning("token request for %s failed: %s (%s)", scope, error.code, error.reason)
            raise error
        if result.get("token_source") != "cache":
            log.info("new app token for %s (expires in %s s)", scope, result.get("expires_in"))
        token = str(result["access_token"])
        self._last[scope] = token
        return token

    def _failed(self, exc: BaseException, scope: str) -> M365Error:
        error = exception_error(exc, self._settings, scope)
        log.warning("signing in to %s failed: %s/%s", self._settings.authority, error.kind, error.reason)
        return error
