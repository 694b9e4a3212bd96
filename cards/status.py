"""The /status card: today's phase, the day count and what to do, with room for tenant sections."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.i18n import format_date, localized, t
from bot.timeline import Countdown, Phase, Timeline
from cards.base import (
    Element,
    bullets,
    card,
    command_action,
    container,
    execute_action,
    heading,
    open_url,
    small,
    subheading,
    text,
)

REFRESH_VERB = "status.refresh"
_PHASE_STYLE = {Phase.UNCHANGED: "warning", Phase.DEADLINE_MONTH: "attention", Phase.DEFAULT_DISABLED: "attention"}


@dataclass(frozen=True)
class StatusView:
    """What /status shows; later features add their sections (tenant posture, readiness)."""

    timeline: Timeline
    countdown: Countdown
    sections: list[Element] = field(default_factory=list)


def _big_number(view: StatusView, lang: str) -> list[Element]:
    count = view.countdown
    when = count.target.describe_when(lang) or ""
    when_in_sentence = count.target.describe_when(lang, in_sentence=True) or ""
    if count.phase is Phase.DEFAULT_DISABLED:
        final = view.timeline.milestone("final-removal-announcement")
        return [
            text(t("status.final_unknown", lang), size="ExtraLarge", weight="Bolder", color="Attention"),
            text(t("status.final_expected", lang, when=final.describe_when(lang, in_sentence=True))),
        ]
    if count.days_left == 0:
        number = t("status.last_day", lang)
    elif count.days_left == 1:
        number = t("status.day_left", lang)
    else:
        number = t("status.days_left", lang, days=count.days_left)
    return [
        text(number, size="ExtraLarge", weight="Bolder", color="Attention" if count.days_left <= 30 else "Warning"),
        text(t("status.until", lang, when=when_in_sentence)),
        small(
            t(
                "status.precision",
                lang,
                when=when,
                day=format_date(count.target_day, lang),
                tz=count.tz.key,
            )
        ),
    ]


def _what_changes(view: StatusView, lang: str) -> list[Element]:
    post = view.timeline.post
    disable = view.timeline.milestone("default-disable")
    new_tenants = view.timeline.milestone("new-tenants")
    return [
        subheading(t("status.what_changes", lang)),
        bullets([localized(disable.detail, lang), localized(new_tenants.detail, lang)]),
        text(t("status.failure_reply", lang, endpoint=post["endpoints"][0])),
        text(post["failure_reply"], fontType="Monospace", color="Attention", spacing="Small"),
    ]


def _what_to_do(view: StatusView, lang: str) -> list[Element]:
    alternatives = [localized(item, lang) for item in view.timeline.alternatives["items"]]
    return [
        subheading(t("status.what_to_do", lang)),
        bullets([t("status.do.find", lang), t("status.do.move", lang)]),
        container([bullets(alternatives)], spacing="None"),
        small(t("status.do.reenable", lang)),
    ]


def build_status_card(view: StatusView, lang: str) -> Element:
    count = view.countdown
    post = view.timeline.post
    latest = view.timeline.latest_version
    phase_text = t(f"status.phase.{count.phase.value}", lang, when=count.target.describe_when(lang, in_sentence=True))
    body: list[Element] = [
        heading(t("status.title", lang)),
        container(
            [
                text(t(f"status.badge.{count.phase.value}", lang), weight="Bolder"),
                text(phase_text),
            ],
            style=_PHASE_STYLE[count.phase],
            bleed=False,
        ),
        *_big_number(view, lang),
        *view.sections,
        *_what_changes(view, lang),
        *_what_to_do(view, lang),
        small(
            t("status.based_on", lang, post=post["id"], date=format_date(latest.published, lang))
            + " "
            + t("status.today", lang, date=format_date(count.today, lang), tz=count.tz.key),
            spacing="Medium",
        ),
    ]
    # Three short buttons: four do not fit a phone's width.
    actions = [
        execute_action(t("action.refresh", lang), REFRESH_VERB),
        command_action(t("action.timeline", lang), "/timeline"),
        open_url(t("action.open_post", lang, post=post["id"]), post["link"]),
    ]
    return card(body, actions, lang=lang)
