""".env.example lists every setting the code reads, each with a one-line explanation, and nothing else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.settings import load_settings, read_dotenv

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE = PROJECT / ".env.example"
ENV_NAME = re.compile(r"^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*|Microsoft[A-Za-z]+)$")
# Calls that read a setting by name: env.get / settings' get / os.getenv / the features' helpers.
READERS = {"get", "getenv", "int_from_env", "_int", "_time"}
SETTING_LINE = re.compile(r"^#? ?([A-Za-z][A-Za-z0-9_]*)=")


def _names_read_by_code() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in [PROJECT / "app.py", *sorted((PROJECT / "bot").rglob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                strings = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if name in READERS and strings and ENV_NAME.match(strings[0]):
                    found.setdefault(strings[0], str(path.relative_to(PROJECT)))
            elif isinstance(node, ast.Assign) and node.value is not None:
                # Tables of names read in a loop: ENDPOINT_SETTINGS (botbuilder), _GRAPH_CREDENTIAL_VARS.
                for target in node.targets:
                    if isinstance(target, ast.Name) and re.search(r"_(SETTINGS|VARS)$", target.id):
                        value = node.value
                        items = value.keys if isinstance(value, ast.Dict) else getattr(value, "elts", [])
                        for item in items:
                            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                                found.setdefault(item.value, str(path.relative_to(PROJECT)))
    return found


def _documented() -> dict[str, str]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    documented: dict[str, str] = {}
    for number, line in enumerate(lines):
        match = SETTING_LINE.match(line)
        if not match:
            continue
        above = lines[number - 1] if number else ""
        assert above.startswith("# ") and not SETTING_LINE.match(above), f"{match.group(1)} has no explanation above it"
        documented[match.group(1)] = above[2:]
    return documented


def test_the_scan_finds_settings_of_every_kind():
    """If this fails, the scan below has gone blind and the real test would pass for nothing."""
    found = _names_read_by_code()
    for name in ("PORT", "DATABASE_URL", "MicrosoftAppPassword", "GRAPH_CERTIFICATE_PATH", "ALERTS_IN_FLIGHT",
                 "DEVICES_SCAN_DAYS", "ChannelService", "LOG_FORMAT", "MC_WATCHLIST"):
        assert name in found, name
    assert "UTC" not in found and "Retry-After" not in found


def test_every_setting_the_code_reads_is_in_env_example():
    missing = {name: where for name, where in _names_read_by_code().items() if name not in _documented()}
    assert not missing, f"add these to .env.example with a one-line explanation: {missing}"


def test_env_example_lists_nothing_the_code_does_not_read():
    stale = sorted(_documented().keys() - _names_read_by_code().keys())
    assert not stale, f".env.example lists settings nothing reads: {stale}"


def test_env_example_as_a_dotenv_is_the_defaults(tmp_path):
    """Everything is commented out, so copying it to .env changes nothing until a line is uncommented."""
    assert read_dotenv(EXAMPLE) == {}
    assert load_settings({}, dotenv=EXAMPLE) == load_settings({}, dotenv=tmp_path / "none.env")
