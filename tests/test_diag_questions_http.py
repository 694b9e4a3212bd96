"""Plain questions over real HTTP: answered by the command they map to, offered as buttons, or help."""

from __future__ import annotations

import pytest
from activities import ADMIN_AAD, channel_message, personal_message
from card_checks import assert_valid_card, card_text
from test_diag_explain import buttons

from bot.commands import find


async def ask(bot, connector, text: str, locale: str = "en-US", aad: str | None = None):
    connector.clear()
    kwargs = {"aad": aad} if aad else {}
    status, _ = await bot.post(personal_message(text, connector.url, locale=locale, **kwargs))
    assert status == 200
    return connector.messages()


@pytest.mark.parametrize(
    "question, locale, note, card_says",
    [
        ("when will basic auth stop working?", "en-US", "as /status.", "38 days left"),
        ("いつ無効になりますか", "ja-JP", "/status として回答します", "残り 38 日"),
        ("Has the date moved again?", "en-US", "as /timeline.", "How the date moved"),
        ("what changed in MC786329?", "en-US", "as /mc MC786329.", "MC786329"),
        ("what should a copier that can't do OAuth use?", "en-US", "as /paths.", "High Volume Email"),
        ("OAuth に対応していない複合機はどうすれば?", "ja-JP", "/paths として回答します", "High Volume Email"),
        ("what can you do?", "en-US", "as /help.", "What I can do"),
    ],
)
async def test_a_question_is_answered_by_its_command_and_says_which(make_bot, connector, question, locale, note, card_says):
    bot = await make_bot()
    said, shown = await ask(bot, connector, question, locale)
    assert note in said.activity["text"]
    [card] = shown.cards
    assert_valid_card(card)
    assert card_says in card_text(card)


@pytest.mark.parametrize(
    "question, locale, command",
    [
        ("which printers aren't ready?", "en-US", "/devices not-ready"),
        ("準備できていないデバイスは?", "ja-JP", "/devices not-ready"),
        ("is scanner@contoso.com ready?", "en-US", "/device scanner@contoso.com"),
        ("are we ready?", "en-US", "/readiness"),
    ],
)
async def test_device_questions_reach_the_device_commands(make_bot, connector, question, locale, command):
    name = command.split()[0].lstrip("/")
    if find(name) is None:
        pytest.skip(f"/{name} is not in the routing table yet (device readiness feature)")
    bot = await make_bot()
    messages = await ask(bot, connector, question, locale)
    assert command in messages[0].activity["text"]
    assert any(m.cards for m in messages)


async def test_an_admin_only_answer_is_still_refused_to_others(make_bot, connector):
    bot = await make_bot(env={"ADMIN_USER_IDS": ADMIN_AAD})
    [refused] = await ask(bot, connector, "why can't scanner@contoso.com send?")
    assert "as /check scanner@contoso.com." in refused.activity["text"]
    assert "Only the bot's admins can use /check" in refused.activity["text"]
    _, shown = await ask(bot, connector, "why can't scanner@contoso.com send?", aad=ADMIN_AAD)
    assert "SMTP AUTH check: scanner@contoso.com" in card_text(shown.cards[0])


async def test_an_unsure_question_offers_the_two_likeliest_commands(make_bot, connector):
    bot = await make_bot()
    [message] = await ask(bot, connector, "scanner@contoso.com について", "ja-JP")
    [card] = message.cards
    assert_valid_card(card)
    assert "どちらの意味でしょうか?" in card_text(card)
    values = [a["data"]["command"] for a in buttons(card)]
    assert values[:2] == ["/device scanner@contoso.com", "/check scanner@contoso.com"]


async def test_a_question_in_a_channel_works_after_the_mention(make_bot, connector):
    bot = await make_bot()
    await bot.post(channel_message("when will basic auth stop working?", connector.url))
    said, shown = connector.messages()
    assert "as /status." in said.activity["text"]
    assert "38 days left" in card_text(shown.cards[0])


@pytest.mark.parametrize("text", ["hello there", "ありがとう", "/frobnicate now", "already done"])
async def test_what_maps_to_nothing_gets_the_help_card(make_bot, connector, text):
    bot = await make_bot()
    [message] = await ask(bot, connector, text)
    card = message.cards[0]
    assert "didn't understand" in card_text(card)
    # The help card teaches the question forms too.
    assert "Or just ask, in English or Japanese" in card_text(card)
    assert "“Which printers aren't ready?”" in card_text(card)
