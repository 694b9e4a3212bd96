"""Sign-in discovery over a million 'Authenticated SMTP' sign-ins: speed and memory.

    .venv/bin/python bench/discovery.py [--events 1000000] [--senders 2000] [--json]

Two processes on 127.0.0.1:

* a child serving a lean fake of Entra ID and Microsoft Graph over HTTPS (a throwaway ``trustme``
  CA; the token endpoint is ``tests/m365_fakes.FakeAuthority``, the one the tests use). Its
  ``/v1.0/auditLogs/signIns`` computes each page from the query (the ``createdDateTime ge/le``
  window and ``$skiptoken``) instead of filtering a stored list, so the fake costs the same per page
  whatever the total; pages hold 1,000 sign-ins, newest first, with ``@odata.nextLink``;
* this process: the bot's real code in live mode: ``bot.m365.http.M365Client`` (msal, aiohttp, TLS,
  paging), ``bot.tenant.live.LiveSource.sign_ins`` and ``bot.devices.scan.Scanner.run`` (one-day
  slices, the streaming fold, the merge into a temporary SQLite inventory).

The events are spread evenly over the 30-day retention window the first scan reads, over
``--senders`` mailboxes with two source IPs each, every seventh failing. Memory is sampled from
``/proc/self/status`` at every progress report (each 1,000 events): RSS when 100,000 and when all
events were read, and the peak (VmHWM). The run is valid only when the scan counted exactly every
event and every (sender, IP) pair; otherwise the exit code is 2.

Targets: at least 50,000 events/s end to end, peak RSS at most 200 MB, and RSS not growing between
100k and 1M events (at most 8 MB, allocator noise). Exit code 0 targets met, 1 missed, 2 invalid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
for extra in (PROJECT_DIR, PROJECT_DIR / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from aiohttp import web  # noqa: E402

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
WINDOW_MS = 30 * 86_400_000
PAGE = 1000
EVENTS_PER_SECOND_TARGET = 50_000
PEAK_RSS_TARGET_MB = 200.0
RSS_GROWTH_TOLERANCE_MB = 8.0
CHILD_MAX_SECONDS = 1800.0
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


# --------------------------------------------------------------------------------------------------
# The child: fake Entra ID (token endpoint) and a lean fake Graph sign-in log.
# --------------------------------------------------------------------------------------------------


def _iso_ms(epoch_ms: int) -> str:
    seconds, ms = divmod(epoch_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


def _parse_iso(value: str) -> int:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)


class LeanSignInLog:
    """``events`` sign-ins, event ``i`` at ``until - i * step`` ms (newest first), computed per page."""

    def __init__(self, events: int, senders: int, until_ms: int) -> None:
        self.events = events
        self.senders = senders
        self.until_ms = until_ms
        self.step = WINDOW_MS / events

    def index_range(self, ge_ms: int, le_ms: int) -> tuple[int, int]:
        """Indexes of the events with ``ge <= createdDateTime <= le`` (empty when first > last)."""
        first = max(0, -(-(self.until_ms - le_ms) * self.events // WINDOW_MS))
        last = min(self.events - 1, (self.until_ms - ge_ms) * self.events // WINDOW_MS)
        while first <= last and self.moment(first) > le_ms:
            first += 1
        while last >= first and self.moment(last) < ge_ms:
            last -= 1
        return first, last

    def moment(self, index: int) -> int:
        return self.until_ms - int(index * self.step)

    def event_json(self, index: int) -> str:
        sender = index % self.senders
        ip = (index // self.senders) % 2
        failed = 50126 if index % 7 == 0 else 0
        return (
            f'{{"id":"bench-{index:08d}","createdDateTime":"{_iso_ms(self.moment(index))}",'
            f'"userPrincipalName":"sender{sender:05d}@contoso.example","userId":"00000000-0000-4000-8000-{sender:012d}",'
            f'"ipAddress":"198.51.{sender // 250}.{sender % 250 + ip * 2}","clientAppUsed":"Authenticated SMTP",'
            f'"appDisplayName":"Office 365 Exchange Online","status":{{"errorCode":{failed},"failureReason":null,'
            f'"additionalDetails":null}},"location":{{"city":"Osaka","state":"Osaka","countryOrRegion":"JP"}}}}'
        )


def _graph_app(log: LeanSignInLog, authority: Any) -> web.Application:
    async def sign_ins(request: web.Request) -> web.Response:
        base_url = f"https://{request.host}"  # the token's audience is the Graph endpoint the client was given
        if authority.validate(request.headers.get("Authorization"), base_url) is None:
            return web.json_response({"error": {"code": "InvalidAuthenticationToken", "message": "no"}}, status=401)
        expression = request.query.get("$filter", "")
        if "clientAppUsed eq 'Authenticated SMTP'" not in expression:
            return web.json_response({"value": []})
        ge = _parse_iso(expression.split("createdDateTime ge ")[1].split(" ")[0])
        le = _parse_iso(expression.split("createdDateTime le ")[1].split(" ")[0]) if " le " in expression else log.until_ms
        first, last = log.index_range(ge, le)
        offset = int(request.query.get("$skiptoken", "0"))
        start, stop = first + offset, min(last + 1, first + offset + PAGE)
        body = '{"@odata.context":"' + base_url + '/v1.0/$metadata#auditLogs/signIns","value":['
        body += ",".join(log.event_json(i) for i in range(start, stop)) + "]"
        if stop <= last:
            link = request.url.with_scheme("https").update_query({"$skiptoken": str(offset + PAGE)})
            body += ',"@odata.nextLink":' + json.dumps(str(link))
        return web.Response(text=body + "}", content_type="application/json")

    app = web.Application()
    app.router.add_get("/v1.0/auditLogs/signIns", sign_ins)
    return app


async def _serve(events: int, senders: int, directory: Path) -> None:
    from m365_fakes import FakeAuthority, make_certificates

    certificates = make_certificates(directory)
    authority = FakeAuthority(certificates.server_context)
    await authority.start()
    log = LeanSignInLog(events, senders, int(NOW.timestamp() * 1000))
    runner = web.AppRunner(_graph_app(log, authority), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=certificates.server_context).start()
    base_url = f"https://127.0.0.1:{runner.addresses[0][1]}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), loop.call_soon_threadsafe(stop.set)), daemon=True).start()
    ready = {"graph": base_url, "authority": authority.base_url, "tenant": authority.tenant,
             "client_id": authority.client_id, "ca": str(certificates.ca_path)}
    print("READY " + json.dumps(ready), flush=True)
    sys.stdout = sys.stderr
    try:
        await asyncio.wait_for(stop.wait(), CHILD_MAX_SECONDS)
    except TimeoutError:
        pass
    finally:
        await runner.cleanup()
        await authority.close()


# --------------------------------------------------------------------------------------------------
# The parent: the bot's discovery in live mode, with memory sampling.
# --------------------------------------------------------------------------------------------------


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _scan(ready: dict[str, str], events: int, directory: Path) -> dict[str, Any]:
    from m365_fakes import CLIENT_SECRET

    os.environ["SSL_CERT_FILE"] = ready["ca"]
    os.environ["REQUESTS_CA_BUNDLE"] = ready["ca"]
    for name in PROXY_VARS:
        os.environ.pop(name, None)
    from bot.devices.config import DeviceSettings
    from bot.devices.scan import Scanner
    from bot.m365.http import M365Client
    from bot.m365.settings import M365Settings
    from bot.storage.db import Database
    from bot.tenant.live import LiveSource

    settings = M365Settings(
        tenant_id=ready["tenant"], client_id=ready["client_id"], client_secret=CLIENT_SECRET,
        authority_host=ready["authority"], graph_endpoint=ready["graph"], exchange_endpoint=ready["graph"],
    )
    database = Database(f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    await database.open()
    samples: dict[str, float] = {}

    async def progress(count: int, oldest: str) -> None:
        if count >= 100_000 and "rss_100k_mb" not in samples:
            samples["rss_100k_mb"] = rss_mb()
        samples["rss_last_mb"] = rss_mb()

    try:
        async with M365Client(settings) as client:
            scanner = Scanner(database.engine, "bench", LiveSource(client).sign_ins, lambda: NOW, DeviceSettings(scan_days=30))
            started, cpu_started = time.perf_counter(), time.process_time()
            outcome = await scanner.run(progress)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        store = scanner.store
        devices = await store.all()
    finally:
        await database.close()
    result = outcome.result
    return {
        "events": result.events if result else 0,
        "pairs": result.pairs if result else 0,
        "devices": len(devices),
        "error": outcome.error["en"] if outcome.error else None,
        "seconds": elapsed,
        "bot_cpu_seconds": cpu,
        "events_per_second": (result.events / elapsed) if result and elapsed else 0.0,
        "rss_100k_mb": samples.get("rss_100k_mb"),
        "rss_end_mb": samples.get("rss_last_mb"),
        "peak_rss_mb": rss_mb("VmHWM"),
    }


def judge(result: dict[str, Any], expected_events: int, expected_pairs: int) -> tuple[list[str], dict[str, bool]]:
    """Problems that make the run invalid, and each target met or not."""
    problems = []
    if result["error"]:
        problems.append(f"the scan failed: {result['error']}")
    if result["events"] != expected_events:
        problems.append(f"counted {result['events']:,} events, expected {expected_events:,}")
    if result["pairs"] != expected_pairs or result["devices"] != expected_pairs:
        problems.append(f"found {result['pairs']:,} pairs / {result['devices']:,} devices, expected {expected_pairs:,}")
    growth = None
    if result["rss_100k_mb"] is not None and result["rss_end_mb"] is not None:
        growth = result["rss_end_mb"] - result["rss_100k_mb"]
    targets = {
        "events_per_second": result["events_per_second"] >= EVENTS_PER_SECOND_TARGET,
        "peak_rss_mb": result["peak_rss_mb"] <= PEAK_RSS_TARGET_MB,
        "rss_growth_100k_to_end": growth is not None and growth <= RSS_GROWTH_TOLERANCE_MB,
    }
    return problems, targets


def print_report(result: dict[str, Any]) -> None:
    print(f"discovery over {result['events']:,} 'Authenticated SMTP' sign-ins ({result['pairs']:,} sender/IP pairs)")
    print("  through: fake Graph on loopback (HTTPS, 1,000 per page) -> M365Client -> LiveSource -> Scanner.run")
    print(f"  time:        {result['seconds']:.2f} s wall; CPU: bot {result['bot_cpu_seconds']:.2f} s, "
          f"fake Graph {result['fake_graph_cpu_seconds']:.2f} s; load average {result['load_average']:.1f} on {result['cpus']} CPUs")
    print(f"  throughput:  {result['events_per_second']:,.0f} events/s   (target >= {EVENTS_PER_SECOND_TARGET:,})")
    print(f"  peak RSS:    {result['peak_rss_mb']:.1f} MB   (target <= {PEAK_RSS_TARGET_MB:.0f} MB)")
    rss_100k = result["rss_100k_mb"]
    print(f"  RSS at 100k: {rss_100k:.1f} MB" if rss_100k is not None else "  RSS at 100k: (fewer events than 100k)")
    print(f"  RSS at end:  {result['rss_end_mb']:.1f} MB   ({result['events']:,} events; growth target <= "
          f"{RSS_GROWTH_TOLERANCE_MB:.0f} MB)")
    for name, ok in result["targets"].items():
        print(f"  {name}: {'met' if ok else 'MISSED'}")
    for problem in result["problems"]:
        print(f"  INVALID: {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--senders", type=int, default=2000)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.events < 1 or not 1 <= args.senders <= 60_000:
        parser.error("--events must be positive and --senders 1..60000")
    if args.serve:
        asyncio.run(_serve(args.events, args.senders, Path(args.dir)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-discovery-") as tmp:
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--events", str(args.events), "--senders", str(args.senders), "--dir", tmp],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=PROJECT_DIR,
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline().decode()
            if not line.startswith("READY "):
                print(f"the fake Graph did not start: {line!r}", file=sys.stderr)
                return 2
            result = asyncio.run(_scan(json.loads(line[len("READY "):]), args.events, Path(tmp)))
        finally:
            if child.stdin is not None:
                child.stdin.close()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        result["fake_graph_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    pairs = args.senders * 2 if args.events >= args.senders * 2 else len(
        {(i % args.senders, (i // args.senders) % 2) for i in range(args.events)})
    problems, targets = judge(result, args.events, pairs)
    result.update({"load_average": os.getloadavg()[0], "cpus": os.cpu_count(), "valid": not problems, "problems": problems, "targets": targets, "now": NOW.isoformat(),
                   "window_days": 30, "page_size": PAGE, "senders": args.senders})
    if args.json:
        print(json.dumps(result))
    else:
        print_report(result)
    if problems:
        return 2
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

