"""Message Center cards: a post's latest version and what its last update changed, and its history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import format_date, format_datetime, t
from bot.mc.diff import PostDiff, summarize_diff
from bot.mc.post import PostVersion
from bot.mc.store import StoredVersion
from bot.mc.watch import Conflict
from bot.tenant.snapshots import Snapshot
from bot.tenant.service import reason_text
from cards.base import Element, bullets, card, command_action, facts, heading, open_url, small, subheading, text
from cards.tenant import demo_banner

ADMIN_CENTER = "https://admin.microsoft.com/AdminPortal/home#/MessageCenter/:/messages/{id}"
MAX_LINES = 12


@dataclass(frozen=True)
class McView:
    latest: StoredVersion
    previous: PostVersion | None
    diff: PostDiff | None
    version_count: int
    conflicts: list[Conflict] = field(default_factory=list)
    shipped_version: datetime | None = None
    sync: Snapshot | None = None
    demo: bool = False


def _date(moment: datetime | None, lang: str) -> str:
    return format_date(moment.date(), lang) if moment else "—"


def sync_line(sync: Snapshot | None, tz: ZoneInfo, lang: str) -> Element:
    if sync is None or not sync.available:
        reason = reason_text(sync.error if sync else None, lang) or "—"
        return small(t("freshness.never", lang, reason=reason), color="Attention")
    when = format_datetime(sync.fetched_at, tz, lang)  # type: ignore[arg-type]
    if sync.stale:
        return small(t("freshness.stale", lang, when=when, reason=reason_text(sync.error, lang)), color="Warning")
    return small(t("mc.synced", lang, when=when))


def conflict_lines(conflicts: list[Conflict], lang: str) -> list[str]:
    lines = []
    for conflict in conflicts:
        if conflict.kind == "newer_update_note" and conflict.note is not None:
            lines.append(
                t(
                    "mc.conflict.note",
                    lang,
                    shipped=format_date(conflict.shipped, lang) if conflict.shipped else "—",
                    live=format_date(conflict.note.date, lang),
                    text=conflict.note.text[:300],
                )
            )
        elif conflict.kind == "end_date_changed":
            lines.append(
                t(
                    "mc.conflict.end",
                    lang,
                    shipped=format_date(conflict.shipped, lang) if conflict.shipped else "—",
                    live=format_date(conflict.live, lang) if conflict.live else "—",
                )
            )
    return lines


def conflict_section(conflicts: list[Conflict], lang: str) -> list[Element]:
    """Shown on /mc and /status when the live post says something our shipped timeline doesn't."""
    if not conflicts:
        return []
    return [
        subheading(t("mc.conflict.title", lang)),
        text(t("mc.conflict.intro", lang), color="Attention"),
        bullets(conflict_lines(conflicts, lang)),
    ]


def build_mc_card(view: McView, tz: ZoneInfo, lang: str) -> Element:
    post = view.latest.post
    changes: list[Element]
    if view.diff is not None and not view.diff.is_empty:
        lines = summarize_diff(view.diff, lang)
        changes = [
            subheading(t("mc.last_update", lang, date=_date(post.last_modified, lang))),
            bullets(lines[:MAX_LINES]),
        ]
    else:
        changes = [small(t("mc.first_version", lang))]
    body: list[Element] = [
        demo_banner(lang) if view.demo else {},
        heading(f"{post.id}: {post.title}"),
        facts(
            [
                (t("mc.fact.updated", lang), _date(post.last_modified, lang)),
                (t("mc.fact.start", lang), _date(post.start, lang)),
                (t("mc.fact.end", lang), _date(post.end, lang)),
                (t("mc.fact.action_by", lang), _date(post.action_required_by, lang)),
                (t("mc.fact.tags", lang), ", ".join(post.tags) or "—"),
                (t("mc.fact.versions", lang), str(view.version_count)),
            ]
        ),
        *conflict_section(view.conflicts, lang),
        *changes,
        small(t("mc.english_only", lang)) if lang == "ja" else {},
        sync_line(view.sync, tz, lang),
    ]
    actions = [
        command_action(t("mc.action.history", lang), f"/mc history {post.id}"),
        open_url(t("action.open_post", lang, post=post.id), ADMIN_CENTER.format(id=post.id)),
        command_action(t("action.status", lang), "/status"),
    ]
    return card(body, actions, lang=lang)


def build_mc_history_card(
    post_id: str, versions: list[StoredVersion], diffs: list[PostDiff | None], tz: ZoneInfo, lang: str, demo: bool
) -> Element:
    """Newest first: each version's date, Microsoft's own note, and a count of what changed."""
    rows: list[Element] = []
    for stored, diff in list(zip(versions, diffs))[::-1][:MAX_LINES]:
        post = stored.post
        note = post.latest_note
        headline = f"**{_date(post.last_modified, lang)}**"
        if note is not None:
            headline += f": {note.text[:200]}"
        rows.append(text(headline, spacing="Medium"))
        summary = summarize_diff(diff, lang)[1:3] if diff is not None else [t("mc.first_version", lang)]
        rows.append(
            small(
                t("mc.history.meta", lang, when=format_datetime(stored.fetched_at, tz, lang), hash=post.content_hash[:8])
                + ("" if not summary else " · " + " · ".join(summary)),
                spacing="None",
            )
        )
    body: list[Element] = [
        demo_banner(lang) if demo else {},
        heading(t("mc.history.title", lang, post=post_id, count=len(versions))),
        *rows,
    ]
    return card(body, [command_action(f"/mc {post_id}", f"/mc {post_id}")], lang=lang)


def build_mc_unknown_card(asked: str, watched: list[str], lang: str) -> Element:
    return card(
        [
            text(t("mc.unknown", lang, id=asked[:40]), weight="Bolder"),
            text(t("mc.watched", lang, ids=", ".join(watched) or "—")),
        ],
        [command_action(f"/mc {post}", f"/mc {post}") for post in watched[:4]],
        lang=lang,
    )
