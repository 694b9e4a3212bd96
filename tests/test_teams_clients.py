"""Connector clients and credentials that outlive a turn (``bot.teams.clients``, ``bot.teams.connector``).

Authenticated mode end to end on loopback: the Bot Framework channel's token issuer (OpenID metadata
and signing keys, HTTPS), the bot's Entra authority (``m365_fakes.FakeAuthority``, HTTPS), and the
fake Bot Connector. The bot is pointed at them with botbuilder's endpoint settings
(``ToChannelFromBotLoginUrl`` …) and checks every incoming token as in production.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from activities import TENANT, personal_message
from bot.alerts.delivery import DeliveryTimeout, Rejected, Transient
from bot.teams.proactive import ProactiveSender
from connector_fake import Fault, FakeConnector
from m365_fakes import CLIENT_ID, CLIENT_SECRET

CHANNEL_ISSUER = "https://api.botframework.com"
CONNECTOR_AUDIENCE = "https://api.botframework.com"  # the scope the bot asks its authority for
KEY_ID = "channel-signing-key"
CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "alert"}]}


class FakeChannelIssuer:
    """What the Bot Framework channel publishes to let bots check its tokens: metadata and keys.

    botbuilder fetches these with blocking ``requests`` calls on the event loop, so this server runs
    in a thread of its own (on the test's loop it would never get to answer).
    """

    def __init__(self, tls: ssl.SSLContext) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.metadata_requests = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/v1/.well-known/openidconfiguration":
                    issuer.metadata_requests += 1
                    keys = f"{issuer.base_url}/v1/keys"
                    body: dict[str, Any] = {"issuer": CHANNEL_ISSUER, "jwks_uri": keys}
                elif self.path == "/v1/keys":
                    jwk = json.loads(RSAAlgorithm.to_jwk(issuer.key.public_key()))
                    jwk.update(kid=KEY_ID, use="sig", endorsements=["msteams"])
                    body = {"keys": [jwk]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def token(self, service_url: str) -> str:
        """The token Teams puts on each activity it sends the bot."""
        now = int(time.time())
        claims = {
            "iss": CHANNEL_ISSUER,
            "aud": CLIENT_ID,
            "serviceurl": service_url,
            "nbf": now - 60,
            "exp": now + 3600,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KEY_ID})


@pytest.fixture
async def channel(m365):
    issuer = FakeChannelIssuer(m365.certificates.server_context)
    issuer.start()
    yield issuer
    issuer.close()


@pytest.fixture
async def second_connector():
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def signed_in_bot(make_bot, m365, channel):
    """The real app in authenticated mode (app id + secret) against the fakes."""
    return await make_bot(
        env={
            "MicrosoftAppId": CLIENT_ID,
            "MicrosoftAppPassword": CLIENT_SECRET,
            "ToChannelFromBotLoginUrl": f"{m365.authority.base_url}/{m365.authority.tenant}",
            "ToBotFromChannelOpenIdMetadataUrl": channel.metadata_url,
            "ToBotFromChannelTokenIssuer": CHANNEL_ISSUER,
        }
    )


async def signed_status(bot: Any, channel: FakeChannelIssuer, service_url: str, **kwargs: Any) -> None:
    activity = personal_message("/status", service_url, **kwargs)
    status, _ = await bot.post(activity, headers={"Authorization": f"Bearer {channel.token(service_url)}"})
    assert status == 200


def connectors(bot: Any) -> Any:
    """The app's connector clients, one per (app id, serviceUrl, audience)."""
    from app import ENDPOINT

    return bot.server.app[ENDPOINT].auth.connectors


def authorization(sent: Any) -> str:
    return sent.headers.get("Authorization", "")


async def test_turns_share_one_connector_client_and_one_app_token(signed_in_bot, channel, connector, m365):
    for _ in range(3):
        await signed_status(signed_in_bot, channel, connector.url)
    replies = connector.messages()
    assert len(replies) == 3 and all("38 days left" in json.dumps(r.activity) for r in replies)
    # Every reply is signed with a current token for the connector...
    assert all(m365.authority.validate(authorization(r), CONNECTOR_AUDIENCE) for r in replies)
    # ...and it is one token: built once, not per turn (which also meant a tenant discovery per turn).
    assert m365.authority.token_request_count == 1
    assert m365.authority.discovery_requests == 1
    assert len({authorization(r) for r in replies}) == 1
    assert len(connectors(signed_in_bot)) == 1


async def test_another_service_url_gets_its_own_client(
    signed_in_bot, channel, connector, second_connector, m365
):
    await signed_status(signed_in_bot, channel, connector.url)
    await signed_status(signed_in_bot, channel, second_connector.url, conversation_id="a:personal-chat-2")
    await signed_status(signed_in_bot, channel, connector.url)
    assert [r.conversation_id for r in connector.messages()] == ["a:personal-chat-1", "a:personal-chat-1"]
    assert [r.conversation_id for r in second_connector.messages()] == ["a:personal-chat-2"]
    signed = connector.messages() + second_connector.messages()
    assert all(m365.authority.validate(authorization(r), CONNECTOR_AUDIENCE) for r in signed)
    assert m365.authority.token_request_count == 1  # one app, one audience: the credentials are shared
    assert len(connectors(signed_in_bot)) == 2


async def test_a_token_near_its_expiry_is_renewed(signed_in_bot, channel, connector, m365):
    m365.authority.expires_in = 120  # inside msal's five-minute margin: due for renewal at once
    await signed_status(signed_in_bot, channel, connector.url)
    await signed_status(signed_in_bot, channel, connector.url)
    assert m365.authority.token_request_count == 2
    m365.authority.expires_in = 3600
    await signed_status(signed_in_bot, channel, connector.url)
    await signed_status(signed_in_bot, channel, connector.url)
    assert m365.authority.token_request_count == 3

    first, second, third, fourth = (authorization(r) for r in connector.messages())
    assert len({first, second, third}) == 3 and fourth == third
    assert m365.authority.validate(fourth, CONNECTOR_AUDIENCE)


async def test_a_proactive_send_reuses_the_turns_client_and_token(signed_in_bot, channel, connector, m365):
    from app import ADAPTER

    await signed_status(signed_in_bot, channel, connector.url)
    record = await signed_in_bot.services.conversations.get(TENANT, "a:personal-chat-1")
    sender = ProactiveSender(signed_in_bot.server.app[ADAPTER], CLIENT_ID)

    async def gate() -> None:
        return None

    assert await sender.send(record, CARD, gate=gate, timeout=5.0)
    [_, alert] = connector.messages()
    assert alert.reply_to is None and alert.cards[0]["body"][0]["text"] == "alert"
    assert m365.authority.validate(authorization(alert), CONNECTOR_AUDIENCE)
    assert m365.authority.token_request_count == 1


async def test_no_secret_or_token_reaches_the_log(signed_in_bot, channel, connector, m365, caplog):
    caplog.set_level(logging.DEBUG)
    connector.inject("a:personal-chat-1", Fault(status=502))  # a retried reply logs too
    await signed_status(signed_in_bot, channel, connector.url)
    await signed_status(signed_in_bot, channel, connector.url, conversation_id="a:personal-chat-3")
    inbound = channel.token(connector.url).split(".")[2]
    logged = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
    assert "Bot Connector POST failed (502)" in logged
    assert CLIENT_SECRET not in logged
    assert not any(token in logged or token.split(".")[2] in logged for token in m365.issued_tokens())
    assert inbound not in logged


# --- local mode: retries and the shared session ------------------------------------------------


async def test_a_reply_the_connector_failed_with_a_5xx_is_sent_again(make_bot, connector):
    bot = await make_bot()
    connector.inject("a:personal-chat-1", Fault(status=502))
    status, _ = await bot.post(personal_message("/status", connector.url))
    assert status == 200
    assert [a.status for a in connector.attempts] == [502, 200]
    [reply] = connector.messages()
    assert "38 days left" in json.dumps(reply.activity)
    assert "Authorization" not in reply.headers  # local mode: no app id, no token


async def test_a_reply_refused_with_501_is_not_retried(make_bot, connector):
    bot = await make_bot()
    connector.inject("a:personal-chat-1", Fault(status=501))
    await bot.post(personal_message("/status", connector.url))
    # One attempt for the card, then the turn's error message (which the connector accepts).
    assert [a.status for a in connector.attempts] == [501, 200]
    [apology] = connector.messages()
    assert apology.activity.get("text") and not apology.cards


async def test_replies_ignore_proxy_settings_in_the_environment(make_bot, connector, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    bot = await make_bot()
    await bot.post(personal_message("/status", connector.url))
    assert len(connector.cards()) == 1


@pytest.mark.parametrize(
    "fault, error",
    [(Fault(status=502), Transient), (Fault(status=503), Rejected), (Fault(hang=True), DeliveryTimeout)],
)
async def test_a_proactive_send_is_one_attempt_and_a_typed_error(make_bot, connector, fault, error):
    from app import ADAPTER

    bot = await make_bot()
    await bot.post(personal_message("/help", connector.url))
    record = await bot.services.conversations.get(TENANT, "a:personal-chat-1")
    connector.clear()
    connector.inject("a:personal-chat-1", fault)
    sender = ProactiveSender(bot.server.app[ADAPTER], "")

    async def gate() -> None:
        return None

    with pytest.raises(error):
        await sender.send(record, CARD, gate=gate, timeout=0.5)
    assert len(connector.attempts) == 1  # bot.alerts.delivery decides about retries, not the SDK
    # The same cached client still retries turn replies: the proactive policy was for that send only.
    connector.clear()
    connector.inject("a:personal-chat-1", Fault(status=502))
    await bot.post(personal_message("/status", connector.url))
    assert [a.status for a in connector.attempts] == [502, 200]


# --- the reply body ------------------------------------------------------------------------------


async def test_reply_bodies_are_what_botbuilders_serializer_makes(make_bot, connector):
    from enum import Enum

    from botbuilder.core import CardFactory, MessageFactory, TurnContext
    from botbuilder.schema import Activity
    from botframework.connector import models
    from msrest import Serializer

    from bot.teams.connector import activity_json

    bot = await make_bot()
    await bot.post(personal_message("/status", connector.url, locale="ja-JP"))
    [status_card] = connector.cards()

    class Size(str, Enum):
        LARGE = "Large"

    odd_card = {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "size": Size.LARGE, "items": ("a", "b")}]}
    sdk = Serializer({k: v for k, v in vars(models).items() if isinstance(v, type)})  # as ConnectorClient builds it
    incoming = Activity().deserialize(personal_message("/status", connector.url))
    for cards in ([status_card], [status_card, odd_card], [odd_card], []):
        reply = MessageFactory.carousel([CardFactory.adaptive_card(c) for c in cards], text="hi")
        reply = TurnContext.apply_conversation_reference(reply, TurnContext.get_conversation_reference(incoming))
        before = reply.serialize()
        assert activity_json(reply) == sdk.body(reply, "Activity")
        assert reply.serialize() == before  # the caller's activity is left as it was
