"""What every operator command (``python -m bot alerts|devices ...``) does before its own work.

Arguments parsed (argparse's own exit code on ``--help`` or a bad argument) and settings loaded,
the feature's settings included, so a bad value is one ``configuration error: ...`` line and exit
code 2, as it is for the server.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.clock import Clock, clock_from, parse_moment
from bot.logs import LogSettings, configure_logging, log_settings
from bot.settings import Settings, SettingsError, load_settings


def begin(
    parser: argparse.ArgumentParser,
    argv: Sequence[str],
    feature_settings: Callable[[Settings], object],
    *,
    log_level: int = logging.INFO,
) -> tuple[argparse.Namespace, Settings] | int:
    """The parsed arguments and settings, or the exit code to stop with."""
    configure_logging(LogSettings(log_level))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        settings = load_settings()
        feature_settings(settings)
        configure_logging(log_settings(settings.env, default_level=log_level))
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    return args, settings


def parse_at(raw: str) -> datetime:
    """``--at``: an ISO 8601 moment with its offset, as argparse wants its type errors."""
    try:
        return parse_moment(raw)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_at_option(parser: argparse.ArgumentParser) -> None:
    """``--at``: run as if it were that moment (rehearsals); the CLOCK_AT setting is the default."""
    parser.add_argument(
        "--at", type=parse_at, help="act as if it were this moment (ISO 8601 with offset); default CLOCK_AT, else now"
    )


def command_clock(args: argparse.Namespace, settings: Settings) -> Clock:
    """The clock for one command: ``--at``, else the CLOCK_AT setting, else the real time."""
    return clock_from(getattr(args, "at", None) or settings.clock_at)
