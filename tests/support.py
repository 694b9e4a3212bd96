"""Small helpers several test modules share (fixtures live in conftest.py, helpers here)."""

from __future__ import annotations

import os

# What a child process inherits from the test run: enough to start Python, and libfaketime's
# variables, so that under ``faketime`` (.ci/run) the operator commands see the same moved clock
# as the tests that start them, instead of quietly running at today's date.
_INHERITED = ("PATH", "HOME", "LD_PRELOAD", "FAKETIME", "FAKETIME_SHARED", "FAKETIME_DONT_RESET", "DONT_FAKE_MONOTONIC")


def subprocess_env(**extra: str) -> dict[str, str]:
    """A clean environment for a child process: no settings of the developer's shell leak in."""
    environment = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    environment.setdefault("HOME", "/tmp")
    return {**environment, **extra}
