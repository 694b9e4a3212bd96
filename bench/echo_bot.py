"""The baseline: a bare Bot Framework echo bot, as the botbuilder samples write it.

aiohttp + ``CloudAdapter`` + ``ConfigurationBotFrameworkAuthentication`` with no app id (local mode,
no token checks, like the readiness bot under test) + an ``ActivityHandler`` that sends the text back.
No storage, no cards, no checks of its own: the least any botbuilder bot can do per message.

``bench/status_roundtrip.py`` runs it in its own process. On its own:
``.venv/bin/python -m bench.echo_bot`` listens on http://127.0.0.1:3979/api/messages.
"""

from __future__ import annotations

import sys

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

ECHO_PREFIX = "Echo: "


class _Config:
    """No app id: requests are not authenticated (same mode as the readiness bot in the bench)."""

    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"{ECHO_PREFIX}{turn_context.activity.text}"))


def create_echo_app() -> web.Application:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_Config()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


if __name__ == "__main__":
    web.run_app(create_echo_app(), host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 3979)
