"""``POST /api/messages``: size limit, JSON and activity checks, authentication, tenant allowlist.

Checks run before any bot code so that bad input gets a short HTTP answer and unauthenticated or
foreign-tenant activities reach nothing. Authentication fails closed: if a token cannot be
verified for any reason (bad signature, expired, keys unreachable) the answer is 401.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from bot.context import label_turn
from bot.settings import Settings
from bot.teams.clients import CachingBotFrameworkAuthentication
from bot.teams.handler import tenant_of

log = logging.getLogger(__name__)


class Endpoint:
    def __init__(
        self,
        settings: Settings,
        auth: CachingBotFrameworkAuthentication,
        adapter: CloudAdapter,
        bot: Bot,
    ) -> None:
        self.settings = settings
        self.auth = auth
        self.adapter = adapter
        self.bot = bot

    async def close(self) -> None:
        """Close the shared connection pool to Bot Connectors (after proactive senders have stopped)."""
        await self.auth.close()

    async def _read_body(self, request: web.Request) -> bytes:
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
        body = await request.content.read(limit + 1)
        if len(body) > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
        return body

    @staticmethod
    def _bad_request(reason: str) -> web.Response:
        return web.json_response({"error": reason}, status=400)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await self._read_body(request)
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self._bad_request("body is not valid JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str) or not payload["type"]:
            return self._bad_request("body is not a Bot Framework activity (no 'type')")
        try:
            activity = Activity().deserialize(payload)
        except Exception:  # noqa: BLE001 - msrest raises many kinds for odd shapes
            return self._bad_request("body is not a Bot Framework activity")
        if not activity.service_url or activity.conversation is None or not activity.conversation.id:
            return self._bad_request("activity has no serviceUrl or conversation")

        try:
            auth_result = await self.auth.authenticate_request(activity, request.headers.get("Authorization", ""))
        except Exception as error:  # noqa: BLE001 - fail closed, whatever went wrong
            log.warning("rejected unauthenticated request: %s", type(error).__name__)
            raise web.HTTPUnauthorized() from None

        tenant = tenant_of(activity)
        label_turn(activity_id=activity.id, tenant=tenant, activity_type=activity.type)  # logs and /metrics
        if not self.settings.tenant_allowed(tenant):
            log.warning("ignored %s activity from tenant %s (not in ALLOWED_TENANT_IDS)", activity.type, tenant or "?")
            return web.Response(status=200)

        invoke_response = await self.adapter.process_activity(auth_result, activity, self.bot.on_turn)
        if invoke_response is not None:
            body = invoke_response.body
            if body is not None and not isinstance(body, (dict, list, str, int, float, bool)):
                body = serializer_helper(body)
            return web.json_response(body, status=invoke_response.status)
        return web.Response(status=200)
