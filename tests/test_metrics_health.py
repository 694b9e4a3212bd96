"""/metrics in Prometheus text format and /livez, /readyz, /healthz, on the real app over HTTP."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import create_async_engine

from activities import ADMIN_AAD, personal_message
from app import ALERTS
from bot.health import storage_writable, summary
from connector_fake import Fault as ConnectorFault
from test_alerts_delivery import card, deliverer, dues_for, ledger, references  # noqa: F401 (fixture)
from test_tenant_live import live_env

PREFIX = "smtp_auth_bot"


async def scrape(bot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with bot.session.get(bot.server.make_url("/metrics")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((f"{PREFIX}_{name}", tuple(sorted(labels.items()))), 0.0)


async def test_livez_is_just_the_process(make_bot):
    bot = await make_bot()
    status, body = await bot.get("/livez")
    assert status == 200 and body["status"] == "ok" and set(body) == {"status", "version"}


async def test_healthz_keeps_its_keys_and_readyz_is_the_same_view(make_bot):
    bot = await make_bot()
    await bot.server.app[ALERTS].ctx.lease.acquire(bot.services.clock())  # the heartbeat's first beat
    status, health = await bot.get("/healthz")
    assert status == 200
    assert {"status", "version", "storage", "mode"} <= health.keys()
    assert health["storage"] == {"ok": True, "dialect": "sqlite", "schema_version": health["storage"]["schema_version"]}
    checks = health["checks"]
    assert set(checks) == {"storage", "alerts_lease", "message_center", "graph_credentials"}
    assert checks["storage"]["ok"] and checks["storage"]["critical"]
    assert checks["alerts_lease"]["ok"] and "this process" in checks["alerts_lease"]["detail"]
    assert checks["message_center"]["ok"] and "not read yet" in checks["message_center"]["detail"]
    assert checks["graph_credentials"]["ok"] and "demo tenant" in checks["graph_credentials"]["detail"]
    assert health["status"] == "ok"
    status, ready = await bot.get("/readyz")
    assert status == 200 and ready["checks"].keys() == checks.keys()


async def test_a_stale_message_center_read_is_a_warning(make_bot, frozen_now):
    bot = await make_bot()
    await bot.services.tenant.sync_mc()
    await bot.server.app[ALERTS].ctx.lease.acquire(frozen_now)
    later = frozen_now + timedelta(hours=5)
    second = await make_bot(now=later)
    status, body = await second.get("/readyz")
    assert status == 200 and body["status"] == "warning"
    assert not body["checks"]["message_center"]["ok"]
    assert "last read 300 min ago (more than 180 min)" in body["checks"]["message_center"]["detail"]
    samples = await scrape(second)
    assert value(samples, "message_center_read_age_seconds") == 5 * 3600
    assert value(samples, "message_center_read_failing") == 0


async def test_a_locked_database_is_not_ready(tmp_path):
    path = tmp_path / "locked.db"
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 30})
    async with engine.begin() as conn:
        from sqlalchemy import text

        await conn.execute(text("CREATE TABLE schema_version (version INTEGER PRIMARY KEY)"))
    assert (await storage_writable(engine)).ok
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing: the bot cannot
    try:
        check = await storage_writable(engine, timeout=0.2)
        again = await storage_writable(engine, timeout=0.2)  # waits on the first probe, starts no second
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    try:
        assert (await storage_writable(engine, timeout=30)).ok  # the lock is gone: the late probe ends, a new one passes
    finally:
        await engine.dispose()
    assert not check.ok and check.critical and "no write possible" in check.detail
    assert not again.ok and "still waiting" in again.detail
    assert summary([check]) == ("degraded", 503)


async def test_turns_are_counted_by_command_and_outcome_and_timed(make_bot, connector):
    bot = await make_bot(env={"ADMIN_USER_IDS": ADMIN_AAD})
    before = await scrape(bot)
    await bot.post(personal_message("/status", connector.url))
    await bot.post(personal_message("/scan", connector.url))  # admins only: refused
    await bot.post(personal_message("when will basic auth stop working?", connector.url))
    assert (await bot.post(b"{not json"))[0] == 400
    after = await scrape(bot)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("turns_total", command="status", outcome="ok") == 2  # typed, and the question read as /status
    assert delta("turns_total", command="scan", outcome="refused") == 1
    assert delta("turns_total", command="text", outcome="ok") == 0
    assert delta("turns_total", command="none", outcome="rejected") == 1
    assert delta("turn_duration_seconds_count", command="status") == 2
    assert delta("turn_duration_seconds_bucket", command="scan", le="+Inf") == 1


async def test_graph_and_exchange_calls_are_counted_by_status(make_bot, connector, m365):
    m365.exchange.has_role = False  # the app has no Entra role: Exchange answers 403
    bot = await make_bot(env=live_env(m365))
    before = await scrape(bot)
    await bot.services.tenant.sync_mc()
    await bot.post(personal_message("/posture", connector.url, aad=ADMIN_AAD))
    after = await scrape(bot)
    graph_ok = value(after, "m365_requests_total", service="graph", status="200") - value(
        before, "m365_requests_total", service="graph", status="200"
    )
    exchange_403 = value(after, "m365_requests_total", service="exchange", status="403") - value(
        before, "m365_requests_total", service="exchange", status="403"
    )
    assert graph_ok >= 1 and exchange_403 >= 1
    assert value(after, "message_center_read_age_seconds") == 0


async def test_graph_credentials_that_fail_make_readiness_a_warning(make_bot, m365):
    bot = await make_bot(env=live_env(m365, GRAPH_CLIENT_SECRET="wrong-secret-value"))
    status, body = await bot.get("/readyz")
    assert status == 200 and body["status"] == "warning"
    check = body["checks"]["graph_credentials"]
    assert not check["ok"] and "client secret" in check["detail"]
    assert "wrong-secret-value" not in str(body)
    good = await make_bot(env=live_env(m365))
    _, body = await good.get("/readyz")
    assert body["checks"]["graph_credentials"]["ok"]


async def test_the_lease_holder_is_exposed(make_bot, frozen_now):
    bot = await make_bot()
    ctx = bot.server.app[ALERTS].ctx
    await ctx.lease.acquire(frozen_now)
    samples = await scrape(bot)
    assert value(samples, "scheduler_lease_held") == 1
    assert value(samples, "scheduler_lease_holder", holder=ctx.holder, expired="0") == 1
    await ctx.lease.release(frozen_now)
    samples = await scrape(bot)
    assert value(samples, "scheduler_lease_held") == 0
    assert value(samples, "scheduler_lease_holder", holder=ctx.holder, expired="1") == 1


async def test_alerts_sent_failed_and_throttled_are_counted(ledger, connector):  # noqa: F811
    from bot.alerts.delivery import RetryPolicy
    from bot.metrics import ALERTS as ALERT_COUNTER, ALERTS_THROTTLED

    def now_counts():
        return (
            ALERT_COUNTER.labels("mc", "sent")._value.get(),
            ALERT_COUNTER.labels("mc", "failed")._value.get(),
            ALERTS_THROTTLED.labels("mc")._value.get(),
        )

    sent0, failed0, throttled0 = now_counts()
    conversations = ["19:ok@thread.tacv2", "19:throttled@thread.tacv2", "19:broken@thread.tacv2"]
    connector.inject("19:throttled@thread.tacv2", ConnectorFault(status=429, retry_after="0"))
    connector.inject("19:broken@thread.tacv2", *[ConnectorFault(status=502)] * 3)
    report = await deliverer(ledger, policy=RetryPolicy(base=0.01, attempts=3)).fan_out(
        dues_for(conversations), references(connector, conversations), card
    )
    assert report.counts()["sent"] == 2 and report.counts()["failed"] == 1
    sent1, failed1, throttled1 = now_counts()
    assert (sent1 - sent0, failed1 - failed0, throttled1 - throttled0) == (2, 1, 1)


def test_metric_names_are_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    from bot import metrics

    names = [m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "_documentation")]
    assert len(names) >= 9
    missing = [name for name in names if name not in readme]
    assert not missing, missing
