"""Alert settings, read from the same environment (and ``.env``) as the rest of the bot.

They live in ``Settings.env`` so this feature adds settings without touching the core settings
module; a bad value raises ``SettingsError`` naming it, and the bot stops at start with exit code 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time

from bot.alerts.subscriptions import normalise_time
from bot.settings import Settings, SettingsError, int_from_env


@dataclass(frozen=True)
class AlertSettings:
    scheduler: bool = True  # run the alert jobs in this process (only the lease holder acts)
    mc_poll_minutes: int = 60
    send_time: str = "09:00"  # default local send time for new subscriptions
    senders_at_utc: time = time(0, 10)  # daily sender discovery (09:10 in Tokyo)
    concurrency: int = 16  # messages being claimed and prepared at once during a fan-out
    in_flight: int = 1  # messages with the connector at once: what a crash could send twice
    send_timeout: float = 15.0  # seconds for one message before it is left for the next run
    startup_delay: float = 30.0  # first catch-up run after start


_int = int_from_env


def _time(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(name) or "").strip() or default
    value = normalise_time(raw)
    if value is None:
        raise SettingsError(name, f"'{raw}' is not a time (HH:MM, 24-hour)")
    return value


def parse_alert_settings(env: Mapping[str, str]) -> AlertSettings:
    flag = (env.get("ALERTS_SCHEDULER") or "on").strip().lower()
    if flag not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
        raise SettingsError("ALERTS_SCHEDULER", f"'{flag}' must be on or off")
    senders = _time(env, "ALERTS_SENDERS_AT_UTC", "00:10")
    hour, minute = senders.split(":")
    return AlertSettings(
        scheduler=flag in ("on", "true", "1", "yes"),
        mc_poll_minutes=_int(env, "MC_POLL_MINUTES", 60, 5, 1440),
        send_time=_time(env, "ALERTS_SEND_TIME", "09:00"),
        senders_at_utc=time(int(hour), int(minute)),
        concurrency=_int(env, "ALERTS_CONCURRENCY", 16, 1, 32),
        in_flight=_int(env, "ALERTS_IN_FLIGHT", 1, 1, 32),
        send_timeout=float(_int(env, "ALERTS_SEND_TIMEOUT_SECONDS", 15, 2, 120)),
    )


def alert_settings(settings: Settings) -> AlertSettings:
    # Not cached: Settings compare equal whatever their env, so a cache could hand back another's.
    return parse_alert_settings(settings.env)
