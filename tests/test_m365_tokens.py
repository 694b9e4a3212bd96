"""Settings validation and app sign-in with real msal against the loopback fake authority."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Any, Callable

import certifi
import msal
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from m365_fakes import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT_ID,
    ConnectProxy,
    FakeM365,
    make_app_certificate,
)

from bot.m365.errors import ConsentRequiredError, CredentialsError, M365Error, UnreachableError
from bot.m365.settings import M365Settings, from_env
from bot.m365.tokens import TokenProvider, is_known_cloud, msal_options, token_error

BOT_ID = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
BOT_PASSWORD = "bot~password-value-0123456789"


# ------------------------------------------------------------------------------------ settings


def _write(tmp: Path, name: str, data: bytes) -> str:
    path = tmp / name
    path.write_bytes(data)
    return str(path)


def _good_cert(tmp: Path) -> dict[str, str]:
    cert = make_app_certificate(tmp)
    return {"GRAPH_CERTIFICATE_PATH": str(cert.path), "GRAPH_CERTIFICATE_THUMBPRINT": cert.thumbprint}


def _graph(**extra: str) -> dict[str, str]:
    return {"GRAPH_TENANT_ID": TENANT_ID, "GRAPH_CLIENT_ID": CLIENT_ID, **extra}


def _cert_only_file(tmp: Path) -> dict[str, str]:
    cert = make_app_certificate(tmp)
    return _graph(
        GRAPH_CERTIFICATE_PATH=_write(tmp, "cert.pem", cert.cert_pem),
        GRAPH_CERTIFICATE_THUMBPRINT=cert.thumbprint,
    )


def _encrypted_key(tmp: Path) -> dict[str, str]:
    cert = make_app_certificate(tmp)
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    return _graph(
        GRAPH_CERTIFICATE_PATH=_write(tmp, "enc.pem", pem), GRAPH_CERTIFICATE_THUMBPRINT=cert.thumbprint
    )


def _ec_key(tmp: Path) -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _graph(GRAPH_CERTIFICATE_PATH=_write(tmp, "ec.pem", pem), GRAPH_CERTIFICATE_THUMBPRINT="A" * 40)


def _mismatched_thumbprint(tmp: Path) -> dict[str, str]:
    return _graph(**{**_good_cert(tmp), "GRAPH_CERTIFICATE_THUMBPRINT": "0" * 40})


def _pasted_thumbprint(tmp: Path) -> dict[str, str]:
    cert = _good_cert(tmp)
    raw = cert["GRAPH_CERTIFICATE_THUMBPRINT"].lower()
    return _graph(
        **{**cert, "GRAPH_CERTIFICATE_THUMBPRINT": ":".join(raw[i : i + 2] for i in range(0, 40, 2))}
    )


# (id, env builder, expected): expected None → from_env returns None; a dict → fields of the result;
# a string → ValueError whose message contains it.
SETTINGS_TABLE: list[tuple[str, Callable[[Path], dict[str, str]], Any]] = [
    ("nothing configured", lambda tmp: {}, None),
    ("multi-tenant bot without password", lambda tmp: {"MicrosoftAppId": BOT_ID}, None),
    ("blank values count as unset", lambda tmp: {"GRAPH_CLIENT_ID": "  ", "GRAPH_CLIENT_SECRET": ""}, None),
    (
        "single-tenant bot registration is reused",
        lambda tmp: {
            "MicrosoftAppId": BOT_ID,
            "MicrosoftAppPassword": BOT_PASSWORD,
            "MicrosoftAppTenantId": TENANT_ID,
        },
        {"client_id": BOT_ID, "client_secret": BOT_PASSWORD, "tenant_id": TENANT_ID},
    ),
    (
        "graph app with secret",
        lambda tmp: _graph(GRAPH_CLIENT_SECRET=CLIENT_SECRET),
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "authority_host": "https://login.microsoftonline.com",
        },
    ),
    (
        "tenant falls back to the bot's",
        lambda tmp: {
            "GRAPH_CLIENT_ID": CLIENT_ID,
            "GRAPH_CLIENT_SECRET": CLIENT_SECRET,
            "MicrosoftAppTenantId": TENANT_ID,
        },
        {"tenant_id": TENANT_ID},
    ),
    (
        "secret for the bot's app id",
        lambda tmp: {
            "GRAPH_TENANT_ID": TENANT_ID,
            "MicrosoftAppId": BOT_ID,
            "GRAPH_CLIENT_SECRET": CLIENT_SECRET,
        },
        {"client_id": BOT_ID, "client_secret": CLIENT_SECRET},
    ),
    ("certificate", lambda tmp: _graph(**_good_cert(tmp)), {"client_secret": None}),
    ("thumbprint pasted with colons in lower case", _pasted_thumbprint, {"client_secret": None}),
    (
        "domain tenant and national cloud",
        lambda tmp: _graph(
            GRAPH_TENANT_ID="contoso.onmicrosoft.us",
            GRAPH_CLIENT_SECRET="x",
            AUTHORITY_HOST="https://login.microsoftonline.us/",
            GRAPH_ENDPOINT="https://graph.microsoft.us",
        ),
        {
            "tenant_id": "contoso.onmicrosoft.us",
            "authority_host": "https://login.microsoftonline.us",
            "graph_endpoint": "https://graph.microsoft.us",
        },
    ),
    (
        "another app never borrows the bot password",
        lambda tmp: _graph(MicrosoftAppPassword=BOT_PASSWORD),
        "GRAPH_CLIENT_SECRET or GRAPH_CERTIFICATE_PATH must be set",
    ),
    (
        "no tenant anywhere",
        lambda tmp: {"GRAPH_CLIENT_ID": CLIENT_ID, "GRAPH_CLIENT_SECRET": "x"},
        "GRAPH_TENANT_ID must be set",
    ),
    (
        "no client id anywhere",
        lambda tmp: {"GRAPH_TENANT_ID": TENANT_ID, "GRAPH_CLIENT_SECRET": "x"},
        "GRAPH_CLIENT_ID must be set",
    ),
    (
        "common is not one tenant",
        lambda tmp: _graph(GRAPH_TENANT_ID="common", GRAPH_CLIENT_SECRET="x"),
        "must name one tenant",
    ),
    (
        "tenant is junk",
        lambda tmp: _graph(GRAPH_TENANT_ID="my tenant!", GRAPH_CLIENT_SECRET="x"),
        "GRAPH_TENANT_ID must be",
    ),
    (
        "client id is not a GUID",
        lambda tmp: _graph(GRAPH_CLIENT_ID="my-app", GRAPH_CLIENT_SECRET="x"),
        "GRAPH_CLIENT_ID must be",
    ),
    (
        "certificate path without thumbprint",
        lambda tmp: _graph(GRAPH_CERTIFICATE_PATH=_good_cert(tmp)["GRAPH_CERTIFICATE_PATH"]),
        "GRAPH_CERTIFICATE_THUMBPRINT must be set",
    ),
    (
        "thumbprint without path",
        lambda tmp: _graph(GRAPH_CERTIFICATE_THUMBPRINT="A" * 40),
        "GRAPH_CERTIFICATE_PATH must be set",
    ),
    (
        "both secret and certificate",
        lambda tmp: _graph(GRAPH_CLIENT_SECRET="x", **_good_cert(tmp)),
        "not both",
    ),
    (
        "unreadable certificate file",
        lambda tmp: _graph(
            GRAPH_CERTIFICATE_PATH=str(tmp / "missing.pem"), GRAPH_CERTIFICATE_THUMBPRINT="A" * 40
        ),
        "cannot be read",
    ),
    ("file without a private key", _cert_only_file, "containing the app's private key"),
    ("encrypted private key", _encrypted_key, "encrypted key"),
    ("not an RSA key", _ec_key, "RSA private key"),
    ("thumbprint of another certificate", _mismatched_thumbprint, "does not match the certificate"),
    (
        "thumbprint is not SHA-1 hex",
        lambda tmp: _graph(**{**_good_cert(tmp), "GRAPH_CERTIFICATE_THUMBPRINT": "sha256:abc"}),
        "40 hex digits",
    ),
    (
        "plain-http authority",
        lambda tmp: _graph(GRAPH_CLIENT_SECRET="x", AUTHORITY_HOST="http://login.example"),
        "AUTHORITY_HOST must be an https URL",
    ),
    (
        "graph endpoint with a path",
        lambda tmp: _graph(GRAPH_CLIENT_SECRET="x", GRAPH_ENDPOINT="https://graph.microsoft.com/v1.0"),
        "GRAPH_ENDPOINT must be just https://host",
    ),
    (
        "exchange endpoint not https",
        lambda tmp: _graph(GRAPH_CLIENT_SECRET="x", EXCHANGE_ENDPOINT="outlook.office365.com"),
        "EXCHANGE_ENDPOINT must be an https URL",
    ),
]


@pytest.mark.parametrize(
    ("env_for", "expected"), [(e, x) for _, e, x in SETTINGS_TABLE], ids=[i for i, _, _ in SETTINGS_TABLE]
)
def test_settings_from_env(tmp_path: Path, env_for: Callable[[Path], dict[str, str]], expected: Any) -> None:
    env = env_for(tmp_path)
    if isinstance(expected, str):
        with pytest.raises(ValueError) as caught:
            from_env(env)
        message = str(caught.value)
        assert expected in message
        assert message.endswith(".") and "\n" not in message
        assert any(name in message for name in ("GRAPH_", "AUTHORITY_HOST", "EXCHANGE_ENDPOINT"))
        for secret in (CLIENT_SECRET, BOT_PASSWORD):
            assert secret not in message
        return
    settings = from_env(env)
    if expected is None:
        assert settings is None
        return
    assert settings is not None
    for name, value in expected.items():
        assert getattr(settings, name) == value, name


def test_settings_repr_hides_the_secret() -> None:
    settings = M365Settings(tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert CLIENT_SECRET not in repr(settings)
    assert CLIENT_SECRET not in str(settings)
    assert "client_secret='<set>'" in repr(settings)
    assert settings.authority == f"https://login.microsoftonline.com/{TENANT_ID}"
    assert settings.graph_scope == "https://graph.microsoft.com/.default"
    assert settings.exchange_scope == "https://outlook.office365.com/.default"


# ------------------------------------------------------------------------------- msal options


@pytest.mark.parametrize(
    "host",
    [
        "https://login.microsoftonline.com",
        "https://login.microsoftonline.us",
        "https://login.partner.microsoftonline.cn",
        "https://login.microsoftonline.de",
        "https://LOGIN.MICROSOFTONLINE.COM",
    ],
)
def test_microsoft_clouds_keep_msal_validation(host: str) -> None:
    settings = M365Settings(tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret="x", authority_host=host)
    options = msal_options(settings)
    assert is_known_cloud(host)
    assert options["instance_discovery"] is None and options["validate_authority"] is True


@pytest.mark.parametrize(
    "host",
    ["https://127.0.0.1:8443", "https://login.example.internal", "https://login.microsoftonline.com.evil"],
)
def test_private_authority_turns_instance_discovery_off(host: str) -> None:
    settings = M365Settings(tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret="x", authority_host=host)
    options = msal_options(settings)
    assert not is_known_cloud(host)
    assert options["instance_discovery"] is False
    assert options["validate_authority"] is False
    assert options["authority"] == f"{host.lower()}/{TENANT_ID}"


# ------------------------------------------------------------------------------- sign-in flows


async def test_secret_token_is_cached_across_many_calls(m365: FakeM365) -> None:
    provider = TokenProvider(m365.settings())
    scope = m365.settings().graph_scope
    tokens = [await provider.token(scope) for _ in range(25)]
    tokens += await asyncio.gather(*(provider.token(scope) for _ in range(25)))
    assert len(set(tokens)) == 1
    assert m365.authority.token_request_count == 1
    assert m365.authority.token_requests[0].credential == "secret"
    assert m365.authority.token_requests[0].scope == scope
    assert m365.authority.discovery_requests <= 1  # 0 when an earlier test left an app for a reused port
    assert m365.authority.validate(f"Bearer {tokens[0]}", m365.graph.base_url) is not None


async def test_certificate_credential_signs_a_valid_assertion(m365: FakeM365) -> None:
    m365.authority.client_secret = None  # only the certificate is accepted now
    provider = TokenProvider(m365.settings(use_certificate=True))
    token = await provider.token(m365.settings().exchange_scope)
    request = m365.authority.token_requests[0]
    assert request.credential == "certificate"
    assert request.x5t  # the fake checked x5t against the registered cert and verified the RS256 signature
    assert m365.authority.validate(f"Bearer {token}", m365.exchange.base_url) is not None


async def test_unregistered_certificate_is_explained(m365: FakeM365) -> None:
    m365.authority.certificate_pem = m365.certificates.ca.cert_pem.bytes()  # some other certificate
    provider = TokenProvider(m365.settings(use_certificate=True))
    with pytest.raises(CredentialsError) as caught:
        await provider.token(m365.settings().graph_scope)
    assert caught.value.reason == "invalid_certificate"
    assert caught.value.code == "AADSTS700027"
    assert "GRAPH_CERTIFICATE_THUMBPRINT" in caught.value.message("en")
    assert "証明書" in caught.value.message("ja")


async def test_token_within_five_minutes_of_expiry_is_replaced(m365: FakeM365) -> None:
    m365.authority.expires_in = 300  # msal treats < 5 minutes left as expired
    provider = TokenProvider(m365.settings())
    scope = m365.settings().graph_scope
    tokens = [await provider.token(scope) for _ in range(3)]
    assert m365.authority.token_request_count == 3
    assert len(set(tokens)) == 3


async def test_token_past_its_refresh_hint_is_refreshed_early(m365: FakeM365) -> None:
    m365.authority.expires_in = 7200
    m365.authority.refresh_in = 0  # Entra's refresh_in: refresh long before expiry
    provider = TokenProvider(m365.settings())
    scope = m365.settings().graph_scope
    first = await provider.token(scope)
    second = await provider.token(scope)
    assert m365.authority.token_request_count == 2
    assert first != second


async def test_refresh_after_401_is_shared_by_racing_callers(m365: FakeM365) -> None:
    provider = TokenProvider(m365.settings())
    scope = m365.settings().graph_scope
    rejected = await provider.token(scope)
    fresh = await asyncio.gather(*(provider.refresh(scope, rejected) for _ in range(5)))
    assert len(set(fresh)) == 1 and fresh[0] != rejected
    assert m365.authority.token_request_count == 2
    assert await provider.token(scope) == fresh[0]


async def test_one_msal_app_per_authority_and_client(m365: FakeM365) -> None:
    scope = m365.settings().graph_scope
    await TokenProvider(m365.settings()).token(scope)
    await TokenProvider(m365.settings()).token(scope)  # a second provider shares the app and its cache
    assert m365.authority.token_request_count == 1
    assert m365.authority.discovery_requests <= 1  # 0 when an earlier test left an app for a reused port


async def test_private_authority_never_reaches_the_public_cloud(
    m365: FakeM365, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = ConnectProxy()
    await proxy.start()
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)  # requests (inside msal) honours it
        token = await TokenProvider(m365.settings()).token(m365.settings().graph_scope)
    finally:
        await proxy.close()
    assert token
    authority_target = f"127.0.0.1:{m365.authority.port}"
    assert proxy.targets and set(proxy.targets) == {authority_target}


async def test_control_default_msal_would_try_instance_discovery(
    m365: FakeM365, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shows the proxy test above can fail: msal's defaults reach for login.microsoftonline.com."""
    proxy = ConnectProxy()
    await proxy.start()
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with pytest.raises(requests.exceptions.ProxyError):  # the proxy refused login.microsoftonline.com
            await asyncio.to_thread(
                msal.ConfidentialClientApplication,
                CLIENT_ID,
                client_credential=CLIENT_SECRET,
                authority=f"{m365.authority.base_url}/{TENANT_ID}",
            )
    finally:
        await proxy.close()
    assert any(target.startswith("login.microsoftonline.com") for target in proxy.targets)


# ------------------------------------------------------------------------------------- errors


async def test_wrong_secret_tells_the_admin_to_use_the_value(m365: FakeM365) -> None:
    provider = TokenProvider(m365.settings(client_secret="the-secret-id-not-its-value"))
    with pytest.raises(CredentialsError) as caught:
        await provider.token(m365.settings().graph_scope)
    error = caught.value
    assert (error.kind, error.reason, error.code) == ("credentials", "invalid_secret", "AADSTS7000215")
    assert "Secret ID" in error.message("en") and "GRAPH_CLIENT_SECRET" in error.message("en")
    assert "シークレット" in error.message("ja-JP")
    assert "the-secret-id-not-its-value" not in str(error)


async def test_unknown_app_is_explained(m365: FakeM365) -> None:
    other = "11111111-1111-4111-8111-111111111111"
    with pytest.raises(CredentialsError) as caught:
        await TokenProvider(m365.settings(client_id=other)).token(m365.settings().graph_scope)
    assert caught.value.reason == "app_not_found"
    assert other in caught.value.message("en") and TENANT_ID in caught.value.message("en")


async def test_unknown_tenant_is_explained(m365: FakeM365) -> None:
    with pytest.raises(CredentialsError) as caught:
        await TokenProvider(m365.settings(tenant_id="fabrikam.onmicrosoft.com")).token(
            m365.settings().graph_scope
        )
    assert caught.value.reason == "tenant_not_found"
    assert "GRAPH_TENANT_ID" in caught.value.message("en")


async def test_missing_consent_is_explained(m365: FakeM365) -> None:
    m365.authority.errors.append(
        (
            400,
            {
                "error": "invalid_grant",
                "error_codes": [65001],
                "error_description": "AADSTS65001: The user or administrator has not consented to use the app.",
            },
        )
    )
    with pytest.raises(ConsentRequiredError) as caught:
        await TokenProvider(m365.settings()).token(m365.settings().graph_scope)
    assert caught.value.kind == "consent"
    assert "Grant admin consent" in caught.value.message("en")
    assert "管理者の同意" in caught.value.message("ja")


async def test_unreachable_authority(m365: FakeM365) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(UnreachableError) as caught:  # nothing listens there any more
        await TokenProvider(m365.settings(authority_host=f"https://127.0.0.1:{port}")).token(
            "https://x/.default"
        )
    assert caught.value.reason == "network"


async def test_untrusted_authority_certificate_fails_closed(
    m365: FakeM365, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # public CAs only: the fake is not trusted
    with pytest.raises(UnreachableError) as caught:
        await TokenProvider(m365.settings()).token(m365.settings().graph_scope)
    assert caught.value.reason == "tls"
    assert "REQUESTS_CA_BUNDLE" in caught.value.message("en")


TOKEN_ERRORS = [
    ({"error": "unauthorized_client", "error_codes": [700016]}, CredentialsError, "app_not_found"),
    (
        {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"},
        CredentialsError,
        "invalid_secret",
    ),
    ({"error": "invalid_client", "error_codes": [7000222]}, CredentialsError, "expired_secret"),
    ({"error": "invalid_client", "error_codes": [700027]}, CredentialsError, "invalid_certificate"),
    ({"error": "invalid_request", "error_codes": [90002]}, CredentialsError, "tenant_not_found"),
    ({"error": "invalid_grant", "error_codes": [65001]}, ConsentRequiredError, "missing"),
    ({"error": "invalid_resource", "error_codes": [500011]}, CredentialsError, "resource_not_found"),
    ({"error": "invalid_grant", "error_codes": [53003]}, CredentialsError, "blocked_by_policy"),
    ({"error": "invalid_client"}, CredentialsError, "invalid_client"),
    ({"error": "something_new"}, CredentialsError, "unknown"),
    ({}, CredentialsError, "unknown"),
]


@pytest.mark.parametrize(("result", "cls", "reason"), TOKEN_ERRORS)
def test_token_error_table(result: dict[str, Any], cls: type[M365Error], reason: str) -> None:
    settings = M365Settings(tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    error = token_error(result, settings, settings.graph_scope)
    assert type(error) is cls and error.reason == reason
    english, japanese = error.message("en"), error.message("ja")
    assert english != japanese and any("\u3040" <= ch <= "\u30ff" for ch in japanese)
    assert error.message("fr") == english


def test_token_error_scrubs_an_echoed_secret() -> None:
    settings = M365Settings(tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    error = token_error(
        {"error": "invalid_client", "error_description": f"bad secret {CLIENT_SECRET}"}, settings, "s"
    )
    assert CLIENT_SECRET not in str(error) and CLIENT_SECRET not in error.message("ja")


async def test_no_secret_or_token_reaches_the_logs(m365: FakeM365, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    scope = m365.settings().graph_scope
    provider = TokenProvider(m365.settings())
    token = await provider.token(scope)
    await provider.refresh(scope, token)
    with pytest.raises(CredentialsError) as caught:
        await TokenProvider(m365.settings(client_secret=CLIENT_SECRET + "-wrong")).token(scope)
    cert_provider = TokenProvider(m365.settings(use_certificate=True))
    await cert_provider.token(scope)
    assert m365.authority.token_request_count == 4
    assert caplog.records, "expected msal/our DEBUG logging to be captured"
    key_line = m365.certificate.key_pem.decode().splitlines()[1]
    for secret in [CLIENT_SECRET, key_line, *m365.issued_tokens()]:
        assert secret not in caplog.text
        assert secret not in str(caught.value) and secret not in repr(caught.value)
