"""Team and channel events over real HTTP: where the bot can no longer post, its references go.

Teams sends these as ``conversationUpdate`` with ``channelData.eventType`` (msteams-docs
"Conversation events in your bot"): the conversation is the team's General channel, and
``channelData.team`` / ``channelData.channel`` name what changed.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from activities import (
    OTHER_TENANT,
    TEAM_ID,
    TENANT,
    channel_message,
    personal_message,
    team_install,
    team_uninstall,
)

OTHER_CHANNEL = "19:other-channel@thread.tacv2"
OTHER_TEAM = "19:another-team@thread.tacv2"


def team_event(
    event: str, service_url: str, *, team: str = TEAM_ID, channel: str | None = None
) -> dict[str, Any]:
    activity = team_install(service_url)
    del activity["membersAdded"]
    activity["conversation"]["id"] = team
    activity["channelData"]["eventType"] = event
    activity["channelData"]["team"] = {"id": team, "name": "IT Ops"}
    if channel:
        activity["channelData"]["channel"] = {"id": channel, "name": "Printers"}
    return activity


def message_in(
    channel: str, service_url: str, *, team: str = TEAM_ID, tenant: str = TENANT
) -> dict[str, Any]:
    activity = copy.deepcopy(channel_message("/help", service_url, tenant=tenant))
    activity["conversation"]["id"] = f"{channel};messageid=1700000000999"
    activity["channelData"]["team"]["id"] = team
    activity["channelData"]["channel"]["id"] = channel
    return activity


async def populated(make_bot: Any, connector: Any) -> Any:
    """References for: our team's General and another of its channels, another team, a personal chat,
    and a team with the same id in another tenant."""
    bot = await make_bot()
    await bot.post(team_install(connector.url))
    await bot.post(message_in(OTHER_CHANNEL, connector.url))
    await bot.post(message_in(OTHER_TEAM, connector.url, team=OTHER_TEAM))
    await bot.post(personal_message("/help", connector.url))
    await bot.post(message_in(OTHER_CHANNEL, connector.url, tenant=OTHER_TENANT))
    connector.clear()
    return bot


async def saved(bot: Any) -> set[tuple[str, str]]:
    return {(record.tenant_id, record.conversation_id) for record in await bot.services.conversations.all()}


UNRELATED = {(TENANT, OTHER_TEAM), (TENANT, "a:personal-chat-1"), (OTHER_TENANT, OTHER_CHANNEL)}


@pytest.mark.parametrize("event", ["teamDeleted", "teamHardDeleted", "teamArchived"])
async def test_a_team_that_is_gone_or_archived_loses_every_reference(make_bot, connector, event):
    bot = await populated(make_bot, connector)
    assert await saved(bot) == {(TENANT, TEAM_ID), (TENANT, OTHER_CHANNEL)} | UNRELATED

    status, _ = await bot.post(team_event(event, connector.url))
    assert status == 200
    assert await saved(bot) == UNRELATED
    assert connector.sent == []  # nothing is posted to a team that cannot be posted to


async def test_an_unarchived_team_is_saved_again_without_a_welcome(make_bot, connector):
    bot = await populated(make_bot, connector)
    await bot.post(team_event("teamArchived", connector.url))
    await bot.post(team_event("teamUnarchived", connector.url))
    assert await saved(bot) == {(TENANT, TEAM_ID)} | UNRELATED
    [record] = [r for r in await bot.services.conversations.all() if r.conversation_id == TEAM_ID]
    assert record.team_id == TEAM_ID and record.service_url == connector.url
    assert connector.sent == []


async def test_a_deleted_channel_loses_only_its_own_reference(make_bot, connector):
    bot = await populated(make_bot, connector)
    await bot.post(team_event("channelDeleted", connector.url, channel=OTHER_CHANNEL))
    assert await saved(bot) == {(TENANT, TEAM_ID)} | UNRELATED


async def test_other_team_events_change_nothing(make_bot, connector):
    bot = await populated(make_bot, connector)
    before = await saved(bot)
    await bot.post(team_event("teamRenamed", connector.url))
    await bot.post(team_event("channelCreated", connector.url, channel="19:new@thread.tacv2"))
    assert await saved(bot) == before
    assert connector.sent == []


async def test_removing_the_bot_from_a_team_forgets_all_its_channels(make_bot, connector):
    bot = await populated(make_bot, connector)
    await bot.post(team_uninstall(connector.url))
    assert await saved(bot) == UNRELATED
