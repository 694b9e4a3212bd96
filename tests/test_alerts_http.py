"""Alerts end to end over real HTTP: /subscribe, /alerts, the jobs crossing ladder days on a frozen
clock, and the Acknowledge / Snooze buttons — the app on loopback, alerts posted to the fake connector."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from activities import ADMIN_AAD, CHANNEL_ID, TENANT, USER_AAD, card_action, channel_message, personal_message
from alerts_support import (
    FixedReadiness,
    MovableClock,
    ScriptedMessageCenter,
    ScriptedSenders,
    start_alert_bot,
)
from card_checks import assert_valid_card, card_text

from bot.alerts import jobs
from bot.alerts.sources import PostChange, PostDate, ReadinessNumbers, SenderChange, Sources
from bot.alerts.subscriptions import SubscriptionStore
from bot.timeline import When

JST = timezone(timedelta(hours=9))
SUBSCRIBED_AT = datetime(2026, 11, 23, 12, 0, tzinfo=JST)  # "today", 38 days before 31 December in Tokyo


@pytest.fixture
async def bot(database_url, connector):
    """The app on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""
    clock = MovableClock(SUBSCRIBED_AT.astimezone(timezone.utc))
    started = await start_alert_bot(database_url, clock)
    yield started
    await started.close()


async def subscribe_personal(bot, connector, args: str = "", **kwargs) -> None:
    status, _ = await bot.post(
        personal_message(f"/subscribe {args}".strip(), connector.url, aad=ADMIN_AAD, **kwargs)
    )
    assert status == 200


def alert_cards(connector) -> list[dict]:
    return [
        card
        for card in connector.cards()
        if "You get this because" in card_text(card) or "購読しているため" in card_text(card)
    ]


async def at(bot, moment: datetime, job=jobs.countdown_job):
    bot.clock.set(moment.astimezone(timezone.utc))
    return await job(bot.ctx)


# --- subscriptions -------------------------------------------------------------------------


async def test_only_admins_may_subscribe_and_they_are_told_why(bot, connector):
    status, _ = await bot.post(personal_message("/subscribe", connector.url, aad=USER_AAD))
    assert status == 200
    [message] = connector.messages()
    assert (
        "Only the bot's admins" in message.activity["text"] and "ADMIN_USER_IDS" in message.activity["text"]
    )
    assert await SubscriptionStore(bot.services.db.engine).all() == []

    connector.clear()
    await bot.post(personal_message("/subscribe", connector.url, aad=USER_AAD, locale="ja-JP"))
    assert "管理者" in connector.messages()[0].activity["text"]


async def test_subscribe_in_a_channel_takes_the_subscribers_language_and_zone(bot, connector):
    await bot.post(channel_message("/subscribe", connector.url, aad=ADMIN_AAD, locale="ja-JP"))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "購読しました" in text and "このチャネルの通知設定" in text
    [sub] = await SubscriptionStore(bot.services.db.engine).all()
    assert sub.conversation_id == CHANNEL_ID and sub.conversation_type == "channel"
    assert sub.kinds == ("countdown", "mc", "senders", "digest")
    assert (sub.lang, sub.timezone, sub.send_time) == ("ja", "Europe/London", "09:00")
    assert sub.created_by == ADMIN_AAD and sub.active


async def test_subscribe_options_and_unsubscribe_some_then_all(bot, connector):
    await subscribe_personal(bot, connector, "countdown mc en Asia/Tokyo 08:30")
    store = SubscriptionStore(bot.services.db.engine)
    [sub] = await store.all()
    assert (sub.kinds, sub.lang, sub.timezone, sub.send_time) == (
        ("countdown", "mc"),
        "en",
        "Asia/Tokyo",
        "08:30",
    )
    text = card_text(connector.cards()[-1])
    assert "next: 30 days left, on 1 December 2026 08:30 (Asia/Tokyo)" in text

    await bot.post(personal_message("/unsubscribe mc", connector.url, aad=ADMIN_AAD))
    [sub] = await store.all()
    assert sub.kinds == ("countdown",)
    await bot.post(personal_message("/unsubscribe", connector.url, aad=ADMIN_AAD))
    assert await store.all() == []
    assert "Unsubscribed" in connector.messages()[-1].activity["text"]


async def test_unknown_subscribe_words_change_nothing(bot, connector):
    await subscribe_personal(bot, connector, "countdown Mars/Olympus 25:00")
    text = connector.messages()[-1].activity["text"]
    assert "'Mars/Olympus'" in text and "'25:00'" in text
    assert await SubscriptionStore(bot.services.db.engine).all() == []


async def test_alerts_card_for_a_non_admin_shows_but_offers_no_controls(bot, connector):
    await subscribe_personal(bot, connector, "Asia/Tokyo")
    connector.clear()
    await bot.post(personal_message("/alerts", connector.url, aad=USER_AAD))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "Only the bot's admins (ADMIN_USER_IDS) can subscribe or change alerts." in text
    assert "Mondays; next on 30 November 2026 09:00 (Asia/Tokyo)" in text
    assert not [a for a in card["actions"] if a["type"] == "Action.Execute"]


# --- the countdown ladder across days ----------------------------------------------------------


async def test_ladder_sends_each_rung_once_at_local_morning_and_only_the_latest_after_downtime(
    bot, connector
):
    bot.ctx.sources = Sources(readiness=FixedReadiness({TENANT: ReadinessNumbers(12, 9)}))
    await subscribe_personal(bot, connector, "countdown Asia/Tokyo")
    connector.clear()

    # The 60-day rung (1 November) came due before anyone subscribed: not owed.
    assert (await at(bot, datetime(2026, 11, 30, 23, 0, tzinfo=JST))).due == 0
    assert (await at(bot, datetime(2026, 12, 1, 8, 59, tzinfo=JST))).due == 0
    result = await at(bot, datetime(2026, 12, 1, 9, 0, tzinfo=JST))
    assert result.counts["sent"] == 1
    [card] = alert_cards(connector)
    assert_valid_card(card)
    text = card_text(card)
    assert "30 days left" in text and "end of December 2026" in text
    assert "31 December 2026" in text and "Asia/Tokyo" in text and "Microsoft gave a month" in text
    assert "Senders still on Basic auth" in text and "12" in text and "9" in text
    assert [a["title"] for a in card["actions"]] == ["Acknowledge", "Snooze 7 days"]
    [readiness] = [a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    assert readiness["title"] == "Open readiness"
    assert readiness["data"] == {"command": "/readiness"}

    # The same hour again, and the next hourly run: nothing new.
    assert (await at(bot, datetime(2026, 12, 1, 9, 0, tzinfo=JST))).due == 0
    assert (await at(bot, datetime(2026, 12, 1, 10, 0, tzinfo=JST))).due == 0
    assert (await at(bot, datetime(2026, 12, 17, 9, 30, tzinfo=JST))).counts["sent"] == 1  # 14 days

    # Down from 23 to 28 December: the 7-day rung (24th) and 3-day rung (28th 09:00) were missed.
    connector.clear()
    assert (await at(bot, datetime(2026, 12, 28, 15, 0, tzinfo=JST))).counts["sent"] == 1
    assert (await at(bot, datetime(2026, 12, 28, 16, 0, tzinfo=JST))).due == 0
    [late] = alert_cards(connector)
    assert "3 days left" in card_text(late)

    assert (await at(bot, datetime(2026, 12, 30, 9, 0, tzinfo=JST))).counts["sent"] == 1
    assert (await at(bot, datetime(2026, 12, 31, 9, 0, tzinfo=JST))).counts["sent"] == 1
    assert "This is the last day" in card_text(alert_cards(connector)[-1])
    # After the last day there is nothing left to count to until Microsoft dates the final removal.
    assert (await at(bot, datetime(2027, 1, 1, 9, 0, tzinfo=JST))).due == 0
    assert len(alert_cards(connector)) == 3


async def test_each_subscription_counts_in_its_own_zone(bot, connector):
    await bot.post(
        personal_message(
            "/subscribe countdown Asia/Tokyo", connector.url, aad=ADMIN_AAD, conversation_id="a:tokyo"
        )
    )
    await bot.post(
        personal_message(
            "/subscribe countdown Europe/London ja", connector.url, aad=ADMIN_AAD, conversation_id="a:london"
        )
    )
    connector.clear()
    # 09:00 on 1 December in Tokyo is 00:00 UTC: Tokyo's 30-day rung is due, London's (09:00 GMT) is not.
    await at(bot, datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc))
    assert [m.conversation_id for m in connector.messages()] == ["a:tokyo"]
    await at(bot, datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    assert [m.conversation_id for m in connector.messages()] == ["a:tokyo", "a:london"]
    london = connector.messages()[1].cards[0]
    assert "残り 30 日" in card_text(london) and "Europe/London" in card_text(london)


async def test_channel_alert_is_a_new_post_not_a_reply(bot, connector):
    await bot.post(channel_message("/subscribe countdown", connector.url, aad=ADMIN_AAD))
    connector.clear()
    await at(bot, datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    [sent] = connector.messages()
    assert sent.conversation_id == CHANNEL_ID  # the channel itself, not "…;messageid=…"
    assert sent.reply_to is None and "replyToId" not in sent.activity


# --- buttons ----------------------------------------------------------------------------------


def channel_invoke(
    verb: str, connector, data: dict, *, aad: str = ADMIN_AAD, conversation_id: str | None = None
) -> dict:
    activity = card_action(verb, connector.url, data, aad=aad)
    activity["conversation"] = {
        "id": conversation_id or f"{CHANNEL_ID};messageid=1700000000001",
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": TENANT,
    }
    return activity


async def test_acknowledge_records_who_and_when_and_refreshes_the_card(bot, connector):
    await bot.post(channel_message("/subscribe countdown Asia/Tokyo", connector.url, aad=ADMIN_AAD))
    connector.clear()
    await at(bot, datetime(2026, 12, 1, 9, 0, tzinfo=JST))
    [card] = alert_cards(connector)
    ack = card["actions"][0]
    assert ack["type"] == "Action.Execute" and ack["verb"] == "alerts.ack"

    bot.clock.set(datetime(2026, 12, 1, 9, 12, tzinfo=JST).astimezone(timezone.utc))
    status, body = await bot.post(channel_invoke("alerts.ack", connector, ack["data"]))
    assert status == 200 and body["statusCode"] == 200
    refreshed = body["value"]
    assert_valid_card(refreshed)
    text = card_text(refreshed)
    assert "Acknowledged by Aiko Tanaka on 1 December 2026 09:12 (Asia/Tokyo)" in text
    assert "30 days left" in text  # the same alert, not a recount
    assert "Acknowledge" not in [a["title"] for a in refreshed["actions"]]
    [row] = await bot.ctx.ledger.batch(ack["data"]["alert"])
    assert row.acked_by == ADMIN_AAD and row.acked_at == bot.clock()


async def test_buttons_refuse_non_admins_and_tampered_payloads(bot, connector, caplog):
    await bot.post(channel_message("/subscribe countdown", connector.url, aad=ADMIN_AAD))
    await bot.post(personal_message("/subscribe countdown", connector.url, aad=ADMIN_AAD))
    connector.clear()
    await at(bot, datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    channel_alert = next(m for m in connector.messages() if m.conversation_id == CHANNEL_ID).cards[0]
    alert_data = channel_alert["actions"][0]["data"]

    status, body = await bot.post(channel_invoke("alerts.ack", connector, alert_data, aad=USER_AAD))
    assert body["statusCode"] == 403
    caplog.set_level(logging.WARNING)
    # The channel's alert id pressed from the personal chat: not this conversation's alert.
    status, body = await bot.post(
        channel_invoke("alerts.ack", connector, alert_data, conversation_id="a:personal-chat-1")
    )
    assert body["statusCode"] == 400
    for tampered in ({"alert": "'; DROP TABLE alert_ledger; --"}, {"alert": 42}, {}, {"alert": "0" * 36}):
        status, body = await bot.post(channel_invoke("alerts.snooze", connector, tampered))
        assert status == 200 and body["statusCode"] == 400, tampered
    rows = await bot.ctx.ledger.batch(alert_data["alert"])
    assert rows[0].acked_at is None
    [sub] = [
        s for s in await SubscriptionStore(bot.services.db.engine).all() if s.conversation_type == "channel"
    ]
    assert sub.snoozes == {}


async def test_snooze_holds_alerts_for_seven_days_then_only_the_latest_rung_goes(bot, connector):
    await bot.post(channel_message("/subscribe countdown Asia/Tokyo", connector.url, aad=ADMIN_AAD))
    connector.clear()
    await at(bot, datetime(2026, 12, 24, 9, 0, tzinfo=JST))  # the 7-day rung
    [card] = alert_cards(connector)
    _, body = await bot.post(channel_invoke("alerts.snooze", connector, card["actions"][1]["data"]))
    assert "Snoozed until 31 December 2026 09:00 (Asia/Tokyo)" in card_text(body["value"])
    assert (await at(bot, datetime(2026, 12, 28, 9, 0, tzinfo=JST))).due == 0  # 3-day rung: snoozed
    assert (await at(bot, datetime(2026, 12, 30, 9, 0, tzinfo=JST))).due == 0  # 1-day rung: snoozed
    assert (await at(bot, datetime(2026, 12, 31, 9, 0, tzinfo=JST))).counts["sent"] == 1  # snooze over
    assert "This is the last day" in card_text(alert_cards(connector)[-1])


# --- Message Center, senders, digest ------------------------------------------------------------

MOVE = PostChange(
    post_id="MC786329",
    version_key="sha256:v5",
    title={"en": "Exchange Online retires Basic auth for SMTP AUTH", "ja": "SMTP AUTH の基本認証の廃止"},
    summary={
        "en": ["The default-disable moved to the end of March 2027."],
        "ja": ["既定の無効化が 2027 年 3 月末に変更。"],
    },
    dates=(
        PostDate({"en": "Disabled by default", "ja": "既定で無効化"}, When("month", 2027, 3, part="end")),
    ),
    affects_countdown=True,
)


async def test_a_new_post_version_is_one_alert_however_often_it_is_polled(bot, connector):
    source = ScriptedMessageCenter([MOVE], repeat=True)
    bot.ctx.sources = Sources(message_center=source)
    await subscribe_personal(bot, connector, "mc", conversation_id="a:one")
    await bot.post(channel_message("/subscribe mc", connector.url, aad=ADMIN_AAD, locale="ja-JP"))
    connector.clear()
    for minutes in (0, 60, 120):
        bot.clock.advance(minutes=minutes)
        await jobs.mc_job(bot.ctx)
    assert source.polls == 3
    cards = alert_cards(connector)
    assert sorted(m.conversation_id for m in connector.messages()) == sorted(["a:one", CHANNEL_ID])
    en = next(c for c in cards if "Message Center:" in card_text(c))
    assert_valid_card(en)
    text = card_text(en)
    assert "Message Center: MC786329 changed" in text
    assert "moved to the end of March 2027" in text and "end of March 2027" in text
    assert "This moves the countdown" in text
    ja = next(c for c in cards if "メッセージ センター:" in card_text(c))
    assert "既定の無効化が 2027 年 3 月末に変更" in card_text(ja) and "2027年3月末" in card_text(ja)

    source.pending = [PostChange("MC786329", "sha256:v6", MOVE.title, {"en": ["Typo fixed."]})]
    await jobs.mc_job(bot.ctx)
    assert len(alert_cards(connector)) == 4
    typo = [card_text(c) for c in alert_cards(connector)[2:] if "Typo fixed." in card_text(c)]
    assert len(typo) == 2 and any(
        "The countdown is unchanged: still end of December 2026." in c for c in typo
    )


async def test_sender_changes_are_grouped_per_run_and_never_repeated(bot, connector):
    source = ScriptedSenders(
        [
            SenderChange(
                TENANT,
                "scanner@contoso.co.jp",
                "new",
                {"en": "printer, Basic auth", "ja": "複合機 (基本認証)"},
            ),
            SenderChange(
                TENANT, "app@contoso.co.jp", "gone", {"en": "quiet for 30 days", "ja": "30 日間送信なし"}
            ),
            SenderChange("other-tenant", "x@fabrikam.com", "new", {"en": "other tenant"}),
        ]
    )
    bot.ctx.sources = Sources(senders=source)
    await subscribe_personal(bot, connector, "senders")
    connector.clear()
    assert (await jobs.senders_job(bot.ctx)).counts["sent"] == 1
    [card] = alert_cards(connector)
    text = card_text(card)
    assert "scanner@contoso.co.jp" in text and "app@contoso.co.jp" in text and "fabrikam" not in text
    assert "New senders using Basic auth (1)" in text and "Senders gone quiet (1)" in text

    bot.clock.advance(days=1)
    assert (await jobs.senders_job(bot.ctx)).due == 0  # the same facts: nothing to say

    source.current[0] = SenderChange(TENANT, "scanner@contoso.co.jp", "status", {"en": "moved to OAuth"})
    bot.clock.advance(days=1)
    assert (await jobs.senders_job(bot.ctx)).counts["sent"] == 1
    last = card_text(alert_cards(connector)[-1])
    assert "moved to OAuth" in last and "app@contoso.co.jp" not in last


async def test_weekly_digest_on_monday_local_morning(bot, connector):
    await subscribe_personal(
        bot, connector, "digest Asia/Tokyo"
    )  # Monday 23 Nov 12:00: this week's is not owed
    connector.clear()
    assert (await at(bot, datetime(2026, 11, 29, 23, 0, tzinfo=JST), jobs.digest_job)).due == 0
    assert (await at(bot, datetime(2026, 11, 30, 9, 0, tzinfo=JST), jobs.digest_job)).counts["sent"] == 1
    assert (await at(bot, datetime(2026, 12, 2, 9, 0, tzinfo=JST), jobs.digest_job)).due == 0
    [card] = alert_cards(connector)
    assert_valid_card(card)
    text = card_text(card)
    assert "week of 30 November 2026" in text and "31 days left" in text
    assert "No sender inventory" in text


# --- faults ---------------------------------------------------------------------------------------


async def test_removed_bot_and_lost_reference_deactivate_and_show_elsewhere(bot, connector, caplog):
    from connector_fake import Fault

    await bot.post(channel_message("/subscribe countdown", connector.url, aad=ADMIN_AAD))
    await bot.post(
        personal_message("/subscribe countdown", connector.url, aad=ADMIN_AAD, conversation_id="a:gone")
    )
    await bot.post(
        personal_message("/subscribe countdown", connector.url, aad=ADMIN_AAD, conversation_id="a:fine")
    )
    await bot.services.conversations.delete(TENANT, "a:gone")  # the reference is lost
    connector.inject(CHANNEL_ID, Fault(status=403))  # the bot was removed from the team
    connector.clear()
    caplog.set_level(logging.WARNING)
    result = await at(bot, datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    assert (result.counts["sent"], result.counts["gone"], result.counts["no_reference"]) == (1, 1, 1)
    assert [m.conversation_id for m in connector.messages()] == ["a:fine"]
    subs = {s.conversation_id: s for s in await SubscriptionStore(bot.services.db.engine).all()}
    assert subs[CHANNEL_ID].status_reason == "bot_removed" and not subs[CHANNEL_ID].active
    assert subs["a:gone"].status_reason == "reference_gone" and not subs["a:gone"].active
    assert any("deactivating" in r.getMessage() for r in caplog.records)

    await at(bot, datetime(2026, 12, 17, 9, 0, tzinfo=timezone.utc))  # next rung: only the live one
    assert [m.conversation_id for m in connector.messages()] == ["a:fine", "a:fine"]

    connector.clear()
    await bot.post(personal_message("/alerts", connector.url, aad=ADMIN_AAD, conversation_id="a:fine"))
    text = card_text(connector.cards()[0])
    assert "the bot was removed from it" in text and "the bot no longer knows how to reach it" in text


async def test_throttled_send_waits_for_retry_after_and_arrives_once(bot, connector):
    from connector_fake import Fault

    await bot.post(
        personal_message("/subscribe countdown", connector.url, aad=ADMIN_AAD, conversation_id="a:busy")
    )
    connector.inject("a:busy", Fault(status=429, retry_after="1"), Fault(status=502))
    connector.clear()
    result = await at(bot, datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    assert result.counts["sent"] == 1
    attempts = [a for a in connector.attempts if a.conversation_id == "a:busy"]
    assert [a.status for a in attempts] == [429, 502, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After honoured
    assert len(connector.messages()) == 1


async def test_a_hanging_connector_times_out_without_blocking_the_rest_and_is_retried_next_run(
    tmp_path, connector
):
    from connector_fake import Fault

    clock = MovableClock(SUBSCRIBED_AT.astimezone(timezone.utc))
    bot = await start_alert_bot(
        f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", clock, ALERTS_SEND_TIMEOUT_SECONDS="2"
    )
    try:
        for cid in ("a:hung", "a:ok-1", "a:ok-2"):
            await bot.post(
                personal_message("/subscribe countdown", connector.url, aad=ADMIN_AAD, conversation_id=cid)
            )
        connector.inject("a:hung", Fault(hang=True))
        connector.clear()
        first = await at(bot, datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
        assert (first.counts["sent"], first.counts["failed"]) == (2, 1)
        assert sorted(m.conversation_id for m in connector.messages()) == ["a:ok-1", "a:ok-2"]
        second = await at(bot, datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc))
        assert second.counts["sent"] == 1
        assert sorted(m.conversation_id for m in connector.messages()) == ["a:hung", "a:ok-1", "a:ok-2"]
    finally:
        await bot.close()


async def test_database_down_for_a_run_fails_that_run_and_the_next_catches_up(bot, connector, caplog):
    from bot.alerts.scheduler import run_scheduled

    await subscribe_personal(bot, connector, "countdown")
    connector.clear()
    async with bot.services.db.engine.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE alert_subscriptions RENAME TO alert_subscriptions_away"))
    caplog.set_level(logging.ERROR)
    bot.clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    await run_scheduled(bot.ctx, "countdown")  # logs, never raises into the scheduler
    assert any("alerts job countdown failed this run" in r.getMessage() for r in caplog.records)
    assert connector.messages() == []
    async with bot.services.db.engine.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE alert_subscriptions_away RENAME TO alert_subscriptions"))
    bot.clock.advance(hours=1)
    await run_scheduled(bot.ctx, "countdown")
    await run_scheduled(bot.ctx, "countdown")
    assert len(connector.messages()) == 1


async def test_ledger_down_after_the_send_remembers_it_and_never_sends_twice(bot, connector, caplog):
    await subscribe_personal(bot, connector, "countdown")
    connector.clear()
    engine = bot.services.db.engine

    async def break_ledger(_request) -> None:
        async with engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE alert_ledger RENAME TO alert_ledger_away"))

    connector.before_answer = break_ledger  # the connector posts, then the database goes away
    caplog.set_level(logging.WARNING)
    result = await at(bot, datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    connector.before_answer = None
    assert result.counts["sent"] == 1 and bot.ctx.ledger.unflushed == 1
    assert any("kept in memory" in r.getMessage() for r in caplog.records)
    async with engine.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE alert_ledger_away RENAME TO alert_ledger"))
    bot.clock.advance(hours=1)
    assert (await jobs.countdown_job(bot.ctx)).due == 0
    assert bot.ctx.ledger.unflushed == 0 and len(connector.messages()) == 1
