"""The inventory as an alert source: readiness numbers for the countdown card, and sender facts (new,
gone, status changes) for the daily sender alert, in the running bot on the demo tenant."""

from __future__ import annotations

from types import SimpleNamespace

from activities import ADMIN_AAD, TENANT, personal_message
from bot.devices.alert_sources import InventoryReadiness, InventorySenderChanges, device_sources
from bot.devices.model import DeviceStatus, ObservedAuth


async def test_no_inventory_means_no_numbers(make_bot):
    bot = await make_bot()
    readiness, _ = device_sources(bot.services)
    assert await readiness.numbers(TENANT) is None


async def test_the_daily_sender_check_scans_and_reports_new_and_gone_senders(make_bot, connector):
    bot = await make_bot(env={"ADMIN_USER_IDS": ADMIN_AAD})
    await bot.post(personal_message("/help", connector.url))  # the bot now has a conversation in TENANT
    changes = await InventorySenderChanges(bot.services).changes()
    by_kind = {(c.upn, c.change) for c in changes}
    assert ("printer-3f@contoso.com", "new") in by_kind
    assert ("former-fax@contoso.com", "gone") in by_kind
    assert {c.tenant_id for c in changes} == {TENANT}
    gone = next(c for c in changes if c.change == "gone")
    assert gone.description["en"] == "silent since 1 November 2026: retired, or moved to another path?"
    assert gone.description["ja"].startswith("2026年11月1日以降送信なし")
    assert await bot.services.devices.store().count() == 8  # the scan ran


async def test_numbers_count_basic_senders_and_those_that_break(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/help", connector.url))
    await bot.services.devices.scanner.run()
    store = bot.services.devices.store()
    now = bot.services.clock()
    devices = {d.name: d for d in await store.all()}
    for name in ("printer-3f", "scan-to-mail", "erp-notify"):
        await store.update(devices[name].id, {"observed_auth": ObservedAuth.BASIC}, "test", now)
    numbers = await InventoryReadiness(bot.services).numbers(TENANT)
    assert numbers is not None and (numbers.basic_auth_senders, numbers.break_at_cutoff) == (3, 1)

    await store.update(devices["printer-3f"].id, {"status": DeviceStatus.MIGRATED}, "Aiko", now)
    numbers = await InventoryReadiness(bot.services).numbers(TENANT)
    assert (numbers.basic_auth_senders, numbers.break_at_cutoff) == (2, 0)
    changes = await InventorySenderChanges(bot.services, scan=False).changes()
    [status] = [c for c in changes if c.change == "status"]
    assert status.upn == "printer-3f@contoso.com" and status.description["en"] == "printer-3f is now Migrated"


async def test_numbers_from_the_last_good_posture_without_a_tenant_source(make_bot, connector):
    bot = await make_bot()
    await bot.post(personal_message("/status", connector.url))  # fetches (and stores) the demo posture
    await bot.services.devices.scanner.run()
    store = bot.services.devices.store()
    printer = next(d for d in await store.all() if d.name == "printer-3f")
    await store.update(printer.id, {"observed_auth": ObservedAuth.BASIC}, "test", bot.services.clock())
    bare = SimpleNamespace(settings=bot.services.settings, db=bot.services.db, clock=bot.services.clock)  # as the alerts CLI
    numbers = await InventoryReadiness(bare).numbers(TENANT)
    assert numbers is not None and numbers.break_at_cutoff == 1
    assert await InventorySenderChanges(bare).changes()  # no scan without a source, but recorded facts still come
