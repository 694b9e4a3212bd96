"""The Dockerfile and compose.yaml: their structure, and their steps run for real without Docker.

No container engine or image registry is reachable here, so the Dockerfile's own instructions are
read and carried out in a scratch folder: its ENV (with /app, /opt and /data moved under the
folder), its COPY lines, the RUN that calls deploy/container.sh, then its CMD; its HEALTHCHECK
command must then pass and /healthz answer. The commands come from the Dockerfile and the script,
so what CI proves is what the image does. Deviations: pip keeps its cache (PIP_NO_CACHE_DIR is not
passed on) and the user-creation RUN is not run (it needs root and changes the machine).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.settings import load_settings

PROJECT = Path(__file__).resolve().parent.parent
DOCKERFILE = PROJECT / "Dockerfile"
ROOTS = ("/app", "/opt/venv", "/data")
SYSTEM_SETUP = re.compile(r"^(groupadd|useradd|mkdir|chown)\b")
HANG_GUARD = 600  # seconds: pip may download; this only stops a hang, it is not a speed budget


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def env_of(rest: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(rest))


def exec_form(rest: str) -> list[str]:
    return list(json.loads(rest[rest.index("[") :]))


# --- structure ------------------------------------------------------------------------------------


def test_dockerfile_structure():
    steps = instructions()
    kinds = [kind for kind, _ in steps]
    base = dict(steps)["FROM"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base), "pinned slim Python 3.11"
    assert kinds.count("FROM") == 1
    user = [rest for kind, rest in steps if kind == "USER"]
    assert user and user[-1] not in ("root", "0"), "the bot runs as a non-root user"
    assert kinds.index("USER") < kinds.index("CMD")
    env = {k: v for kind, rest in steps if kind == "ENV" for k, v in env_of(rest).items()}
    assert env["PORT"] == "3978" and env["HOST"] == "0.0.0.0"
    assert env["DATABASE_URL"].startswith("sqlite+aiosqlite:////data/")
    assert [rest for kind, rest in steps if kind == "EXPOSE"] == [env["PORT"]]
    assert json.loads(dict(steps)["VOLUME"]) == ["/data"]
    health = dict(steps)["HEALTHCHECK"]
    assert exec_form(health)[-1] == "healthcheck" and "--interval=" in health
    assert exec_form(dict(steps)["CMD"]) == ["/app/deploy/container.sh", "start"]
    runs = [rest for kind, rest in steps if kind == "RUN"]
    assert [r for r in runs if "container.sh install" in r] == ["/app/deploy/container.sh install"]
    for run in runs:
        if "container.sh" not in run:
            assert all(SYSTEM_SETUP.match(part.strip()) for part in run.split("&&")), run
    copied = {shlex.split(rest)[0] for kind, rest in steps if kind == "COPY"}
    assert "tests" not in copied and ".env" not in copied
    # the healthcheck path is the one the app serves
    assert "/healthz" in (PROJECT / "deploy" / "container.sh").read_text()


def test_the_build_context_leaves_secrets_and_local_state_out():
    ignored = (PROJECT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".env", ".venv", ".git", "data", "tests"):
        assert entry in ignored, entry


def test_compose_runs_the_bot_on_postgresql(tmp_path):
    compose = yaml.safe_load((PROJECT / "compose.yaml").read_text(encoding="utf-8"))
    db, bot = compose["services"]["db"], compose["services"]["bot"]
    assert re.fullmatch(r"postgres:\d+\.\d+(-[a-z]+)?", db["image"]), "a pinned PostgreSQL image"
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?"), "no password in the file"
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert bot["build"] == "." and bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["ports"] == ["3978:3978"]
    url = bot["environment"]["DATABASE_URL"]
    assert "${POSTGRES_PASSWORD}" in url and "@db:5432/" in url
    # The URL as compose fills it in is one the bot accepts (libpq sslmode and all).
    filled = url.replace("${POSTGRES_PASSWORD}", "abc123")
    settings = load_settings({"DATABASE_URL": filled}, dotenv=tmp_path / "none.env")
    assert settings.database_url == "postgresql+asyncpg://smtpbot:abc123@db:5432/smtpbot?ssl=disable"


# --- the steps, for real -------------------------------------------------------------------------


def remap(value: str, scratch: Path) -> str:
    for root in ROOTS:
        value = re.sub(rf"(?:^|(?<=///)){re.escape(root)}(?=/|$)", str(scratch) + root, value)
    return value


class Image:
    """The Dockerfile's file system and environment, laid out under ``scratch``."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.env: dict[str, str] = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root")}
        for name in ("SSL_CERT_FILE", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"):
            if name in os.environ:
                self.env[name] = os.environ[name]
        self.workdir = scratch
        self.cmd: list[str] = []
        self.healthcheck: list[str] = []

    async def build(self) -> None:
        for kind, rest in instructions():
            if kind == "ENV":
                self.env.update({k: remap(v, self.scratch) for k, v in env_of(rest).items() if k != "PIP_NO_CACHE_DIR"})
            elif kind == "WORKDIR":
                self.workdir = Path(remap(rest, self.scratch))
                self.workdir.mkdir(parents=True, exist_ok=True)
            elif kind == "COPY":
                source, target = shlex.split(rest)
                destination = Path(remap(target, self.scratch))
                destination.parent.mkdir(parents=True, exist_ok=True)
                if (PROJECT / source).is_dir():
                    shutil.copytree(PROJECT / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(PROJECT / source, destination)
            elif kind == "RUN" and "container.sh" in rest:
                await self.run(shlex.split(remap(rest, self.scratch)))
            elif kind == "CMD":
                self.cmd = [remap(part, self.scratch) for part in exec_form(rest)]
            elif kind == "HEALTHCHECK":
                self.healthcheck = [remap(part, self.scratch) for part in exec_form(rest)]
        (self.scratch / "data").mkdir(exist_ok=True)  # the VOLUME

    async def run(self, command: list[str], **env: str) -> str:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=self.workdir, env={**self.env, **env},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), HANG_GUARD)
        assert process.returncode == 0, out.decode()[-3000:]
        return out.decode()


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    # Installing the image's requirements into a scratch venv takes about half a minute and needs PyPI
    # (or pip's cache): CI sets CONTAINER_STEPS=1 (.ci/run); on a developer's machine it is opt-in.
    if not os.environ.get("CONTAINER_STEPS"):
        pytest.skip("the Dockerfile's steps run with CONTAINER_STEPS=1 (CI sets it): they install from PyPI")
    scratch = tmp_path_factory.mktemp("image")
    built = Image(scratch)
    asyncio.run(built.build())
    return built


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_and_probe(image: Image, **env: str) -> dict:
    port = str(free_port())
    process = await asyncio.create_subprocess_exec(
        *image.cmd, cwd=image.workdir, env={**image.env, "PORT": port, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        while True:
            raw = await asyncio.wait_for(process.stderr.readline(), HANG_GUARD)
            assert raw, "the bot exited: " + "\n".join(lines)
            lines.append(raw.decode().rstrip())
            if "listening on http://" in lines[-1]:
                break
        await image.run(image.healthcheck, PORT=port)  # the HEALTHCHECK passes
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
                return await response.json()
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), HANG_GUARD)


def test_the_dockerfile_steps_install_and_start_the_bot_on_sqlite(image):
    assert (image.scratch / "opt" / "venv" / "bin" / "python").exists(), "installed where VENV says"
    assert not (image.scratch / "app" / "tests").exists()
    health = asyncio.run(start_and_probe(image))
    assert health["storage"] == {"ok": True, "dialect": "sqlite", "schema_version": health["storage"]["schema_version"]}
    assert (image.scratch / "data" / "smtp-auth-readiness.db").is_file(), "the data is on the volume"


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set")
def test_the_same_image_runs_on_postgresql_with_a_libpq_url(image):
    import importlib.util

    from sqlalchemy.engine import make_url

    # tests/conftest.py by path: under the whole suite, "conftest" may name tests/e2e/conftest.py.
    spec = importlib.util.spec_from_file_location("root_conftest", PROJECT / "tests" / "conftest.py")
    assert spec is not None and spec.loader is not None
    root_conftest = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("root_conftest", root_conftest)  # dataclasses look their module up there
    spec.loader.exec_module(root_conftest)
    _create_pg_database = root_conftest._create_pg_database

    async def go() -> dict:
        url, drop = await _create_pg_database(os.environ["TEST_DATABASE_URL"])
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            return await start_and_probe(image, DATABASE_URL=libpq + "?sslmode=disable")
        finally:
            await drop()

    health = asyncio.run(go())
    assert health["storage"]["ok"] and health["storage"]["dialect"] == "postgresql"


def test_the_install_used_the_pinned_requirements(image):
    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    frozen = asyncio.run(image.run([str(image.scratch / "opt" / "venv" / "bin" / "pip"), "freeze"]))
    installed = {norm(line.split("==")[0]): line.split("==")[1] for line in frozen.splitlines() if "==" in line}
    for line in (PROJECT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = re.sub(r"\[.*\]", "", line).split("==")
            assert installed.get(norm(name)) == version, name
