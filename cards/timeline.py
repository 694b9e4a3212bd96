"""The /timeline card: every milestone marked past/next/later, and how the date moved."""

from __future__ import annotations

from datetime import date

from bot.i18n import format_date, localized, t
from bot.timeline import Milestone, Timeline, milestone_state
from cards.base import Element, card, command_action, container, heading, open_url, small, subheading, text, two_columns

_STATE_COLOR = {"past": "Good", "next": "Attention", "future": "Accent", "superseded": "Default", "unknown": "Default"}


def _sort_key(milestone: Milestone) -> tuple[int, date]:
    return (1, date.max) if milestone.when is None else (0, milestone.when.first_day())


def _milestone_row(timeline: Timeline, milestone: Milestone, state: str, lang: str) -> Element:
    when = milestone.describe_when(lang) or t("timeline.when_unknown", lang)
    stated = t("timeline.stated_in", lang, date=format_date(timeline.version(milestone.stated_in).published, lang))
    if milestone.superseded_by:
        replaced = t(
            "timeline.replaced_by", lang, date=format_date(timeline.version(milestone.superseded_by).published, lang)
        )
        stated = f"{stated}; {replaced}" if lang == "en" else f"{stated}、{replaced}"
    title = localized(milestone.title, lang)
    when = when[:1].upper() + when[1:]
    return two_columns(
        [text(t(f"timeline.state.{state}", lang), weight="Bolder", color=_STATE_COLOR[state])],
        [
            text(f"**{when}**: {title}", isSubtle=state == "superseded"),
            small(stated, spacing="None"),
        ],
    )


def build_timeline_card(timeline: Timeline, today: date, tz_name: str, next_id: str | None, lang: str) -> Element:
    post = timeline.post
    rows = [
        _milestone_row(timeline, milestone, milestone_state(milestone, today, next_id), lang)
        for milestone in sorted(timeline.milestones, key=_sort_key)
    ]
    moves = [
        t(
            "timeline.move",
            lang,
            when=timeline.milestone(milestone_id).describe_when(lang),
            date=format_date(announced, lang),
        )
        for milestone_id, announced in timeline.moves
    ]
    versions = [
        text(f"**{format_date(version.published, lang)}**: {localized(version.summary, lang)}", spacing="Small")
        for version in sorted(timeline.versions, key=lambda v: v.published)
    ]
    body: list[Element] = [
        heading(t("timeline.title", lang, post=post["id"])),
        small(t("timeline.today", lang, date=format_date(today, lang), tz=tz_name), spacing="None"),
        container(rows, spacing="Medium"),
        subheading(t("timeline.moves", lang)),
        text(" → ".join(moves)),
        small(t("timeline.moves_note", lang)),
        subheading(t("timeline.versions", lang)),
        *versions,
    ]
    actions = [
        command_action(t("action.status", lang), "/status"),
        open_url(t("action.open_post", lang, post=post["id"]), post["link"]),
    ]
    return card(body, actions, lang=lang)
