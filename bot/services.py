"""What handlers and jobs work with: settings, storage, knowledge and the clock, built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.clock import Clock, system_clock
from bot.settings import Settings
from bot.storage.conversations import ConversationStore
from bot.storage.db import Database
from bot.tenant.service import TenantData
from bot.timeline import Timeline

@dataclass
class Services:
    settings: Settings
    db: Database
    conversations: ConversationStore
    timeline: Timeline
    tenant: TenantData
    clock: Clock = system_clock
    devices: Any = None  # bot.devices.runtime.DevicesRuntime, set when the app starts (scans, outbox)
