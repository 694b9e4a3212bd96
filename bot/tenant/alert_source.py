"""The Message Center watch as a source for proactive alerts (``bot.alerts.sources.MessageCenterSource``).

Each poll syncs once and turns every new version of a watched post into a ``PostChange``: the diff
in both languages, the post's dates, and whether MC786329 now disagrees with the shipped timeline
(the countdown may have moved). The first sync is a baseline and is never announced.
"""

from __future__ import annotations

from typing import Any, Sequence

from bot.alerts.sources import PostChange, PostDate
from bot.mc.diff import summarize_diff
from bot.mc.sync import McUpdate
from bot.mc.watch import timeline_conflicts
from bot.timeline import When

_DATE_LABELS = {
    "start": {"en": "Start", "ja": "開始"},
    "end": {"en": "End", "ja": "終了"},
    "action_required_by": {"en": "Act by", "ja": "対応期限"},
}
_NEW_POST = {"en": "A new post I now watch.", "ja": "新たに監視対象になった投稿です。"}


def post_change(update: McUpdate, shipped: dict[str, Any]) -> PostChange:
    post = update.post
    if update.diff is not None:
        summary = {lang: tuple(summarize_diff(update.diff, lang)) for lang in ("en", "ja")}
    else:
        summary = {lang: (text,) for lang, text in _NEW_POST.items()}
    dates = tuple(
        PostDate(label, When("day", moment.year, moment.month, moment.day))
        for field, label in _DATE_LABELS.items()
        if (moment := getattr(post, field)) is not None
    )
    moved = post.id == "MC786329" and bool(timeline_conflicts(post, shipped))
    return PostChange(
        post_id=post.id,
        version_key=post.content_hash,
        title={"en": post.title, "ja": post.title},
        summary=summary,
        dates=dates,
        affects_countdown=moved,
    )


class TenantMessageCenter:
    def __init__(self, services: Any) -> None:
        self.services = services

    async def poll(self) -> Sequence[PostChange]:
        from bot.tenant.answers import shipped_summary

        updates = await self.services.tenant.sync_mc()
        shipped = shipped_summary(self.services)
        return [post_change(update, shipped) for update in updates if not update.initial]
