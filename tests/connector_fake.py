"""A fake Bot Connector on loopback: records every activity the bot sends to its ``serviceUrl``."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Sent:
    conversation_id: str
    activity: dict[str, Any]
    reply_to: str | None = None
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return str(self.activity.get("type"))

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [
            attachment["content"]
            for attachment in self.activity.get("attachments") or []
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]


class FakeConnector:
    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self._ids = itertools.count(1)
        self._arrived = asyncio.Condition()
        self.server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/")).rstrip("/") + "/"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_post("/v3/conversations", self._create)
        return app

    async def _record(self, item: Sent) -> None:
        async with self._arrived:
            self.sent.append(item)
            self._arrived.notify_all()

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        await self._record(
            Sent(
                conversation_id=request.match_info["cid"],
                activity=body,
                reply_to=request.match_info.get("aid"),
                method=request.method,
                headers=dict(request.headers),
            )
        )
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    async def _create(self, request: web.Request) -> web.Response:
        return web.json_response({"id": f"conversation-{next(self._ids)}"})

    async def start(self) -> None:
        self.server = TestServer(self.app(), host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def messages(self) -> list[Sent]:
        return [item for item in self.sent if item.type == "message"]

    def cards(self) -> list[dict[str, Any]]:
        return [card for item in self.messages() for card in item.cards]

    def clear(self) -> None:
        self.sent.clear()
