"""Demo data for the alert cards in the gallery (``cards.gallery``): every state worth seeing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo

from bot.alerts.sources import PostChange, PostDate, ReadinessNumbers, SenderChange
from bot.alerts.subscriptions import Subscription
from bot.timeline import When, load_timeline
from cards.alerts import (
    AlertState,
    CountdownAlertView,
    DigestView,
    KindSchedule,
    MessageCenterAlertView,
    SendersAlertView,
    SubscriptionsView,
    build_alerts_settings_card,
    build_countdown_alert_card,
    build_digest_card,
    build_mc_alert_card,
    build_senders_alert_card,
)

TZ = ZoneInfo("Asia/Tokyo")
ALERT_ID = "3f1c2d4e-0000-4000-8000-000000000001"
NOW = datetime(2026, 12, 1, 0, 5, tzinfo=timezone.utc)

Entry = tuple[str, str, Callable[[str], dict[str, Any]]]


def _countdown(
    days: int, numbers: ReadinessNumbers | None, state: AlertState
) -> Callable[[str], dict[str, Any]]:
    milestone = load_timeline().milestone("default-disable")
    view = CountdownAlertView(milestone, date(2026, 12, 31), days, numbers, state)
    return lambda lang: build_countdown_alert_card(view, lang)


def _post_change(moves: bool) -> PostChange:
    return PostChange(
        post_id="MC786329",
        version_key="demo-v5",
        title={
            "en": "Exchange Online retires Basic authentication for SMTP AUTH client submission",
            "ja": "Exchange Online: SMTP AUTH クライアント送信の基本認証の廃止",
        },
        summary={
            "en": [
                "The default-disable moved from the end of December 2026 to the end of March 2027.",
                "New tenants: unchanged.",
            ],
            "ja": [
                "既定での無効化が 2026 年 12 月末から 2027 年 3 月末に変更されました。",
                "新規テナント: 変更なし。",
            ],
        },
        dates=(
            PostDate({"en": "Disabled by default", "ja": "既定で無効化"}, When("month", 2027, 3, part="end")),
        ),
        affects_countdown=moves,
    )


def _senders() -> list[SenderChange]:
    changes = [
        SenderChange(
            "t",
            "scanner-3f@contoso.co.jp",
            "new",
            {"en": "multifunction printer, Basic auth", "ja": "複合機 (基本認証)"},
        ),
        SenderChange(
            "t", "alerts@contoso.co.jp", "status", {"en": "moved to OAuth", "ja": "OAuth に移行済み"}
        ),
        SenderChange(
            "t",
            "old-app@contoso.co.jp",
            "gone",
            {"en": "no submissions for 30 days", "ja": "30 日間送信なし"},
        ),
    ]
    changes += [
        SenderChange(
            "t",
            f"device-{n:02d}@contoso.co.jp",
            "new",
            {"en": "unknown device, Basic auth", "ja": "不明なデバイス (基本認証)"},
        )
        for n in range(16)
    ]
    return changes


def _subscription(**overrides: Any) -> Subscription:
    values: dict[str, Any] = dict(
        tenant_id="t",
        conversation_id="19:demo@thread.tacv2",
        conversation_type="channel",
        kinds=("countdown", "mc", "senders", "digest"),
        lang="ja",
        timezone="Asia/Tokyo",
        send_time="09:00",
        created_by="admin",
        created_by_name="Aiko Tanaka",
        created_at=NOW,
        updated_at=NOW,
    )
    values.update(overrides)
    return Subscription(**values)


def _settings(subscribed: bool, can_change: bool) -> Callable[[str], dict[str, Any]]:
    sub = _subscription() if subscribed else None
    schedules = [
        KindSchedule(
            "countdown",
            datetime(2026, 12, 17, 0, 0, tzinfo=timezone.utc),
            14,
            last_sent=datetime(2026, 12, 1, 0, 1, tzinfo=timezone.utc),
        ),
        KindSchedule("mc"),
        KindSchedule("senders", snoozed_until=datetime(2026, 12, 8, 0, 5, tzinfo=timezone.utc)),
        KindSchedule("digest", datetime(2026, 12, 7, 0, 0, tzinfo=timezone.utc)),
    ]
    others = [
        _subscription(
            conversation_id="19:other@thread.tacv2",
            active=False,
            status_reason="bot_removed",
            status_changed_at=NOW,
            created_by_name="Ken Sato",
            kinds=("countdown",),
        ),
        _subscription(
            conversation_id="a:personal", conversation_type="personal", created_by_name="Aiko Tanaka"
        ),
    ]
    view = SubscriptionsView(
        "channel",
        sub,
        schedules if subscribed else (),
        60,
        time(0, 10),
        others,
        can_change,
        notice=None,
        tz_default="Asia/Tokyo",
    )
    return lambda lang: build_alerts_settings_card(view, lang)


def alert_entries() -> list[Entry]:
    fresh = AlertState(ALERT_ID, TZ)
    handled = AlertState(
        ALERT_ID,
        TZ,
        "Aiko Tanaka",
        datetime(2026, 12, 31, 0, 12, tzinfo=timezone.utc),
        datetime(2027, 1, 7, 0, 12, tzinfo=timezone.utc),
    )
    digest = DigestView(
        date(2026, 11, 30),
        load_timeline().milestone("default-disable"),
        date(2026, 12, 31),
        30,
        ReadinessNumbers(12, 9),
        [_post_change(False).title],
        {"new": 2, "gone": 1, "status": 1},
        fresh,
    )
    return [
        ("alert-countdown", "build_countdown_alert_card", _countdown(30, ReadinessNumbers(12, 9), fresh)),
        ("alert-countdown-last-day", "build_countdown_alert_card", _countdown(0, None, handled)),
        (
            "alert-mc-moves",
            "build_mc_alert_card",
            lambda lang: build_mc_alert_card(MessageCenterAlertView(_post_change(True), fresh), lang),
        ),
        (
            "alert-mc-same",
            "build_mc_alert_card",
            lambda lang: build_mc_alert_card(
                MessageCenterAlertView(
                    _post_change(False), handled, load_timeline().milestone("default-disable")
                ),
                lang,
            ),
        ),
        (
            "alert-senders",
            "build_senders_alert_card",
            lambda lang: build_senders_alert_card(SendersAlertView(_senders(), fresh), lang),
        ),
        ("alert-digest", "build_digest_card", lambda lang: build_digest_card(digest, lang)),
        ("alerts-settings", "build_alerts_settings_card", _settings(True, True)),
        ("alerts-settings-none", "build_alerts_settings_card", _settings(False, False)),
    ]
