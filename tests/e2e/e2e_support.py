"""Shared by the e2e tests: tools/e2e/stack.py loaded as a module, and the skip rule.

The e2e tests need Node 20+, Debian's /usr/bin/chromium and ``npm ci`` in tools/e2e; without them
they are skipped with the reason, so ``python -m pytest`` passes on a machine without Node. CI sets
``REQUIRE_E2E=1``, which turns that skip into a failure: the suite must not silently stop running.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_stack() -> ModuleType:
    """tools/e2e/stack.py (not a package: it also runs as a script, with nothing but the stdlib)."""
    path = ROOT / "tools" / "e2e" / "stack.py"
    spec = importlib.util.spec_from_file_location("e2e_stack", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["e2e_stack"] = module
    spec.loader.exec_module(module)
    return module


stack = sys.modules.get("e2e_stack") or _load_stack()


def skip_or_fail_without_prerequisites() -> None:
    """Skip (or, with REQUIRE_E2E=1, fail) when the Playground cannot run here."""
    problem = stack.missing_prerequisite()
    if problem is None:
        return
    if os.environ.get("REQUIRE_E2E") == "1":
        pytest.fail(f"REQUIRE_E2E=1 but the Agents Playground e2e suite cannot run: {problem}", pytrace=False)
    pytest.skip(f"Agents Playground e2e suite not runnable: {problem}")
