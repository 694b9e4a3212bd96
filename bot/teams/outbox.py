"""``bot.devices.outbox.Outbox`` over the Bot Connector: post a card, update it in place, offer a file.

Messages go to a conversation the bot has a stored reference for (every message to the bot saves
one before it is answered), through ``CloudAdapter.continue_conversation``, so a background scan
can keep updating the one message that shows its progress long after the turn that started it.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, Attachment

from bot.devices.outbox import FileOffer
from bot.storage.conversations import ConversationStore
from bot.teams.proactive import reference_for
from bot.turn import ConversationKey

log = logging.getLogger(__name__)

FILE_CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"


def consent_attachment(offer: FileOffer) -> Attachment:
    """The FileConsentCard Teams shows as "Allow / Decline" (msteams-docs bots-filesv4)."""
    return Attachment(
        content_type=FILE_CONSENT_CARD,
        name=offer.name,
        content={
            "description": offer.description,
            "sizeInBytes": offer.size,
            "acceptContext": dict(offer.context),
            "declineContext": dict(offer.context),
        },
    )


class TeamsOutbox:
    def __init__(self, adapter: CloudAdapter, app_id: str, conversations: ConversationStore) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._conversations = conversations

    async def _send(self, conversation: ConversationKey, activity: Activity, update: bool = False) -> str | None:
        record = await self._conversations.get(conversation.tenant_id, conversation.conversation_id)
        if record is None:
            log.warning("no stored reference for a %s conversation; cannot post", conversation.conversation_type)
            return None
        reference = reference_for(record)
        result: dict[str, Any] = {}

        async def callback(turn_context: TurnContext) -> None:
            if update:
                await turn_context.update_activity(activity)
                result["id"] = activity.id
            else:
                response = await turn_context.send_activity(activity)
                result["id"] = response.id if response else None

        await self._adapter.continue_conversation(reference, callback, self._app_id)
        return result.get("id")

    async def post(self, conversation: ConversationKey, card: Mapping[str, Any]) -> str | None:
        return await self._send(conversation, MessageFactory.attachment(CardFactory.adaptive_card(dict(card))))

    async def update(self, conversation: ConversationKey, activity_id: str, card: Mapping[str, Any]) -> None:
        activity = MessageFactory.attachment(CardFactory.adaptive_card(dict(card)))
        activity.id = activity_id
        await self._send(conversation, activity, update=True)

    async def offer_file(self, conversation: ConversationKey, offer: FileOffer) -> None:
        await self._send(conversation, MessageFactory.attachment(consent_attachment(offer)))
