"""The bot and the Microsoft 365 Agents Playground on loopback: for the e2e suite, the README pictures, by hand.

    python tools/e2e/stack.py                 # both, until Ctrl+C; prints the Playground's address
    python tools/e2e/stack.py --walk OUT_DIR  # both, then walk.mjs drives the Playground in Chromium

The bot runs as ``python app.py`` in local mode (no MicrosoftAppId) on a fresh SQLite database in a
temporary directory, with ``ADMIN_USER_IDS`` set to the Playground's current user. The Playground
runs from ``tools/e2e/node_modules`` with the mock tenant below (its built-in one gives users an
``aadObjectId`` with 13 digits in the last group, which ``ADMIN_USER_IDS`` rightly refuses as not a
GUID), telemetry off, and ``offline-guard.cjs`` preloaded: it listens on 127.0.0.1 only and every
connection it tries to anything but loopback is refused and logged.

Only the standard library is used, so this file runs with any Python 3.11.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PLAYGROUND_VERSION = "0.2.28"
PLAYGROUND_CLI = HERE / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
PLAYWRIGHT = HERE / "node_modules" / "playwright-core" / "package.json"
WALK = HERE / "walk.mjs"
GUARD = HERE / "offline-guard.cjs"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

BOT_NAME = "SMTP AUTH Readiness"
ADMIN_AAD_ID = "0a1b2c3d-0000-4000-8000-000000000020"

# The Playground's mock tenant (its `.m365agentsplayground.yml`; JSON is YAML). The schema wants
# exactly five other users and at most one channel besides General, whose id is the team's id.
PLAYGROUND_CONFIG: dict[str, Any] = {
    "version": "0.1.1",
    "tenantId": "6f1c2b9e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
    "bot": {"id": "28:00000000-0000-0000-0000-000000000011", "name": BOT_NAME},
    "currentUser": {
        "id": "user-id-0",
        "name": "Alex Wilber",
        "userPrincipleName": "alexw@contoso.example",
        "aadObjectId": ADMIN_AAD_ID,
        "givenName": "Alex",
        "surname": "Wilber",
        "email": "alexw@contoso.example",
    },
    "users": [
        {
            "id": f"user-id-{number}",
            "name": f"{given} {surname}",
            "userPrincipleName": f"{given.lower()}{surname[0].lower()}@contoso.example",
            "aadObjectId": f"0a1b2c3d-0000-4000-8000-00000000002{number}",
            "givenName": given,
            "surname": surname,
            "email": f"{given.lower()}{surname[0].lower()}@contoso.example",
        }
        for number, (given, surname) in enumerate(
            [("Megan", "Bowen"), ("Adele", "Vance"), ("Isaiah", "Langer"), ("Patti", "Fernandez"), ("Lynne", "Robbins")],
            start=1,
        )
    ],
    "personalChat": {"id": "personal-chat-id"},
    "groupChat": {"id": "group-chat-id", "name": "Group Chat"},
    "team": {
        "id": "team-id",
        "name": "My Team",
        "aadGroupId": "0a1b2c3d-0000-4000-8000-000000000031",
        "channels": [{"id": "channel-announcements-id", "name": "Announcements"}],
    },
}

# Settings a developer's .env could hold that would take the bot out of local demo mode.
_BLANKED_SETTINGS = (
    "MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId", "ALLOWED_TENANT_IDS",
    "GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET", "GRAPH_CERTIFICATE_PATH",
    "GRAPH_CERTIFICATE_THUMBPRINT", "DEFAULT_LANGUAGE",
)


class StackError(RuntimeError):
    """The bot or the Playground did not start; the message says which and quotes its log."""


def missing_prerequisite() -> str | None:
    """Why the Playground e2e run cannot happen on this machine, or None when it can."""
    problem = missing_node_or_chromium()
    if problem:
        return problem
    for path in (PLAYGROUND_CLI, PLAYWRIGHT):
        if not path.is_file():
            return f"{path.relative_to(ROOT)} is missing (run `npm ci` in tools/e2e)"
    return None


def missing_node_or_chromium() -> str | None:
    """Node 20+ and Chromium, which the Playground run and the card renderer both need."""
    node = shutil.which("node")
    if node is None:
        return "node is not installed (Node 20+ runs the Agents Playground and playwright-core)"
    try:
        version = subprocess.run([node, "--version"], check=False, capture_output=True, text=True, timeout=30).stdout.strip()
        major = int(version.lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return "could not run `node --version`"
    if major < 20:
        return f"node {version} is too old (Node 20+ is needed)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk fonts-noto-color-emoji fonts-liberation)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the process group it leads (it was started in its own session), then SIGKILL."""
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            self.popen.wait(timeout=grace)


def start(name: str, argv: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> Process:
    handle = log.open("wb")
    try:
        popen = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        handle.close()
    return Process(name, popen, log)


def wait_until(what: str, check: Any, process: Process, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise StackError(f"{process.name} exited with {process.popen.returncode} before {what}:\n{tail(process.log)}")
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise StackError(f"{process.name}: no {what} after {timeout:.0f} s:\n{tail(process.log)}")


@dataclass
class Stack:
    workdir: Path
    bot_port: int
    playground_port: int
    timezone: str
    admin_aad_id: str
    clock_at: str = ""  # the bot's CLOCK_AT (ISO 8601 with offset); empty: the real time
    processes: list[Process] = field(default_factory=list)

    @property
    def bot_url(self) -> str:
        return f"http://127.0.0.1:{self.bot_port}"

    @property
    def playground_url(self) -> str:
        return f"http://127.0.0.1:{self.playground_port}"

    @property
    def database(self) -> Path:
        return self.workdir / "bot.db"

    @property
    def bot_log(self) -> Path:
        return self.workdir / "bot.log"

    @property
    def playground_log(self) -> Path:
        return self.workdir / "playground.log"

    @property
    def offline_log(self) -> Path:
        return self.workdir / "offline-attempts.jsonl"

    def playground_config(self) -> Any:
        """``GET /_internal/v1/config``: the mock tenant, conversation ids and the current user."""
        return http_json(f"{self.playground_url}/_internal/v1/config")

    def offline_attempts(self) -> list[dict[str, Any]]:
        """What the Playground's server tried to reach outside loopback (each attempt refused)."""
        if not self.offline_log.is_file():
            return []
        return [json.loads(line) for line in self.offline_log.read_text(encoding="utf-8").splitlines() if line.strip()]

    def logs(self) -> str:
        return f"--- bot log (tail) ---\n{tail(self.bot_log)}\n--- Playground log (tail) ---\n{tail(self.playground_log)}"

    def walk(self, out_dir: Path, *, timeout: float = 240.0) -> subprocess.CompletedProcess[str]:
        """Drive the Playground's web page with walk.mjs (playwright-core, Chromium): see walk.mjs."""
        out_dir.mkdir(parents=True, exist_ok=True)
        return subprocess.run(
            ["node", str(WALK), "--url", self.playground_url, "--out", str(out_dir), "--bot-name", BOT_NAME,
             "--chromium", CHROMIUM],
            check=False, capture_output=True, text=True, timeout=timeout, cwd=HERE,
        )


def _bot_env(stack: Stack) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _BLANKED_SETTINGS}
    # Set, not just unset: the environment wins over a developer's .env file.
    env.update({name: "" for name in _BLANKED_SETTINGS})
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{stack.database}",
        HOST="127.0.0.1",
        PORT=str(stack.bot_port),
        ADMIN_USER_IDS=stack.admin_aad_id,
        DEFAULT_TIMEZONE="UTC",
        PYTHONUNBUFFERED="1",
        CLOCK_AT=stack.clock_at,
    )
    return env


def _playground_env(stack: Stack) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TEAMSAPPTESTER_BROWSER="none",  # do not open a browser
        APPLICATION_INSIGHTS_NO_STATSBEAT="true",  # --dt stops its telemetry, not the SDK's own "statsbeat"
        NODE_OPTIONS=f"--require {GUARD}",
        E2E_OFFLINE_LOG=str(stack.offline_log),
        M365_AGENTS_PLAYGROUND_CONFIG_PATH=str(stack.workdir / ".m365agentsplayground.yml"),
        TZ=stack.timezone,  # the Playground sends its own time zone in every activity (localTimezone)
    )
    return env


@contextmanager
def running_stack(
    workdir: Path | None = None, *, timezone: str = "Asia/Tokyo", timeout: float = 60.0, clock_at: str = ""
) -> Iterator[Stack]:
    """Start the bot, then the Playground pointed at it; stop both (their whole process groups) on exit.

    ``clock_at`` starts the bot's clock at that moment (its CLOCK_AT setting), so what the walk sees
    does not depend on the day it runs.
    """
    problem = missing_prerequisite()
    if problem:
        raise StackError(problem)
    own_dir = workdir is None
    work = Path(tempfile.mkdtemp(prefix="smtp-e2e-")) if workdir is None else workdir
    work.mkdir(parents=True, exist_ok=True)
    stack = Stack(work, free_port(), free_port(), timezone, PLAYGROUND_CONFIG["currentUser"]["aadObjectId"], clock_at)
    (work / ".m365agentsplayground.yml").write_text(json.dumps(PLAYGROUND_CONFIG, indent=1), encoding="utf-8")
    try:
        bot = start("bot (python app.py)", [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=_bot_env(stack),
                    log=stack.bot_log)
        stack.processes.append(bot)

        def bot_healthy() -> bool:
            try:
                return http_json(f"{stack.bot_url}/healthz", timeout=2).get("status") == "ok"
            except (OSError, ValueError, urllib.error.URLError):
                return False

        wait_until("answer on /healthz", bot_healthy, bot, timeout)

        playground = start(
            f"Agents Playground {PLAYGROUND_VERSION}",
            ["node", str(PLAYGROUND_CLI), "-e", f"{stack.bot_url}/api/messages", "-c", "msteams",
             "-p", str(stack.playground_port), "--dt", "--su", f"{stack.playground_url}/_connector"],
            cwd=work, env=_playground_env(stack), log=stack.playground_log,
        )
        stack.processes.append(playground)

        def listening() -> int | None:
            found = re.search(r"Listening on (\d+)", stack.playground_log.read_text(encoding="utf-8", errors="replace"))
            return int(found.group(1)) if found else None

        port = wait_until("'Listening on' line", listening, playground, timeout)
        if port != stack.playground_port:
            raise StackError(f"the Playground fell back to port {port} ({stack.playground_port} was taken); try again")

        def config_served() -> bool:  # served once it has connected to the bot
            try:
                return bool(stack.playground_config().get("config"))
            except (OSError, ValueError, urllib.error.URLError):
                return False

        wait_until("answer on /_internal/v1/config", config_served, playground, timeout)
        yield stack
    finally:
        for process in reversed(stack.processes):
            process.stop()
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--walk", metavar="OUT_DIR", type=Path, help="drive the Playground with walk.mjs, then stop")
    parser.add_argument("--timezone", default="Asia/Tokyo", help="the time zone the Playground reports (default Asia/Tokyo)")
    parser.add_argument("--workdir", type=Path, help="keep the database and logs here (default: a temporary directory)")
    parser.add_argument("--at", default="", help="start the bot's clock at this moment (ISO 8601 with offset)")
    args = parser.parse_args(argv)
    # SIGTERM (and SIGINT, which a shell's background job ignores) must still stop both children.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with running_stack(args.workdir, timezone=args.timezone, clock_at=args.at) as stack:
            if args.walk:
                run = stack.walk(args.walk.resolve())
                sys.stdout.write(run.stdout)
                sys.stderr.write(run.stderr)
                if run.returncode != 0:
                    sys.stderr.write(stack.logs() + "\n")
                return run.returncode
            print(f"bot        {stack.bot_url}/api/messages (log {stack.bot_log})")
            print(f"Playground {stack.playground_url}  <- open this; you are Alex Wilber, an admin (ADMIN_USER_IDS={stack.admin_aad_id})")
            print("Ctrl+C stops both.")
            try:
                while all(process.popen.poll() is None for process in stack.processes):
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass
            return 0
    except StackError as error:
        print(f"stack.py: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
