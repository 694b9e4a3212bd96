"""From cleaned chat text to a reply: the routing table meets its handlers here."""

from __future__ import annotations

from dataclasses import replace
from typing import Awaitable, Callable

from bot import answers, commands
from bot.services import Services
from bot.turn import Reply, TurnInput

Handler = Callable[[Services, TurnInput], Awaitable[Reply]]

HANDLERS: dict[str, Handler] = {
    "status": answers.status,
    "timeline": answers.timeline,
    "help": answers.help_,
}

_missing = {command.name for command in commands.COMMANDS} - HANDLERS.keys()
if _missing:
    raise RuntimeError(f"commands without a handler: {sorted(_missing)}")


async def answer(services: Services, turn: TurnInput) -> Reply:
    routed = commands.route(turn.text)
    if routed is None:
        return answers.not_understood(turn)
    return await HANDLERS[routed.command.name](services, replace(turn, args=routed.args))
