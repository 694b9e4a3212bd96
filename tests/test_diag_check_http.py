"""/check in chat on the built-in demo tenant: each demo sender shows a different cause."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from activities import ADMIN_AAD, card_action, personal_message
from card_checks import assert_valid_card, card_text

ADMINS = {"ADMIN_USER_IDS": ADMIN_AAD}


async def check(bot, connector, address: str, locale: str = "en-US") -> str:
    connector.clear()
    status, _ = await bot.post(personal_message(f"/check {address}", connector.url, aad=ADMIN_AAD, locale=locale))
    assert status == 200
    [card] = connector.cards()
    assert_valid_card(card)
    return card_text(card)


def verdicts(text: str, lang: str = "en") -> tuple[str, str, str]:
    """The three verdict lines, in order: now, after the default-disable, OAuth."""
    marks = ("✅", "❌", "❔")
    lines = [line for line in text.splitlines() if line.startswith(marks) and "**" not in line]
    assert len(lines) == 3, lines
    return tuple({"✅": "works", "❌": "fails", "❔": "unknown"}[line[0]] for line in lines)  # type: ignore[return-value]


@pytest.mark.parametrize(
    "address, expected, names",
    [
        ("scan-to-mail@contoso.com", ("works", "works", "works"),
         ["keeps working after the end-of-December-2026 default-disable", "Error 50126", "wrong user name or password"]),
        ("printer-3f@contoso.com", ("works", "fails", "works"), ["stops at the end of December 2026", "Set-CASMailbox -Identity 'printer-3f@contoso.com'"]),
        ("former-fax@contoso.com", ("fails", "fails", "fails"), ["cause 1 of the usual four", "Manage email apps", "Error 50126"]),
        ("erp-notify@contoso.com", ("works", "works", "works"), ["turned on for this mailbox explicitly"]),
        ("monitoring@contoso.com", ("works", "fails", "works"), ["already signs in with OAuth", "marks every successful sign-in as OAuth"]),
        ("scanner@contoso.com", ("fails", "fails", "works"), ["Per-user MFA is Enforced", "cause 4 of the usual four", "No “Authenticated SMTP” sign-ins"]),
        ("copier-2f@contoso.com", ("fails", "fails", "works"), ["Per-user MFA is Enabled", "Disable MFA"]),
        ("app-alerts@contoso.com", ("fails", "fails", "works"), ["“Block legacy auth (pilot)” is assigned", "Set-AuthenticationPolicy -Identity 'Block legacy auth (pilot)' -AllowBasicAuthSmtp"]),
        ("reception@contoso.com", ("fails", "fails", "fails"), ["No Exchange Online mailbox", "Set-MgUserLicense"]),
        ("old-scanner@contoso.com", ("fails", "fails", "fails"), ["The account is disabled", "Update-MgUser"]),
    ],
)
async def test_each_demo_sender(make_bot, connector, address, expected, names):
    bot = await make_bot(env=ADMINS)
    text = await check(bot, connector, address)
    assert "Demo data" in text
    assert f"SMTP AUTH check: {address}" in text
    assert verdicts(text) == expected
    for name in names:
        assert name in text


async def test_japanese_card_has_the_admin_center_path_and_powershell(make_bot, connector):
    bot = await make_bot(env=ADMINS)
    text = await check(bot, connector, "former-fax@contoso.com", locale="ja-JP")
    assert "SMTP AUTH 診断: former-fax@contoso.com" in text
    assert "デモ データ" in text
    assert "[メール アプリを管理する] > [認証済み SMTP] にチェック" in text
    assert "Set-CASMailbox -Identity 'former-fax@contoso.com' -SmtpClientAuthenticationDisabled $false" in text
    assert "よくある 4 つの原因のうちの 1 つ目" in text
    assert "過去 30 日間" in text


async def test_sign_in_times_are_in_the_users_time_zone(make_bot, connector):
    bot = await make_bot(env=ADMINS, now=datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    text = await check(bot, connector, "printer-3f@contoso.com")
    # The demo printer's last sign-in before 03:00 UTC is at 02:34 UTC: 11:34 in Tokyo.
    assert "Last success: 23 November 2026 11:34 (Asia/Tokyo)" in text


async def test_check_is_for_admins_only(make_bot, connector):
    bot = await make_bot(env=ADMINS)
    await bot.post(personal_message("/check scanner@contoso.com", connector.url))
    [message] = connector.messages()
    assert "Only the bot's admins can use /check" in message.activity["text"]


@pytest.mark.parametrize(
    "typed, locale, expected",
    [
        ("/check", "en-US", "Which sender?"),
        ("/check scanner", "en-US", "“scanner” isn't an email address"),
        ("/check scanner@contoso", "ja-JP", "「scanner@contoso」はメール アドレスではありません"),
        ("/check nobody@contoso.com", "en-US", "I can't find nobody@contoso.com in Microsoft Entra ID"),
        ("/check nobody@contoso.com", "ja-JP", "Microsoft Entra ID に nobody@contoso.com が見つかりません"),
        ("/check " + "a" * 5000, "en-US", "isn't an email address"),
        ("/check \x00\x01\x02\x03\x04\x05\x06\x07\x08", "ja-JP", "バイナリ データ"),
    ],
)
async def test_bad_addresses_get_a_clear_sentence(make_bot, connector, typed, locale, expected):
    bot = await make_bot(env=ADMINS)
    status, _ = await bot.post(personal_message(typed, connector.url, aad=ADMIN_AAD, locale=locale))
    assert status == 200
    [message] = connector.messages()
    assert expected in message.activity["text"]
    assert "Traceback" not in message.activity["text"]
    assert len(message.activity["text"]) < 600


async def test_a_missing_user_in_the_demo_lists_senders_to_try(make_bot, connector):
    bot = await make_bot(env=ADMINS)
    await bot.post(personal_message("/check nobody@contoso.com", connector.url, aad=ADMIN_AAD))
    [message] = connector.messages()
    assert "scan-to-mail@contoso.com" in message.activity["text"]


async def test_several_addresses_check_the_first_and_say_so(make_bot, connector):
    bot = await make_bot(env=ADMINS)
    text = await check(bot, connector, "printer-3f@contoso.com scanner@contoso.com")
    assert "SMTP AUTH check: printer-3f@contoso.com" in text
    assert "I check one sender at a time" in text


async def test_the_check_again_button_replaces_the_card(make_bot, connector):
    bot = await make_bot(env=ADMINS)
    await check(bot, connector, "printer-3f@contoso.com")
    [card] = connector.cards()
    [button] = [a for a in card["actions"] if a["type"] == "Action.Execute"]
    status, body = await bot.post(card_action(button["verb"], connector.url, button["data"], aad=ADMIN_AAD, locale="ja-JP"))
    assert status == 200
    response = json.loads(body)
    assert response["statusCode"] == 200
    assert_valid_card(response["value"])
    assert "SMTP AUTH 診断: printer-3f@contoso.com" in card_text(response["value"])
    # Not for non-admins, and not with a tampered address.
    _, body = await bot.post(card_action(button["verb"], connector.url, button["data"]))
    assert json.loads(body)["statusCode"] == 403
    _, body = await bot.post(card_action(button["verb"], connector.url, {"upn": "<script>"}, aad=ADMIN_AAD))
    assert json.loads(body)["statusCode"] == 400


async def test_the_inventory_entry_and_its_path_come_from_the_device_inventory(make_bot, connector):
    bot = await make_bot(env=ADMINS)
    from bot.devices.config import inventory_tenant
    from bot.devices.model import DeviceDraft, DeviceKind
    from bot.devices.store import DeviceStore

    store = DeviceStore(bot.services.db.engine, inventory_tenant(bot.settings))
    await store.add(DeviceDraft(sender="Printer-3F@contoso.com", name="Printer 3F east", kind=DeviceKind.PRINTER_MFP), "test", datetime(2026, 11, 23, tzinfo=UTC))
    text = await check(bot, connector, "printer-3f@contoso.com")
    assert "In the device inventory: Printer 3F east (printer/MFP)." in text
    assert "Recommended path: OAuth (XOAUTH2) for SMTP AUTH." in text
    assert "Move it to OAuth (XOAUTH2) for SMTP AUTH before then" in text
    other = await check(bot, connector, "scanner@contoso.com")
    assert "Not in the device inventory." in other
