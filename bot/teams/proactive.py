"""Proactive alerts through the Bot Connector: a stored reference in, a new message out, typed errors back.

The only alerts module that imports botbuilder. It rebuilds the ``ConversationReference`` saved
when the bot was installed or spoken to, and posts the card with ``send_to_conversation`` so a
channel gets a new post rather than a reply in an old thread. HTTP failures become the plain
errors in ``bot.alerts.delivery``; retrying is the caller's business, so the send is made with
``SendPolicy.once``: one attempt within the caller's time (turn replies on the same cached
connector client keep their own retries; the policy is changed for this send only).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import aiohttp
import requests
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.alerts.delivery import DeliveryError, DeliveryTimeout, Gate, Rejected, Transient, classify
from bot.storage.conversations import ConversationRecord
from bot.teams.connector import ConnectorError, FastConnectorClient, SendPolicy

log = logging.getLogger(__name__)


def reference_for(record: ConversationRecord) -> ConversationReference:
    """The stored reference, pointed at the conversation itself (a channel, not one of its threads)."""
    reference = ConversationReference().deserialize(dict(record.reference))
    reference.activity_id = None
    reference.service_url = record.service_url
    if reference.conversation is not None:
        reference.conversation.id = record.conversation_id
    return reference


def to_delivery_error(error: BaseException) -> DeliveryError:
    """Map what the send raised to a delivery error, without response bodies or tokens.

    Sends go through ``bot.teams.connector`` (``ConnectorError``, aiohttp errors); msrest's errors
    are still mapped for calls that fall back to botbuilder's own client."""
    if isinstance(error, DeliveryError):
        return error
    if isinstance(error, asyncio.TimeoutError):
        return DeliveryTimeout("the connector did not answer in time")
    if isinstance(error, ConnectorError):
        return classify(error.status, error.retry_after, datetime.now(timezone.utc))
    if isinstance(error, aiohttp.ClientError):
        return Transient(f"request failed ({type(error).__name__})")
    if isinstance(error, HttpOperationError) and getattr(error, "response", None) is not None:
        response = error.response
        status = int(getattr(response, "status_code", 0) or 0)
        headers = getattr(response, "headers", None) or {}
        return classify(status, headers.get("Retry-After"), datetime.now(timezone.utc))
    if isinstance(error, ClientRequestError):
        inner = getattr(error, "inner_exception", None)
        if isinstance(inner, requests.exceptions.ReadTimeout):
            return DeliveryTimeout("the connector did not answer in time")
        return Transient(f"request failed ({type(inner).__name__ if inner else 'unknown'})")
    return Rejected(f"unexpected {type(error).__name__}")


class ProactiveSender:
    """Posts Adaptive Cards to saved conversations through the app's CloudAdapter."""

    def __init__(self, adapter: CloudAdapter, app_id: str, *, http_timeout: float = 12.0) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._http_timeout = http_timeout

    async def send(
        self, conversation: ConversationRecord, card: Mapping[str, Any], *, gate: Gate, timeout: float
    ) -> str | None:
        reference = reference_for(conversation)
        result: dict[str, Any] = {}

        async def post(turn_context: TurnContext) -> None:
            key = self._adapter.BOT_CONNECTOR_CLIENT_KEY
            client = turn_context.turn_state.get(key)
            if not isinstance(client, FastConnectorClient):
                result["error"] = Rejected("the adapter's connector client cannot send without retries")
                return
            once = SendPolicy.once(min(self._http_timeout, timeout))
            turn_context.turn_state[key] = client.with_policy(once)
            activity = TurnContext.apply_conversation_reference(
                MessageFactory.attachment(CardFactory.adaptive_card(dict(card))), reference
            )
            activity.reply_to_id = None  # a new message (a new post in a channel), not a reply
            await gate()
            try:
                responses = await asyncio.wait_for(
                    turn_context.adapter.send_activities(turn_context, [activity]), timeout
                )
                result["id"] = responses[0].id if responses else None
            except Exception as error:  # noqa: BLE001 - mapped to a typed error below, outside the turn
                result["error"] = error

        try:
            # botbuilder 4.17 CloudAdapter: (reference, callback, bot_app_id).
            await self._adapter.continue_conversation(reference, post, self._app_id)
        except Exception as error:  # noqa: BLE001 - e.g. credentials could not be obtained
            raise to_delivery_error(error) from None
        if "error" in result:
            raise to_delivery_error(result["error"]) from None
        return result.get("id")
