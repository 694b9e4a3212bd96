"""Device readiness in chat, over real HTTP on the demo tenant: /scan, /readiness, /devices, /device,
card edits (admins only), the add form, and /status's readiness section."""

from __future__ import annotations

import json
from typing import Any

import pytest

from activities import ADMIN_AAD, card_action, channel_message, personal_message
from card_checks import assert_valid_card, card_text

ADMIN_ENV = {"ADMIN_USER_IDS": ADMIN_AAD}


async def invoke(bot: Any, verb: str, data: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    status, body = await bot.post(card_action(verb, bot.connector.url, data, **kwargs))
    assert status == 200
    return json.loads(body)


async def scanned_bot(make_bot: Any, connector: Any) -> Any:
    """A bot whose inventory holds the demo tenant's senders after one /scan."""
    bot = await make_bot(env=ADMIN_ENV)
    await bot.post(personal_message("/scan", connector.url, aad=ADMIN_AAD))
    await bot.services.devices.chat_scans.idle()
    connector.clear()
    return bot


def device_id(bot_devices: list[Any], name: str) -> int:
    return next(d.id for d in bot_devices if d.name == name)


async def test_readiness_on_an_empty_inventory_says_how_to_fill_it(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/readiness", connector.url, locale="ja-JP"))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "デモ データ" in text
    assert "インベントリにはまだデバイスがありません" in text
    assert "python -m bot devices import-eac FILE" in text
    assert "Chart.Donut" not in json.dumps(card)  # nothing to chart yet


async def test_scan_is_for_admins_only(make_bot, connector):
    bot = await make_bot(env=ADMIN_ENV)
    await bot.post(personal_message("/scan", connector.url))
    [message] = connector.messages()
    assert "Only the bot's admins can use /scan" in message.activity["text"]
    assert await bot.services.devices.store().count() == 0


async def test_scan_shows_progress_in_one_message_and_replaces_it_with_the_result(make_bot, connector):
    bot = await make_bot(env=ADMIN_ENV)
    bot.services.devices.chat_scans.throttle_seconds = 0.0  # every page of progress reaches the message
    bot.services.devices.scanner.progress_every = 500
    status, _ = await bot.post(personal_message("/scan", connector.url, aad=ADMIN_AAD))
    assert status == 200
    await bot.services.devices.chat_scans.idle()
    posts = [s for s in connector.sent if s.type == "message" and s.method == "POST"]
    updates = [s for s in connector.sent if s.method == "PUT"]
    assert len(posts) == 1, "one message, updated in place"
    [first] = posts[0].cards
    assert_valid_card(first)
    assert "Scanning the sign-in logs" in card_text(first)
    assert len(updates) >= 3  # progress at 500, 1,000, 1,500 ... then the result
    assert {u.reply_to for u in updates} == {posts[0].id}  # the id the connector gave the first post
    progress = [card_text(u.cards[0]) for u in updates[:-1]]
    assert any("scanned 1,000 sign-ins" in text for text in progress)
    final = updates[-1].cards[0]
    assert_valid_card(final)
    final_text = card_text(final)
    assert "read 1,924 sign-ins from 8 sender/IP pairs" in final_text
    assert "Demo data" in final_text
    assert "former-fax@contoso.com" in final_text  # silent since 1 November: flagged gone
    names = {d.name for d in await bot.services.devices.store().all()}
    assert {"scan-to-mail", "scan-to-mail (198.51.100.20)", "erp-notify", "erp-notify (203.0.113.51)", "printer-3f"} <= names


async def test_a_second_scan_is_incremental_and_counts_nothing_twice(make_bot, connector):
    bot = await scanned_bot(make_bot, connector)
    store = bot.services.devices.store()
    before = {d.name: d.sign_ins_ok + d.sign_ins_failed for d in await store.all()}
    await bot.post(personal_message("/scan", connector.url, aad=ADMIN_AAD))
    await bot.services.devices.chat_scans.idle()
    after = {d.name: d.sign_ins_ok + d.sign_ins_failed for d in await store.all()}
    assert after == before  # same frozen moment: only the 15-minute overlap was read again, and skipped
    final = [s for s in connector.sent if s.method == "PUT"][-1].cards[0]
    assert "read 0 sign-ins" in card_text(final)


async def test_readiness_counts_paths_and_lists_what_breaks(make_bot, connector):
    bot = await scanned_bot(make_bot, connector)
    store = bot.services.devices.store()
    devices = await store.all()
    # The EAC report is what says Basic or OAuth; here an admin's import has said so.
    from bot.devices.model import ObservedAuth

    for name in ("printer-3f", "scan-to-mail", "erp-notify"):
        await store.update(device_id(devices, name), {"observed_auth": ObservedAuth.BASIC}, "test", bot.services.clock())
    await bot.post(personal_message("/readiness", connector.url))
    [card] = connector.cards()
    assert_valid_card(card)
    [chart] = [e for e in card["body"] if e.get("type") == "Chart.Donut"]
    assert {d["legend"]: d["value"] for d in chart["data"]} == {"Not started": 8}
    assert "Not started: 8" in card_text(chart["fallback"])
    text = card_text(card)
    assert "1 sender (1 device) signs in with Basic auth and relies on the organisation default" in text
    assert "printer-3f" in text.split("What breaks at the end of December 2026")[1]
    assert "On borrowed time: 2 senders (2 devices) have SMTP AUTH" in text
    assert "Azure Communication Services" in text


async def test_status_gains_the_readiness_section_with_the_breaks_count(make_bot, connector):
    bot = await scanned_bot(make_bot, connector)
    from bot.devices.model import ObservedAuth

    store = bot.services.devices.store()
    printer = device_id(await store.all(), "printer-3f")
    await store.update(printer, {"observed_auth": ObservedAuth.BASIC}, "test", bot.services.clock())
    await bot.post(personal_message("/status", connector.url, locale="ja-JP"))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "あなたのデバイス" in text
    assert "1 件の送信者 (1 台) が2026年12月末に送信できなくなります" in text
    assert "残り 38 日" in text


@pytest.mark.parametrize(
    "args, expected, absent",
    [
        ("breaks", ["printer-3f"], ["erp-notify"]),
        ("borrowed", ["erp-notify", "scan-to-mail"], ["printer-3f"]),
        ("path none_needed", ["monitoring", "helpdesk-app"], ["printer-3f"]),
        ("owner tanaka", ["printer-3f"], ["erp-notify"]),
        ("status not_started", ["printer-3f"], []),
    ],
)
async def test_devices_filters(make_bot, connector, args, expected, absent):
    bot = await scanned_bot(make_bot, connector)
    from bot.devices.model import ObservedAuth

    store = bot.services.devices.store()
    devices = await store.all()
    now = bot.services.clock()
    for name in ("printer-3f", "scan-to-mail", "erp-notify"):
        await store.update(device_id(devices, name), {"observed_auth": ObservedAuth.BASIC}, "test", now)
    await store.update(device_id(devices, "printer-3f"), {"owner": "Tanaka"}, "test", now)
    await bot.post(personal_message(f"/devices {args}", connector.url))
    [card] = connector.cards()
    assert_valid_card(card)
    rows = [card_text(e) for e in card["body"] if e.get("type") == "Container" and "selectAction" in e]
    shown = " ".join(rows)
    for name in expected:
        assert f"**{name}**" in shown, (args, name)
    for name in absent:
        assert f"**{name}**" not in shown, (args, name)


async def test_an_unknown_filter_says_so_and_lists_everything(make_bot, connector):
    bot = await scanned_bot(make_bot, connector)
    await bot.post(personal_message("/devices urgent", connector.url))
    [card] = connector.cards()
    assert 'I don\'t know the filter "urgent"' in card_text(card)
    assert "8 devices, page 1 of 1" in card_text(card)


async def test_device_list_pages_in_place(make_bot, connector):
    bot = await scanned_bot(make_bot, connector)
    from bot.devices.readiness import PAGE_SIZE

    response = await invoke(bot, "devices.list", {"filter": "", "page": 1})
    first = response["value"]
    assert response["type"] == "application/vnd.microsoft.card.adaptive"
    assert f"8 devices, page 1 of {-(-8 // PAGE_SIZE)}" in card_text(first)
    assert connector.messages() == []  # answered in the invoke, nothing posted


async def test_device_detail_has_its_path_steps_and_close_matches_for_typos(make_bot, connector):
    bot = await scanned_bot(make_bot, connector)
    await bot.post(personal_message("/device printer3f", connector.url))
    await bot.post(personal_message("/device printer-3f", connector.url, locale="ja-JP"))
    await bot.post(personal_message("/device scan-to-mail@contoso.com", connector.url))
    unknown, detail, sender = connector.cards()
    for card in (unknown, detail, sender):
        assert_valid_card(card)
    assert 'I don\'t know a device called "printer3f"' in card_text(unknown)
    assert "\nprinter-3f\n" in card_text(unknown)
    text = card_text(detail)
    assert "推奨:" in text and "手順" in text
    assert "printer-3f@contoso.com" in text
    rows = " ".join(card_text(e) for e in sender["body"] if e.get("type") == "Container" and "selectAction" in e)
    assert "**scan-to-mail**" in rows and "**scan-to-mail (198.51.100.20)**" in rows


async def test_edits_are_refused_to_non_admins_with_the_reason(make_bot, connector):
    bot = await scanned_bot(make_bot, connector)
    store = bot.services.devices.store()
    printer = device_id(await store.all(), "printer-3f")
    response = await invoke(bot, "devices.save", {"id": printer, "status": "migrated", "owner": "Mallory"})
    card = response["value"]
    assert_valid_card(card)
    assert "Not saved: only the bot's admins (ADMIN_USER_IDS) can change the device inventory" in card_text(card)
    device = await store.get(printer)
    assert device.status.value == "not_started" and device.owner == ""
    assert [e.field for e in await store.audit(printer)] == ["created"]


async def test_admin_edits_refresh_the_card_and_land_in_the_audit_trail(make_bot, connector):
    bot = await scanned_bot(make_bot, connector)
    store = bot.services.devices.store()
    printer = device_id(await store.all(), "printer-3f")
    data = {"id": printer, "name": "MFP 3F Osaka", "status": "in_progress", "path": "connector_relay", "kind": "printer_mfp",
            "owner": "田中", "notes": "Firmware 2.1 has no OAuth", "supports_oauth": "false", "has_static_ip": "true",
            "recipient_scope": "external", "location": "", "vendor_model": ""}
    response = await invoke(bot, "devices.save", data, aad=ADMIN_AAD, locale="ja-JP")
    card = response["value"]
    assert_valid_card(card)
    text = card_text(card)
    assert "保存しました" in text
    assert "選択済み: 受信コネクタ経由の SMTP リレー" in text
    assert "田中" in text
    device = await store.get(printer)
    assert device.name == "MFP 3F Osaka" and device.status.value == "in_progress" and device.path.value == "connector_relay"
    trail = {e.field: (e.old, e.new) for e in await store.audit(printer)}
    assert trail["status"] == ("not_started", "in_progress")
    assert trail["owner"] == ("", "田中")
    assert all(e.actor.startswith("Aiko Tanaka (") for e in await store.audit(printer) if e.field != "created")

    response = await invoke(bot, "devices.verify", {"id": printer}, aad=ADMIN_AAD)
    assert (await store.get(printer)).status.value == "verified"
    assert "Saved" in card_text(response["value"])


async def test_bad_or_clashing_edits_change_nothing(make_bot, connector):
    bot = await scanned_bot(make_bot, connector)
    store = bot.services.devices.store()
    devices = await store.all()
    printer = device_id(devices, "printer-3f")
    response = await invoke(bot, "devices.save", {"id": printer, "name": "erp-notify"}, aad=ADMIN_AAD)
    assert 'Not saved: "erp-notify" is already in the inventory' in card_text(response["value"])
    response = await invoke(bot, "devices.save", {"id": printer, "status": "done!!", "name": ""}, aad=ADMIN_AAD)
    text = card_text(response["value"])
    assert "Give the device a name." in text and "One of the choices was not valid" in text
    response = await invoke(bot, "devices.save", {"id": 999_999, "status": "verified"}, aad=ADMIN_AAD)
    assert "no longer in the inventory" in card_text(response["value"])
    assert await store.all() == devices


async def test_adding_a_device_from_the_form(make_bot, connector):
    bot = await make_bot(env=ADMIN_ENV)
    await bot.post(personal_message("/device add", connector.url, aad=ADMIN_AAD))
    [form] = connector.cards()
    assert_valid_card(form)
    assert {e["id"] for e in form["body"] if e.get("type", "").startswith("Input.")} >= {"sender", "name", "kind"}

    bad = await invoke(bot, "devices.add", {"sender": "not-an-address", "name": "", "source_ip": "999.1.1.1"}, aad=ADMIN_AAD)
    text = card_text(bad["value"])
    assert "The sender must be the mailbox address" in text and "not an IP address" in text and "Give the device a name" in text
    assert await bot.services.devices.store().count() == 0

    good = {"sender": "Copier-2F@Contoso.com", "name": "Copier 2F", "kind": "printer_mfp", "source_ip": "203.0.113.99",
            "location": "Tokyo 2F", "owner": "Sato", "vendor_model": "", "recipient_scope": "internal", "notes": ""}
    added = await invoke(bot, "devices.add", good, aad=ADMIN_AAD)
    card = added["value"]
    assert_valid_card(card)
    assert "Added to the inventory." in card_text(card)
    assert "High Volume Email" in card_text(card)  # internal only, OAuth unknown: HVE is the named fallback
    [device] = await bot.services.devices.store().all()
    assert device.sender == "copier-2f@contoso.com" and device.sources == frozenset({"manual"})

    again = await invoke(bot, "devices.add", good, aad=ADMIN_AAD)
    assert "already in the inventory" in card_text(again["value"])
    refused = await invoke(bot, "devices.add", {**good, "name": "Other"})
    assert "only the bot's admins" in card_text(refused["value"])
    assert await bot.services.devices.store().count() == 1


async def test_channel_export_points_to_the_personal_chat(make_bot, connector):
    bot = await make_bot()
    await bot.post(channel_message("/devices export", connector.url))
    [message] = connector.messages()
    assert "personal chat" in message.activity["text"]


async def test_without_an_outbox_the_scan_answers_in_the_turn(make_bot, connector):
    bot = await make_bot(env=ADMIN_ENV)
    bot.services.devices = None  # e.g. a harness without the Teams edge: no background scans, no progress messages
    await bot.post(personal_message("/scan", connector.url, aad=ADMIN_AAD))
    [card] = connector.cards()
    assert_valid_card(card)
    assert "read 1,924 sign-ins from 8 sender/IP pairs" in card_text(card)
    assert [s.method for s in connector.sent if s.type == "message"] == ["POST"]


def test_bad_device_settings_stop_the_bot_naming_them():
    from bot.devices.config import parse_device_settings
    from bot.settings import SettingsError

    assert parse_device_settings({}).gone_days == 14
    with pytest.raises(SettingsError, match="DEVICES_GONE_DAYS"):
        parse_device_settings({"DEVICES_GONE_DAYS": "0"})
    with pytest.raises(SettingsError, match="DEVICES_SCAN_DAYS: 'a month' is not a whole number"):
        parse_device_settings({"DEVICES_SCAN_DAYS": "a month"})
