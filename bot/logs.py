"""Logging set-up shared by the server and the operator commands: level, format, what stays quiet.

``LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR; default INFO) and ``LOG_FORMAT`` (``text``, or ``json``
for one JSON object per line, which log collectors such as Azure Monitor read without parsing
rules) come from the same environment and ``.env`` as every other setting. JSON lines carry the
activity id and tenant of the turn being handled (``bot.context``), so one conversation's lines can
be found again.

Quiet at every level: libraries that can log request headers, and so tokens, at DEBUG. Quiet unless
LOG_LEVEL=DEBUG: APScheduler, which otherwise writes two lines every 20 seconds, and aiohttp's access
lines for the health and metrics probes that orchestrators call every few seconds.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from aiohttp.web_log import AccessLogger

from bot.context import current_turn
from bot.settings import SettingsError

# These libraries can log request details (headers with tokens) at DEBUG; keep them quiet.
QUIET_LOGGERS = ("msrest", "msal", "urllib3", "botframework", "azure")
# Routine chatter: shown only when LOG_LEVEL=DEBUG.
CHATTY_LOGGERS = ("apscheduler",)
PROBE_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})
LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass(frozen=True)
class LogSettings:
    level: int = logging.INFO
    format: str = "text"


def log_settings(env: Mapping[str, str], default_level: int = logging.INFO) -> LogSettings:
    """LOG_LEVEL and LOG_FORMAT from the settings' environment; a bad value names the setting."""
    raw_level = (env.get("LOG_LEVEL") or "").strip().upper()
    if raw_level == "WARN":
        raw_level = "WARNING"
    if raw_level and raw_level not in LEVELS:
        raise SettingsError("LOG_LEVEL", f"'{raw_level}' must be one of {', '.join(LEVELS)}")
    raw_format = (env.get("LOG_FORMAT") or "text").strip().lower()
    if raw_format not in FORMATS:
        raise SettingsError("LOG_FORMAT", f"'{raw_format}' must be text or json")
    return LogSettings(LEVELS[raw_level] if raw_level else default_level, raw_format)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the turn, any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        turn = current_turn()
        if turn is not None and turn.activity_id:
            entry["activity_id"] = turn.activity_id
        if turn is not None and turn.tenant:
            entry["tenant"] = turn.tenant
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: LogSettings | None = None) -> None:
    """Replace the root handler: one stream (stderr), the chosen format and level."""
    settings = settings or LogSettings()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=settings.level, handlers=[handler], force=True)
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, settings.level))
    for chatty in CHATTY_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.DEBUG if settings.level <= logging.DEBUG else logging.WARNING)


class ProbeQuietAccessLogger(AccessLogger):
    """aiohttp's access log without the health and metrics probes (unless at DEBUG)."""

    def log(self, request, response, time):  # type: ignore[no-untyped-def]
        if request.path in PROBE_PATHS and not self.logger.isEnabledFor(logging.DEBUG):
            return
        super().log(request, response, time)
