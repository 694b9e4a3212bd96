"""The one HTTP client the bot uses for Microsoft 365: tokens, retries, paging and error mapping.

One ``aiohttp.ClientSession`` per process (open it with ``start()`` or ``async with``; the app does
this in aiohttp's ``cleanup_ctx``). TLS uses ``ssl.create_default_context()``, which honours
``SSL_CERT_FILE``/``SSL_CERT_DIR``, and ``trust_env=True`` honours ``HTTPS_PROXY``/``NO_PROXY``:
behind a corporate proxy nothing but the standard variables has to be set, and certificate checks
are never switched off.

Retries: 429, 503 and 504 (and network errors or timeouts) are retried with jittered exponential
backoff, honouring ``Retry-After`` in seconds or as an HTTP date, within a cap on attempts and on the
total time spent waiting; the sleep and the jitter are injectable so tests wait for nothing. A 401
triggers exactly one token refresh and one retry. All our calls only read, so POSTs (Exchange's
InvokeCommand with Get-* cmdlets) are retried like GETs.

Paging follows ``@odata.nextLink`` one page at a time (nothing accumulates), refuses links to
another host (the bearer token must not travel elsewhere) and stops with ``PagingLimitError`` after
``page_cap`` pages, so a list that never ends cannot hang a background job.

Every failure is an ``M365Error`` that tells the admin what to fix. The Authorization header is
never logged, and server text is passed through ``redact`` before it reaches an exception.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import ssl
import time
import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot import __version__
from bot.m365.errors import (
    EXCHANGE_PERMISSION,
    CredentialsError,
    LicenseRequiredError,
    M365Error,
    MalformedResponseError,
    NotFoundError,
    PagingLimitError,
    PermissionMissingError,
    ServiceError,
    ThrottledError,
    UnreachableError,
    error_code_and_message,
    is_non_premium,
    permission_for,
)
from bot.m365.settings import M365Settings
from bot.m365.tokens import TokenProvider
from bot.metrics import count_m365
from bot.retry import backoff_delay as shared_backoff
from bot.retry import parse_retry_after

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 503, 504})
USER_AGENT = f"smtp-auth-readiness/{__version__}"
# Hosts that answer for each other: the Exchange admin API reports its context on outlook.office.com.
_SIBLING_HOSTS: dict[str, frozenset[str]] = {
    "outlook.office365.com": frozenset({"outlook.office.com"}),
    "outlook.office.com": frozenset({"outlook.office365.com"}),
}


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before telling the admin; ``sleep``/``jitter`` exist so tests can inject them."""

    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_total_delay: float = 90.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)


def backoff_delay(attempt: int, retry_after: float | None, policy: RetryPolicy) -> float:
    """The wait before retry number ``attempt`` (1-based): the server's hint, else jittered backoff."""
    return shared_backoff(
        attempt, base=policy.base_delay, cap=policy.max_delay, jitter=policy.jitter(), retry_after=retry_after
    )


def same_service(url: str, allowed: str) -> bool:
    """True when ``url`` is https on the host (and port) of ``allowed`` or a known sibling host."""
    target, base = urlsplit(url), urlsplit(allowed)
    if target.scheme != "https" or not target.hostname or not base.hostname:
        return False
    if target.port != base.port:
        return False
    host = target.hostname.lower()
    return host == base.hostname.lower() or host in _SIBLING_HOSTS.get(base.hostname.lower(), frozenset())


def error_for_status(
    status: int, body: str, url: str, *, attempts: int = 1, retry_after: float | None = None
) -> M365Error:
    """The admin-facing error for a final (non-retried) HTTP error status."""
    host = urlsplit(url).netloc
    code, message = error_code_and_message(body)
    permission = permission_for(url)
    detail = f"{code}: {message}" if code and message else (message or code or "")
    if status == 401:
        if permission == EXCHANGE_PERMISSION:
            return PermissionMissingError(
                "exchange", permission=EXCHANGE_PERMISSION, status=status, code=code, host=host
            )
        return CredentialsError("token_rejected", status=status, code=code, host=host, detail=detail)
    if status == 403:
        if is_non_premium(body):
            return LicenseRequiredError(status=status, code=code, host=host, detail=detail)
        if permission == EXCHANGE_PERMISSION:
            return PermissionMissingError(
                "exchange", permission=EXCHANGE_PERMISSION, status=status, code=code, host=host, detail=detail
            )
        if permission:
            return PermissionMissingError(
                "graph", permission=permission, status=status, code=code, host=host, detail=detail
            )
        return ServiceError(status=status, code=code, host=host, detail=detail)
    if status == 404:
        return NotFoundError(status=status, code=code, host=host, detail=detail or urlsplit(url).path)
    if status == 429:
        return ThrottledError(status=status, code=code, host=host, attempts=attempts, retry_after=retry_after)
    if status in (502, 503, 504):
        return UnreachableError("unavailable", status=status, code=code, host=host, attempts=attempts)
    return ServiceError(status=status, code=code, host=host, detail=detail or f"HTTP {status}")


def parse_json_object(raw: bytes, url: str) -> dict[str, Any]:
    """The body as a JSON object, or ``MalformedResponseError`` naming what was wrong with it."""
    host = urlsplit(url).netloc
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MalformedResponseError(host=host, detail="the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise MalformedResponseError(host=host, detail=f"expected a JSON object, got {type(parsed).__name__}")
    return parsed


@dataclass
class _Attempt:
    """What one HTTP attempt produced, before deciding whether to retry."""

    status: int | None = None
    body: bytes = b""
    retry_after: float | None = None
    problem: str = ""  # "timeout" / "network" when there was no HTTP answer
    detail: str = ""


class M365Client:
    """Authenticated JSON over HTTPS to Graph and the Exchange admin API; open once per process."""

    def __init__(
        self,
        settings: M365Settings,
        *,
        tokens: TokenProvider | None = None,
        retry: RetryPolicy | None = None,
        request_timeout: float = 120.0,
        connect_timeout: float = 15.0,
        page_cap: int = 500,
        connection_limit: int = 20,
    ) -> None:
        self._settings = settings
        self._tokens = tokens or TokenProvider(settings)
        self._retry = retry or RetryPolicy()
        self._timeout = aiohttp.ClientTimeout(total=request_timeout, sock_connect=connect_timeout)
        self._page_cap = page_cap
        self._connection_limit = connection_limit
        self._session: aiohttp.ClientSession | None = None

    @property
    def settings(self) -> M365Settings:
        return self._settings

    @property
    def tokens(self) -> TokenProvider:
        return self._tokens

    async def start(self) -> None:
        """Open the session; the TLS context is built now so it sees the current SSL_CERT_FILE."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(), limit=self._connection_limit)
            self._session = aiohttp.ClientSession(
                connector=connector,
                trust_env=True,
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT},
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> M365Client:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def get_json(
        self, url: str, scope: str, *, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """GET ``url`` with a token for ``scope``; the decoded JSON object."""
        self._check_target(url, scope)
        return await self._request("GET", url, scope, None, headers)

    async def post_json(
        self, url: str, scope: str, body: Any, *, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """POST ``body`` as JSON to ``url`` with a token for ``scope``; the decoded JSON object."""
        self._check_target(url, scope)
        return await self._request("POST", url, scope, body, headers)

    async def pages(
        self,
        url: str,
        scope: str,
        *,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        page_cap: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Each page (the whole JSON object) of an OData list, following ``@odata.nextLink``.

        POST lists (Exchange InvokeCommand) send the same body to every next link, as the Exchange
        module does.
        """
        self._check_target(url, scope)
        cap = page_cap if page_cap is not None else self._page_cap
        seen: set[str] = set()
        next_url: str | None = url
        fetched = 0
        while next_url is not None:
            if fetched >= cap:
                log.warning("stopping after %d pages of %s", fetched, urlsplit(url).path)
                raise PagingLimitError(host=urlsplit(url).netloc, pages=fetched)
            page = await self._request(method, next_url, scope, body, headers)
            fetched += 1
            yield page
            next_url = self._next_link(page, next_url, scope, seen)

    async def paged(
        self,
        url: str,
        scope: str,
        *,
        page_cap: int | None = None,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """The items of an OData list, one page in memory at a time."""
        async for page in self.pages(
            url, scope, method=method, body=body, headers=headers, page_cap=page_cap
        ):
            value = page.get("value")
            if not isinstance(value, list):
                raise MalformedResponseError(host=urlsplit(url).netloc, detail="the page has no 'value' list")
            for item in value:
                if not isinstance(item, dict):
                    raise MalformedResponseError(
                        host=urlsplit(url).netloc, detail="a list item is not an object"
                    )
                yield item

    def _next_link(self, page: Mapping[str, Any], current: str, scope: str, seen: set[str]) -> str | None:
        link = page.get("@odata.nextLink")
        if link is None:
            return None
        host = urlsplit(current).netloc
        if not isinstance(link, str) or not link:
            raise MalformedResponseError(host=host, detail="@odata.nextLink is not a URL")
        absolute = urljoin(current, link)
        if absolute in seen or absolute == current:
            raise MalformedResponseError(
                host=host, detail="@odata.nextLink points back to a page already read"
            )
        if not same_service(absolute, _resource(scope)):
            raise MalformedResponseError(host=host, detail="@odata.nextLink points to another host")
        seen.add(absolute)
        return absolute

    def _check_target(self, url: str, scope: str) -> None:
        if not same_service(url, _resource(scope)):
            raise ValueError(f"refusing to send a token for {_resource(scope)} to {urlsplit(url).netloc}")

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            raise RuntimeError("M365Client is not started; call start() or use 'async with'")
        return self._session

    async def _request(
        self, method: str, url: str, scope: str, body: Any, headers: Mapping[str, str] | None
    ) -> dict[str, Any]:
        session = self._require_session()
        policy = self._retry
        token = await self._tokens.token(scope)
        refreshed = False
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            outcome = await self._attempt(session, method, url, token, body, headers)
            if outcome.status == 401 and not refreshed:
                refreshed = True
                attempt -= 1  # the refresh is not a retry of a transient failure
                log.info("%s %s answered 401; refreshing the token once", method, urlsplit(url).path)
                token = await self._tokens.refresh(scope, token)
                continue
            if outcome.status is not None and 200 <= outcome.status < 300:
                return parse_json_object(outcome.body, url)
            if outcome.status is not None and outcome.status not in RETRY_STATUSES:
                raise self._final(outcome, url, attempt)
            delay = backoff_delay(attempt, outcome.retry_after, policy)
            if attempt >= policy.max_attempts or waited + delay > policy.max_total_delay:
                raise self._final(outcome, url, attempt)
            log.warning(
                "%s %s: %s; retry %d of %d in %.1f s",
                method,
                urlsplit(url).path,
                outcome.status or outcome.problem,
                attempt,
                policy.max_attempts - 1,
                delay,
            )
            await policy.sleep(delay)
            waited += delay

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        token: str,
        body: Any,
        headers: Mapping[str, str] | None,
    ) -> _Attempt:
        request_id = str(uuid.uuid4())
        all_headers = {"Accept": "application/json", "client-request-id": request_id, **(headers or {})}
        all_headers["Authorization"] = f"Bearer {token}"
        started = time.monotonic()
        try:
            async with session.request(
                method, url, headers=all_headers, json=body if method != "GET" else None
            ) as response:
                raw = await response.read()
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                status = response.status
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
            count_m365(self._service(url), "tls")
            log.warning(
                "%s %s: TLS verification failed (%s)", method, urlsplit(url).netloc, type(exc).__name__
            )
            raise UnreachableError("tls", host=urlsplit(url).netloc) from None
        except asyncio.TimeoutError:
            count_m365(self._service(url), "timeout")
            log.info("%s %s timed out (client-request-id %s)", method, urlsplit(url).path, request_id)
            return _Attempt(problem="timeout")
        except aiohttp.ClientError as exc:
            reason = getattr(getattr(exc, "os_error", None), "strerror", None) or type(exc).__name__
            count_m365(self._service(url), "network")
            log.info("%s %s failed: %s", method, urlsplit(url).netloc, reason)
            return _Attempt(problem="network", detail=str(reason))
        count_m365(self._service(url), status)
        log.debug(
            "%s %s -> %d in %.0f ms (client-request-id %s)",
            method,
            url,
            status,
            (time.monotonic() - started) * 1000,
            request_id,
        )
        return _Attempt(status=status, body=raw, retry_after=retry_after)

    def _service(self, url: str) -> str:
        """The metrics label: Exchange's admin API or Graph."""
        return "exchange" if same_service(url, self._settings.exchange_endpoint) else "graph"

    def _final(self, outcome: _Attempt, url: str, attempts: int) -> M365Error:
        host = urlsplit(url).netloc
        if outcome.status is None:
            reason = "timeout" if outcome.problem == "timeout" else "network"
            error: M365Error = UnreachableError(
                reason, host=host, attempts=attempts, detail=outcome.detail or outcome.problem
            )
        else:
            text = outcome.body.decode("utf-8", errors="replace")
            error = error_for_status(
                outcome.status, text, url, attempts=attempts, retry_after=outcome.retry_after
            )
        log.warning(
            "request to %s%s failed: %s/%s (%s)",
            host,
            urlsplit(url).path,
            error.kind,
            error.reason,
            error.code,
        )
        return error


def _resource(scope: str) -> str:
    """``https://graph.microsoft.com/.default`` → ``https://graph.microsoft.com``."""
    return scope.removesuffix("/.default")
