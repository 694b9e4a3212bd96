"""Loopback HTTPS fakes of Microsoft 365 (Entra token endpoint, Graph, Exchange admin API) for tests.

Everything listens on 127.0.0.1 on a random port with a certificate from a throwaway ``trustme``
CA. The fixtures trust that CA the standard way, through ``SSL_CERT_FILE`` (aiohttp, via
``ssl.create_default_context()``) and ``REQUESTS_CA_BUNDLE`` (msal, via requests), so the code under
test runs exactly as in production; proxy variables are cleared so nothing leaves the machine.

The ``m365`` and ``m365_client`` fixtures (in ``conftest.py``) start them for a test::

    async def test_something(m365, m365_client):
        m365.graph.service_messages.append(service_message("MC786329"))
        items = [m async for m in list_service_messages(m365_client)]
        assert m365.authority.token_request_count == 1

``m365`` is a running ``FakeM365`` (authority + graph + exchange); ``m365_client`` an opened
``M365Client`` signed in with a client secret whose retries sleep for nothing (the delays are
recorded in ``m365.sleeps``). Without pytest, use ``async with running_fakes(tmp_dir) as m365`` and
``trust_fake_ca(...)``. Faults are injected with ``m365.graph.faults.append(Fault.throttle(...))``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import ssl
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator, Mapping

import jwt
import pytest
import trustme
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bot.m365.http import M365Client, RetryPolicy
from bot.m365.settings import M365Settings

TENANT_ID = "0b8f2b4e-6a0e-4c55-9a55-3d1f0c6a7e21"
CLIENT_ID = "5d3c1a2b-7e8f-4a9b-8c7d-6e5f4a3b2c1d"
CLIENT_SECRET = "Fk8Q~fake-client-secret-value.0123456789abcdef"
SMTP_CLIENT_APP = "Authenticated SMTP"
GRAPH_ROLES = frozenset(
    {
        "ServiceMessage.Read.All",
        "ServiceHealth.Read.All",
        "AuditLog.Read.All",
        "Policy.Read.All",
        "User.Read.All",
    }
)
EXCHANGE_ROLE = "Exchange.ManageAsApp"
ALL_ROLES = GRAPH_ROLES | {EXCHANGE_ROLE}
_PROXY_VARS = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/json", headers=headers
    )


def _graph_error(status: int, code: str, message: str) -> web.Response:
    return _json(status, {"error": {"code": code, "message": message, "innerError": {"request-id": "fake"}}})


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------- TLS


@dataclass
class TestCertificates:
    """A throwaway CA, the server context for 127.0.0.1, and the CA file clients must trust."""

    ca: trustme.CA
    ca_path: Path
    server_context: ssl.SSLContext


def make_certificates(directory: Path) -> TestCertificates:
    ca = trustme.CA()
    ca_path = directory / "fake-m365-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    return TestCertificates(ca=ca, ca_path=ca_path, server_context=server_context)


@lru_cache(maxsize=1)
def _app_key_and_cert() -> tuple[bytes, bytes]:
    """An RSA key and self-signed certificate like the openssl recipe in bot/m365/tokens.py makes."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SMTP AUTH Readiness (test)")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class AppCertificate:
    """The app's certificate credential: a PEM file (key + cert) and the SHA-1 thumbprint."""

    path: Path
    thumbprint: str
    cert_pem: bytes
    key_pem: bytes


def make_app_certificate(directory: Path, *, include_certificate: bool = True) -> AppCertificate:
    key_pem, cert_pem = _app_key_and_cert()
    cert = x509.load_pem_x509_certificate(cert_pem)
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()
    path = directory / "app.pem"
    path.write_bytes(key_pem + (cert_pem if include_certificate else b""))
    return AppCertificate(path=path, thumbprint=thumbprint, cert_pem=cert_pem, key_pem=key_pem)


# ---------------------------------------------------------------------------------------- servers


class LoopbackServer:
    """An aiohttp app on 127.0.0.1:<random> over TLS; ``hang`` faults are released on close."""

    def __init__(self, tls: ssl.SSLContext) -> None:
        self._tls = tls
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._tls)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def hang(self) -> web.Response:
        await self._release.wait()
        return web.Response(status=503)


@dataclass
class Fault:
    """One injected misbehaviour for requests whose path contains ``path``, used ``times`` times."""

    path: str
    status: int = 500
    body: Any = ""
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    hang: bool = False
    echo_token: bool = False

    @classmethod
    def throttle(cls, path: str, retry_after: str | None = "1", times: int = 1) -> Fault:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {"error": {"code": "TooManyRequests", "message": "Too many requests"}}
        return cls(path, 429, body, headers, times)

    @classmethod
    def unavailable(cls, path: str, status: int = 503, times: int = 1) -> Fault:
        return cls(
            path,
            status,
            {"error": {"code": "ServiceUnavailable", "message": "Service unavailable"}},
            {},
            times,
        )

    @classmethod
    def forbidden(cls, path: str, code: str, message: str, times: int = 1) -> Fault:
        return cls(path, 403, {"error": {"code": code, "message": message}}, {}, times)

    @classmethod
    def malformed(cls, path: str, body: str = '{"value": [ {"id": "MC1"', times: int = 1) -> Fault:
        return cls(path, 200, body, {"Content-Type": "application/json"}, times)

    @classmethod
    def slow(cls, path: str, times: int = 1) -> Fault:
        """Never answers (until the fake closes): the client's timeout has to fire."""
        return cls(path, times=times, hang=True)

    @classmethod
    def echoing(cls, path: str, status: int = 400) -> Fault:
        """An error body that repeats the caller's Authorization header, as a careless proxy might."""
        return cls(path, status, echo_token=True)


class _FaultMixin:
    faults: list[Fault]

    async def take_fault(self, request: web.Request, server: LoopbackServer) -> web.StreamResponse | None:
        for fault in self.faults:
            if fault.times > 0 and fault.path in request.path:
                fault.times -= 1
                if fault.hang:
                    return await server.hang()
                if fault.echo_token:
                    body = {
                        "error": {
                            "code": "BadRequest",
                            "message": f"bad header: {request.headers.get('Authorization')}",
                        }
                    }
                    return _json(fault.status, body)
                text = fault.body if isinstance(fault.body, str) else json.dumps(fault.body)
                headers = {"Content-Type": "application/json", **fault.headers}
                return web.Response(status=fault.status, text=text, headers=headers)
        return None


@dataclass
class IssuedToken:
    token: str
    audience: str
    roles: frozenset[str]
    expires_at: float
    revoked: bool = False


@dataclass
class TokenRequest:
    """What the token endpoint saw (never the secret itself)."""

    scope: str
    credential: str  # "secret" or "certificate"
    x5t: str | None = None


class FakeAuthority(LoopbackServer):
    """Entra ID for one tenant and one app: OpenID discovery and client-credentials tokens.

    Set ``client_secret`` or ``certificate_pem`` (or both) to say which credentials it accepts;
    ``expires_in``/``refresh_in`` shape the tokens; ``roles`` are the app roles put in every token;
    ``errors`` is a queue of ``(status, body)`` answers for the next token requests.
    """

    def __init__(
        self,
        tls: ssl.SSLContext,
        *,
        tenant: str = TENANT_ID,
        client_id: str = CLIENT_ID,
        client_secret: str | None = CLIENT_SECRET,
        certificate_pem: bytes | None = None,
        expires_in: int = 3600,
        refresh_in: int | None = None,
        roles: Iterable[str] = ALL_ROLES,
    ) -> None:
        super().__init__(tls)
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.certificate_pem = certificate_pem
        self.expires_in = expires_in
        self.refresh_in = refresh_in
        self.roles = set(roles)
        self.errors: list[tuple[int, dict[str, Any]]] = []
        self.token_requests: list[TokenRequest] = []
        self.discovery_requests = 0
        self.issued: dict[str, IssuedToken] = {}

    @property
    def token_request_count(self) -> int:
        return len(self.token_requests)

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/{self.tenant}/oauth2/v2.0/token"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._closing(self._discovery))
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._closing(self._token))

    @staticmethod
    def _closing(handler: Any) -> Any:
        """No keep-alive: msal's pooled sockets would otherwise outlive the test's event loop."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            response = await handler(request)
            response.force_close()
            return response

        return wrapped

    def validate(self, header: str | None, audience: str) -> IssuedToken | None:
        """The token behind an ``Authorization`` header if it is current and meant for ``audience``."""
        if not header or not header.startswith("Bearer "):
            return None
        issued = self.issued.get(header[len("Bearer ") :])
        if issued is None or issued.revoked or issued.expires_at < time.time() or issued.audience != audience:
            return None
        return issued

    def revoke_all(self) -> None:
        """Make every token issued so far fail with 401, as after a credential or consent change."""
        for issued in self.issued.values():
            issued.revoked = True

    def _wrong_tenant(self, tenant: str) -> web.Response:
        description = (
            f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID."
        )
        return _json(
            400, {"error": "invalid_tenant", "error_description": description, "error_codes": [90002]}
        )

    async def _discovery(self, request: web.Request) -> web.Response:
        self.discovery_requests += 1
        tenant = request.match_info["tenant"]
        if tenant != self.tenant:
            return self._wrong_tenant(tenant)
        base = f"{self.base_url}/{tenant}"
        return _json(
            200,
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "token"],
            },
        )

    async def _token(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if tenant != self.tenant:
            return self._wrong_tenant(tenant)
        form = await request.post()
        scope = str(form.get("scope", ""))
        if form.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"})
        client_id = str(form.get("client_id", ""))
        if client_id != self.client_id:
            return _json(
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": f"AADSTS700016: Application with identifier '{client_id}' was "
                    f"not found in the directory '{self.tenant}'.",
                    "error_codes": [700016],
                },
            )
        assertion = form.get("client_assertion")
        if assertion is not None:
            x5t, problem = self._check_assertion(str(assertion))
            self.token_requests.append(TokenRequest(scope=scope, credential="certificate", x5t=x5t))
            if problem:
                return _json(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": f"AADSTS700027: Client assertion failed signature validation ({problem}).",
                        "error_codes": [700027],
                    },
                )
        else:
            self.token_requests.append(TokenRequest(scope=scope, credential="secret"))
            if self.client_secret is None or form.get("client_secret") != self.client_secret:
                return _json(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret "
                        "being sent "
                        "in the request is the client secret value, not the client secret ID.",
                        "error_codes": [7000215],
                    },
                )
        if self.errors:
            status, error = self.errors.pop(0)
            return _json(status, error)
        if not scope.endswith("/.default") or " " in scope:
            return _json(400, {"error": "invalid_scope", "error_description": "AADSTS1002012: bad scope"})
        audience = scope[: -len("/.default")]
        token = self._mint(audience)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": token,
        }
        if self.refresh_in is not None:
            body["refresh_in"] = self.refresh_in
        return _json(200, body)

    def _mint(self, audience: str) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": "fake"}
        claims = {
            "aud": audience,
            "iss": f"{self.base_url}/{self.tenant}/v2.0",
            "tid": self.tenant,
            "appid": self.client_id,
            "roles": sorted(self.roles),
            "iat": now,
            "exp": now + self.expires_in,
            "jti": secrets.token_hex(8),
        }
        token = ".".join(
            (
                _b64url(json.dumps(header).encode()),
                _b64url(json.dumps(claims).encode()),
                _b64url(secrets.token_bytes(32)),
            )
        )
        self.issued[token] = IssuedToken(
            token, audience, frozenset(self.roles), time.time() + self.expires_in
        )
        return token

    def _check_assertion(self, assertion: str) -> tuple[str | None, str]:
        """Verify the client assertion as Entra does: x5t names our cert, RS256 signature, claims."""
        if self.certificate_pem is None:
            return None, "no certificate is registered for the app"
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return None, "not a JWT"
        cert = x509.load_pem_x509_certificate(self.certificate_pem)
        expected = _b64url(cert.fingerprint(hashes.SHA1()))
        x5t = str(header.get("x5t", "")).rstrip("=")
        if x5t != expected:
            return x5t, "x5t does not match the registered certificate"
        public_key = cert.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            return x5t, "the registered certificate has no RSA key"
        try:
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256"],
                audience=self.token_endpoint,
                issuer=self.client_id,
                options={"require": ["exp", "aud", "iss", "sub", "jti"]},
            )
        except jwt.PyJWTError as exc:
            return x5t, type(exc).__name__
        if claims.get("sub") != self.client_id:
            return x5t, "sub is not the client id"
        return x5t, ""


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # without Authorization
    body: Any = None


def _record(request: web.Request, body: Any = None) -> RecordedRequest:
    headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
    return RecordedRequest(request.method, request.path, dict(request.query), headers, body)


def _max_page_size(request: web.Request, default: int) -> int:
    prefer = request.headers.get("Prefer", "")
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "odata.maxpagesize" and value.strip().isdigit():
            return int(value)
    return default


def _filter_clauses(expression: str) -> list[tuple[str, str, str]]:
    """``a eq 'x' and b ge 2024-01-01T00:00:00Z`` → [(a, eq, x), (b, ge, 2024-…)]; enough for these fakes."""
    clauses = []
    for clause in expression.split(" and "):
        name, op, value = clause.strip().split(" ", 2)
        clauses.append((name, op, value.strip().strip("'")))
    return clauses


def _matches(item: Mapping[str, Any], clauses: list[tuple[str, str, str]]) -> bool:
    for name, op, value in clauses:
        actual = item.get(name)
        if name.endswith("DateTime"):
            left, right = parse_iso(str(actual)), parse_iso(value)
            ok = {
                "ge": left >= right,
                "le": left <= right,
                "gt": left > right,
                "lt": left < right,
                "eq": left == right,
            }[op]
        elif op == "eq":
            ok = actual == value
        else:
            raise ValueError(f"unsupported filter operator {op}")
        if not ok:
            return False
    return True


class FakeGraph(LoopbackServer, _FaultMixin):
    """Microsoft Graph for the endpoints the bot reads, with permission, licence and paging rules."""

    REQUIRED_ROLE = (
        ("/admin/serviceAnnouncement/messages", "ServiceMessage.Read.All"),
        ("/admin/serviceAnnouncement/", "ServiceHealth.Read.All"),
        ("/auditLogs/signIns", "AuditLog.Read.All"),
        ("/authentication/requirements", "Policy.Read.All"),
        ("/policies/", "Policy.Read.All"),
        ("/users/", "User.Read.All"),
    )

    def __init__(self, tls: ssl.SSLContext, authority: FakeAuthority) -> None:
        super().__init__(tls)
        self.authority = authority
        self.service_messages: list[dict[str, Any]] = []
        self.health: dict[str, dict[str, Any]] = {
            "Exchange": {"id": "Exchange", "service": "Exchange Online", "status": "serviceOperational"},
        }
        self.issues: list[dict[str, Any]] = []
        self.sign_in_events: list[dict[str, Any]] = []
        self.security_defaults = False
        self.mfa_states: dict[str, str] = {}
        self.users: list[dict[str, Any]] = []
        self.premium = True
        self.page_size_cap = 1000
        self.endless_paths: set[str] = set()
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._dispatch)

    def add_sign_ins(self, count: int, **kwargs: Any) -> None:
        self.sign_in_events.extend(synthetic_sign_ins(count, **kwargs))

    def requests_to(self, fragment: str) -> list[RecordedRequest]:
        return [r for r in self.requests if fragment in r.path]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(_record(request))
        issued = self.authority.validate(request.headers.get("Authorization"), self.base_url)
        if issued is None:
            return web.Response(
                status=401,
                text=json.dumps(
                    {
                        "error": {
                            "code": "InvalidAuthenticationToken",
                            "message": "Access token validation failure.",
                        }
                    }
                ),
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm=""'},
            )
        fault = await self.take_fault(request, self)
        if fault is not None:
            return fault
        path = request.path
        for fragment, role in self.REQUIRED_ROLE:
            if fragment.lower() in path.lower() and role not in issued.roles:
                if "signIns" in path:
                    return _graph_error(
                        403,
                        "Authentication_MSGraphPermissionMissing",
                        f"Calling principal does not have required MSGraph permissions {role}",
                    )
                return _graph_error(
                    403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
                )
        for prefix in self.endless_paths:
            if path == prefix:
                return self._endless(request)
        return await self._route(request, path)

    async def _route(self, request: web.Request, path: str) -> web.StreamResponse:
        messages = "/v1.0/admin/serviceAnnouncement/messages"
        if path == messages:
            items = self.service_messages
            if "$filter" in request.query:
                items = [m for m in items if _matches(m, _filter_clauses(request.query["$filter"]))]
            return self._page(request, items, default_size=100)
        if path.startswith(messages + "/"):
            wanted = path[len(messages) + 1 :]
            found = [m for m in self.service_messages if m.get("id") == wanted]
            if not found:
                return _graph_error(404, "UnknownError", f"Message {wanted} not found")
            return _json(200, found[0])
        overview = "/v1.0/admin/serviceAnnouncement/healthOverviews/"
        if path.startswith(overview):
            health = self.health.get(path[len(overview) :])
            if health is None:
                return _graph_error(404, "UnknownError", "No such service")
            body = dict(health)
            if request.query.get("$expand") == "issues":
                body["issues"] = [i for i in self.issues if i.get("service") == health["service"]]
            return _json(200, body)
        if path == "/v1.0/admin/serviceAnnouncement/issues":
            return self._page(request, self.issues, default_size=100)
        if path == "/v1.0/auditLogs/signIns":
            return self._sign_ins(request)
        if path == "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy":
            return _json(
                200,
                {
                    "id": "00000000-0000-0000-0000-000000000005",
                    "displayName": "Security Defaults",
                    "description": "Security defaults",
                    "isEnabled": self.security_defaults,
                },
            )
        if path.startswith("/beta/users/") and path.endswith("/authentication/requirements"):
            wanted = path[len("/beta/users/") : -len("/authentication/requirements")]
            state = self.mfa_states.get(wanted.lower())
            if state is None:
                return _graph_error(404, "Request_ResourceNotFound", f"Resource '{wanted}' does not exist.")
            return _json(200, {"perUserMfaState": state})
        if path.startswith("/v1.0/users/"):
            key = path[len("/v1.0/users/") :].lower()
            for user in self.users:
                if key in (str(user.get("id", "")).lower(), str(user.get("userPrincipalName", "")).lower()):
                    return _json(200, _select(user, request.query.get("$select")))
            return _graph_error(404, "Request_ResourceNotFound", f"Resource '{key}' does not exist.")
        return _graph_error(400, "BadRequest", f"Resource not found for the segment '{path}'.")

    def _sign_ins(self, request: web.Request) -> web.Response:
        if not self.premium:
            return _graph_error(
                403,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            )
        items = self.sign_in_events
        if "$filter" in request.query:
            items = [e for e in items if _matches(e, _filter_clauses(request.query["$filter"]))]
        items = sorted(items, key=lambda e: e["createdDateTime"], reverse=True)
        select = request.query.get("$select")
        return self._page(request, [_select(e, select) for e in items], default_size=1000)

    def _page(self, request: web.Request, items: list[dict[str, Any]], *, default_size: int) -> web.Response:
        size = min(_max_page_size(request, default_size), self.page_size_cap)
        offset = int(request.query.get("$skiptoken", "0"))
        body: dict[str, Any] = {
            "@odata.context": f"{self.base_url}/v1.0/$metadata",
            "value": items[offset : offset + size],
        }
        if offset + size < len(items):
            body["@odata.nextLink"] = str(
                request.url.with_scheme("https").update_query({"$skiptoken": str(offset + size)})
            )
        return _json(200, body)

    def _endless(self, request: web.Request) -> web.Response:
        offset = int(request.query.get("$skiptoken", "0"))
        body = {
            "value": [service_message(f"MC{900000 + offset}")],
            "@odata.nextLink": str(
                request.url.with_scheme("https").update_query({"$skiptoken": str(offset + 1)})
            ),
        }
        return _json(200, body)


def _select(item: Mapping[str, Any], select: str | None) -> dict[str, Any]:
    if not select:
        return dict(item)
    fields = [f.strip() for f in select.split(",")]
    return {k: item[k] for k in fields if k in item}


class FakeExchange(LoopbackServer, _FaultMixin):
    """The Exchange admin API's InvokeCommand, with per-cmdlet data, paging and warnings.

    Like the real cmdlet, ``Get-CASMailbox`` stops at 1,000 objects unless ``ResultSize`` is
    ``Unlimited``. A token without Exchange.ManageAsApp gets 401; ``has_role=False`` (no Entra role
    for the app) gets 403.
    """

    def __init__(self, tls: ssl.SSLContext, authority: FakeAuthority, tenant: str = TENANT_ID) -> None:
        super().__init__(tls)
        self.authority = authority
        self.tenant = tenant
        self.cmdlets: dict[str, list[dict[str, Any]]] = default_exchange_data()
        self.warnings: dict[str, list[str]] = {}
        self.page_size = 1000
        self.has_role = True
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/adminapi/beta/{tenant}/InvokeCommand", self._invoke)

    @property
    def anchor(self) -> str:
        return f"APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{self.tenant}"

    async def _invoke(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.requests.append(_record(request, body))
        issued = self.authority.validate(request.headers.get("Authorization"), self.base_url)
        if issued is None or EXCHANGE_ROLE not in issued.roles:
            return _json(
                401,
                {"error": {"code": "Unauthorized", "message": "Unauthorized"}},
                headers={"WWW-Authenticate": 'Bearer client_id="00000002-0000-0ff1-ce00-000000000000"'},
            )
        if (
            request.match_info["tenant"] != self.tenant
            or request.headers.get("X-AnchorMailbox") != self.anchor
        ):
            return _json(
                400, {"error": {"code": "BadRequest", "message": "Invalid tenant or anchor mailbox"}}
            )
        if not self.has_role:
            return _json(
                403,
                {
                    "error": {
                        "code": "Forbidden",
                        "message": "The role assigned to application "
                        f"{self.authority.client_id} isn't supported in this scenario.",
                    }
                },
            )
        fault = await self.take_fault(request, self)
        if fault is not None:
            return fault
        cmdlet_input = (body or {}).get("CmdletInput") or {}
        name = cmdlet_input.get("CmdletName")
        parameters = cmdlet_input.get("Parameters") or {}
        if name not in self.cmdlets:
            return _json(
                400,
                {
                    "error": {
                        "code": "BadRequest",
                        "message": "Bad request",
                        "details": [
                            {
                                "code": "Context",
                                "target": "",
                                "message": f"The term '{name}' is not recognized as a name of a cmdlet.",
                            }
                        ],
                    }
                },
            )
        items = self.cmdlets[name]
        if name == "Get-CASMailbox" and str(parameters.get("ResultSize", "")).lower() != "unlimited":
            items = items[:1000]
        if "Identity" in parameters:
            items = _by_identity(items, str(parameters["Identity"]))
            if not items:
                return _object_not_found(name, str(parameters["Identity"]))
        items = [_select(i, request.query.get("$select")) for i in items]
        offset = int(request.query.get("$skiptoken", "0"))
        page: dict[str, Any] = {
            "@odata.context": f"https://outlook.office.com/adminapi/beta/{self.tenant}/$metadata"
            "#Collection(Exchange.GenericHashTable)",
            "adminapi.warnings@odata.type": "#Collection(String)",
            "@adminapi.warnings": self.warnings.get(name, []) if offset == 0 else [],
            "value": items[offset : offset + self.page_size],
        }
        if offset + self.page_size < len(items):
            page["@odata.nextLink"] = str(
                request.url.with_scheme("https").update_query({"$skiptoken": str(offset + self.page_size)})
            )
        return _json(200, page)


_IDENTITY_FIELDS = ("Identity", "Name", "UserPrincipalName", "PrimarySmtpAddress", "ExternalDirectoryObjectId")


def _by_identity(items: list[dict[str, Any]], identity: str) -> list[dict[str, Any]]:
    """What ``-Identity`` selects: the object whose name, UPN, address or id it is (case-insensitive)."""
    wanted = identity.strip().lower()
    return [i for i in items if any(str(i.get(f) or "").lower() == wanted for f in _IDENTITY_FIELDS)][:1]


def _object_not_found(cmdlet: str, identity: str) -> web.Response:
    """The cmdlet's own error for ``-Identity`` naming nothing, as the REST endpoint wraps it."""
    message = (
        f"|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be "
        f"performed because object '{identity}' couldn't be found on 'TYCPR01A001DC01.JPNPR01A001.PROD.OUTLOOK.COM'."
    )
    return _json(400, {"error": {"code": "BadRequest", "message": "Bad request",
                                 "details": [{"code": "Context", "target": cmdlet, "message": message}]}})


# ------------------------------------------------------------------------------------------- data


def service_message(
    message_id: str,
    *,
    title: str | None = None,
    last_modified: datetime | None = None,
    services: Iterable[str] = ("Exchange Online",),
    **extra: Any,
) -> dict[str, Any]:
    """A serviceUpdateMessage shaped like Graph's (facts.md §1)."""
    modified = last_modified or datetime(2024, 4, 26, 18, 0, tzinfo=timezone.utc)
    message = {
        "id": message_id,
        "title": title or f"Message {message_id}",
        "startDateTime": "2024-04-26T18:00:00Z",
        "endDateTime": "2026-12-31T08:00:00Z",
        "lastModifiedDateTime": iso(modified),
        "isMajorChange": True,
        "actionRequiredByDateTime": None,
        "services": list(services),
        "tags": ["Admin impact"],
        "category": "planForChange",
        "severity": "normal",
        "body": {"contentType": "html", "content": f"<p>{message_id}</p>"},
        "details": [],
        "viewPoint": None,
    }
    message.update(extra)
    return message


def service_issue(issue_id: str, *, service: str = "Exchange Online", **extra: Any) -> dict[str, Any]:
    issue = {
        "id": issue_id,
        "title": f"Issue {issue_id}",
        "service": service,
        "status": "serviceDegradation",
        "classification": "advisory",
        "isResolved": False,
        "startDateTime": "2025-01-01T00:00:00Z",
    }
    issue.update(extra)
    return issue


def synthetic_sign_ins(
    count: int,
    *,
    start: datetime = datetime(2025, 1, 1, tzinfo=timezone.utc),
    every: timedelta = timedelta(minutes=1),
    client_app: str = SMTP_CLIENT_APP,
    users: int = 7,
    failed_every: int = 5,
) -> Iterator[dict[str, Any]]:
    """``count`` deterministic sign-in events, one per ``every`` from ``start``."""
    for i in range(count):
        user = i % users
        yield {
            "id": f"{client_app[:4].lower()}-{i:08d}",
            "createdDateTime": iso(start + i * every),
            "userPrincipalName": f"scanner{user}@contoso.example",
            "userId": f"00000000-0000-0000-0000-{user:012d}",
            "appId": "00000002-0000-0ff1-ce00-000000000000",
            "appDisplayName": "Office 365 Exchange Online",
            "ipAddress": f"203.0.113.{i % 250 + 1}",
            "clientAppUsed": client_app,
            "status": {
                "errorCode": 50126 if failed_every and i % failed_every == 0 else 0,
                "failureReason": None,
                "additionalDetails": None,
            },
            "location": {"city": "Osaka", "state": "Osaka", "countryOrRegion": "JP"},
            "deviceDetail": {"operatingSystem": "", "browser": ""},
        }


def synthetic_cas_mailboxes(count: int, *, override_every: int = 10) -> list[dict[str, Any]]:
    """``count`` CAS mailboxes; every ``override_every``-th sets SMTP AUTH (alternating False/True)."""
    mailboxes = []
    for i in range(count):
        value: bool | None = None
        if override_every and i % override_every == 0:
            value = (i // override_every) % 2 == 1
        mailboxes.append(
            {
                "Identity": f"mailbox{i:05d}",
                "Name": f"mailbox{i:05d}",
                "DisplayName": f"Mailbox {i}",
                "PrimarySmtpAddress": f"mailbox{i:05d}@contoso.example",
                "ExternalDirectoryObjectId": f"00000000-0000-0000-0001-{i:012d}",
                "SmtpClientAuthenticationDisabled": value,
                "PopEnabled": True,
                "ImapEnabled": True,
            }
        )
    return mailboxes


def default_exchange_data() -> dict[str, list[dict[str, Any]]]:
    return {
        "Get-TransportConfig": [
            {
                "Identity": "Transport Settings",
                "SmtpClientAuthenticationDisabled": True,
                "AllowLegacyTLSClients": False,
            }
        ],
        "Get-OrganizationConfig": [
            {
                "Name": "contoso.onmicrosoft.com",
                "OAuth2ClientProfileEnabled": True,
                "DefaultAuthenticationPolicy": None,
                "RejectDirectSend": False,
            }
        ],
        "Get-AuthenticationPolicy": [
            {"Name": "Allow Basic SMTP for printers", "AllowBasicAuthSmtp": True},
            {"Name": "Block Basic Auth", "AllowBasicAuthSmtp": False},
        ],
        "Get-CASMailbox": synthetic_cas_mailboxes(12, override_every=4),
    }


# ---------------------------------------------------------------------------------- proxy + bundle


class ConnectProxy:
    """An HTTP CONNECT proxy on loopback that tunnels only to 127.0.0.1 and records every target.

    A target elsewhere (say login.microsoftonline.com) is refused with 403 and recorded, which is how a
    test proves nothing tried to reach the public cloud.
    """

    def __init__(self) -> None:
        self.targets: list[str] = []
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Close every socket so the tunnels end on their own (cancelling them makes asyncio log errors)."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            self.targets.append(target)
            host, _, port = target.rpartition(":")
            if method != "CONNECT" or host != "127.0.0.1":
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            upstream_reader, upstream = await asyncio.open_connection(host, int(port))
            self._writers.add(upstream)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, upstream), _pipe(upstream_reader, writer))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError, ValueError):
            pass
        finally:
            for stream in (writer, upstream):
                if stream is not None:
                    stream.close()
                    self._writers.discard(stream)
            if task is not None:
                self._tasks.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def trust_fake_ca(monkeypatch: pytest.MonkeyPatch, ca_path: Path) -> None:
    """Trust the fake CA through the standard variables and make sure no proxy is used."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.delenv("MSAL_FORCE_REGION", raising=False)
    for name in _PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------------------------ composition


@dataclass
class FakeM365:
    """A running authority, Graph and Exchange sharing one CA, plus helpers to build clients."""

    certificates: TestCertificates
    authority: FakeAuthority
    graph: FakeGraph
    exchange: FakeExchange
    certificate: AppCertificate
    sleeps: list[float] = field(default_factory=list)

    @property
    def ca_path(self) -> Path:
        return self.certificates.ca_path

    def settings(self, *, use_certificate: bool = False, **overrides: Any) -> M365Settings:
        values: dict[str, Any] = {
            "tenant_id": self.authority.tenant,
            "client_id": self.authority.client_id,
            "authority_host": self.authority.base_url,
            "graph_endpoint": self.graph.base_url,
            "exchange_endpoint": self.exchange.base_url,
        }
        if use_certificate:
            values.update(
                certificate_path=str(self.certificate.path),
                certificate_thumbprint=self.certificate.thumbprint,
            )
        else:
            values["client_secret"] = CLIENT_SECRET
        values.update(overrides)
        return M365Settings(**values)

    async def record_sleep(self, delay: float) -> None:
        """Stands in for ``asyncio.sleep`` in retry policies: remembers the delay, waits for nothing."""
        self.sleeps.append(delay)
        await asyncio.sleep(0)

    def retry_policy(self, **overrides: Any) -> RetryPolicy:
        values: dict[str, Any] = {
            "max_attempts": 4,
            "base_delay": 1.0,
            "max_delay": 30.0,
            "max_total_delay": 90.0,
            "sleep": self.record_sleep,
            "jitter": lambda: 0.5,
        }
        values.update(overrides)
        return RetryPolicy(**values)

    def client(self, settings: M365Settings | None = None, **kwargs: Any) -> M365Client:
        """An unopened client for these fakes; use ``async with``."""
        kwargs.setdefault("retry", self.retry_policy())
        kwargs.setdefault("request_timeout", 10.0)
        return M365Client(settings or self.settings(), **kwargs)

    def issued_tokens(self) -> list[str]:
        return list(self.authority.issued)


@asynccontextmanager
async def running_fakes(directory: Path) -> AsyncIterator[FakeM365]:
    """Start authority, Graph and Exchange on loopback; the app accepts both secret and certificate."""
    certificates = make_certificates(directory)
    certificate = make_app_certificate(directory)
    authority = FakeAuthority(certificates.server_context, certificate_pem=certificate.cert_pem)
    graph = FakeGraph(certificates.server_context, authority)
    exchange = FakeExchange(certificates.server_context, authority)
    servers: list[LoopbackServer] = [authority, graph, exchange]
    try:
        for server in servers:
            await server.start()
        yield FakeM365(certificates, authority, graph, exchange, certificate)
    finally:
        for server in reversed(servers):
            await server.close()
