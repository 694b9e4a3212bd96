"""Bot Connector calls over one shared aiohttp session instead of msrest + ``requests`` on a thread pool.

botbuilder's ``ConnectorClient`` sends every reply through msrest's pipeline and ``requests``, run
in the default thread pool: each reply cost a thread hop, a contended GIL and a second copy of the
work on the CPU the event loop needs. ``FastConnectorClient`` does the four calls a turn makes
(``reply_to_activity``, ``send_to_conversation``, ``update_activity``, ``delete_activity``) on the
event loop with one ``aiohttp.ClientSession`` for the whole process, and hands anything else
(member lists, attachments, …) to the msrest client it wraps.

Behaviour kept from the SDK: the same URL, headers and JSON body (``activity_json``: msrest's
serializer, minus its slow copy of card JSON), a bounded time per request, and for turn replies
the SDK's retry rule (connection errors, 408 and 5xx except 501/505, three attempts, 0.8 s backoff
doubling). Proactive sends use ``SendPolicy.once``: one attempt, the caller's timeout, because
``bot.alerts.delivery`` owns their retries. ``trust_env=False``: no proxy or netrc from the
environment. Tokens come from the cached app credentials (``bot.teams.clients``), are fetched off
the event loop, and never reach a log or an exception message.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import ssl
import time
import weakref
from dataclasses import dataclass
from typing import Any, AsyncGenerator, AsyncIterator
from urllib.parse import quote

import aiohttp
import jwt
import msal
from botbuilder.schema import Activity, ResourceResponse
from botframework.connector import models as connector_models
from botframework.connector.about import __version__ as botframework_version
from botframework.connector.auth import AuthenticationConstants, MicrosoftAppCredentials
from msrest import Serializer
from msrest.authentication import Authentication

from bot import __version__
from bot.m365.tokens import is_known_cloud
from bot.retry import backoff_delay

log = logging.getLogger(__name__)

USER_AGENT = (
    f"Microsoft-BotFramework/3.1 (BotBuilder Python/{botframework_version}) smtp-auth-readiness/{__version__}"
)
RETRY_STATUSES = frozenset({408} | {code for code in range(500, 600) if code not in (501, 505)})
TOKEN_MARGIN = 300.0
"""Seconds before expiry at which a token is renewed: msal's own margin, so we never send one it would not."""

_serializer = Serializer({k: v for k, v in vars(connector_models).items() if isinstance(v, type)})
"""The serializer botbuilder's ``ConnectorClient`` builds (per client) for the same models."""
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain_json(value: Any) -> bool:
    """True for exactly-typed JSON (dict with str keys, list, str, int, float, bool, None): what msrest
    turns into an equal copy of itself."""
    kind = type(value)
    if kind is dict:
        return all(type(key) is str and _plain_json(item) for key, item in value.items())
    if kind is list:
        return all(_plain_json(item) for item in value)
    return kind in _JSON_SCALARS


def _card_like(content: Any) -> bool:
    return type(content) in (dict, list) and _plain_json(content)


def activity_json(activity: Activity) -> dict[str, Any]:
    """The body ``ConnectorClient`` would send for ``activity``, at a fraction of the CPU.

    msrest walks an Adaptive Card (an attachment's ``content``) value by value to copy it unchanged,
    which was half the CPU of a ``/status`` turn. Contents that are plain JSON are left out of that
    walk and put back into the result as they are; anything else goes through msrest as before.
    The caller's activity is not changed.
    """
    attachments = activity.attachments or []
    plain = {n: item.content for n, item in enumerate(attachments) if _card_like(item.content)}
    if not plain:
        return _serializer.body(activity, "Activity")  # type: ignore[no-any-return]
    shallow = copy.copy(activity)
    shallow.attachments = [copy.copy(a) for a in attachments]
    for n in plain:
        shallow.attachments[n].content = None  # omitted by msrest, like any attribute that is None
    body: dict[str, Any] = _serializer.body(shallow, "Activity")
    for n, content in plain.items():
        body["attachments"][n]["content"] = content
    return body


@dataclass(frozen=True)
class SendPolicy:
    """How long one attempt may take, how many attempts, and the first backoff (doubling after)."""

    timeout: float = 15.0
    attempts: int = 3
    backoff: float = 0.8

    @staticmethod
    def once(timeout: float) -> SendPolicy:
        return SendPolicy(timeout=timeout, attempts=1, backoff=0.0)


REPLY_POLICY = SendPolicy()
Answer = ResourceResponse | None


class ConnectorError(Exception):
    """The connector answered with a non-2xx status. Holds no body, header values or token."""

    def __init__(self, status: int, method: str, retry_after: str | None = None) -> None:
        super().__init__(f"the Bot Connector answered {status} to {method}")
        self.status = status
        self.retry_after = retry_after


def _retryable(error: BaseException) -> bool:
    """Connection failures before an answer; a timed-out request may have been posted, so not that."""
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return True  # never connected: nothing was sent
    return isinstance(error, aiohttp.ClientConnectionError) and not isinstance(error, asyncio.TimeoutError)


def _prepare_msal(credentials: MicrosoftAppCredentials) -> None:
    """botbuilder creates the msal app with authority validation on whatever the configuration says;
    for a login host that is not Microsoft's (a private cloud, a test authority) msal would then ask
    login.microsoftonline.com about it. Build it here, as botbuilder would, minus that question."""
    if credentials.app is None and not is_known_cloud(credentials.oauth_endpoint):
        credentials.app = msal.ConfidentialClientApplication(
            client_id=credentials.microsoft_app_id,
            client_credential=credentials.microsoft_app_password,
            authority=credentials.oauth_endpoint,
            validate_authority=False,
            instance_discovery=False,
        )


def _token_expiry(token: str) -> float | None:
    """``exp`` of an AAD access token (a JWT); None if it cannot be read, and then nothing is memoised."""
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return float(exp) if isinstance(exp, (int, float)) else None


class BearerToken:
    """The ``Authorization`` header for one app credential, renewed ``TOKEN_MARGIN`` s before it expires.

    msal (inside the credentials) caches the token; asking it costs a lock and a cache search, and
    when the token is due it makes blocking HTTPS calls. So the header is kept until the token's own
    expiry minus the margin, and msal is only asked, in a worker thread, after that.
    """

    def __init__(self, credentials: Authentication) -> None:
        self._credentials = credentials
        self._header: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()
        app_id = getattr(credentials, "microsoft_app_id", None)
        self.anonymous = not app_id or app_id == AuthenticationConstants.ANONYMOUS_SKILL_APP_ID

    async def header(self) -> str | None:
        if self.anonymous:
            return None
        if self._header is not None and time.time() < self._renew_at:
            return self._header
        async with self._lock:
            if self._header is not None and time.time() < self._renew_at:
                return self._header
            token = await asyncio.to_thread(self._fetch)
            expiry = _token_expiry(token)
            self._header = f"Bearer {token}"
            self._renew_at = expiry - TOKEN_MARGIN if expiry is not None else 0.0
            return self._header

    def _fetch(self) -> str:
        if isinstance(self._credentials, MicrosoftAppCredentials):
            _prepare_msal(self._credentials)
        return str(self._credentials.get_access_token())


_tokens: weakref.WeakKeyDictionary[Authentication, BearerToken] = weakref.WeakKeyDictionary()


def bearer_token(credentials: Authentication) -> BearerToken:
    """One ``BearerToken`` per credentials object, however many connector clients share it."""
    token = _tokens.get(credentials)
    if token is None:
        token = _tokens[credentials] = BearerToken(credentials)
    return token


async def _closed_with_the_loop(session: aiohttp.ClientSession) -> AsyncIterator[None]:
    """Parked after its first step, this generator is closed by the event loop when the loop shuts
    down (``shutdown_asyncgens``, which ``asyncio.run`` and aiohttp's ``run_app`` call), closing the
    session: a CLI run or a test that never calls ``close()`` leaves no connection open."""
    try:
        yield
    finally:
        await session.close()


class ConnectorHttp:
    """The process's one aiohttp session to Bot Connectors.

    ``close()`` when the app stops; if nobody does, the session still closes with its event loop.
    """

    def __init__(self, *, connection_limit: int = 100) -> None:
        self._connection_limit = connection_limit
        self._session: aiohttp.ClientSession | None = None
        self._keeper: AsyncGenerator[None, None] | None = None

    async def session(self) -> aiohttp.ClientSession:
        """Made on first use, inside the running loop (an aiohttp session belongs to one loop)."""
        if self._session is None or self._session.closed:
            tcp = aiohttp.TCPConnector(ssl=ssl.create_default_context(), limit=self._connection_limit)
            self._session = aiohttp.ClientSession(connector=tcp, trust_env=False, raise_for_status=False)
            self._keeper = _closed_with_the_loop(self._session)
            await anext(self._keeper)
        return self._session

    async def close(self) -> None:
        keeper, self._keeper, self._session = self._keeper, None, None
        if keeper is not None:
            await keeper.aclose()

    async def request(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, policy: SendPolicy
    ) -> Any:
        """The parsed JSON answer of a 2xx (None if it had none); ``ConnectorError`` otherwise."""
        timeout = aiohttp.ClientTimeout(total=policy.timeout)
        attempt = 0
        while True:
            attempt += 1
            may_retry = attempt < policy.attempts
            try:
                session = await self.session()
                sending = session.request(method, url, headers=headers, data=body, timeout=timeout)
                async with sending as answer:
                    if 200 <= answer.status < 300:
                        return _json_or_none(await answer.read())
                    if not (may_retry and answer.status in RETRY_STATUSES):
                        raise ConnectorError(answer.status, method, answer.headers.get("Retry-After"))
                    failure = str(answer.status)
            except aiohttp.ClientError as error:
                if not (may_retry and _retryable(error)):
                    raise
                failure = type(error).__name__
            log.info(
                "Bot Connector %s failed (%s), attempt %d of %d; retrying",
                method, failure, attempt, policy.attempts
            )
            await asyncio.sleep(backoff_delay(attempt, base=policy.backoff))


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return None


class _Conversations:
    """The conversation calls a turn makes, on aiohttp; the rest go to msrest's operations."""

    def __init__(self, client: FastConnectorClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client.fallback.conversations, name)

    async def reply_to_activity(self, conversation_id: str, activity_id: str, activity: Activity) -> Answer:
        return await self._client.send_activity("POST", conversation_id, activity_id, activity)

    async def send_to_conversation(self, conversation_id: str, activity: Activity) -> Answer:
        return await self._client.send_activity("POST", conversation_id, None, activity)

    async def update_activity(self, conversation_id: str, activity_id: str, activity: Activity) -> Answer:
        return await self._client.send_activity("PUT", conversation_id, activity_id, activity)

    async def delete_activity(self, conversation_id: str, activity_id: str) -> None:
        url = self._client.activity_url(conversation_id, activity_id)
        await self._client.call("DELETE", url, conversation_id, None)


class FastConnectorClient:
    """Stands in for botbuilder's ``ConnectorClient`` (``conversations``; ``config``, ``attachments``… via
    the fallback)."""

    def __init__(
        self,
        service_url: str,
        fallback: Any,
        http: ConnectorHttp,
        token: BearerToken,
        policy: SendPolicy = REPLY_POLICY,
    ) -> None:
        self.service_url = service_url
        self.fallback = fallback
        self.http = http
        self.token = token
        self.policy = policy
        self.conversations = _Conversations(self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fallback, name)

    def with_policy(self, policy: SendPolicy) -> FastConnectorClient:
        """The same client with other timeouts and retries, for one caller (the shared one is not changed)."""
        return FastConnectorClient(self.service_url, self.fallback, self.http, self.token, policy)

    def activity_url(self, conversation_id: str, activity_id: str | None) -> str:
        url = f"{self.service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities"
        return f"{url}/{quote(activity_id, safe='')}" if activity_id else url

    async def send_activity(
        self, method: str, conversation_id: str, activity_id: str | None, activity: Activity
    ) -> Answer:
        body = json.dumps(activity_json(activity), separators=(",", ":")).encode()
        url = self.activity_url(conversation_id, activity_id)
        answer = await self.call(method, url, conversation_id, body)
        return ResourceResponse(id=answer.get("id")) if isinstance(answer, dict) else None

    async def call(self, method: str, url: str, conversation_id: str, body: bytes | None) -> Any:
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "x-ms-conversation-id": conversation_id,
        }
        authorization = await self.token.header()
        if authorization:
            headers["Authorization"] = authorization
        return await self.http.request(method, url, headers, body, self.policy)
