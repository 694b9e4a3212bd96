"""What a handler sees of an incoming message and what it gives back, free of any bot SDK.

The Teams edge translates an activity into a ``TurnInput`` and a ``Reply`` back into activities, so
handlers, cards and rules can be tested (and moved to another SDK) without Bot Framework.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Lang


@dataclass(frozen=True)
class ConversationKey:
    """Which conversation a message came from; channel threads collapse to their channel."""

    tenant_id: str
    conversation_id: str
    conversation_type: str  # personal | groupChat | channel


@dataclass(frozen=True)
class TurnInput:
    text: str
    args: str
    lang: Lang
    tz: ZoneInfo
    now: datetime
    user_id: str | None
    user_aad_id: str | None
    user_name: str | None
    conversation: ConversationKey
    is_admin: bool
    value: dict[str, Any] | None = None


@dataclass
class Reply:
    """Text and/or Adaptive Cards to send, in order."""

    text: str | None = None
    cards: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def card(cls, card: dict[str, Any], text: str | None = None) -> Reply:
        return cls(text=text, cards=[card])
