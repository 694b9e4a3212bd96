"""``python -m bot alerts`` as an operator runs it: real subprocesses against a real database and the
fake Bot Connector on loopback — preview, run-once twice, the lease refusal, and a SIGKILL in the middle
of a fan-out followed by a restart. Runs on PostgreSQL too with TEST_DATABASE_URL."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from activities import TENANT
from alerts_support import channel_reference
from connector_fake import Fault
from m365_fakes import CLIENT_SECRET
from support import subprocess_env
from test_tenant_live import live_env, mc786329

from bot.alerts.lease import Lease
from bot.alerts.ledger import CLAIMED, SENDING, Ledger
from bot.alerts.subscriptions import Subscription, SubscriptionStore
from bot.storage.conversations import ConversationRecord, ConversationStore
from bot.storage.db import Database

PROJECT = Path(__file__).resolve().parent.parent
SUBSCRIBED = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


async def seed(
    database_url: str,
    service_url: str,
    channels: list[str],
    zone: str = "Asia/Tokyo",
    kinds: tuple[str, ...] = ("countdown", "digest"),
) -> None:
    database = Database(database_url)
    await database.open()
    try:
        conversations, subscriptions = ConversationStore(database.engine), SubscriptionStore(database.engine)
        for cid in channels:
            await conversations.save(
                ConversationRecord(
                    TENANT, cid, "channel", service_url, "28:bot", channel_reference(service_url, cid)
                ),
                SUBSCRIBED,
            )
            await subscriptions.save(
                Subscription(TENANT, cid, "channel", kinds, "en", zone, "09:00", created_by="admin"),
                SUBSCRIBED,
            )
    finally:
        await database.close()


async def start_cli(database_url: str, *args: str, **env: str) -> asyncio.subprocess.Process:
    environment = subprocess_env(DATABASE_URL=database_url, **env)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "alerts",
        *args,
        cwd=PROJECT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_cli(database_url: str, *args: str, **env: str) -> tuple[int, list[dict], str]:
    process = await start_cli(database_url, *args, **env)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    lines = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    return process.returncode, lines, err.decode()


async def test_preview_prints_what_24_december_will_send_without_sending(database_url, connector):
    await seed(database_url, connector.url, ["19:tokyo@thread.tacv2"])
    await seed(database_url, connector.url, ["19:london@thread.tacv2"], zone="Europe/London")
    code, lines, err = await run_cli(database_url, "preview", "--at", "2026-12-24T09:00+09:00")
    assert code == 0, err
    # 09:00 on the 24th in Tokyo is midnight in London: Tokyo's 7-day rung is due; London still owes
    # the 14-day rung (17 December), since nothing has run yet. Both owe this week's digest.
    expected = [
        {
            "tenant": TENANT,
            "conversation": "19:london@thread.tacv2",
            "kind": "countdown",
            "key": "default-disable@2026-12-31/rung-14",
        },
        {
            "tenant": TENANT,
            "conversation": "19:tokyo@thread.tacv2",
            "kind": "countdown",
            "key": "default-disable@2026-12-31/rung-7",
        },
        {
            "tenant": TENANT,
            "conversation": "19:london@thread.tacv2",
            "kind": "digest",
            "key": "weekly/2026-W52",
        },
        {
            "tenant": TENANT,
            "conversation": "19:tokyo@thread.tacv2",
            "kind": "digest",
            "key": "weekly/2026-W52",
        },
    ]
    assert lines == expected
    assert "4 alert(s) due at 2026-12-24T00:00:00+00:00" in err
    assert connector.sent == []
    database = Database(database_url)
    await database.open()
    assert await Ledger(database.engine, "x").states(["countdown", "digest"], SUBSCRIBED) == {}
    await database.close()

    code, _, err = await run_cli(database_url, "preview", "--at", "24 December")
    assert code == 2 and "not an ISO date-time" in err


async def test_run_once_sends_what_is_due_and_a_second_run_sends_nothing(database_url, connector):
    channels = [f"19:c{n}@thread.tacv2" for n in range(3)]
    await seed(database_url, connector.url, channels)
    code, lines, err = await run_cli(database_url, "run-once", "--at", "2026-12-01T09:05+09:00")
    assert code == 0, err
    assert {"job": "countdown", "due": 3, "sent": 3} in lines
    assert {"job": "digest", "due": 3, "sent": 3} in lines  # Monday's digest was still owed
    countdown = [m for m in connector.messages() if "Basic auth: countdown" in json.dumps(m.activity)]
    assert sorted(m.conversation_id for m in countdown) == channels
    assert all("30 days left" in json.dumps(m.activity) for m in countdown)
    assert len(connector.messages()) == 6
    code, lines, err = await run_cli(database_url, "run-once", "--at", "2026-12-01T09:05+09:00")
    assert code == 0, err
    assert {"job": "countdown", "due": 0} in lines and {"job": "digest", "due": 0} in lines
    assert len(connector.messages()) == 6


async def test_run_once_refuses_while_a_bot_process_holds_the_lease(database_url, connector):
    await seed(database_url, connector.url, ["19:c@thread.tacv2"])
    database = Database(database_url)
    await database.open()
    try:
        at = datetime(2026, 12, 1, 0, 5, tzinfo=timezone.utc)
        assert await Lease(database.engine, "running-bot").acquire(at)
        code, _, err = await run_cli(database_url, "run-once", "--at", at.isoformat())
        assert code == 1 and "another process runs the alert jobs" in err
        assert connector.sent == []
    finally:
        await database.close()


@pytest.mark.parametrize("in_flight", [None, 4])
async def test_sigkill_mid_fan_out_then_restart_sends_nothing_twice_but_the_message_in_flight(
    database_url, connector, in_flight
):
    channels = [f"19:k{n:02d}@thread.tacv2" for n in range(30)]
    await seed(database_url, connector.url, channels, kinds=("countdown",))
    for cid in channels:
        connector.inject(cid, Fault(delay=0.05))  # a realistic connector: each post takes a moment
    env = {"ALERTS_IN_FLIGHT": str(in_flight)} if in_flight else {}  # None: the default, one
    limit = in_flight or 1
    process = await start_cli(database_url, "run-once", "--at", "2026-12-01T09:05+09:00", **env)

    async def kill_on_the_tenth(_request) -> None:
        # The 10th message is posted, and the bot dies before it hears back: the worst moment.
        if len(connector.messages()) == 10 and process.returncode is None:
            process.send_signal(signal.SIGKILL)

    connector.before_answer = kill_on_the_tenth
    await asyncio.wait_for(process.wait(), 60)
    connector.before_answer = None
    assert process.returncode == -signal.SIGKILL
    delivered_before = [m.conversation_id for m in connector.messages()]
    assert 10 <= len(delivered_before) < len(channels)

    database = Database(database_url)
    await database.open()
    try:
        states = await Ledger(database.engine, "x").states(["countdown"], SUBSCRIBED)
    finally:
        await database.close()
    sending = {key.conversation_id for key, (state, _) in states.items() if state == SENDING}
    only_claimed = {key.conversation_id for key, (state, _) in states.items() if state == CLAIMED}
    # In flight: handed to the connector, no answer heard. Claimed a moment ahead: never posted.
    assert 1 <= len(sending) <= limit
    assert only_claimed and not only_claimed & set(delivered_before)

    # Restart after the dead process's lease and claims have expired (5 minutes later).
    code, lines, err = await run_cli(database_url, "run-once", "--at", "2026-12-01T09:11+09:00", **env)
    assert code == 0, err
    received = [m.conversation_id for m in connector.messages()]
    restart = next(line for line in lines if line["job"] == "countdown")
    assert restart["sent"] == len(received) - len(delivered_before)  # what it reports is what arrived
    assert sorted(set(received)) == channels  # nothing lost
    twice = {cid for cid in set(received) if received.count(cid) > 1}
    assert twice <= sending  # only what was in flight when the process died can arrive twice
    assert all(received.count(cid) <= 2 for cid in channels)
    assert 1 <= len(twice) <= limit  # the 10th was posted but never acknowledged: it goes again
    if in_flight is None:
        assert twice == {"19:k09@thread.tacv2"}  # by default, exactly the one message in flight


async def test_run_once_polls_the_message_center_and_announces_a_new_version_once(
    database_url, connector, m365
):
    m365.graph.service_messages.append(mc786329("2026-01-27", datetime(2026, 1, 27, 20, 11, 1, tzinfo=timezone.utc)))
    await seed(database_url, connector.url, ["19:mc@thread.tacv2"], kinds=("mc",))
    env = {**live_env(m365), "SSL_CERT_FILE": str(m365.ca_path), "REQUESTS_CA_BUNDLE": str(m365.ca_path)}
    at = "2026-11-23T12:00+09:00"
    code, lines, err = await run_cli(database_url, "run-once", "--at", at, **env)
    assert code == 0, err
    assert next(line for line in lines if line["job"] == "mc") == {"job": "mc", "due": 0}  # the baseline
    assert m365.graph.requests_to("admin/serviceAnnouncement/messages")

    m365.graph.service_messages[0] = mc786329(
        "2026-11-20", datetime(2026, 11, 20, 18, 0, tzinfo=timezone.utc), end="2027-04-30T08:00:00Z"
    )
    code, lines, err = await run_cli(database_url, "run-once", "--at", at, **env)
    assert code == 0, err
    assert next(line for line in lines if line["job"] == "mc") == {"job": "mc", "due": 1, "sent": 1, "recorded": 1}
    [message] = connector.messages()
    assert message.conversation_id == "19:mc@thread.tacv2" and "MC786329" in json.dumps(message.activity)

    code, lines, err = await run_cli(database_url, "run-once", "--at", at, **env)  # polled again: not news
    assert code == 0, err
    assert len(connector.messages()) == 1
    assert CLIENT_SECRET not in err  # nothing secret in the log
