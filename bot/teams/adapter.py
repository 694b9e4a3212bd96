"""CloudAdapter construction and the one error boundary for turns."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import ActivityTypes

from bot.i18n import pick_language, t
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _BotConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


def build_auth(settings: Settings) -> ConfigurationBotFrameworkAuthentication:
    config = _BotConfig(settings.app_id, settings.app_password, settings.app_type, settings.app_tenant_id)
    return ConfigurationBotFrameworkAuthentication(config)


def build_adapter(settings: Settings, auth: ConfigurationBotFrameworkAuthentication) -> CloudAdapter:
    adapter = CloudAdapter(auth)

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        """Log the traceback for the operator; tell the user, in their language, without details."""
        activity = context.activity
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
