"""Every package the code imports is declared and pinned, not borrowed from another package's needs."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
RUNTIME_CODE = ["app.py", "bot", "cards", "manifest"]
TEST_CODE = ["tests", "bench", "tools"]
LOCAL = {"app", "bot", "cards", "bench", "tests", "manifest", "tools"}


def _python_files(roots: list[str]) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        path = PROJECT / root
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return [f for f in files if "node_modules" not in f.parts and ".venv" not in f.parts]


def _imported_modules(files: list[Path]) -> set[str]:
    local = LOCAL | {f.stem for f in files}  # tests import their helpers (m365_fakes, card_checks) by name
    found: set[str] = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in local and m != "__future__"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pins.update(_pinned(path.parent / line[3:].strip()))
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]+\])?==([^\s;]+)", line)
        assert match, f"{path.name}: '{line}' is not pinned with =="
        pins[_normalise(match.group(1))] = match.group(3)
    return pins


def _distributions(modules: set[str]) -> dict[str, set[str]]:
    owners = packages_distributions()
    missing = sorted(m for m in modules if m not in owners)
    assert not missing, f"imported but not installed: {missing}"
    return {module: {_normalise(d) for d in owners[module]} for module in modules}


def _undeclared(code: list[str], requirements: str) -> dict[str, list[str]]:
    pins = _pinned(PROJECT / requirements)
    return {
        module: sorted(dists)
        for module, dists in _distributions(_imported_modules(_python_files(code))).items()
        if not dists & pins.keys()
    }


def test_runtime_imports_are_declared_in_requirements_txt():
    undeclared = _undeclared(RUNTIME_CODE, "requirements.txt")
    assert not undeclared, f"imported by the bot but not in requirements.txt: {undeclared}"


def test_test_imports_are_declared_in_requirements_dev_txt():
    undeclared = _undeclared(TEST_CODE, "requirements-dev.txt")
    assert not undeclared, f"imported by tests or tools but not in requirements-dev.txt: {undeclared}"


def test_pins_are_the_installed_versions():
    from importlib.metadata import PackageNotFoundError, version

    wrong = {}
    for name, pinned in _pinned(PROJECT / "requirements-dev.txt").items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong[name] = (pinned, installed)
    assert not wrong, f"pinned vs installed: {wrong}"


def test_the_drivers_sqlalchemy_loads_by_url_are_declared():
    """aiosqlite and asyncpg are never imported by name in bot/, SQLAlchemy loads them from the URL."""
    pins = _pinned(PROJECT / "requirements.txt")
    assert {"aiosqlite", "asyncpg", "sqlalchemy", "tzdata"} <= pins.keys()
