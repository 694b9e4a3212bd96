"""Alert cards (countdown, Message Center, senders, weekly digest) and the /alerts settings card.

Every alert card carries the same three buttons: Acknowledge and Snooze 7 days (Universal Actions,
answered with this card rebuilt in place showing who acknowledged and until when it is snoozed) as
the card's actions, and Open readiness (sends /readiness, as if typed) in the body, next to what it
is about; more than two buttons in a row are cut off on a phone. Milestone dates are said as Microsoft said
them (``describe_when``); only our own send times are shown to the minute, with the zone named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.alerts.sources import PostChange, ReadinessNumbers, SenderChange
from bot.alerts.subscriptions import KINDS, Subscription
from bot.i18n import format_count, format_date, format_datetime, localized, t
from bot.timeline import Milestone
from cards.base import (
    Element,
    bullets,
    card,
    command_action,
    container,
    execute_action,
    facts,
    heading,
    help_action,
    open_url,
    small,
    subheading,
    text,
)

ACK_VERB = "alerts.ack"
SNOOZE_VERB = "alerts.snooze"
SAVE_VERB = "alerts.save"
SUBSCRIBE_VERB = "alerts.subscribe"
UNSUBSCRIBE_VERB = "alerts.unsubscribe"
READINESS_COMMAND = "/readiness"
MAX_LIST_LINES = 15
MC_LINK = "https://admin.microsoft.com/AdminPortal/home#/MessageCenter/:/messages/{post}"


@dataclass(frozen=True)
class AlertState:
    """What people did with an alert: shown on the card, and what hides its buttons."""

    alert_id: str
    tz: ZoneInfo
    acked_by: str | None = None
    acked_at: datetime | None = None
    snoozed_until: datetime | None = None


@dataclass(frozen=True)
class CountdownAlertView:
    milestone: Milestone
    target_day: date
    days_left: int
    numbers: ReadinessNumbers | None
    state: AlertState


@dataclass(frozen=True)
class MessageCenterAlertView:
    change: PostChange
    state: AlertState
    countdown: Milestone | None = None  # what the countdown counts to now


@dataclass(frozen=True)
class SendersAlertView:
    changes: Sequence[SenderChange]
    state: AlertState


@dataclass(frozen=True)
class DigestView:
    week_start: date
    milestone: Milestone | None
    target_day: date | None
    days_left: int | None
    numbers: ReadinessNumbers | None
    posts: Sequence[Mapping[str, str]]  # titles of Message Center changes this week ({"en", "ja"})
    sender_counts: Mapping[str, int]
    state: AlertState


@dataclass(frozen=True)
class KindSchedule:
    """When one kind of alert reaches this conversation."""

    kind: str
    next_at: datetime | None = None
    next_days: int | None = None  # countdown: the rung of the next alert
    last_sent: datetime | None = None
    snoozed_until: datetime | None = None


@dataclass(frozen=True)
class SubscriptionsView:
    conversation_type: str
    subscription: Subscription | None
    schedules: Sequence[KindSchedule] = ()
    mc_poll_minutes: int = 60
    senders_at_utc: time = time(0, 10)
    others: Sequence[Subscription] = ()  # other conversations in this tenant
    can_change: bool = False
    notice: str | None = None
    default_send_time: str = "09:00"
    lang_default: str = "en"
    tz_default: str = "UTC"


# --- pieces shared by the alert cards -------------------------------------------------------


def _days_text(days: int, lang: str) -> str:
    if days == 0:
        return t("alerts.countdown.today", lang)
    if days == 1:
        return t("alerts.countdown.one_day", lang)
    return t("alerts.countdown.days", lang, days=days)


def _precision_note(milestone: Milestone, target_day: date, tz: ZoneInfo, lang: str) -> str:
    when = milestone.describe_when(lang) or ""
    if milestone.when is not None and milestone.when.precision == "day":
        return t("alerts.countdown.counted_day", lang, day=format_date(target_day, lang), tz=tz.key)
    return t("alerts.countdown.counted_to", lang, when=when, day=format_date(target_day, lang), tz=tz.key)


def _numbers(numbers: ReadinessNumbers | None, lang: str) -> list[Element]:
    if numbers is None:
        return [subheading(t("alerts.tenant.title", lang)), text(t("alerts.tenant.none", lang))]
    return [
        subheading(t("alerts.tenant.title", lang)),
        facts(
            [
                (t("alerts.tenant.basic_senders", lang), format_count(numbers.basic_auth_senders, lang)),
                (t("alerts.tenant.break", lang), format_count(numbers.break_at_cutoff, lang)),
            ]
        ),
    ]


def _state(state: AlertState, lang: str) -> list[Element]:
    lines = []
    if state.acked_at is not None:
        who = state.acked_by or t("alerts.state.someone", lang)
        lines.append(
            t("alerts.state.acked", lang, who=who, when=format_datetime(state.acked_at, state.tz, lang))
        )
    if state.snoozed_until is not None:
        lines.append(
            t("alerts.state.snoozed", lang, when=format_datetime(state.snoozed_until, state.tz, lang))
        )
    if not lines:
        return []
    return [container([text(line, weight="Bolder") for line in lines], style="good", spacing="Medium")]


def _alert_actions(state: AlertState, lang: str) -> list[Element]:
    """Acknowledge and Snooze, while they still mean something (two buttons fit a phone's width)."""
    data = {"alert": state.alert_id}
    actions: list[Element] = []
    if state.acked_at is None:
        actions.append(execute_action(t("alerts.action.ack", lang), ACK_VERB, data))
    if state.snoozed_until is None:
        actions.append(execute_action(t("alerts.action.snooze", lang), SNOOZE_VERB, data))
    return actions


def _links(lang: str, *extra: Element) -> Element:
    """Open readiness (sends /readiness, as typed), beside what the alert is about."""
    readiness = command_action(t("alerts.action.readiness", lang), READINESS_COMMAND)
    return {"type": "ActionSet", "actions": [readiness, *extra]}


def _footer(kind: str, lang: str) -> Element:
    return small(t("alerts.footer", lang, kind=t(f"alerts.kind.{kind}", lang)), spacing="Medium")


# --- alert cards ----------------------------------------------------------------------------


def build_countdown_alert_card(view: CountdownAlertView, lang: str) -> Element:
    """A rung of the ladder: what happens, how many days are left, and this tenant's own numbers."""
    milestone = view.milestone
    when = milestone.describe_when(lang) or ""
    detail = localized(milestone.detail, lang) or localized(milestone.title, lang)
    body: list[Element] = [
        heading(t("alerts.countdown.title", lang)),
        text(
            _days_text(view.days_left, lang),
            size="ExtraLarge",
            weight="Bolder",
            color="Attention" if view.days_left <= 30 else "Warning",
        ),
        text(t("alerts.countdown.until", lang, title=localized(milestone.title, lang), when=when)),
        small(_precision_note(milestone, view.target_day, view.state.tz, lang)),
        subheading(t("alerts.countdown.what_happens", lang)),
        text(detail),
        *_numbers(view.numbers, lang),
        _links(lang),
        *_state(view.state, lang),
        _footer("countdown", lang),
    ]
    return card(body, _alert_actions(view.state, lang), lang=lang)


def build_mc_alert_card(view: MessageCenterAlertView, lang: str) -> Element:
    """A new version of a watched Message Center post: the diff, its dates, and the countdown."""
    change = view.change
    lines = list(change.summary.get(lang) or change.summary.get("en") or ())
    shown = lines[:MAX_LIST_LINES]
    body: list[Element] = [
        heading(t("alerts.mc.title", lang, post=change.post_id)),
        text(localized(change.title, lang) or change.post_id, weight="Bolder"),
        subheading(t("alerts.mc.what_changed", lang)),
        bullets(shown) if shown else text(t("alerts.mc.no_summary", lang)),
        small(t("alerts.more", lang, count=len(lines) - len(shown))) if len(lines) > len(shown) else {},
    ]
    if change.dates:
        body += [
            subheading(t("alerts.mc.dates", lang)),
            facts([(localized(d.label, lang), d.when.describe(lang)) for d in change.dates]),
        ]
    if change.affects_countdown:
        body.append(
            container([text(t("alerts.mc.countdown_moved", lang), weight="Bolder")], style="attention")
        )
    elif view.countdown is not None:
        body.append(text(t("alerts.mc.countdown_same", lang, when=view.countdown.describe_when(lang) or "")))
    post = open_url(t("alerts.mc.open_post", lang, post=change.post_id), MC_LINK.format(post=change.post_id))
    body += [_links(lang, post), *_state(view.state, lang), _footer("mc", lang)]
    return card(body, _alert_actions(view.state, lang), lang=lang)


def _sender_line(change: SenderChange, lang: str) -> str:
    description = localized(change.description, lang)
    return f"{change.upn}: {description}" if description else change.upn


def _share_lines(sizes: Mapping[str, int], budget: int) -> dict[str, int]:
    """Lines per group, taken in turn, so one long group cannot hide the others."""
    shown = {kind: 0 for kind in sizes}
    while budget > 0 and any(shown[k] < n for k, n in sizes.items()):
        for kind, size in sizes.items():
            if budget > 0 and shown[kind] < size:
                shown[kind] += 1
                budget -= 1
    return shown


def build_senders_alert_card(view: SendersAlertView, lang: str) -> Element:
    """One card per run: new Basic-auth senders, senders gone quiet, senders whose status changed."""
    body: list[Element] = [heading(t("alerts.senders.title", lang))]
    groups = {kind: [c for c in view.changes if c.change == kind] for kind in ("new", "status", "gone")}
    shown = _share_lines({kind: len(group) for kind, group in groups.items()}, MAX_LIST_LINES)
    for change_kind, group in groups.items():
        if not group:
            continue
        body.append(subheading(t(f"alerts.senders.{change_kind}", lang, count=len(group))))
        if shown[change_kind]:
            body.append(bullets([_sender_line(c, lang) for c in group[: shown[change_kind]]]))
    hidden = len(view.changes) - sum(shown.values())
    if hidden:
        body.append(small(t("alerts.more", lang, count=hidden)))
    body += [_links(lang), *_state(view.state, lang), _footer("senders", lang)]
    return card(body, _alert_actions(view.state, lang), lang=lang)


def build_digest_card(view: DigestView, lang: str) -> Element:
    """The weekly summary: the countdown, this tenant's numbers, and what changed this week."""
    body: list[Element] = [heading(t("alerts.digest.title", lang, date=format_date(view.week_start, lang)))]
    if view.milestone is not None and view.days_left is not None and view.target_day is not None:
        body += [
            text(_days_text(view.days_left, lang), size="Large", weight="Bolder"),
            text(
                t(
                    "alerts.countdown.until",
                    lang,
                    title=localized(view.milestone.title, lang),
                    when=view.milestone.describe_when(lang) or "",
                )
            ),
            small(_precision_note(view.milestone, view.target_day, view.state.tz, lang)),
        ]
    else:
        body.append(text(t("alerts.digest.no_countdown", lang)))
    body += _numbers(view.numbers, lang)
    body.append(subheading(t("alerts.digest.week", lang)))
    titles = [localized(title, lang) for title in view.posts][:MAX_LIST_LINES]
    body.append(text(t("alerts.digest.mc_count", lang, count=len(view.posts))))
    if titles:
        body.append(bullets(titles))
    counts = view.sender_counts
    body.append(
        text(
            t(
                "alerts.digest.senders",
                lang,
                new=counts.get("new", 0),
                gone=counts.get("gone", 0),
                status=counts.get("status", 0),
            )
        )
    )
    body += [_links(lang), *_state(view.state, lang), _footer("digest", lang)]
    return card(body, _alert_actions(view.state, lang), lang=lang)


# --- the /alerts card -----------------------------------------------------------------------


def _kind_names(kinds: Sequence[str], lang: str) -> str:
    joiner = "、" if lang == "ja" else ", "
    return joiner.join(t(f"alerts.kind.{kind}", lang) for kind in kinds) or t("alerts.settings.nothing", lang)


def _schedule_line(item: KindSchedule, sub: Subscription, view: SubscriptionsView, lang: str) -> str:
    tz = sub.tz
    name = t(f"alerts.kind.{item.kind}", lang)
    if item.kind == "countdown":
        if item.next_at is not None and item.next_days is not None:
            when = t(
                "alerts.when.countdown",
                lang,
                days=_days_text(item.next_days, lang),
                at=format_datetime(item.next_at, tz, lang),
            )
        else:
            when = t("alerts.when.countdown_none", lang)
    elif item.kind == "mc":
        when = t("alerts.when.mc", lang, minutes=view.mc_poll_minutes)
    elif item.kind == "senders":
        local = (
            datetime.combine(date(2026, 1, 5), view.senders_at_utc)
            .replace(tzinfo=ZoneInfo("UTC"))
            .astimezone(tz)
        )
        when = t("alerts.when.senders", lang, at=f"{local:%H:%M}", tz=tz.key)
    else:
        when = t(
            "alerts.when.digest", lang, at=format_datetime(item.next_at, tz, lang) if item.next_at else "-"
        )
    line = f"**{name}**: {when}"
    if item.snoozed_until is not None:
        line += " " + t("alerts.when.snoozed", lang, until=format_datetime(item.snoozed_until, tz, lang))
    if item.last_sent is not None:
        line += " " + t("alerts.when.last", lang, at=format_datetime(item.last_sent, tz, lang))
    return line


def _status_text(sub: Subscription, lang: str) -> str:
    if sub.active:
        return t("alerts.settings.active", lang)
    reason = t(f"alerts.reason.{sub.status_reason or 'unknown'}", lang)
    when = (
        format_date(sub.status_changed_at.astimezone(sub.tz).date(), lang) if sub.status_changed_at else "-"
    )
    return t("alerts.settings.stopped", lang, when=when, reason=reason)


def _other_line(sub: Subscription, lang: str) -> str:
    place = (
        t(f"alerts.place.{sub.conversation_type}", lang)
        if sub.conversation_type in ("channel", "groupChat", "personal")
        else sub.conversation_type
    )
    who = sub.created_by_name or "-"
    return t(
        "alerts.settings.other",
        lang,
        place=place,
        who=who,
        status=_status_text(sub, lang),
        kinds=_kind_names(sub.kinds, lang),
    )


def _form(view: SubscriptionsView, lang: str) -> list[Element]:
    sub = view.subscription
    kinds = sub.kinds if sub else KINDS
    return [
        subheading(t("alerts.settings.change", lang)),
        {
            "type": "Input.ChoiceSet",
            "id": "kinds",
            "label": t("alerts.settings.kinds", lang),
            "isMultiSelect": True,
            "style": "expanded",
            "value": ",".join(kinds),
            "choices": [{"title": t(f"alerts.kind.{kind}", lang), "value": kind} for kind in KINDS],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "lang",
            "label": t("alerts.settings.language", lang),
            "style": "compact",
            "value": sub.lang if sub else view.lang_default,
            "choices": [{"title": "English", "value": "en"}, {"title": "日本語", "value": "ja"}],
        },
        {
            "type": "Input.Time",
            "id": "send_time",
            "label": t("alerts.settings.send_time", lang),
            "value": sub.send_time if sub else view.default_send_time,
        },
        {
            "type": "Input.Text",
            "id": "timezone",
            "label": t("alerts.settings.timezone", lang),
            "placeholder": "Asia/Tokyo",
            "maxLength": 64,
            "value": sub.timezone if sub else view.tz_default,
        },
    ]


def build_alerts_settings_card(view: SubscriptionsView, lang: str) -> Element:
    """/alerts: what this conversation receives and when, other conversations' state, and the controls."""
    sub = view.subscription
    place = (
        t(f"alerts.place.{view.conversation_type}", lang)
        if view.conversation_type in ("channel", "groupChat", "personal")
        else view.conversation_type
    )
    body: list[Element] = [
        text(view.notice, weight="Bolder", color="Good") if view.notice else {},
        heading(t("alerts.settings.title", lang, place=place)),
    ]
    if sub is None:
        body.append(text(t("alerts.settings.not_subscribed", lang)))
    else:
        body += [
            facts(
                [
                    (t("alerts.settings.status", lang), _status_text(sub, lang)),
                    (t("alerts.settings.kinds", lang), _kind_names(sub.kinds, lang)),
                    (t("alerts.settings.language", lang), "日本語" if sub.lang == "ja" else "English"),
                    (t("alerts.settings.timezone", lang), sub.timezone),
                    (t("alerts.settings.send_time", lang), sub.send_time),
                ]
            ),
        ]
        if sub.kinds and sub.active:
            body += [
                subheading(t("alerts.settings.when", lang)),
                bullets([_schedule_line(item, sub, view, lang) for item in view.schedules]),
            ]
    if view.others:
        others = list(view.others)[:10]
        body += [
            subheading(t("alerts.settings.others", lang)),
            bullets([_other_line(o, lang) for o in others]),
        ]
        if len(view.others) > len(others):
            body.append(small(t("alerts.more", lang, count=len(view.others) - len(others))))
    actions: list[Element] = []
    if view.can_change:
        body += _form(view, lang)
        if sub is None:
            actions.append(execute_action(t("alerts.action.subscribe", lang), SUBSCRIBE_VERB))
        else:
            actions.append(execute_action(t("alerts.action.save", lang), SAVE_VERB))
            actions.append(execute_action(t("alerts.action.unsubscribe", lang), UNSUBSCRIBE_VERB))
    else:
        body.append(small(t("alerts.admins_only", lang)))
    actions.append(help_action(lang))
    return card(body, actions, lang=lang)
