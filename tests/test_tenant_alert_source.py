"""Message Center versions become alerts: the baseline is silent, a new MC786329 version is one change."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.alerts.sources import default_sources
from bot.tenant.alert_source import TenantMessageCenter
from test_tenant_live import live_env, mc786329


async def test_baseline_is_silent_and_a_new_version_is_one_change(make_bot, m365):
    m365.graph.service_messages.append(mc786329("2026-01-27", datetime(2026, 1, 27, 20, 11, 1, tzinfo=timezone.utc)))
    bot = await make_bot(env=live_env(m365))
    source = default_sources(bot.services).message_center
    assert isinstance(source, TenantMessageCenter)
    assert await source.poll() == []  # first sync: history, not news
    assert await source.poll() == []

    m365.graph.service_messages[0] = mc786329(
        "2026-11-20", datetime(2026, 11, 20, 18, 0, tzinfo=timezone.utc), end="2027-04-30T08:00:00Z"
    )
    [change] = await source.poll()
    assert change.post_id == "MC786329"
    assert change.affects_countdown
    assert any("March 2027" in line for line in change.summary["en"])
    assert any("終了日" in line for line in change.summary["ja"])
    assert {d.label["en"] for d in change.dates} >= {"Start", "End"}
    assert await source.poll() == []  # the same version polled again is not news


async def test_demo_tenant_baseline_only(make_bot):
    bot = await make_bot()
    assert await default_sources(bot.services).message_center.poll() == []
