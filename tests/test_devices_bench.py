"""The discovery bench runs end to end (a small run) and judges its own validity; no speed is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from bench import discovery as bench  # noqa: E402


def test_a_small_run_counts_every_event_through_the_real_client():
    command = [sys.executable, str(PROJECT_DIR / "bench" / "discovery.py"), "--events", "30000", "--senders", "300", "--json"]
    done = subprocess.run(command, check=False, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]  # 1 = a target missed: not this test's business
    result = json.loads(done.stdout)
    assert result["valid"], result["problems"]
    assert (result["events"], result["pairs"], result["devices"]) == (30_000, 600, 600)
    assert result["events_per_second"] > 0 and result["peak_rss_mb"] > 0
    assert set(result["targets"]) == {"events_per_second", "peak_rss_mb", "rss_growth_100k_to_end"}


def test_the_lean_fake_serves_exactly_the_window_asked_for():
    log = bench.LeanSignInLog(1000, 10, 1_000_000_000_000)
    step = bench.WINDOW_MS / 1000
    assert log.index_range(log.moment(999), log.moment(0)) == (0, 999)
    first, last = log.index_range(log.moment(10), log.moment(5))
    assert (first, last) == (5, 10)
    assert log.index_range(log.moment(5) + 1, log.moment(5) + int(step) - 1) == (5, 4)  # between two events: none
    event = json.loads(log.event_json(7))
    assert event["clientAppUsed"] == "Authenticated SMTP" and event["status"]["errorCode"] == 50126
    assert bench._parse_iso(event["createdDateTime"]) == log.moment(7)


def test_an_incomplete_count_makes_the_run_invalid():
    result = {"error": None, "events": 999, "pairs": 20, "devices": 20, "events_per_second": 60_000.0,
              "peak_rss_mb": 90.0, "rss_100k_mb": 80.0, "rss_end_mb": 81.0}
    problems, targets = bench.judge(result, 1000, 20)
    assert problems == ["counted 999 events, expected 1,000"]
    assert targets == {"events_per_second": True, "peak_rss_mb": True, "rss_growth_100k_to_end": True}
    _, targets = bench.judge({**result, "rss_end_mb": 120.0, "events": 1000}, 1000, 20)
    assert targets["rss_growth_100k_to_end"] is False
