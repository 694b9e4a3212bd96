"""End-to-end tests in the Microsoft 365 Agents Playground: the bot as a Teams-like client shows it.

Select or leave them out with ``-m e2e`` / ``-m "not e2e"``; see e2e_support.py for when they skip.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end in the Agents Playground (Node, Chromium; tools/e2e)")
