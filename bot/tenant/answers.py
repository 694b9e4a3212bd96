"""Answers built from tenant data: /mc, /posture, and the tenant sections of /status."""

from __future__ import annotations

from datetime import datetime, time, timezone

from bot.i18n import t
from bot.mc.diff import PostDiff, diff_versions
from bot.mc.watch import Conflict, timeline_conflicts
from bot.services import Services
from bot.turn import Reply, TurnInput
from cards.base import Element, small
from cards.mc import McView, build_mc_card, build_mc_history_card, build_mc_unknown_card, conflict_section
from cards.tenant import build_posture_card, demo_banner, health_section, posture_section

MC786329 = "MC786329"


def shipped_summary(services: Services) -> dict[str, object]:
    post = services.timeline.post
    return {"id": MC786329, "latest_version_date": services.timeline.latest_version.published, "end_date": post.get("graph_end")}


async def live_conflicts(services: Services) -> list[Conflict]:
    latest = await services.tenant.mc.latest(MC786329)
    if latest is None:
        return []
    return timeline_conflicts(latest.post, shipped_summary(services))


async def status_sections(services: Services, turn: TurnInput) -> list[Element]:
    """What /status adds from the tenant: demo banner, posture (admins), health, timeline conflicts."""
    tenant = services.tenant
    sections: list[Element] = [demo_banner(turn.lang)] if tenant.demo else []
    if turn.is_admin:
        sections += posture_section(await tenant.posture(), turn.tz, turn.lang)
    sections += health_section(await tenant.health(), turn.tz, turn.lang)
    await tenant.ensure_mc()
    sections += conflict_section(await live_conflicts(services), turn.lang)
    if not turn.is_admin and services.settings.admin_user_ids:
        sections.append(small(t("posture.admins_only", turn.lang)))
    return sections


async def posture(services: Services, turn: TurnInput) -> Reply:
    """Tenant posture in detail (admins only: it names mailboxes)."""
    return Reply.card(build_posture_card(await services.tenant.posture(), turn.tz, turn.lang))


def _diffs(versions: list) -> list[PostDiff | None]:  # type: ignore[type-arg]
    return [None] + [diff_versions(a.post, b.post) for a, b in zip(versions, versions[1:])]


async def message_center(services: Services, turn: TurnInput) -> Reply:
    """``/mc`` (MC786329), ``/mc <id>``, ``/mc history [id]``."""
    tenant = services.tenant
    await tenant.ensure_mc()
    words = turn.args.split()
    history = bool(words) and words[0].lower() in ("history", "履歴")
    if history:
        words = words[1:]
    post_id = (words[0] if words else MC786329).upper()
    versions = await tenant.mc.versions(post_id)
    if not versions:
        return Reply.card(build_mc_unknown_card(post_id, await tenant.mc.post_ids(), turn.lang))
    if history:
        return Reply.card(build_mc_history_card(post_id, versions, _diffs(versions), turn.tz, turn.lang, tenant.demo))
    latest = versions[-1]
    previous = versions[-2].post if len(versions) > 1 else None
    conflicts = timeline_conflicts(latest.post, shipped_summary(services)) if post_id == MC786329 else []
    view = McView(
        latest=latest,
        previous=previous,
        diff=diff_versions(previous, latest.post) if previous else None,
        version_count=len(versions),
        conflicts=conflicts,
        shipped_version=datetime.combine(services.timeline.latest_version.published, time(), timezone.utc),
        sync=await tenant.mc_sync_state(),
        demo=tenant.demo,
    )
    return Reply.card(build_mc_card(view, turn.tz, turn.lang))
