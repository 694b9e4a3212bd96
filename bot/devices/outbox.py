"""How device features talk to a conversation outside the turn that asked: the ``Outbox`` seam.

A sign-in scan outlives the 15 seconds Teams gives a turn, so it posts one progress card and keeps
updating that same message; an export is offered as a file, which Teams only allows through its
file consent card. Both need the Bot Framework, which lives in ``bot.teams``; this Protocol is
what the plain code here sees (``bot.teams.outbox.TeamsOutbox`` is the real one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

from bot.turn import ConversationKey


@dataclass(frozen=True)
class FileOffer:
    """A file the bot wants to hand to the user; ``context`` comes back when they accept."""

    name: str
    description: str
    size: int
    context: Mapping[str, Any] = field(default_factory=dict)


class Outbox(Protocol):
    async def post(self, conversation: ConversationKey, card: Mapping[str, Any]) -> str | None:
        """Post a new message with ``card``; the message id (to update it later), when known."""
        ...

    async def update(self, conversation: ConversationKey, activity_id: str, card: Mapping[str, Any]) -> None:
        """Replace the card of a message posted earlier."""
        ...

    async def offer_file(self, conversation: ConversationKey, offer: FileOffer) -> None:
        """Ask the user for consent to upload a file (personal chats only)."""
        ...
