"""Device-readiness settings and which inventory (tenant) the bot keeps.

Settings come from ``Settings.env`` like the alert settings, so this feature adds settings without
touching the core settings module; a bad value raises ``SettingsError`` naming it and the bot stops
at start. The inventory belongs to the Microsoft 365 tenant the bot reads (``GRAPH_TENANT_ID``), or
to the built-in demo tenant: the chat, the command line and the alert jobs all use the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from bot.settings import Settings, int_from_env


@dataclass(frozen=True)
class DeviceSettings:
    scan_days: int = 30  # the first discovery reads this far back (Entra keeps 30 days with P1/P2)
    gone_days: int = 14  # a sender silent this long is flagged "gone"
    max_upload_mb: int = 20  # the largest EAC report the chat accepts


_int = int_from_env


def parse_device_settings(env: Mapping[str, str]) -> DeviceSettings:
    return DeviceSettings(
        scan_days=_int(env, "DEVICES_SCAN_DAYS", 30, 1, 30),
        gone_days=_int(env, "DEVICES_GONE_DAYS", 14, 1, 365),
        max_upload_mb=_int(env, "DEVICES_MAX_UPLOAD_MB", 20, 1, 50),
    )


def device_settings(settings: Settings) -> DeviceSettings:
    return parse_device_settings(settings.env)


def inventory_tenant(settings: Settings) -> str:
    """The tenant whose devices the inventory lists: the Graph tenant, or the demo tenant."""
    if settings.m365 is not None:
        return settings.m365.tenant_id.strip().lower()
    from bot.tenant.source import demo_tenant_id

    return demo_tenant_id()
