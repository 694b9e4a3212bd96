"""Tenant data in chat, on the built-in demo tenant: /status sections, /mc, /mc history, /posture."""

from __future__ import annotations

from activities import ADMIN_AAD, personal_message
from card_checks import assert_valid_card, card_text


async def test_status_shows_demo_banner_health_and_posture_for_admins(make_bot, connector):
    bot = await make_bot(env={"ADMIN_USER_IDS": ADMIN_AAD})
    await bot.post(personal_message("/status", connector.url, aad=ADMIN_AAD))
    await bot.post(personal_message("/status", connector.url))
    admin, user = connector.cards()
    for card in (admin, user):
        assert_valid_card(card)
        assert "Demo data" in card_text(card)
        assert "EX900123" in card_text(card)
        assert "EX900124" not in card_text(card)  # not about SMTP
        assert "Fetched 23 November 2026 12:00 (Asia/Tokyo)" in card_text(card)
    assert "Enabled for the organisation" in card_text(admin)
    assert "Enabled for the organisation" not in card_text(user)
    assert "shown to the bot's admins only" in card_text(user)


async def test_mc_shows_latest_version_and_what_changed(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/mc", connector.url))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "Demo data" in text
    assert "MC786329" in text
    assert "What changed in the last update (27 January 2026)" in text
    assert "Versions seen\n4" in text
    assert "differs from my built-in timeline" not in text  # demo matches the shipped timeline


async def test_mc_history_lists_every_version_newest_first(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/mc history", connector.url, locale="ja-JP"))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "MC786329: 4 版" in text
    assert text.index("2026年1月27日") < text.index("2025年6月12日") < text.index("2024年4月26日")


async def test_mc_for_unknown_and_other_watched_posts(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/mc MC123", connector.url))
    await bot.post(personal_message("/mc mc900001", connector.url))
    unknown, other = connector.cards()
    assert "I don't watch a post called \"MC123\"" in card_text(unknown)
    assert "MC786329" in card_text(unknown) and "MC900001" in card_text(unknown)
    assert "MC900002" not in card_text(unknown)  # excluded by the watch rule
    assert "MC900001" in card_text(other)


async def test_posture_is_for_admins_only(make_bot, connector):
    bot = await make_bot(env={"ADMIN_USER_IDS": ADMIN_AAD})
    await bot.post(personal_message("/posture", connector.url))
    [refused] = connector.messages()
    assert "Only the bot's admins" in refused.activity["text"]
    connector.clear()
    await bot.post(personal_message("/posture", connector.url, aad=ADMIN_AAD, locale="ja-JP"))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "scan-to-mail@contoso.com: 有効" in text
    assert "former-fax@contoso.com: 無効" in text
    assert "デモ データ" in text


async def test_message_center_history_is_never_overwritten(make_bot, connector):
    bot = await make_bot()
    tenant = bot.services.tenant
    first = await tenant.sync_mc()
    assert len(first) == 5  # 4 versions of MC786329 + MC900001
    assert all(update.initial for update in first)  # a baseline, never announced as news
    assert await tenant.sync_mc() == []  # polling again finds nothing new
    assert len(await tenant.mc.versions("MC786329")) == 4
