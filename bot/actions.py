"""The card-button table: every ``Action.Execute`` verb, who may press it, and its handler.

Buttons on cards send a verb and a small data payload back (``adaptiveCard/action`` invokes); the
answer is a card that replaces the pressed one in place, or a short message. Like commands, verbs
live in one table so a card can only offer what the bot can answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bot.context import note_command, note_outcome
from bot.i18n import t
from bot.turn import TurnInput

ActionHandler = Callable[[Any, TurnInput, dict[str, Any]], Awaitable["ActionResult"]]


@dataclass
class ActionResult:
    """Either a card that replaces the pressed one, or a message shown to the user who pressed."""

    card: dict[str, Any] | None = None
    message: str | None = None
    status: int = 200


@dataclass(frozen=True)
class CardAction:
    verb: str
    handler: ActionHandler
    admin_only: bool = False


ACTIONS: dict[str, CardAction] = {}


def card_action(verb: str, *, admin_only: bool = False) -> Callable[[ActionHandler], ActionHandler]:
    """Register ``handler`` for ``verb``; verbs are unique across the bot."""

    def register(handler: ActionHandler) -> ActionHandler:
        if verb in ACTIONS:
            raise ValueError(f"card verb {verb!r} registered twice")
        ACTIONS[verb] = CardAction(verb, handler, admin_only)
        return handler

    return register


async def run_action(services: Any, turn: TurnInput, verb: str, data: dict[str, Any]) -> ActionResult:
    """Refuse unknown verbs and non-admins before any handler runs."""
    action = ACTIONS.get(verb)
    note_command(f"action:{verb}" if action is not None else "action:unknown")
    if action is None:
        note_outcome("rejected")
        return ActionResult(message=t("action.unknown", turn.lang), status=400)
    if action.admin_only and not turn.is_admin:
        note_outcome("refused")
        return ActionResult(message=t("action.admins_only", turn.lang), status=403)
    return await action.handler(services, turn, data)
