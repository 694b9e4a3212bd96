"""The server process as an operator sees it: start-up failures, the listening line, logs, probes.

These run ``app.py`` as a real process (the way a container or App Service starts it) and read its
stderr; the fake Bot Connector receives its replies.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from activities import TENANT, personal_message

PROJECT = Path(__file__).resolve().parent.parent
HANG_GUARD = 90  # seconds: only stops a broken start from hanging the suite; never a speed budget


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "GRAPH_", "LOG_", "ALERTS_"))}
    env.update(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


async def run_to_exit(env: dict[str, str], tmp_path: Path) -> tuple[int, list[str]]:
    (tmp_path / "cwd").mkdir(exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(PROJECT / "app.py"), cwd=tmp_path / "cwd", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), HANG_GUARD)
    lines = [line for line in (out + err).decode().splitlines() if line.strip()]
    return int(process.returncode or 0), lines


def assert_one_line(lines: list[str], *parts: str) -> None:
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    for part in parts:
        assert part in lines[0], (part, lines[0])


async def test_a_port_in_use_is_one_line_naming_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, lines = await run_to_exit(bot_env(tmp_path, PORT=str(port)), tmp_path)
    assert code == 2
    assert_one_line(lines, "cannot start: PORT: ", f"{port} is already in use on 127.0.0.1")
    assert not (tmp_path / "bot.db").exists(), "nothing was started before the port was taken"


async def test_an_unusable_host_names_host(tmp_path):
    code, lines = await run_to_exit(bot_env(tmp_path, HOST="192.0.2.77"), tmp_path)  # TEST-NET: not ours
    assert code == 2
    assert_one_line(lines, "cannot start: HOST: 192.0.2.77 is not an address of this machine")


async def test_a_database_nobody_listens_on_is_one_line_naming_database_url(tmp_path):
    port = free_port()
    url = f"postgresql://bot:s3cret@127.0.0.1:{port}/smtpbot?sslmode=prefer"
    code, lines = await run_to_exit(bot_env(tmp_path, DATABASE_URL=url), tmp_path)
    assert code == 2
    assert_one_line(lines, "cannot start: DATABASE_URL: nothing accepts connections on", f"127.0.0.1:{port}")
    assert "s3cret" not in lines[0]


async def test_a_sqlite_file_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    url = f"sqlite+aiosqlite:///{blocker / 'bot.db'}"
    code, lines = await run_to_exit(bot_env(tmp_path, DATABASE_URL=url), tmp_path)
    assert code == 2
    assert_one_line(lines, "cannot start: DATABASE_URL: cannot create or open the SQLite file", "bot.db")


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set")
@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"database": "smtpbot_missing_db"}, 'database "smtpbot_missing_db" does not exist'),
        ({"username": "smtpbot_no_such_role"}, 'role "smtpbot_no_such_role" does not exist'),
    ],
)
async def test_postgresql_refusals_are_one_line(tmp_path, change, says):
    from sqlalchemy.engine import make_url

    url = make_url(os.environ["TEST_DATABASE_URL"]).set(**change).render_as_string(hide_password=False)
    code, lines = await run_to_exit(bot_env(tmp_path, DATABASE_URL=url), tmp_path)
    assert code == 2
    assert_one_line(lines, "cannot start: DATABASE_URL: ", says)


async def test_bad_log_settings_are_named(tmp_path):
    code, lines = await run_to_exit(bot_env(tmp_path, LOG_FORMAT="xml"), tmp_path)
    assert code == 2
    assert_one_line(lines, "configuration error: LOG_FORMAT: 'xml' must be text or json")


class RunningBot:
    """``app.py`` started as a process; ``lines`` collects its stderr as it comes."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.env['PORT']}"

    async def start(self) -> None:
        self.cwd.mkdir(exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(PROJECT / "app.py"), cwd=self.cwd, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._listening.wait(), HANG_GUARD)

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while line := await self.process.stderr.readline():
            text = line.decode().rstrip("\n")
            self.lines.append(text)
            if "listening on http://" in text:
                self._listening.set()
        self._listening.set()  # exited: let start() return and the test fail on what it printed

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), HANG_GUARD)
        if self._reader is not None:
            await self._reader
        return code


async def test_json_logs_carry_the_turn_and_the_noise_is_gone(tmp_path, connector):
    bot = RunningBot(bot_env(tmp_path, LOG_FORMAT="json", LOG_LEVEL="INFO"), tmp_path / "cwd")
    await bot.start()
    try:
        async with aiohttp.ClientSession() as session:
            for path in ("/livez", "/healthz", "/readyz", "/metrics"):
                async with session.get(bot.base + path) as response:
                    assert response.status == 200, path
            activity = personal_message("/status", connector.url)
            async with session.post(bot.base + "/api/messages", json=activity) as response:
                assert response.status == 200
        assert connector.messages(), "the reply went out within the request"
    finally:
        code = await bot.stop()
    assert code == 0
    records = [json.loads(line) for line in bot.lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    listening = [r for r in records if r["message"].startswith("listening on ")]
    assert [r["message"] for r in listening] == [f"listening on http://127.0.0.1:{bot.env['PORT']}/api/messages"]
    turn = [r for r in records if r.get("activity_id") == activity["id"]]
    assert turn and all(r["tenant"] == TENANT for r in turn), records
    assert not [r for r in records if r["logger"].startswith("apscheduler") and r["level"] == "INFO"]
    assert not [r for r in records if "/healthz" in r["message"] or "/metrics" in r["message"]]
    assert [r for r in records if r["logger"] == "aiohttp.access" and "/api/messages" in r["message"]]


def test_log_levels_keep_token_loggers_quiet_and_apscheduler_for_debug():
    import logging

    from bot.logs import LogSettings, configure_logging, log_settings

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(log_settings({"LOG_LEVEL": "info"}))
        assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("msal").getEffectiveLevel() == logging.WARNING
        configure_logging(LogSettings(logging.DEBUG))
        assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.DEBUG
        assert logging.getLogger("msal").getEffectiveLevel() == logging.WARNING  # headers carry tokens
        assert log_settings({}, default_level=logging.WARNING).level == logging.WARNING
        assert log_settings({"LOG_LEVEL": "warn"}).level == logging.WARNING
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
