"""Discovery on a live tenant: real msal and the real M365 client against HTTPS fakes of Entra and Graph.
Sign-ins are read a day at a time with the documented filter; licence and permission problems reach
the admin as the access layer phrases them, and a failed scan leaves the inventory untouched."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from activities import ADMIN_AAD, personal_message
from card_checks import assert_valid_card, card_text
from m365_fakes import CLIENT_SECRET, ALL_ROLES

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def live_env(fakes) -> dict[str, str]:
    settings = fakes.settings()
    return {
        "GRAPH_TENANT_ID": settings.tenant_id, "GRAPH_CLIENT_ID": settings.client_id, "GRAPH_CLIENT_SECRET": CLIENT_SECRET,
        "AUTHORITY_HOST": settings.authority_host, "GRAPH_ENDPOINT": settings.graph_endpoint,
        "EXCHANGE_ENDPOINT": settings.exchange_endpoint, "ADMIN_USER_IDS": ADMIN_AAD,
    }


async def scan(bot, connector, lang: str = "en") -> str:
    await bot.post(personal_message("/scan", connector.url, aad=ADMIN_AAD, locale=lang))
    await bot.services.devices.chat_scans.idle()
    final = [s for s in connector.sent if s.method == "PUT"][-1].cards[0]
    assert_valid_card(final)
    return card_text(final)


async def test_a_live_scan_reads_the_window_a_day_at_a_time(make_bot, connector, m365):
    start = NOW - timedelta(days=3)
    m365.graph.add_sign_ins(3 * 24 * 60, start=start, every=timedelta(minutes=1))  # 4,320 events, one a minute
    m365.graph.add_sign_ins(50, start=start, client_app="IMAP4")  # other legacy clients are not SMTP senders
    bot = await make_bot(env=live_env(m365))
    text = await scan(bot, connector)
    assert "Demo data" not in text
    assert "read 4,320 sign-ins from 1,750 sender/IP pairs" in text  # each counted once, slice edges included
    requests = m365.graph.requests_to("/auditLogs/signIns")
    assert all(r.query["$filter"].startswith("clientAppUsed eq 'Authenticated SMTP' and createdDateTime ge ") for r in requests)
    starts = sorted({r.query["$filter"].split("createdDateTime ge ")[1][:20] for r in requests})
    assert len(starts) == 30 and starts[0] == "2026-10-24T03:00:00Z" and starts[-1] == "2026-11-22T03:00:00Z"
    assert len(requests) == 33  # 30 days, three of them with a second page (1,440 sign-ins a day, 1,000 a page)
    devices = await bot.services.devices.store().all()
    assert {d.sender for d in devices} == {f"scanner{u}@contoso.example" for u in range(7)}
    assert sum(d.sign_ins_ok + d.sign_ins_failed for d in devices) == 4320
    assert sum(d.sign_ins_failed for d in devices) == 4320 // 5  # synthetic: every fifth sign-in fails


async def test_no_entra_p1_licence_is_explained_and_nothing_is_saved(make_bot, connector, m365):
    m365.graph.premium = False
    bot = await make_bot(env=live_env(m365))
    text = await scan(bot, connector, "ja")
    assert "スキャンが中断しました" in text
    assert "Microsoft Entra ID P1 が必要です" in text
    assert "SMTP AUTH クライアント レポート" in text  # where to go instead
    assert await bot.services.devices.store().count() == 0


async def test_a_missing_permission_names_it(make_bot, connector, m365):
    m365.authority.roles = set(ALL_ROLES) - {"AuditLog.Read.All"}
    bot = await make_bot(env=live_env(m365))
    text = await scan(bot, connector)
    assert "AuditLog.Read.All" in text
    assert await bot.services.devices.store().count() == 0
