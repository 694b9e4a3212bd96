"""From stored alert data to a card: the same function builds an alert when it is sent and when a
button rebuilds it in place, so an acknowledged card says exactly what the original said.

Each ledger row's payload holds the plain data its part of the message was built from, plus the
subscription's language and zone at send time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.alerts.rules import COUNTDOWN, DIGEST, MESSAGE_CENTER, SENDERS
from bot.alerts.sources import ReadinessNumbers, post_change_from_data, sender_change_from_data
from bot.i18n import pick_timezone
from bot.timeline import Milestone, Timeline
from cards.alerts import (
    AlertState,
    CountdownAlertView,
    DigestView,
    MessageCenterAlertView,
    SendersAlertView,
    build_countdown_alert_card,
    build_digest_card,
    build_mc_alert_card,
    build_senders_alert_card,
)


@dataclass(frozen=True)
class Marks:
    """Who acknowledged, and until when this kind is snoozed for the conversation."""

    acked_by: str | None = None
    acked_at: datetime | None = None
    snoozed_until: datetime | None = None


def numbers_to_data(numbers: ReadinessNumbers | None) -> dict[str, int] | None:
    if numbers is None:
        return None
    return {"basic_auth_senders": numbers.basic_auth_senders, "break_at_cutoff": numbers.break_at_cutoff}


def numbers_from_data(raw: Mapping[str, Any] | None) -> ReadinessNumbers | None:
    if not raw:
        return None
    return ReadinessNumbers(int(raw["basic_auth_senders"]), int(raw["break_at_cutoff"]))


def _milestone(timeline: Timeline, milestone_id: str | None) -> Milestone | None:
    if not milestone_id:
        return None
    try:
        return timeline.milestone(milestone_id)
    except KeyError:
        return None


def render_alert(
    kind: str,
    payloads: Sequence[Mapping[str, Any]],
    alert_id: str,
    timeline: Timeline,
    marks: Marks = Marks(),
) -> dict[str, Any]:
    """The card for one alert message (one ledger batch)."""
    first = payloads[0]
    lang = "ja" if first.get("lang") == "ja" else "en"
    tz: ZoneInfo = pick_timezone([first.get("tz")], "UTC")
    state = AlertState(alert_id, tz, marks.acked_by, marks.acked_at, marks.snoozed_until)
    if kind == COUNTDOWN:
        milestone = _milestone(timeline, first["milestone"])
        if milestone is None:
            raise ValueError(f"unknown milestone {first['milestone']!r}")
        countdown_view = CountdownAlertView(
            milestone,
            date.fromisoformat(first["target_day"]),
            int(first["days_left"]),
            numbers_from_data(first.get("numbers")),
            state,
        )
        return build_countdown_alert_card(countdown_view, lang)
    if kind == MESSAGE_CENTER:
        countdown = _milestone(timeline, first.get("countdown_milestone"))
        return build_mc_alert_card(
            MessageCenterAlertView(post_change_from_data(first), state, countdown), lang
        )
    if kind == SENDERS:
        return build_senders_alert_card(
            SendersAlertView([sender_change_from_data(p) for p in payloads], state), lang
        )
    if kind == DIGEST:
        target = first.get("target_day")
        view = DigestView(
            week_start=date.fromisoformat(first["week_start"]),
            milestone=_milestone(timeline, first.get("milestone")),
            target_day=date.fromisoformat(target) if target else None,
            days_left=first.get("days_left"),
            numbers=numbers_from_data(first.get("numbers")),
            posts=list(first.get("posts") or []),
            sender_counts=dict(first.get("sender_counts") or {}),
            state=state,
        )
        return build_digest_card(view, lang)
    raise ValueError(f"unknown alert kind {kind!r}")
