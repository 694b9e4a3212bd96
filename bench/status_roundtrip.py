"""``/status`` round trips through ``/api/messages``, beside a bare botbuilder echo bot, in one run.

    .venv/bin/python bench/status_roundtrip.py [--requests N] [--concurrency C] [--rounds R] [--json]

Four processes, all on 127.0.0.1:

* the SMTP AUTH Readiness app (the real ``create_app`` with a temporary SQLite database and a fixed clock),
* the baseline echo bot (``bench/echo_bot.py``),
* a fake Bot Connector that answers ``POST /v3/conversations/{id}/activities[/{replyTo}]`` with
  ``{"id": ...}`` at once and checks every reply it gets,
* this process: the load generator (aiohttp, a fixed number of requests in flight).

By default the bot under test gets a CPU of its own and the load generator and connector share the
others (``--no-pin`` to leave placement to the scheduler).

A round trip is one ``POST /api/messages`` of a Teams personal-chat ``/status`` message until its HTTP
response; both bots answer only after they have posted their reply to the connector. Each round runs
both bots one after the other (order alternating), each with a warm-up and then the measured requests;
the median round (by throughput) is reported. A run is only valid when every measured request got a
2xx and the connector received exactly one correct reply per request (the status card with the
expected day count, or the echo): otherwise the exit code is 2 and no figures are trusted.

Exit code: 0 targets met, 1 a target missed, 2 the run is invalid (errors, missing or wrong replies).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

# 12:00 in Tokyo on 23 November 2026 (the tests' frozen moment): 38 days before 31 December 2026.
FIXED_NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
CARD_MARKER = "38 days left"
COMMAND = "/status"
ECHO_REPLY = f"Echo: {COMMAND}"  # bench/echo_bot.py sends "Echo: " + the text
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT_ID = "28:00000000-0000-0000-0000-00000000b07"
BOT_NAME = "SMTP AUTH Readiness"

THROUGHPUT_RATIO_TARGET = 0.8
P99_TARGET_MS = 50.0
CHILD_START_SECONDS = 60.0
CHILD_MAX_SECONDS = 3600.0  # a server child never outlives this, whatever happens to its parent
BOTS = ("readiness", "echo")
LABELS = {"readiness": "SMTP AUTH Readiness", "echo": "botbuilder echo bot"}


# --------------------------------------------------------------------------------------------------
# Child processes: the two bots and the fake connector. Each prints "READY <port>" once listening and
# stops when its stdin closes (the parent ended), on SIGTERM/SIGINT, or after CHILD_MAX_SECONDS.
# --------------------------------------------------------------------------------------------------


async def _serve(app: web.Application) -> None:
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def wait_for_parent() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_parent, daemon=True).start()
    print(f"READY {port}", flush=True)
    sys.stdout = sys.stderr  # nothing else may reach the parent's pipe
    try:
        await asyncio.wait_for(stop.wait(), CHILD_MAX_SECONDS)
    except TimeoutError:
        pass
    finally:
        try:
            await asyncio.wait_for(runner.cleanup(), 10)  # closes the app (and its database)
        finally:
            # Do not wait for worker threads: after the parent died, a bot may still be retrying
            # replies to the connector that went with it.
            sys.stderr.flush()
            os._exit(0)


def _readiness_app(db_path: Path) -> web.Application:
    from app import create_app
    from bot.settings import load_settings

    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db_path}", "DEFAULT_TIMEZONE": "UTC"}
    settings = load_settings(env, dotenv=db_path.with_name("no.env"))
    return create_app(settings, clock=lambda: FIXED_NOW)


@dataclass
class TagStats:
    """What the connector received for one phase (activity ids carry the phase tag)."""

    posts: int = 0
    messages: int = 0
    cards: int = 0  # message with the expected status card
    echoes: int = 0  # message with the expected echo text
    typing: int = 0
    other: int = 0
    bad: int = 0
    reply_to: set[str] = field(default_factory=set)
    bad_samples: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["reply_to"] = len(self.reply_to)
        return data


def _is_status_card(activity: dict[str, Any], raw: bytes) -> bool:
    attachments = activity.get("attachments") or []
    return (
        len(attachments) == 1
        and attachments[0].get("contentType") == ADAPTIVE_CARD
        and isinstance(attachments[0].get("content"), dict)
        and attachments[0]["content"].get("type") == "AdaptiveCard"
        and attachments[0]["content"].get("body")
        and CARD_MARKER.encode() in raw
    )


def _connector_app() -> web.Application:
    stats: dict[str, TagStats] = {}
    ids = iter(range(1, 1 << 62))

    async def send(request: web.Request) -> web.Response:
        raw = await request.read()
        reply_to = request.match_info.get("aid", "")
        # Activity ids are "bench-<tag>-<n>"; replies name the activity they answer in the path.
        tag = reply_to[len("bench-") :].rsplit("-", 1)[0] if reply_to.startswith("bench-") else "untagged"
        item = stats.setdefault(tag, TagStats())
        item.posts += 1
        try:
            activity = json.loads(raw)
        except ValueError:
            activity = {}
        kind = activity.get("type") if isinstance(activity, dict) else None
        if kind == "message":
            item.messages += 1
            item.reply_to.add(str(activity.get("replyToId") or reply_to))
            if _is_status_card(activity, raw):
                item.cards += 1
            elif activity.get("text") == ECHO_REPLY and not activity.get("attachments"):
                item.echoes += 1
            else:
                item.bad += 1
                if len(item.bad_samples) < 3:
                    item.bad_samples.append(raw[:300].decode("utf-8", "replace"))
        elif kind == "typing":
            item.typing += 1
        elif kind:
            item.other += 1
        else:
            item.bad += 1
            if len(item.bad_samples) < 3:
                item.bad_samples.append(raw[:300].decode("utf-8", "replace"))
        return web.json_response({"id": f"reply-{next(ids)}"})

    async def create(request: web.Request) -> web.Response:
        return web.json_response({"id": f"conversation-{next(ids)}"})

    async def report(request: web.Request) -> web.Response:
        tag = request.query.get("tag", "")
        return web.json_response(stats.get(tag, TagStats()).as_json())

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/v3/conversations/{cid}/activities", send)
    app.router.add_post("/v3/conversations/{cid}/activities/{aid}", send)
    app.router.add_put("/v3/conversations/{cid}/activities/{aid}", send)
    app.router.add_post("/v3/conversations", create)
    app.router.add_get("/_bench/stats", report)
    return app


def serve_child(role: str, db_path: str | None) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if role == "connector":
        app = _connector_app()
    elif role == "readiness":
        assert db_path, "--db is required for the readiness bot"
        app = _readiness_app(Path(db_path))
    elif role == "echo":
        from bench.echo_bot import create_echo_app

        app = create_echo_app()
    else:
        raise SystemExit(f"unknown role {role}")
    asyncio.run(_serve(app))
    return 0


# --------------------------------------------------------------------------------------------------
# The parent: start the children, generate load, check the connector's counts, report.
# --------------------------------------------------------------------------------------------------


class Child:
    def __init__(self, role: str, workdir: Path, extra: list[str] | None = None) -> None:
        self.role = role
        self.log_path = workdir / f"{role}.log"
        self.extra = extra or []
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(Path(__file__).resolve()),
                "--serve",
                self.role,
                *self.extra,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                cwd=str(PROJECT_DIR),
            )
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), CHILD_START_SECONDS)
        except TimeoutError:
            line = b""
        if not line.startswith(b"READY "):
            await self.stop()
            raise RuntimeError(f"{self.role} did not start:\n{self.log_tail()}")
        self.port = int(line.split()[1])

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    async def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def personal_status(service_url: str, activity_id: str, user: int) -> bytes:
    """A Teams personal-chat "/status" as Teams posts it (see tests/activities.py)."""
    activity = {
        "type": "message",
        "id": activity_id,
        "timestamp": "2026-11-23T03:00:00.000Z",
        "localTimestamp": "2026-11-23T12:00:00.000+09:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {
            "id": f"29:bench-user-{user}",
            "name": f"Bench User {user}",
            "aadObjectId": f"00000000-0000-4000-8000-{user:012d}",
        },
        "conversation": {
            "id": f"a:bench-personal-chat-{user}",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": {"tenant": {"id": TENANT}},
        "text": COMMAND,
        "textFormat": "plain",
        "locale": "en-US",
        "localTimezone": "Asia/Tokyo",
        "entities": [
            {
                "type": "clientInfo",
                "locale": "en-US",
                "country": "JP",
                "platform": "Web",
                "timezone": "Asia/Tokyo",
            }
        ],
    }
    return json.dumps(activity).encode()


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Phase:
    bot: str
    round: int
    tag: str
    requests: int
    ok: int
    seconds: float
    throughput: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_ms_per_request: float | None  # the bot process's CPU time (all threads) per measured request
    wait_ms_per_request: float | None  # time its threads were runnable but waited for a CPU (contention)
    statuses: dict[str, int]
    connector: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


async def run_phase(
    session: ClientSession, url: str, bodies: list[bytes], concurrency: int, timeout: float
) -> tuple[float, list[float], Counter[str]]:
    """Post every body with ``concurrency`` requests in flight; returns wall seconds, latencies, statuses."""
    latencies = [0.0] * len(bodies)
    statuses: Counter[str] = Counter()
    pending = iter(range(len(bodies)))
    headers = {"Content-Type": "application/json"}

    async def worker() -> None:
        for index in pending:  # one shared iterator: each request is sent exactly once
            started = time.perf_counter()
            try:
                async with session.post(url, data=bodies[index], headers=headers) as response:
                    await response.read()
                    status = str(response.status)
            except Exception as error:  # noqa: BLE001 - counted, reported, and the run is invalid
                status = type(error).__name__
            latencies[index] = time.perf_counter() - started
            statuses[status] += 1

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), timeout)
    return time.perf_counter() - started, latencies, statuses


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, all threads (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def process_wait_seconds(pid: int) -> float | None:
    """Time the process's live threads spent runnable but waiting for a CPU (Linux schedstat)."""
    try:
        total = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue  # a thread that just ended
        return total / 1e9
    except OSError:
        return None


def _per_request(
    before: float | None, after: float | None, requests: int, floor: float = -math.inf
) -> float | None:
    """Milliseconds per request. ``floor=0`` for waiting time: a thread that ended during the phase
    takes its counter with it, which can make the difference slightly negative."""
    if before is None or after is None or not requests:
        return None
    return max(floor, (after - before) * 1000 / requests)


async def connector_stats(session: ClientSession, connector: Child, tag: str) -> dict[str, Any]:
    async with session.get(f"{connector.base_url}/_bench/stats", params={"tag": tag}) as response:
        return await response.json()  # type: ignore[no-any-return]


def check_replies(bot: str, requests: int, ok: int, stats: dict[str, Any]) -> list[str]:
    """Every request answered 2xx and exactly one correct reply per request reached the connector."""
    problems = []
    good = stats["cards"] if bot == "readiness" else stats["echoes"]
    expected = "status cards" if bot == "readiness" else "echo replies"
    if ok != requests:
        problems.append(f"{requests - ok} of {requests} requests did not get a 2xx answer")
    if good != requests:
        problems.append(f"connector got {good} {expected} for {requests} requests")
    if stats["messages"] != requests or stats["reply_to"] != requests:
        problems.append(
            f"connector got {stats['messages']} messages replying to {stats['reply_to']} distinct activities"
            f" for {requests} requests"
        )
    if stats["bad"]:
        problems.append(f"{stats['bad']} wrong replies, e.g. {stats['bad_samples'][:1]}")
    return problems


async def measure(
    bot: str,
    child: Child,
    connector: Child,
    round_no: int,
    args: argparse.Namespace,
    session_timeout: ClientTimeout,
) -> Phase:
    url = f"{child.base_url}/api/messages"
    service_url = connector.base_url + "/"
    tags = {"warm": f"r{round_no}{bot}warm", "run": f"r{round_no}{bot}"}

    def bodies(tag: str, count: int) -> list[bytes]:
        return [
            personal_status(service_url, f"bench-{tag}-{n}", n % args.conversations) for n in range(count)
        ]

    # Every personal chat is seen in the warm-up, so its first-contact database write is not measured.
    warm_bodies = bodies(tags["warm"], max(args.warmup, args.conversations))
    run_bodies = bodies(tags["run"], args.requests)
    connector_limit = TCPConnector(limit=args.concurrency, force_close=False)
    async with ClientSession(connector=connector_limit, timeout=session_timeout) as session:
        problems: list[str] = []
        if warm_bodies:
            _, _, warm_statuses = await run_phase(session, url, warm_bodies, args.concurrency, args.timeout)
            warm_ok = sum(n for s, n in warm_statuses.items() if s.startswith("2"))
            warm_stats = await connector_stats(session, connector, tags["warm"])
            problems += [f"warm-up: {p}" for p in check_replies(bot, len(warm_bodies), warm_ok, warm_stats)]
        assert child.proc is not None
        cpu_before, wait_before = process_cpu_seconds(child.proc.pid), process_wait_seconds(child.proc.pid)
        seconds, latencies, statuses = await run_phase(
            session, url, run_bodies, args.concurrency, args.timeout
        )
        cpu_after, wait_after = process_cpu_seconds(child.proc.pid), process_wait_seconds(child.proc.pid)
        stats = await connector_stats(session, connector, tags["run"])
    ok = sum(n for s, n in statuses.items() if s.startswith("2"))
    problems += check_replies(bot, len(run_bodies), ok, stats)
    ordered = sorted(latencies)
    return Phase(
        bot=bot,
        round=round_no,
        tag=tags["run"],
        requests=len(run_bodies),
        ok=ok,
        seconds=seconds,
        throughput=ok / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(ordered, 50) * 1000,
        p99_ms=percentile(ordered, 99) * 1000,
        max_ms=ordered[-1] * 1000 if ordered else float("nan"),
        cpu_ms_per_request=_per_request(cpu_before, cpu_after, len(run_bodies)),
        wait_ms_per_request=_per_request(wait_before, wait_after, len(run_bodies), floor=0.0),
        statuses=dict(statuses),
        connector=stats,
        problems=problems,
    )


def median_round(phases: list[Phase]) -> Phase:
    """The round with the median throughput (the lower middle one for an even number of rounds)."""
    ordered = sorted(phases, key=lambda phase: phase.throughput)
    return ordered[(len(ordered) - 1) // 2]


def pin_cpus(children: dict[str, Child], enabled: bool) -> str:
    """The bots (measured one at a time) run on the first CPU; the load generator and connector share the rest.

    In production the load (Teams) and the Bot Connector are other hosts; on one machine they would
    otherwise take CPU time from the bot under test and inflate its latencies.
    """
    if not enabled or not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return "not pinned (one CPU)"
    bot_cpu, rest = cpus[0], set(cpus[1:])
    for role in BOTS:
        proc = children[role].proc
        assert proc is not None
        os.sched_setaffinity(proc.pid, {bot_cpu})
    os.sched_setaffinity(0, rest)
    connector = children["connector"].proc
    assert connector is not None
    os.sched_setaffinity(connector.pid, rest)
    return f"bots on CPU {bot_cpu}, load generator and connector on CPU {','.join(map(str, sorted(rest)))}"


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    versions = _versions()  # before pinning changes this process's CPU set
    with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        workdir = Path(tmp)
        children = {
            "connector": Child("connector", workdir),
            "readiness": Child("readiness", workdir, ["--db", str(workdir / "bench.db")]),
            "echo": Child("echo", workdir),
        }
        try:
            for child in children.values():
                await child.start()
            pinning = pin_cpus(children, args.pin)
            session_timeout = ClientTimeout(total=30)
            phases: list[Phase] = []
            for round_no in range(1, args.rounds + 1):
                order = BOTS if round_no % 2 else tuple(reversed(BOTS))
                for bot in order:
                    phase = await measure(
                        bot, children[bot], children["connector"], round_no, args, session_timeout
                    )
                    phases.append(phase)
                    if args.verbose:
                        print(_phase_line(phase), file=sys.stderr, flush=True)
            logs = {role: child.log_tail(10) for role, child in children.items()}
        finally:
            for child in children.values():
                await child.stop()
    return _summary(args, phases, pinning, logs, versions)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "aiohttp": version("aiohttp"),
        "botbuilder-core": version("botbuilder-core"),
        "cpus": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "load_average": " ".join(f"{value:.1f}" for value in os.getloadavg())
        if hasattr(os, "getloadavg")
        else "?",
    }


def _summary(
    args: argparse.Namespace,
    phases: list[Phase],
    pinning: str,
    logs: dict[str, str],
    versions: dict[str, str],
) -> dict[str, Any]:
    medians = {bot: median_round([p for p in phases if p.bot == bot]) for bot in BOTS}
    ratio = (
        medians["readiness"].throughput / medians["echo"].throughput if medians["echo"].throughput else 0.0
    )
    problems = [f"round {p.round} {LABELS[p.bot]}: {problem}" for p in phases for problem in p.problems]
    return {
        "command": COMMAND,
        "parameters": {
            "requests": args.requests,
            "warmup": max(args.warmup, args.conversations),
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "conversations": args.conversations,
            "pinning": pinning,
        },
        "versions": versions,
        "rounds": [asdict(p) for p in phases],
        "median": {bot: asdict(p) for bot, p in medians.items()},
        "throughput_ratio": ratio,
        "targets": {
            "throughput_ratio": {
                "target": THROUGHPUT_RATIO_TARGET,
                "value": ratio,
                "pass": ratio >= THROUGHPUT_RATIO_TARGET,
            },
            "readiness_p99_ms": {
                "target": P99_TARGET_MS,
                "value": medians["readiness"].p99_ms,
                "pass": medians["readiness"].p99_ms < P99_TARGET_MS,
            },
        },
        "valid": not problems,
        "problems": problems,
        "logs": logs if problems else {},
    }


def _num(value: float | None, digits: int = 1) -> str:
    return f"{value:.{digits}f}" if value is not None and not math.isnan(value) else "n/a"


COLUMNS = f"{'bot':<20} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'CPU ms/req':>10} {'wait ms/req':>11}"


def _row(p: Phase) -> str:
    return (
        f"{LABELS[p.bot]:<20} {p.requests:>8} {_num(p.throughput):>8} {_num(p.p50_ms):>7} {_num(p.p99_ms):>7}"
        f" {_num(p.max_ms):>7} {_num(p.cpu_ms_per_request):>10} {_num(p.wait_ms_per_request):>11}"
    )


def _replies(p: Phase) -> str:
    if p.bot == "readiness":
        return f"{p.connector.get('cards', 0)}/{p.requests} status cards"
    return f"{p.connector.get('echoes', 0)}/{p.requests} echoes"


def _phase_line(p: Phase) -> str:
    return f"round {p.round:<2} {_row(p)}  {_replies(p) if not p.problems else 'INVALID'}"


def print_report(result: dict[str, Any]) -> None:
    par, ver = result["parameters"], result["versions"]
    print("/status round trips through /api/messages to a loopback Bot Connector (fixed clock, SQLite)")
    print(
        f"{par['requests']} requests per bot per round after {par['warmup']} warm-up, concurrency {par['concurrency']},"
        f" {par['conversations']} personal chats, {par['rounds']} rounds; {par['pinning']}"
    )
    print(
        f"Python {ver['python']}, aiohttp {ver['aiohttp']}, botbuilder-core {ver['botbuilder-core']},"
        f" {ver['cpus']} CPUs, load average at start {ver['load_average']}"
    )
    print()
    print(f"{'':8} {COLUMNS}  replies at the connector")
    for data in result["rounds"]:
        print(_phase_line(Phase(**data)))
    print()
    for bot in BOTS:
        median = Phase(**result["median"][bot])
        print(f"{'median':<8} {_row(median)}  (round {median.round})")
    print()
    targets = result["targets"]
    ratio, p99 = targets["throughput_ratio"], targets["readiness_p99_ms"]
    print(
        f"throughput readiness/echo: {ratio['value']:.2f}  (target >= {ratio['target']:.2f})"
        f"  {'PASS' if ratio['pass'] else 'FAIL'}"
    )
    print(
        f"readiness p99: {p99['value']:.1f} ms  (target < {p99['target']:.0f} ms)  {'PASS' if p99['pass'] else 'FAIL'}"
    )
    if not result["valid"]:
        print()
        print("INVALID RUN: the figures above measure errors, not the bots:")
        for problem in result["problems"]:
            print(f"  - {problem}")
        for role, tail in result["logs"].items():
            if tail.strip():
                print(f"--- {role} log (tail) ---\n{tail}")


def exit_code(result: dict[str, Any]) -> int:
    if not result["valid"]:
        return 2
    return 0 if all(target["pass"] for target in result["targets"].values()) else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=1000, help="measured requests per bot per round (default 1000)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=100,
        help="warm-up requests per bot per round, at least one per chat (default 100)",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds; the median round is reported (default 3)"
    )
    parser.add_argument(
        "--conversations",
        type=int,
        default=50,
        help="distinct personal chats (users) the requests cycle through (default 50)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="time limit per phase in seconds (default 300)"
    )
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the bot under test on a CPU of its own, load generator and connector on the others"
        " (default; Linux, 2+ CPUs), as they would be on different hosts",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    parser.add_argument("--verbose", "-v", action="store_true", help="print each phase to stderr as it ends")
    parser.add_argument("--serve", choices=("connector", "readiness", "echo"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.serve:
        for name in ("requests", "concurrency", "rounds", "conversations"):
            if getattr(args, name) < 1:
                parser.error(f"--{name} must be at least 1")
        if args.warmup < 0 or args.timeout <= 0:
            parser.error("--warmup must be >= 0 and --timeout > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        return serve_child(args.serve, args.db)
    try:
        result = asyncio.run(bench(args))
    except (TimeoutError, RuntimeError, OSError) as error:
        print(f"bench failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return exit_code(result)


if __name__ == "__main__":
    sys.exit(main())
