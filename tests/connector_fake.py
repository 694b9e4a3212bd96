"""A fake Bot Connector on loopback: records every activity the bot sends to its ``serviceUrl``.

Optional, off by default: ``enforce_limits=True`` answers 429 (Retry-After: 1) to any message over
Teams' limits (per conversation 7/1 s, 8/2 s, 60/30 s, 1800/h; per tenant 50/s), counting them in
``throttled``; ``inject(conversation_id, Fault(...))`` queues faults for that conversation's next
requests (a status such as 429 with Retry-After, 403, 404, 502; a ``delay`` before answering; or
``hang`` = never post and never answer until the client gives up). ``attempts`` lists every request.

``hold()`` makes every request wait (counted in ``open_requests`` and ``held``) until the test lets
one go with ``release()``; ``until_held(n)`` waits for ``n`` requests to be waiting at once. Together
they make concurrency exact on any machine: no delay has to be "long enough" for requests to pile up.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Sent:
    conversation_id: str
    activity: dict[str, Any]
    reply_to: str | None = None
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    id: str = ""  # the activity id the connector answered with

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


@dataclass(frozen=True)
class Fault:
    status: int = 200  # 200: no error (use with delay for a slow but successful answer)
    retry_after: str | None = None
    delay: float = 0.0  # seconds before answering
    hang: bool = False  # never post, never answer (until the client disconnects)


@dataclass(frozen=True)
class Attempt:
    conversation_id: str
    at: float  # the connector's clock on arrival
    status: int


# Teams limits (msteams-docs rate-limit.md): per bot per conversation, and per app per tenant.
CONVERSATION_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
TENANT_LIMITS = ((50, 1.0),)


class FakeConnector:
    def __init__(self, *, enforce_limits: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.sent: list[Sent] = []
        self._ids = itertools.count(1)
        self._arrived = asyncio.Condition()
        self.server: TestServer | None = None
        self.enforce_limits = enforce_limits
        self.clock = clock  # seconds for the limits; tests share a virtual one with the bot's limiter
        self.faults: dict[str, deque[Fault]] = {}
        self.attempts: list[Attempt] = []
        self.throttled = 0
        self._accepted: dict[tuple[str, str], deque[float]] = {}
        self._released = asyncio.Event()  # set at close: hung requests give up without posting
        # Called after a message is posted and before the answer goes back (to break things mid-send).
        self.before_answer: Callable[[web.Request], Awaitable[None]] | None = None
        self.open_requests = 0  # requests received and not yet answered
        self.most_open = 0  # the most there ever were at once
        self._open_changed = asyncio.Condition()
        self._holding = False  # set by hold(): each request waits for a release()
        self._waiting: deque[asyncio.Future[None]] = deque()  # the requests held, oldest first

    def inject(self, conversation_id: str, *faults: Fault) -> None:
        """Answer the next requests for ``conversation_id`` with these faults, in order."""
        self.faults.setdefault(conversation_id, deque()).extend(faults)

    def _over_limit(self, conversation_id: str, tenant: str, now: float) -> bool:
        for key, limits in ((("c", conversation_id), CONVERSATION_LIMITS), (("t", tenant), TENANT_LIMITS)):
            times = self._accepted.get(key, ())
            for limit, seconds in limits:
                if sum(1 for t in times if t > now - seconds) >= limit:
                    return True
        return False

    def _accept(self, conversation_id: str, tenant: str, now: float) -> None:
        for key in (("c", conversation_id), ("t", tenant)):
            times = self._accepted.setdefault(key, deque())
            times.append(now)
            while times and times[0] <= now - 3600.0:
                times.popleft()

    async def _gate(self, request: web.Request, body: dict[str, Any]) -> web.Response | None:
        """Faults and limits for one request; None lets it through."""
        cid = request.match_info["cid"]
        now = self.clock()
        queued = self.faults.get(cid)
        fault = queued.popleft() if queued else None
        if fault is not None and fault.hang:
            self.attempts.append(Attempt(cid, now, 0))
            await self._released.wait()
            return web.Response(status=503)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status != 200:
            self.attempts.append(Attempt(cid, now, fault.status))
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return web.json_response({"error": {"code": "Injected", "message": "injected"}}, status=fault.status, headers=headers)
        if self.enforce_limits and body.get("type") == "message":
            conversation = body.get("conversation") or {}
            tenant = conversation.get("tenantId") or ((body.get("channelData") or {}).get("tenant") or {}).get("id") or "tenant"
            if self._over_limit(cid, tenant, now):
                self.throttled += 1
                self.attempts.append(Attempt(cid, now, 429))
                return web.json_response({"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"})
            self._accept(cid, tenant, now)
        self.attempts.append(Attempt(cid, now, 200))
        return None

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

    @property
    def held(self) -> int:
        """Requests waiting for a ``release()`` (one whose client gave up no longer counts)."""
        return sum(1 for waiting in self._waiting if not waiting.done())

    def hold(self) -> None:
        """From now on each request waits for one ``release()`` before it is answered."""
        self._holding = True

    def release(self) -> None:
        """Let the oldest held request go on (at once: ``held`` drops before this returns)."""
        while self._waiting[0].done():  # its client gave up waiting
            self._waiting.popleft()
        self._waiting.popleft().set_result(None)

    async def until_held(self, count: int, timeout: float = 60.0) -> None:
        """Wait until ``count`` requests wait at once (the timeout only stops a broken test hanging)."""
        async with self._open_changed:
            await asyncio.wait_for(self._open_changed.wait_for(lambda: self.held >= count), timeout)

    async def _changed(self) -> None:
        async with self._open_changed:
            self.most_open = max(self.most_open, self.open_requests)
            self._open_changed.notify_all()

    async def _send(self, request: web.Request) -> web.Response:
        self.open_requests += 1
        try:
            if self._holding:
                released = asyncio.get_running_loop().create_future()
                self._waiting.append(released)
                await self._changed()
                await released
            else:
                await self._changed()
            return await self._answer(request)
        finally:
            self.open_requests -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = await self._gate(request, body)
        if refused is not None:
            return refused
        sent = Sent(
            conversation_id=request.match_info["cid"],
            activity=body,
            reply_to=request.match_info.get("aid"),
            method=request.method,
            headers=dict(request.headers),
            id=f"activity-{next(self._ids)}",
        )
        await self._record(sent)
        if self.before_answer is not None and body.get("type") == "message":
            await self.before_answer(request)
        return web.json_response({"id": sent.id})

    async def _create(self, request: web.Request) -> web.Response:
        return web.json_response({"id": f"conversation-{next(self._ids)}"})

    async def start(self) -> None:
        self.server = TestServer(self.app(), host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        self._released.set()
        if self.server is not None:
            await self.server.close()

    def messages(self) -> list[Sent]:
        return [item for item in self.sent if item.type == "message"]

    def cards(self) -> list[dict[str, Any]]:
        return [card for item in self.messages() for card in item.cards]

    def clear(self) -> None:
        self.sent.clear()
        self.attempts.clear()
