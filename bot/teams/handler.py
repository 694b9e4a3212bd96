"""The activity handler: Teams activities in, plain ``TurnInput`` to the dispatcher, cards out."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from typing import Any, AsyncIterator

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
)

from bot import dispatch
from bot.actions import run_action
from bot.commands import clean_text
from bot.i18n import pick_language, pick_timezone
from bot.services import Services
from bot.storage.conversations import ConversationRecord
from bot.turn import ConversationKey, Reply, TurnInput
from cards.help import build_welcome_card

log = logging.getLogger(__name__)

TEAM_GONE = frozenset({"teamDeleted", "teamHardDeleted", "teamArchived"})
"""The bot can no longer post anywhere in the team. An archived team is read-only until it is
unarchived; its references are deleted rather than kept unused (alerts to it would fail with 403),
and ``TEAM_BACK`` saves the team's reference again when it returns."""
TEAM_BACK = frozenset({"teamUnarchived", "teamRestored"})


def tenant_of(activity: Activity) -> str:
    data = activity.channel_data or {}
    tenant = (data.get("tenant") or {}).get("id") if isinstance(data, dict) else None
    if not tenant and activity.conversation is not None:
        tenant = activity.conversation.tenant_id
    return (tenant or "").lower()


def _channel_data(activity: Activity) -> dict[str, Any]:
    return activity.channel_data if isinstance(activity.channel_data, dict) else {}


def team_of(activity: Activity) -> str | None:
    team = _channel_data(activity).get("team")
    return str(team["id"]) if isinstance(team, dict) and team.get("id") else None


def event_type(activity: Activity) -> str:
    """Teams' ``channelData.eventType`` on a conversationUpdate ("teamDeleted", "channelDeleted", …)."""
    event = _channel_data(activity).get("eventType")
    return event if isinstance(event, str) else ""


def conversation_record(activity: Activity) -> ConversationRecord:
    reference = TurnContext.get_conversation_reference(activity).serialize()
    reference.pop("activityId", None)
    data = _channel_data(activity)
    return ConversationRecord(
        tenant_id=tenant_of(activity),
        conversation_id=activity.conversation.id,
        conversation_type=activity.conversation.conversation_type or "personal",
        service_url=activity.service_url,
        bot_id=activity.recipient.id if activity.recipient else "",
        reference=reference,
        team_id=(data.get("team") or {}).get("id"),
        channel_id=(data.get("channel") or {}).get("id"),
    )


def _client_timezone(activity: Activity) -> str | None:
    for entity in activity.entities or []:
        props = entity.additional_properties or {}
        if entity.type == "clientInfo" and props.get("timezone"):
            return str(props["timezone"])
    return None


def _bot_mentions(activity: Activity) -> tuple[str, ...]:
    recipient = activity.recipient.id if activity.recipient else None
    texts = []
    for entity in activity.entities or []:
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") or {}
        if entity.type == "mention" and mentioned.get("id") == recipient and props.get("text"):
            texts.append(str(props["text"]))
    return tuple(texts)


def _value_command(activity: Activity) -> str:
    """Action.Submit buttons from older clients post ``{"command": "/x"}`` instead of text."""
    value = activity.value if isinstance(activity.value, dict) else {}
    command = value.get("command") if isinstance(value.get("command"), str) else ""
    return command


def _invoke_error(status: int, code: str, message: str) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(
        status_code=status, type="application/vnd.microsoft.error", value={"code": code, "message": message}
    )


@asynccontextmanager
async def typing_while_slow(context: TurnContext, delay: float) -> AsyncIterator[None]:
    """Show "typing…" only if the answer takes longer than ``delay`` seconds (0: always show it)."""
    if delay <= 0:
        await context.send_activity(Activity(type=ActivityTypes.typing))
        yield
        return

    async def later() -> None:
        await asyncio.sleep(delay)
        await context.send_activity(Activity(type=ActivityTypes.typing))

    task = asyncio.create_task(later())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await task


class ReadinessBot(TeamsActivityHandler):
    def __init__(self, services: Services) -> None:
        self.services = services

    def turn_input(self, activity: Activity) -> TurnInput:
        settings = self.services.settings
        text = clean_text(activity.text, _bot_mentions(activity)) if activity.text else ""
        text = text or clean_text(_value_command(activity))
        user = activity.from_property or ChannelAccount()
        aad_id = (user.aad_object_id or "").lower() or None
        conversation = activity.conversation
        return TurnInput(
            text=text,
            args="",
            lang=pick_language(activity.locale, settings.default_language),
            tz=pick_timezone([activity.local_timezone, _client_timezone(activity)], settings.default_timezone),
            now=self.services.clock(),
            user_id=user.id,
            user_aad_id=aad_id,
            user_name=user.name,
            conversation=ConversationKey(
                tenant_id=tenant_of(activity),
                conversation_id=conversation.id if conversation else "",
                conversation_type=(conversation.conversation_type if conversation else None) or "personal",
            ),
            is_admin=bool(aad_id) and aad_id in settings.admin_user_ids,
            value=activity.value if isinstance(activity.value, dict) else None,
        )

    async def remember(self, activity: Activity) -> None:
        if activity.conversation is None or not activity.service_url:
            return
        if await self.services.conversations.save(conversation_record(activity), self.services.clock()):
            log.info("saved conversation reference (%s)", activity.conversation.conversation_type or "personal")

    async def forget(self, activity: Activity, why: str = "bot removed") -> None:
        """Delete the reference of this conversation or, in a team, of every channel of the team:
        the bot cannot post in any of them any more."""
        if activity.conversation is None:
            return
        tenant = tenant_of(activity)
        conversations = self.services.conversations
        doomed = {activity.conversation.id}
        team = team_of(activity)
        if team:
            doomed.add(team)
            records = await conversations.all(tenant)
            doomed.update(record.conversation_id for record in records if record.team_id == team)
        deleted = [cid for cid in sorted(doomed) if await conversations.delete(tenant, cid)]
        if deleted:
            log.info("deleted %d conversation reference(s) (%s)", len(deleted), why)

    async def send_reply(self, context: TurnContext, reply: Reply) -> None:
        activities: list[Activity] = []
        if reply.text:
            activities.append(MessageFactory.text(reply.text))
        activities.extend(MessageFactory.attachment(CardFactory.adaptive_card(card)) for card in reply.cards)
        if activities:
            await context.send_activities(activities)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        await self.remember(activity)
        turn = self.turn_input(activity)
        async with typing_while_slow(turn_context, self.services.settings.typing_delay_seconds):
            reply = await dispatch.answer(self.services, turn)
        await self.send_reply(turn_context, reply)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Card buttons are answered here; botbuilder's own path mis-serialises its error replies."""
        if turn_context.activity.name == "adaptiveCard/action":
            response = await self.card_action(turn_context)
            return InvokeResponse(status=200, body=serializer_helper(response))
        return await super().on_invoke_activity(turn_context)

    async def card_action(self, turn_context: TurnContext) -> AdaptiveCardInvokeResponse:
        """A button on a card (Action.Execute): a card that replaces it, or a message."""
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        if action.get("type") != "Action.Execute":
            return _invoke_error(400, "BadRequest", "expected an Action.Execute value")
        await self.remember(activity)
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        verb = action.get("verb") if isinstance(action.get("verb"), str) else ""
        result = await run_action(self.services, self.turn_input(activity), verb, data)
        if result.card is not None:
            return AdaptiveCardInvokeResponse(
                status_code=200, type="application/vnd.microsoft.card.adaptive", value=result.card
            )
        if result.status >= 400:
            code = "BadRequest" if result.status == 400 else "Forbidden"
            return _invoke_error(result.status, code, result.message or "")
        return AdaptiveCardInvokeResponse(
            status_code=200, type="application/vnd.microsoft.activity.message", value=result.message or ""
        )

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self.remember(turn_context.activity)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self.forget(turn_context.activity)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """The bot's own arrival or departure, and team or channel events that decide where it can
        still post; other members' changes are ignored.

        (TeamsActivityHandler would look up every other added member through the connector.)
        """
        activity = turn_context.activity
        event = event_type(activity)
        if event in TEAM_GONE:
            await self.forget(activity, event)
            return
        if event in TEAM_BACK:
            await self.remember(activity)
            return
        if event == "channelDeleted":
            channel = _channel_data(activity).get("channel")
            if isinstance(channel, dict) and channel.get("id"):
                if await self.services.conversations.delete(tenant_of(activity), str(channel["id"])):
                    log.info("deleted conversation reference (channelDeleted)")
            return
        bot_id = activity.recipient.id if activity.recipient else None
        if any(member.id == bot_id for member in activity.members_removed or []):
            await self.forget(activity)
        elif any(member.id == bot_id for member in activity.members_added or []):
            await self.remember(activity)
            lang = pick_language(activity.locale, self.services.settings.default_language)
            await self.send_reply(turn_context, Reply.card(build_welcome_card(lang)))
