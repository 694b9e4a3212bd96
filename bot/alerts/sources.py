"""The seams where other features feed alerts: tenant readiness, Message Center changes, sender changes.

Each seam is a small Protocol with an empty default, so alerts work (countdown, digest) before the
features behind them exist; ``default_sources`` is the one place to plug the real ones in. Shapes
are plain data: localized strings come as ``{"en": ..., "ja": ...}`` pairs and dates as
``bot.timeline.When`` so a card never says more than Microsoft stated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.timeline import When

SenderChangeKind = Literal["new", "gone", "status"]


@dataclass(frozen=True)
class ReadinessNumbers:
    """A tenant's own numbers for the countdown card."""

    basic_auth_senders: int  # senders still signing in to SMTP AUTH with Basic auth
    break_at_cutoff: int  # of those, how many stop working at the default-disable


@dataclass(frozen=True)
class PostDate:
    """One date a Message Center post states, with what it is the date of."""

    label: Mapping[str, str]
    when: When


@dataclass(frozen=True)
class PostChange:
    """A new version of a watched Message Center post (MC786329 or another on the watchlist)."""

    post_id: str
    version_key: str  # content hash: the same version polled twice has the same key
    title: Mapping[str, str]
    summary: Mapping[str, Sequence[str]]  # what changed, already localized: {"en": [...], "ja": [...]}
    dates: Sequence[PostDate] = ()
    affects_countdown: bool = False


@dataclass(frozen=True)
class SenderChange:
    """A fact about one sender in one tenant: it appeared, went quiet, or changed status."""

    tenant_id: str
    upn: str
    change: SenderChangeKind
    description: Mapping[str, str] = field(default_factory=dict)  # short, localized


class ReadinessSource(Protocol):
    async def numbers(self, tenant_id: str) -> ReadinessNumbers | None:
        """None: no inventory for this tenant yet (the card then suggests /readiness)."""
        ...


class MessageCenterSource(Protocol):
    async def poll(self) -> Sequence[PostChange]:
        """New post versions since the last poll."""
        ...


class SenderSource(Protocol):
    async def changes(self) -> Sequence[SenderChange]:
        """Sender changes across tenants since the last discovery (repeats are harmless)."""
        ...


class NoReadiness:
    async def numbers(self, tenant_id: str) -> ReadinessNumbers | None:
        return None


class NoMessageCenter:
    async def poll(self) -> Sequence[PostChange]:
        return ()


class NoSenderChanges:
    async def changes(self) -> Sequence[SenderChange]:
        return ()


@dataclass
class Sources:
    readiness: ReadinessSource = field(default_factory=NoReadiness)
    message_center: MessageCenterSource = field(default_factory=NoMessageCenter)
    senders: SenderSource = field(default_factory=NoSenderChanges)


def default_sources(services: Any) -> Sources:
    """The sources the running bot uses; the readiness, MC and sender features plug in here.

    The Message Center needs tenant data to poll; a preview opens none, so it polls nothing.
    """
    from bot.devices.alert_sources import device_sources

    readiness, senders = device_sources(services)
    sources = Sources(readiness=readiness, senders=senders)
    if getattr(services, "tenant", None) is not None:
        from bot.tenant.alert_source import TenantMessageCenter

        sources.message_center = TenantMessageCenter(services)
    return sources


# Plain-data forms, stored in the alert tables so an alert can be rebuilt (and acknowledged) later.


def when_to_data(when: When) -> dict[str, Any]:
    return {k: v for k, v in vars(when).items() if v is not None}


def when_from_data(raw: Mapping[str, Any]) -> When:
    return When(**dict(raw))


def post_change_to_data(change: PostChange) -> dict[str, Any]:
    return {
        "post_id": change.post_id,
        "version_key": change.version_key,
        "title": dict(change.title),
        "summary": {lang: list(lines) for lang, lines in change.summary.items()},
        "dates": [{"label": dict(d.label), "when": when_to_data(d.when)} for d in change.dates],
        "affects_countdown": change.affects_countdown,
    }


def post_change_from_data(raw: Mapping[str, Any]) -> PostChange:
    return PostChange(
        post_id=str(raw["post_id"]),
        version_key=str(raw["version_key"]),
        title=dict(raw.get("title") or {}),
        summary={lang: tuple(lines) for lang, lines in (raw.get("summary") or {}).items()},
        dates=tuple(PostDate(dict(d["label"]), when_from_data(d["when"])) for d in raw.get("dates") or ()),
        affects_countdown=bool(raw.get("affects_countdown")),
    )


def sender_change_to_data(change: SenderChange) -> dict[str, Any]:
    return {
        "tenant_id": change.tenant_id,
        "upn": change.upn,
        "change": change.change,
        "description": dict(change.description),
    }


def sender_change_from_data(raw: Mapping[str, Any]) -> SenderChange:
    return SenderChange(
        tenant_id=str(raw["tenant_id"]),
        upn=str(raw["upn"]),
        change=raw["change"],
        description=dict(raw.get("description") or {}),
    )
