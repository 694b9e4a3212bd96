"""Teams-shaped activities for tests, as Teams sends them (ids, channelData, entities, locale)."""

from __future__ import annotations

import itertools
from typing import Any

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "11111111-2222-3333-4444-555555555555"
ADMIN_AAD = "6b8d2b1e-0f0c-4b6f-9a59-0c1e2d3f4a5b"
USER_AAD = "0a1b2c3d-4e5f-4061-8a9b-0c1d2e3f4a5b"
BOT_ID = "28:00000000-0000-0000-0000-00000000b07"
BOT_NAME = "SMTP AUTH Readiness"
TEAM_ID = "19:team-general@thread.tacv2"
CHANNEL_ID = "19:team-general@thread.tacv2"
_ids = itertools.count(1)


def _base(activity_type: str, service_url: str, conversation: dict[str, Any], tenant: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": activity_type,
        "id": f"act-{next(_ids)}",
        "timestamp": "2026-11-23T03:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": "29:user-1", "name": "Aiko Tanaka", "aadObjectId": extra.pop("aad", USER_AAD)},
        "conversation": {**conversation, "tenantId": tenant},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": {"tenant": {"id": tenant}, **extra.pop("channel_data", {})},
        **extra,
    }


def personal_message(
    text: str,
    service_url: str,
    *,
    locale: str = "en-US",
    timezone: str | None = "Asia/Tokyo",
    tenant: str = TENANT,
    aad: str = USER_AAD,
    conversation_id: str = "a:personal-chat-1",
    **extra: Any,
) -> dict[str, Any]:
    entities = [{"type": "clientInfo", "locale": locale, "country": "JP", "platform": "Web", **({"timezone": timezone} if timezone else {})}]
    activity = _base(
        "message",
        service_url,
        {"id": conversation_id, "conversationType": "personal"},
        tenant,
        aad=aad,
        text=text,
        textFormat="plain",
        locale=locale,
        entities=entities,
        **extra,
    )
    if timezone:
        activity["localTimezone"] = timezone
    return activity


def channel_message(
    text: str, service_url: str, *, locale: str = "en-US", tenant: str = TENANT, aad: str = USER_AAD
) -> dict[str, Any]:
    """A channel post: only reaches the bot with an @mention, as ``<at>Bot</at> text``."""
    mention = f"<at>{BOT_NAME}</at>"
    return _base(
        "message",
        service_url,
        {
            "id": f"{CHANNEL_ID};messageid=1700000000{next(_ids)}",
            "conversationType": "channel",
            "isGroup": True,
        },
        tenant,
        aad=aad,
        text=f"{mention}&nbsp;{text}\n",
        textFormat="plain",
        locale=locale,
        entities=[
            {"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": BOT_NAME}},
            {"type": "clientInfo", "locale": locale, "timezone": "Europe/London"},
        ],
        channel_data={"team": {"id": TEAM_ID, "name": "IT Ops"}, "channel": {"id": CHANNEL_ID, "name": "General"}},
    )


def team_install(service_url: str, *, tenant: str = TENANT, locale: str = "en-US") -> dict[str, Any]:
    """conversationUpdate: the bot added to a team (``membersAdded`` holds the bot itself)."""
    return _base(
        "conversationUpdate",
        service_url,
        {"id": CHANNEL_ID, "conversationType": "channel", "isGroup": True},
        tenant,
        membersAdded=[{"id": BOT_ID}],
        locale=locale,
        channel_data={"eventType": "teamMemberAdded", "team": {"id": TEAM_ID, "name": "IT Ops"}},
    )


def team_uninstall(service_url: str, *, tenant: str = TENANT) -> dict[str, Any]:
    return _base(
        "conversationUpdate",
        service_url,
        {"id": CHANNEL_ID, "conversationType": "channel", "isGroup": True},
        tenant,
        membersRemoved=[{"id": BOT_ID}],
        channel_data={"eventType": "teamMemberRemoved", "team": {"id": TEAM_ID, "name": "IT Ops"}},
    )


def installation_update(
    action: str, service_url: str, *, tenant: str = TENANT, conversation_id: str = "a:personal-chat-1",
    conversation_type: str = "personal",
) -> dict[str, Any]:
    return _base(
        "installationUpdate",
        service_url,
        {"id": conversation_id, "conversationType": conversation_type},
        tenant,
        action=action,
    )


def card_action(verb: str, service_url: str, data: dict[str, Any] | None = None, *, locale: str = "en-US",
                aad: str = USER_AAD, tenant: str = TENANT, action_type: str = "Action.Execute") -> dict[str, Any]:
    """The invoke Teams sends when someone presses an Action.Execute button on a card."""
    return _base(
        "invoke",
        service_url,
        {"id": "a:personal-chat-1", "conversationType": "personal"},
        tenant,
        aad=aad,
        name="adaptiveCard/action",
        locale=locale,
        localTimezone="Asia/Tokyo",
        replyToId="activity-1",
        value={"action": {"type": action_type, "id": "a1", "verb": verb, "data": data or {}}, "trigger": "manual"},
    )


def file_message(
    name: str, download_url: str, service_url: str, *, aad: str = USER_AAD, locale: str = "en-US",
    conversation_type: str = "personal", text: str = "", file_type: str = "csv",
) -> dict[str, Any]:
    """A file sent to the bot in chat: Teams uploads it to OneDrive and attaches its download info."""
    conversation = {"id": "a:personal-chat-1" if conversation_type == "personal" else f"{CHANNEL_ID};messageid=1",
                    "conversationType": conversation_type}
    return _base(
        "message",
        service_url,
        conversation,
        TENANT,
        aad=aad,
        text=text,
        textFormat="plain",
        locale=locale,
        attachments=[
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "contentUrl": f"https://contoso-my.sharepoint.com/personal/aiko/Documents/Microsoft Teams Chat Files/{name}",
                "name": name,
                "content": {"downloadUrl": download_url, "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
                            "fileType": file_type, "etag": "1"},
            }
        ],
        entities=[{"type": "clientInfo", "locale": locale, "timezone": "Asia/Tokyo"}],
    )


def file_consent(
    action: str, service_url: str, context: dict[str, Any], *, upload_url: str = "", name: str = "devices.csv",
    locale: str = "en-US", aad: str = USER_AAD,
) -> dict[str, Any]:
    """The invoke Teams sends when the user accepts or declines a FileConsentCard."""
    value: dict[str, Any] = {"type": "fileUpload", "action": action, "context": context}
    if action == "accept":
        value["uploadInfo"] = {
            "contentUrl": f"https://contoso-my.sharepoint.com/personal/aiko/Documents/Applications/{name}",
            "name": name,
            "uploadUrl": upload_url,
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C",
            "fileType": "csv",
            "etag": "1",
        }
    return _base(
        "invoke",
        service_url,
        {"id": "a:personal-chat-1", "conversationType": "personal"},
        TENANT,
        aad=aad,
        name="fileConsent/invoke",
        locale=locale,
        value=value,
    )
