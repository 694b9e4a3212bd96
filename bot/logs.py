"""Logging set-up shared by the server and the operator commands."""

from __future__ import annotations

import logging
import sys

# These libraries can log request details (headers with tokens) at DEBUG; keep them quiet.
QUIET_LOGGERS = ("msrest", "msal", "urllib3", "botframework", "azure")


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
