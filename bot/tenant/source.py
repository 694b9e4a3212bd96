"""Where tenant data comes from: the ``TenantSource`` interface and the built-in demo tenant.

The live implementation (Microsoft Graph + Exchange Online admin REST) lives in ``live.py``; both
return the same shapes (Graph JSON and the Exchange cmdlets' property names), so everything above
this module works the same on demo and live data.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, AsyncIterator, Literal, Protocol

from bot.clock import Clock
from bot.mc.post import parse_graph_datetime
from bot.tenant.demo_story import shift_fields, story_shift

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
SourceKind = Literal["demo", "live"]
_HEALTH_TIMES = ("startDateTime", "lastModifiedDateTime", "endDateTime")


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

    # One sender, for /check (bot.diagnostics.gather). None always means "the tenant has no such thing".

    async def user(self, upn: str) -> dict[str, Any] | None:
        """The Entra user (id, userPrincipalName, displayName, mail, accountEnabled) by UPN or id."""
        ...

    async def per_user_mfa(self, upn: str) -> str | None:
        """Legacy per-user MFA state: ``disabled``, ``enabled`` or ``enforced``."""
        ...

    async def cas_mailbox(self, upn: str) -> dict[str, Any] | None:
        """Get-CASMailbox -Identity: the mailbox's own ``SmtpClientAuthenticationDisabled`` (None = inherits)."""
        ...

    async def exchange_user(self, upn: str) -> dict[str, Any] | None:
        """Get-User -Identity: the ``AuthenticationPolicy`` assigned to the user (None = the org default)."""
        ...

    def user_sign_ins(self, upn: str, since: datetime, until: datetime) -> AsyncIterator[dict[str, Any]]:
        """This user's 'Authenticated SMTP' sign-ins in the window, newest first."""
        ...


@lru_cache(maxsize=4)
def _demo_file(name: str) -> dict[str, Any]:
    with (DEMO_DIR / name).open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def demo_tenant_id() -> str:
    return str(_demo_file("tenant.json")["tenant_id"])


class DemoSource:
    """A fictional tenant (Contoso) built from files, so a fresh install shows every feature.

    Its recent activity (sign-ins, open service-health issues) is told relative to ``clock``
    (see ``bot.tenant.demo_story``), so the demo tells the same story on any date.
    """

    kind: SourceKind = "demo"

    def __init__(self, clock: Clock) -> None:
        self.tenant_id = demo_tenant_id()
        self.clock = clock

    def _shift(self) -> timedelta:
        return story_shift(self.clock().date())

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
        health = dict(_demo_file("tenant.json")["health"])
        shift = self._shift()
        health["issues"] = [shift_fields(issue, _HEALTH_TIMES, shift) for issue in health.get("issues", [])]
        return health

    async def posture(self) -> dict[str, Any]:
        tenant = _demo_file("tenant.json")
        keys = ("security_defaults", "transport_config", "organization_config", "cas_mailboxes", "authentication_policies")
        return {key: tenant[key] for key in keys}

    async def sign_ins(self, since: datetime, until: datetime | None = None) -> AsyncIterator[dict[str, Any]]:
        from bot.tenant.demo_signins import demo_sign_ins

        now = self.clock()
        for event in demo_sign_ins(since, until or now, now.date()):
            yield event

    # The per-sender data lives in check.json; its mailboxes with their own SMTP AUTH setting are the
    # ones tenant.json lists for /posture, so both views of the demo tenant agree.

    def _check_user(self, upn: str) -> dict[str, Any] | None:
        wanted = upn.strip().lower()
        for user in _demo_file("check.json")["users"]:
            if wanted in (str(user["userPrincipalName"]).lower(), str(user["id"]).lower()):
                return dict(user)
        return None

    async def user(self, upn: str) -> dict[str, Any] | None:
        user = self._check_user(upn)
        return {key: user[key] for key in ("id", "userPrincipalName", "displayName", "mail", "accountEnabled")} if user else None

    async def per_user_mfa(self, upn: str) -> str | None:
        user = self._check_user(upn)
        return str(user.get("perUserMfaState", "disabled")) if user else None

    async def cas_mailbox(self, upn: str) -> dict[str, Any] | None:
        wanted = upn.strip().lower()
        for mailbox in _demo_file("tenant.json")["cas_mailboxes"]:
            if wanted in (str(mailbox.get("UserPrincipalName", "")).lower(), str(mailbox.get("PrimarySmtpAddress", "")).lower()):
                return dict(mailbox)
        user = self._check_user(upn)
        if user is None or not user.get("mailbox", True):
            return None
        address = user["userPrincipalName"]
        return {"Identity": address, "UserPrincipalName": address, "PrimarySmtpAddress": address,
                "SmtpClientAuthenticationDisabled": None}

    async def exchange_user(self, upn: str) -> dict[str, Any] | None:
        user = self._check_user(upn)
        if user is None:
            return None
        return {"UserPrincipalName": user["userPrincipalName"], "AuthenticationPolicy": user.get("authenticationPolicy")}

    async def user_sign_ins(self, upn: str, since: datetime, until: datetime) -> AsyncIterator[dict[str, Any]]:
        wanted = upn.strip().lower()
        async for event in self.sign_ins(since, until):
            if str(event.get("userPrincipalName", "")).lower() == wanted:
                yield event
