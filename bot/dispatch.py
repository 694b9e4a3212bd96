"""From cleaned chat text to a reply: the routing table meets its handlers here."""

from __future__ import annotations

from dataclasses import replace
from typing import Awaitable, Callable

from bot import answers, commands
from bot.alerts import commands as alert_commands  # also registers the alert card buttons
from bot.devices import answers as device_answers  # also registers the device card buttons
from bot.diagnostics import answers as diagnostics  # also registers the check card's button
from bot.context import note_command, note_outcome
from bot.i18n import t
from bot.tenant import answers as tenant_answers
from bot.services import Services
from bot.turn import Reply, TurnInput

Handler = Callable[[Services, TurnInput], Awaitable[Reply]]

HANDLERS: dict[str, Handler] = {
    "status": answers.status,
    "timeline": answers.timeline,
    "help": answers.help_,
    "mc": tenant_answers.message_center,
    "posture": tenant_answers.posture,
    "subscribe": alert_commands.subscribe,
    "unsubscribe": alert_commands.unsubscribe,
    "alerts": alert_commands.alerts,
    "readiness": device_answers.readiness,
    "devices": device_answers.devices,
    "device": device_answers.device,
    "scan": device_answers.scan,
    "check": diagnostics.check,
    "explain": diagnostics.explain,
    "paths": diagnostics.paths,
}

_missing = {command.name for command in commands.COMMANDS} - HANDLERS.keys()
if _missing:
    raise RuntimeError(f"commands without a handler: {sorted(_missing)}")


async def answer(services: Services, turn: TurnInput) -> Reply:
    routed = commands.route(turn.text)
    if routed is None:
        # Not a command: a pasted SMTP reply or a plain question, else "I didn't understand".
        note_command("text")  # until ``run`` names the command the text was read as
        return await diagnostics.understand(services, turn, run, HANDLERS.keys())
    return await run(services, turn, routed)


async def run(services: Services, turn: TurnInput, routed: commands.Routed) -> Reply:
    """One routed command, refused to non-admins when it is admin-only."""
    note_command(routed.command.name)
    if routed.command.admin_only and not turn.is_admin:
        note_outcome("refused")
        return Reply(text=t("command.admins_only", turn.lang, name=routed.command.name))
    return await HANDLERS[routed.command.name](services, replace(turn, args=routed.args))
