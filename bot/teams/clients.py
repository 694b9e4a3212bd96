"""Bot Connector clients and app credentials that live as long as the process, not one turn.

``ConfigurationBotFrameworkAuthentication`` builds, for every incoming activity and every proactive
send, a new ``ConnectorClient`` (msrest pipeline, serializers, a ``requests`` session), a new
``UserTokenClient`` and new app credentials. New credentials mean a new msal application with an
empty token cache, so in authenticated mode every turn also paid for an AAD tenant discovery and a
token request. Profiling put this at a large share of the CPU time of a ``/status`` turn.

``CachingBotFrameworkAuthentication`` keeps:

* credentials per (app id, scope, login endpoint): msal's token cache then lives as long as the
  process, and msal itself renews a token when it is within five minutes of expiry;
* connector clients per (app id, serviceUrl, audience), a bounded LRU (64 by default): Teams uses a
  handful of regional serviceUrls, and a client is only an address plus the shared credentials;
* one user-token client per app id.

Each cached connector client is a ``bot.teams.connector.FastConnectorClient``: the calls a turn
makes go over the process's one aiohttp session (``ConnectorHttp``, closed by ``close()``), with
the ``Authorization`` header from the cached credentials.

Inbound authentication is untouched: every request is still validated by botbuilder.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Hashable, TypeVar

from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from msrest.authentication import Authentication

from bot.lru import LruMap
from bot.teams.connector import ConnectorHttp, FastConnectorClient, bearer_token

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_CONNECTORS = 64


class Lru(LruMap[K, V]):
    """Bounded, least recently used first out; a miss builds the value under ``await``."""

    async def get_or_build(self, key: K, build: Callable[[], Awaitable[V]]) -> V:
        value = self.get(key)
        if value is not None:
            return value
        # Two turns may have built one each meanwhile; keep the first so later turns share it.
        return self.put(key, await build(), keep_existing=True)


def app_id_of(claims_identity: ClaimsIdentity) -> str | None:
    """The bot's app id as botbuilder derives it: the audience of a channel token, else the appid claim."""
    claims = claims_identity.claims if claims_identity is not None else {}
    audience = claims.get(AuthenticationConstants.AUDIENCE_CLAIM)
    return audience or claims.get(AuthenticationConstants.APP_ID_CLAIM)


class CachedCredentialsFactory(ServiceClientCredentialsFactory):
    """The configured credentials factory, remembering what it built (failures are not remembered)."""

    def __init__(self, inner: ServiceClientCredentialsFactory, max_entries: int = 16) -> None:
        self._inner = inner
        self._credentials: Lru[tuple[Any, ...], Authentication] = Lru(max_entries)

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self._inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self._inner.is_authentication_disabled()

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        return await self._credentials.get_or_build(
            (app_id, oauth_scope, login_endpoint, validate_authority),
            lambda: self._inner.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority),
        )


class _CachingConnectorFactory(ConnectorFactory):
    """What botbuilder hands a turn to make its connector client: served from the process-wide cache."""

    def __init__(
        self, inner: ConnectorFactory, app_id: str | None, owner: CachingBotFrameworkAuthentication
    ) -> None:
        self._inner = inner
        self._app_id = app_id
        self._owner = owner

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        audience = audience or self._owner.get_originating_audience()
        return await self._owner.connectors.get_or_build(
            (self._app_id, service_url, audience),
            lambda: self._owner.build_connector(self._inner, service_url, audience),
        )


class CachingBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication):
    """``ConfigurationBotFrameworkAuthentication`` whose outbound clients and credentials are reused."""

    def __init__(self, configuration: Any, *, max_connectors: int = MAX_CONNECTORS) -> None:
        self.credentials_factory = CachedCredentialsFactory(
            ConfigurationServiceClientCredentialFactory(configuration)
        )
        super().__init__(configuration, credentials_factory=self.credentials_factory)
        self.connectors: Lru[tuple[str | None, str, str], FastConnectorClient] = Lru(max_connectors)
        self._user_token_clients: Lru[str | None, UserTokenClient] = Lru(8)
        self.http = ConnectorHttp()

    async def close(self) -> None:
        await self.http.close()

    async def build_connector(
        self, inner: ConnectorFactory, service_url: str, audience: str
    ) -> FastConnectorClient:
        """A new client for one (app id, serviceUrl, audience); called on a cache miss only.

        botbuilder's own client is built as usual (credentials, address) and kept for the calls
        ``FastConnectorClient`` does not make itself."""
        fallback = await inner.create(service_url, audience)
        token = bearer_token(fallback.config.credentials)
        return FastConnectorClient(service_url, fallback, self.http, token)

    def _caching(self, factory: ConnectorFactory, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _CachingConnectorFactory(factory, app_id_of(claims_identity), self)

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._caching(result.connector_factory, result.claims_identity)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._caching(super().create_connector_factory(claims_identity), claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        """One per app id: it only holds the app's credentials and the token service's address."""
        build = super().create_user_token_client
        return await self._user_token_clients.get_or_build(app_id_of(claims_identity), lambda: build(claims_identity))
