"""CloudAdapter construction and the one error boundary for turns."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ActivityTypes

from bot.context import note_outcome
from bot.i18n import pick_language, t
from bot.settings import Settings
from bot.teams.clients import CachingBotFrameworkAuthentication

log = logging.getLogger(__name__)

# Optional Bot Framework endpoints (the names botbuilder's own samples use in appsettings), for a
# sovereign or private cloud, or a test authority. Unset, the public cloud's endpoints apply.
ENDPOINT_SETTINGS = {
    "ChannelService": "CHANNEL_SERVICE",
    "ToChannelFromBotLoginUrl": "TO_CHANNEL_FROM_BOT_LOGIN_URL",
    "ToChannelFromBotOAuthScope": "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE",
    "ToBotFromChannelTokenIssuer": "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER",
    "ToBotFromChannelOpenIdMetadataUrl": "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL",
}


@dataclass(frozen=True)
class _BotConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str
    APP_PASSWORD: str = field(repr=False)
    APP_TYPE: str
    APP_TENANTID: str
    CHANNEL_SERVICE: str | None = None
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str | None = None
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str | None = None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None = None
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None


def build_auth(settings: Settings) -> CachingBotFrameworkAuthentication:
    endpoints = {
        attribute: (settings.env.get(name) or "").strip() or None for name, attribute in ENDPOINT_SETTINGS.items()
    }
    config = _BotConfig(
        settings.app_id, settings.app_password, settings.app_type, settings.app_tenant_id, **endpoints
    )
    return CachingBotFrameworkAuthentication(config)


def build_adapter(settings: Settings, auth: CachingBotFrameworkAuthentication) -> CloudAdapter:
    adapter = CloudAdapter(auth)

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        """Log the traceback for the operator; tell the user, in their language, without details."""
        activity = context.activity
        note_outcome("error")
        log.error(
            "turn failed (type=%s, conversation=%s)",
            activity.type,
            activity.conversation.id if activity.conversation else None,
            exc_info=error,
        )
        if activity.type != ActivityTypes.message:
            return
        lang = pick_language(activity.locale, settings.default_language)
        try:
            await context.send_activity(t("error.turn", lang))
        except Exception:  # noqa: BLE001 - the connector may be what failed; the log has it
            log.warning("could not tell the user about the failed turn", exc_info=True)

    adapter.on_turn_error = on_turn_error
    return adapter
