"""The walking bot over real HTTP: activities in through /api/messages, replies out to a fake connector."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from activities import (
    ADMIN_AAD,
    OTHER_TENANT,
    TENANT,
    channel_message,
    installation_update,
    personal_message,
    team_install,
    team_uninstall,
)
from card_checks import assert_valid_card, card_text


async def test_personal_status_counts_days_to_end_of_december(make_bot, connector):
    bot = await make_bot()
    status, _ = await bot.post(personal_message("/status", connector.url))
    assert status == 200
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    # Frozen at 12:00 on 23 Nov 2026 in Tokyo: 38 days to 31 Dec 2026.
    assert "38 days left" in text
    assert "end of December 2026" in text
    assert "Microsoft gave a month, not a day" in text
    assert "Asia/Tokyo" in text
    assert "updated 27 January 2026" in text
    assert "31 December 2026" in text  # only as the day we count to, next to the caveat


async def test_day_count_follows_the_users_time_zone(make_bot, connector):
    # 20:00 UTC on 23 Nov is already 24 Nov in Tokyo but still 23 Nov in London.
    bot = await make_bot(now=datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc))
    await bot.post(personal_message("status", connector.url, timezone="Asia/Tokyo"))
    await bot.post(personal_message("status", connector.url, timezone="Europe/London"))
    tokyo, london = connector.cards()
    assert "37 days left" in card_text(tokyo)
    assert "38 days left" in card_text(london)


async def test_japanese_locale_gets_japanese_card(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/status", connector.url, locale="ja-JP"))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "残り 38 日" in text
    assert "2026年12月末" in text
    assert "日付ではなく月" in text


async def test_no_timezone_falls_back_to_default_timezone(make_bot, connector):
    bot = await make_bot(env={"DEFAULT_TIMEZONE": "Pacific/Honolulu"}, now=datetime(2026, 11, 23, 5, 0, tzinfo=timezone.utc))
    await bot.post(personal_message("/status", connector.url, timezone=None))
    text = card_text(connector.cards()[0])
    assert "Pacific/Honolulu" in text
    assert "39 days left" in text  # still 22 Nov in Honolulu


async def test_default_language_applies_without_locale(make_bot, connector):
    bot = await make_bot(env={"DEFAULT_LANGUAGE": "ja"})
    activity = personal_message("/timeline", connector.url)
    del activity["locale"]
    activity["entities"] = []
    await bot.post(activity)
    assert "タイムライン" in card_text(connector.cards()[0])


async def test_channel_mention_is_stripped_and_reply_goes_to_the_thread(make_bot, connector):
    bot = await make_bot()
    activity = channel_message("/TIMELINE", connector.url)
    status, _ = await bot.post(activity)
    assert status == 200
    [sent] = connector.messages()
    assert sent.conversation_id == activity["conversation"]["id"]
    [card] = sent.cards
    assert_valid_card(card)
    text = card_text(card)
    assert "MC786329 timeline" in text
    assert "September 2025" in text and "end of December 2026" in text
    assert "second half of 2027" in text


@pytest.mark.parametrize("typed", ["help", "/help", "HELP", " /Help ", "\u00a0help", "ヘルプ"])
async def test_commands_work_with_or_without_slash_in_any_case(make_bot, connector, typed):
    bot = await make_bot()
    await bot.post(personal_message(typed, connector.url))
    assert "What I can do" in card_text(connector.cards()[0])


async def test_unknown_text_gets_an_answer_and_the_help_card(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/frobnicate now", connector.url))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "didn't understand" in text and "/frobnicate now" in text
    assert "/status" in text


async def test_help_for_one_command_shows_examples(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/help status", connector.url, locale="ja-JP"))
    text = card_text(connector.cards()[0])
    assert "ヘルプ: /status" in text and "例" in text


async def test_team_install_saves_reference_and_welcomes(make_bot, connector):
    bot = await make_bot()
    status, _ = await bot.post(team_install(connector.url))
    assert status == 200
    [record] = await bot.services.conversations.all()
    assert record.tenant_id == TENANT
    assert record.conversation_type == "channel"
    assert record.team_id == "19:team-general@thread.tacv2"
    assert record.service_url == connector.url
    assert record.bot_id.startswith("28:")
    assert record.reference["conversation"]["id"] == record.conversation_id
    assert "Thanks for adding me" in card_text(connector.cards()[0])

    await bot.post(team_uninstall(connector.url))
    assert await bot.services.conversations.all() == []


async def test_personal_install_and_uninstall(make_bot, connector):
    bot = await make_bot()
    await bot.post(installation_update("add", connector.url))
    [record] = await bot.services.conversations.all()
    assert record.conversation_type == "personal"
    await bot.post(installation_update("remove", connector.url))
    assert await bot.services.conversations.all() == []


async def test_channel_thread_message_saves_the_channel_not_the_thread(make_bot, connector):
    bot = await make_bot()
    await bot.post(channel_message("/status", connector.url))
    [record] = await bot.services.conversations.all()
    assert ";messageid=" not in record.conversation_id
    assert record.channel_id == "19:team-general@thread.tacv2"


async def test_references_survive_a_restart(make_bot, connector):
    first = await make_bot()
    await first.post(personal_message("/status", connector.url))
    await first.server.close()
    second = await make_bot()
    [record] = await second.services.conversations.all()
    assert record.conversation_id == "a:personal-chat-1"


async def test_allowlist_refuses_other_tenants_silently(make_bot, connector, caplog):
    bot = await make_bot(env={"ALLOWED_TENANT_IDS": TENANT})
    caplog.set_level(logging.WARNING)
    status, _ = await bot.post(personal_message("/status", connector.url, tenant=OTHER_TENANT))
    assert status == 200
    assert connector.sent == []
    assert await bot.services.conversations.all() == []
    assert any(OTHER_TENANT in record.getMessage() for record in caplog.records)
    await bot.post(personal_message("/status", connector.url, tenant=TENANT))
    assert len(connector.cards()) == 1


APP_ENV = {"MicrosoftAppId": "3f9b2c1e-1111-4222-8333-944455556666", "MicrosoftAppPassword": "not-a-real-secret"}


async def test_unsigned_request_is_refused_when_app_id_is_set(make_bot, connector):
    bot = await make_bot(env=APP_ENV)
    status, _ = await bot.post(personal_message("/status", connector.url))
    assert status == 401
    assert connector.sent == []
    assert await bot.services.conversations.all() == []


async def test_forged_token_is_refused(make_bot, connector):
    import jwt

    bot = await make_bot(env=APP_ENV)
    forged = jwt.encode(
        {"iss": "https://api.botframework.com", "aud": APP_ENV["MicrosoftAppId"], "serviceurl": connector.url},
        "attacker-key-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    status, _ = await bot.post(personal_message("/status", connector.url), headers={"Authorization": f"Bearer {forged}"})
    assert status == 401
    assert connector.sent == []


async def test_local_mode_is_logged_once(make_bot, caplog):
    caplog.set_level(logging.WARNING)
    await make_bot()
    assert sum("local mode" in record.getMessage() for record in caplog.records) == 1


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[1, 2, 3]", "not a Bot Framework activity"),
        (b'{"text": "hi"}', "not a Bot Framework activity"),
        (b'{"type": "message", "text": "hi"}', "no serviceUrl"),
    ],
)
async def test_malformed_bodies_get_400_with_a_reason(make_bot, connector, body, reason):
    bot = await make_bot()
    status, text = await bot.post(body)
    assert status == 400
    assert reason in json.loads(text)["error"]
    assert connector.sent == []


async def test_oversized_body_gets_413(make_bot, connector):
    bot = await make_bot()
    activity = personal_message("/status " + "x" * 300_000, connector.url)
    status, _ = await bot.post(activity)
    assert status == 413
    assert connector.sent == []


async def test_unknown_activity_type_is_ignored(make_bot, connector):
    bot = await make_bot()
    activity = personal_message("", connector.url)
    activity["type"] = "somethingNew"
    status, _ = await bot.post(activity)
    assert status == 200
    assert connector.sent == []


async def test_failure_inside_a_turn_gives_a_translated_message_and_the_bot_keeps_serving(make_bot, connector, caplog):
    bot = await make_bot()
    # Break storage under the running bot: the turn fails while saving the conversation reference.
    async with bot.services.db.engine.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE conversations RENAME TO conversations_gone"))
    caplog.set_level(logging.ERROR)
    status, _ = await bot.post(personal_message("/status", connector.url, locale="ja-JP"))
    assert status == 200
    [message] = connector.messages()
    assert "エラーが発生しました" in message.activity["text"]
    assert "Traceback" not in message.activity["text"]
    assert any(record.exc_info for record in caplog.records)

    async with bot.services.db.engine.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE conversations_gone RENAME TO conversations"))
    connector.clear()
    await bot.post(personal_message("/status", connector.url))
    assert "38 days left" in card_text(connector.cards()[0])


async def test_typing_indicator_precedes_a_slow_answer(make_bot, connector):
    bot = await make_bot(typing_delay_seconds=0.0)
    await bot.post(personal_message("/status", connector.url))
    kinds = [item.type for item in connector.sent]
    assert kinds[0] == "typing" and kinds[-1] == "message"


async def test_no_typing_indicator_for_a_fast_answer(make_bot, connector):
    bot = await make_bot(typing_delay_seconds=5.0)
    await bot.post(personal_message("/status", connector.url))
    assert [item.type for item in connector.sent] == ["message"]


async def test_healthz_reports_version_and_storage(make_bot):
    bot = await make_bot()
    status, body = await bot.get("/healthz")
    assert status == 200
    from bot.storage.migrations import MIGRATIONS

    assert body["storage"] == {"ok": True, "dialect": "sqlite", "schema_version": max(m.version for m in MIGRATIONS)}
    assert body["version"]
    assert body["mode"] == "local"


async def test_admin_flag_comes_from_admin_user_ids(make_bot, connector):
    bot = await make_bot(env={"ADMIN_USER_IDS": ADMIN_AAD.upper()})
    from app import ENDPOINT

    endpoint_bot = bot.server.app[ENDPOINT].bot
    from botbuilder.schema import Activity

    admin = endpoint_bot.turn_input(Activity().deserialize(personal_message("/status", connector.url, aad=ADMIN_AAD)))
    other = endpoint_bot.turn_input(Activity().deserialize(personal_message("/status", connector.url)))
    assert admin.is_admin and not other.is_admin


async def test_refresh_button_replaces_the_card_in_place(make_bot, connector):
    from activities import card_action

    bot = await make_bot()
    status, body = await bot.post(card_action("status.refresh", connector.url, locale="ja-JP"))
    assert status == 200
    response = json.loads(body)
    assert response["statusCode"] == 200
    assert response["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(response["value"])
    assert "残り 38 日" in card_text(response["value"])
    assert connector.messages() == []  # answered in the invoke response, nothing posted


async def test_unknown_verb_and_non_execute_actions_are_refused(make_bot, connector):
    from activities import card_action

    bot = await make_bot()
    status, body = await bot.post(card_action("no.such.verb", connector.url))
    assert status == 200
    assert json.loads(body)["statusCode"] == 400
    status, body = await bot.post(card_action("status.refresh", connector.url, action_type="Action.Submit"))
    assert json.loads(body)["statusCode"] == 400
