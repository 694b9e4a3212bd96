"""Where tenant data comes from: the ``TenantSource`` interface and the built-in demo tenant.

The live implementation (Microsoft Graph + Exchange Online admin REST) lives in ``live.py``; both
return the same shapes (Graph JSON and the Exchange cmdlets' property names), so everything above
this module works the same on demo and live data.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, AsyncIterator, Literal, Protocol

from bot.mc.post import parse_graph_datetime

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
SourceKind = Literal["demo", "live"]


class TenantSource(Protocol):
    kind: SourceKind
    tenant_id: str

    async def service_messages(self, since: datetime | None) -> list[dict[str, Any]]:
        """Message Center posts changed since ``since`` (all of them when None), oldest change first."""
        ...

    async def exchange_health(self) -> dict[str, Any]:
        """Graph healthOverview for Exchange Online with its open issues."""
        ...

    async def posture(self) -> dict[str, Any]:
        """The raw settings that decide SMTP AUTH (see ``bot.tenant.posture.parse_posture``)."""
        ...

    def sign_ins(self, since: datetime, until: datetime | None = None) -> AsyncIterator[dict[str, Any]]:
        """'Authenticated SMTP' sign-ins, page by page, newest first as Graph returns them."""
        ...


@lru_cache(maxsize=4)
def _demo_file(name: str) -> dict[str, Any]:
    with (DEMO_DIR / name).open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


class DemoSource:
    """A fictional tenant (Contoso) built from files, so a fresh install shows every feature."""

    kind: SourceKind = "demo"

    def __init__(self) -> None:
        self.tenant_id = str(_demo_file("tenant.json")["tenant_id"])

    async def service_messages(self, since: datetime | None) -> list[dict[str, Any]]:
        # The demo file holds several versions of MC786329; replaying them in order gives the demo
        # tenant a real version history, exactly as a bot that had been polling since 2024 would have.
        posts = _demo_file("message_center.json")["value"]
        changed = [
            post for post in posts
            if since is None or (parse_graph_datetime(post.get("lastModifiedDateTime")) or since) > since
        ]
        return sorted(changed, key=lambda post: str(post.get("lastModifiedDateTime")))

    async def exchange_health(self) -> dict[str, Any]:
        return dict(_demo_file("tenant.json")["health"])

    async def posture(self) -> dict[str, Any]:
        tenant = _demo_file("tenant.json")
        keys = ("security_defaults", "transport_config", "organization_config", "cas_mailboxes", "authentication_policies")
        return {key: tenant[key] for key in keys}

    async def sign_ins(self, since: datetime, until: datetime | None = None) -> AsyncIterator[dict[str, Any]]:
        from bot.tenant.demo_signins import demo_sign_ins

        for event in demo_sign_ins(since, until):
            yield event
