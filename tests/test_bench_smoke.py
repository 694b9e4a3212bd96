"""The /status round-trip bench runs end to end (a tiny run) and reports both bots; no speed is asserted."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from bench import status_roundtrip as bench

REQUESTS = 20


def test_tiny_run_reports_both_bots_with_every_reply_checked(capsys):
    command = [
        sys.executable,
        str(PROJECT_DIR / "bench" / "status_roundtrip.py"),
        "--requests",
        str(REQUESTS),
        "--warmup",
        "4",
        "--conversations",
        "4",
        "--concurrency",
        "4",
        "--rounds",
        "1",
        "--json",
    ]
    done = subprocess.run(command, check=False, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=180)
    # 0 = targets met, 1 = a target missed (speed is not this test's business), 2 = invalid run.
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout)

    assert result["valid"], result["problems"]
    assert [(phase["bot"], phase["requests"], phase["ok"]) for phase in result["rounds"]] == [
        ("readiness", REQUESTS, REQUESTS),
        ("echo", REQUESTS, REQUESTS),
    ]
    readiness, echo = result["median"]["readiness"], result["median"]["echo"]
    # Every /status got exactly one reply at the connector, and it was the status card (the echo for the echo bot).
    assert readiness["connector"]["cards"] == REQUESTS and readiness["connector"]["bad"] == 0
    assert readiness["connector"]["reply_to"] == REQUESTS
    assert echo["connector"]["echoes"] == REQUESTS and echo["connector"]["bad"] == 0
    for phase in (readiness, echo):
        assert phase["throughput"] > 0
        assert 0 < phase["p50_ms"] <= phase["p99_ms"] <= phase["max_ms"]
    assert math.isclose(result["throughput_ratio"], readiness["throughput"] / echo["throughput"])
    assert set(result["targets"]) == {"throughput_ratio", "readiness_p99_ms"}

    # The same result as the table the command prints without --json: both bots' figures and the verdicts.
    bench.print_report(result)
    table = capsys.readouterr().out
    for label in ("SMTP AUTH Readiness", "botbuilder echo bot"):
        [median_line] = [line for line in table.splitlines() if line.startswith("median") and label in line]
        assert f"{REQUESTS}" in median_line
    assert f"{REQUESTS}/{REQUESTS} status cards" in table and f"{REQUESTS}/{REQUESTS} echoes" in table
    assert "throughput readiness/echo:" in table and "readiness p99:" in table


def test_a_missing_or_wrong_reply_makes_the_run_invalid():
    good = {"messages": 3, "cards": 3, "echoes": 0, "reply_to": 3, "bad": 0, "bad_samples": []}
    assert bench.check_replies("readiness", 3, 3, good) == []
    assert bench.check_replies("readiness", 3, 2, good)  # a request without a 2xx answer
    assert bench.check_replies("readiness", 3, 3, {**good, "cards": 2, "bad": 1, "bad_samples": ["{}"]})
    assert bench.check_replies("readiness", 3, 3, {**good, "messages": 4, "reply_to": 3})  # a duplicate reply
    assert bench.check_replies("echo", 3, 3, good)  # cards are not echoes

    card = {
        "contentType": bench.ADAPTIVE_CARD,
        "content": {"type": "AdaptiveCard", "body": [{"type": "TextBlock"}]},
    }
    activity = {"type": "message", "attachments": [card]}
    assert bench._is_status_card(activity, json.dumps(activity).encode() + bench.CARD_MARKER.encode())
    assert not bench._is_status_card(activity, json.dumps(activity).encode())  # not the expected day count
    assert not bench._is_status_card({"type": "message", "text": "hi"}, bench.CARD_MARKER.encode())
