"""The bot on live tenant data: real msal and aiohttp against HTTPS fakes of Entra, Graph and Exchange."""

from __future__ import annotations

from datetime import datetime, timezone

from activities import ADMIN_AAD, personal_message
from card_checks import assert_valid_card, card_text
from m365_fakes import CLIENT_SECRET, Fault, service_issue, service_message

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def live_env(fakes, **extra: str) -> dict[str, str]:
    settings = fakes.settings()
    return {
        "GRAPH_TENANT_ID": settings.tenant_id,
        "GRAPH_CLIENT_ID": settings.client_id,
        "GRAPH_CLIENT_SECRET": CLIENT_SECRET,
        "AUTHORITY_HOST": settings.authority_host,
        "GRAPH_ENDPOINT": settings.graph_endpoint,
        "EXCHANGE_ENDPOINT": settings.exchange_endpoint,
        "ADMIN_USER_IDS": ADMIN_AAD,
        **extra,
    }


def mc786329(version: str, last_modified: datetime, end: str = "2026-03-30T08:00:00Z") -> dict:
    notes = {
        "2026-01-27": "<p>Updated January 27, 2026: The removal is on hold; disabled by default at the end of December 2026.</p>",
        "2026-11-20": (
            "<p>Updated November 20, 2026: The default-disable now starts in March 2027.</p>"
            "<p>Updated January 27, 2026: The removal is on hold; disabled by default at the end of December 2026.</p>"
        ),
    }
    return service_message(
        "MC786329",
        title="(Updated) Exchange Online to retire Basic Auth for Client Submission (SMTP AUTH)",
        last_modified=last_modified,
        endDateTime=end,
        tags=["Updated message", "Retirement"],
        body={"contentType": "html", "content": notes[version] + "<p>SMTP AUTH Basic authentication details.</p>"},
    )


async def test_status_speaks_from_the_live_tenant(make_bot, connector, m365):
    m365.graph.issues.append(service_issue("EX555", title="SMTP AUTH submissions delayed"))
    m365.graph.health["Exchange"]["status"] = "serviceDegradation"
    bot = await make_bot(env=live_env(m365))
    await bot.post(personal_message("/status", connector.url, aad=ADMIN_AAD))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "Demo data" not in text
    # The fake Exchange has SMTP AUTH disabled for the organisation, with mailbox overrides.
    assert "Already disabled for the organisation" in text
    assert "EX555" in text
    assert "Fetched 23 November 2026 12:00 (Asia/Tokyo)" in text
    assert m365.authority.token_request_count >= 1


async def test_a_failing_source_leaves_the_last_good_data_marked_stale(make_bot, connector, m365):
    bot = await make_bot(env=live_env(m365))
    await bot.post(personal_message("/status", connector.url, aad=ADMIN_AAD))
    assert "Already disabled for the organisation" in card_text(connector.cards()[0])

    # An hour later Exchange refuses us; the bot answers from the last good copy, saying so.
    later = datetime(2026, 11, 23, 4, 30, tzinfo=timezone.utc)
    m365.exchange.has_role = False
    m365.graph.faults.append(Fault.malformed("/admin/serviceAnnouncement/healthOverviews", times=10))
    second = await make_bot(env=live_env(m365), now=later)
    connector.clear()
    await second.post(personal_message("/status", connector.url, aad=ADMIN_AAD))
    [card] = connector.cards()
    text = card_text(card)
    assert "Already disabled for the organisation" in text  # last good posture still shown
    assert "Stale: showing data fetched 23 November 2026 12:00 (Asia/Tokyo)" in text
    assert "Exchange" in text and "role" in text.lower()


async def test_never_fetched_data_says_why(make_bot, connector, m365):
    m365.graph.premium = True
    m365.exchange.has_role = False
    bot = await make_bot(env=live_env(m365))
    await bot.post(personal_message("/posture", connector.url, aad=ADMIN_AAD, locale="ja-JP"))
    [card] = connector.cards()
    assert_valid_card(card)
    assert "まだ取得できていません" in card_text(card)


async def test_new_mc786329_version_between_two_polls(make_bot, connector, m365):
    m365.graph.service_messages.append(mc786329("2026-01-27", datetime(2026, 1, 27, 20, 11, 1, tzinfo=timezone.utc)))
    bot = await make_bot(env=live_env(m365))
    tenant = bot.services.tenant
    baseline = await tenant.sync_mc()
    assert [u.post.id for u in baseline] == ["MC786329"] and baseline[0].initial
    assert await tenant.sync_mc() == []  # a second poll with nothing new stores nothing

    m365.graph.service_messages[0] = mc786329(
        "2026-11-20", datetime(2026, 11, 20, 18, 0, tzinfo=timezone.utc), end="2027-04-30T08:00:00Z"
    )
    [update] = await tenant.sync_mc()
    assert not update.initial
    assert update.diff is not None and update.diff.headline is not None
    assert "March 2027" in update.diff.headline.text
    assert update.diff.date_change("end") is not None
    # Incremental: the second request asked only for posts changed since the newest one we held.
    filters = [r.query.get("$filter", "") for r in m365.graph.requests_to("serviceAnnouncement/messages")]
    assert any("lastModifiedDateTime ge 2026-01-27" in f for f in filters)

    await bot.post(personal_message("/mc", connector.url))
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "differs from my built-in timeline" in text
    assert "March 2027" in text
    assert "End date: 30 March 2026 in my timeline, 30 April 2027 in the live post." in text


async def test_mc_history_keeps_every_version(make_bot, connector, m365):
    m365.graph.service_messages.append(mc786329("2026-01-27", datetime(2026, 1, 27, 20, 11, 1, tzinfo=timezone.utc)))
    bot = await make_bot(env=live_env(m365))
    await bot.services.tenant.sync_mc()
    m365.graph.service_messages[0] = mc786329("2026-11-20", datetime(2026, 11, 20, 18, 0, tzinfo=timezone.utc))
    await bot.services.tenant.sync_mc()
    versions = await bot.services.tenant.mc.versions("MC786329")
    assert [v.post.last_modified.date().isoformat() for v in versions] == ["2026-01-27", "2026-11-20"]
