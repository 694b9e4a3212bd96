"""The SMTP reply explainer in chat: /explain and pasted replies, over every table entry and messy copies."""

from __future__ import annotations

import pytest
from activities import channel_message, personal_message
from card_checks import assert_valid_card, card_text, shown

from bot.diagnostics.smtp_replies import ReplyEntry, explain, load_table, looks_like_smtp_reply

TABLE = load_table()
SUFFIX = " [TYCP286CA0001.JPNP286.PROD.OUTLOOK.COM 2026-11-23T10:00:00.000Z 08DE0C1234567890]"


def messy_copies(sample: str) -> list[str]:
    """How admins paste replies: spread over lines, in brackets or quotes, with a server suffix."""
    spaced = sample.replace(" ", "   ", 3).replace(". ", ".\n\t ", 1)
    return [
        sample,
        f"  {spaced}  ",
        f"[{sample}]",
        f"Remote Server returned '{sample}'",
        f"({sample}){SUFFIX}",
        f"「{sample}」",
    ]


def buttons(card: dict) -> list[dict]:
    """Every button on the card, in the body (one per row) or at the bottom."""
    found = [a for element in card["body"] for item in element.get("items", [element]) if item.get("type") == "ActionSet" for a in item["actions"]]
    return found + card.get("actions", [])


def _last_card_text(connector) -> str:
    cards = connector.cards()
    assert cards, [m.activity.get("text") for m in connector.messages()]
    assert_valid_card(cards[-1])
    return card_text(cards[-1])


def _assert_explains(text: str, entry: ReplyEntry, lang: str) -> None:
    assert shown(entry.title.text(lang)) in text
    assert shown(entry.meaning.text(lang)) in text
    assert shown(entry.cause.text(lang)) in text
    assert shown(entry.fix.text(lang)) in text
    assert entry.source in text
    if entry.admin_center is not None:
        assert shown(entry.admin_center.text(lang)) in text
    if entry.powershell:
        assert shown(entry.powershell) in text
    retirement = {"en": ("Basic-auth retirement itself? Yes", "Basic-auth retirement itself? No"),
                  "ja": ("廃止そのものによる応答か: はい", "廃止そのものによる応答か: いいえ")}[lang]
    assert (retirement[0] if entry.is_retirement else retirement[1]) in text
    assert (retirement[1] if entry.is_retirement else retirement[0]) not in text


@pytest.mark.parametrize("entry", TABLE.entries, ids=lambda e: e.id)
def test_every_messy_copy_of_every_entry_is_read_as_that_entry(entry):
    for copy in messy_copies(entry.samples[0]):
        assert looks_like_smtp_reply(copy, TABLE), copy
        assert explain(copy, TABLE).best.id == entry.id, copy


@pytest.mark.parametrize("entry", TABLE.entries, ids=lambda e: e.id)
async def test_every_entry_is_explained_in_chat_with_and_without_the_command(make_bot, connector, entry):
    """Each language gets the messiest copies through the real app; every copy's reading is checked above."""
    bot = await make_bot()
    copies = messy_copies(entry.samples[0])
    for lang, locale, pasted, commanded in (("en", "en-US", copies[1], copies[4]), ("ja", "ja-JP", copies[5], copies[3])):
        for typed in (f"/explain {commanded}", pasted):
            connector.clear()
            status, _ = await bot.post(personal_message(typed, connector.url, locale=locale))
            assert status == 200
            text = _last_card_text(connector)
            _assert_explains(text, entry, lang)
            automatic = "so here is what it means" if lang == "en" else "内容を解説します"
            assert (automatic in text) == (not typed.startswith("/explain")), typed


async def test_a_reply_pasted_in_a_channel_is_explained_in_the_thread(make_bot, connector):
    bot = await make_bot()
    await bot.post(channel_message("our copier says 550 5.7.30 Basic authentication is not supported for Client Submission.", connector.url))
    [message] = connector.messages()
    assert "messageid=" in message.conversation_id or message.conversation_id.startswith("19:")
    text = card_text(message.cards[0])
    assert "MC786329" in text and "Yes" in text


async def test_an_unknown_code_is_admitted_with_the_closest_known_entries(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/explain 550 5.7.99 Access denied, something new", connector.url))
    card = connector.cards()[0]
    assert_valid_card(card)
    text = card_text(card)
    assert "isn't in the bot's table" in text
    assert "Closest known replies" in text
    closest = [a for a in buttons(card) if a["data"]["command"].startswith("/explain ")]
    assert 1 <= len(closest) <= 3
    # Each suggestion button explains exactly its entry when pressed (sent back as text).
    connector.clear()
    await bot.post(personal_message(closest[0]["data"]["command"], connector.url))
    again = card_text(connector.cards()[0])
    assert "isn't in the bot's table" not in again and "Meaning" in again


async def test_a_code_with_several_meanings_lists_them_instead_of_guessing(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/explain 535 5.7.139", connector.url, locale="ja-JP"))
    text = _last_card_text(connector)
    assert "複数の意味" in text
    for entry in TABLE.entries:
        assert (shown(entry.title.ja) in text) == ("5.7.139" in entry.enhanced_codes), entry.id


async def test_text_without_a_reply_says_so_and_lists_what_is_known(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/explain my printer is broken", connector.url))
    text = _last_card_text(connector)
    assert "No Exchange Online SMTP reply code was found" in text
    assert "550 5.7.30" in text and "432 4.3.2" in text


async def test_explain_without_a_reply_shows_how_to_use_it(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/explain", connector.url, locale="ja-JP"))
    said, shown = connector.messages()
    assert "/explain に続けて応答を貼り付けて" in said.activity["text"]
    assert "ヘルプ: /explain" in card_text(shown.cards[0])


async def test_several_replies_in_one_paste_cause_first(make_bot, connector):
    bot = await make_bot()
    ndr = (
        "Delivery has failed to these recipients. scanner@contoso.com "
        "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. "
        "Then 432 4.3.2 Concurrent connections limit exceeded."
    )
    await bot.post(personal_message(ndr, connector.url))
    card = connector.cards()[0]
    text = card_text(card)
    assert text.index(TABLE.entry("security-defaults-lock").title.en) < text.index(TABLE.entry("concurrent-connections").title.en)
    # The address in the paste is offered for /check.
    assert any(a["data"]["command"] == "/check scanner@contoso.com" for a in card["actions"])


@pytest.mark.parametrize(
    "typed, locale, expected",
    [
        ("/explain " + "\x00\x01\x02\x03\x04\x05\x06\x07" * 20, "en-US", "looks like binary data"),
        ("\x00\x01\x02\x03\x04\x05\x06\x07\ufffd" * 50, "ja-JP", "バイナリ データ"),
        ("/explain " + "printer log line " * 3000, "en-US", "too long for me"),
        ("ログ " * 14000, "ja-JP", "長すぎて"),
        ("word " * 200, "en-US", "too long to be a question"),
    ],
)
async def test_bad_input_gets_one_clear_sentence_in_the_users_language(make_bot, connector, typed, locale, expected):
    bot = await make_bot()
    status, _ = await bot.post(personal_message(typed, connector.url, locale=locale))
    assert status == 200
    [message] = connector.messages()
    assert expected in message.activity["text"]
    assert "Traceback" not in message.activity["text"] and not message.cards


async def test_japanese_text_around_an_english_reply_gets_a_japanese_explanation(make_bot, connector):
    bot = await make_bot()
    pasted = "複合機から次のエラーが返ってきました: ５３５ ５．７．１３９ Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. どうすれば?"
    await bot.post(personal_message(pasted, connector.url, locale="ja-JP"))
    text = _last_card_text(connector)
    _assert_explains(text, TABLE.entry("smtp-auth-disabled-mailbox"), "ja")
