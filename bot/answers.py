"""Answers to the core commands (/status, /timeline, /help): view building, then a card."""

from __future__ import annotations

from typing import Any

from bot import commands
from bot.actions import ActionResult, card_action
from bot.i18n import t
from bot.services import Services
from bot.timeline import countdown
from bot.turn import Reply, TurnInput
from cards.help import build_command_help_card, build_help_card
from cards.status import REFRESH_VERB, StatusView, build_status_card
from cards.timeline import build_timeline_card


async def status(services: Services, turn: TurnInput) -> Reply:
    """Where we stand against the end-of-December-2026 default-disable, with this tenant's sections."""
    from bot.devices.answers import status_section as device_section
    from bot.tenant.answers import status_sections

    sections = await status_sections(services, turn)
    sections += await device_section(services, turn)
    view = StatusView(services.timeline, countdown(services.timeline, turn.now, turn.tz), sections)
    return Reply.card(build_status_card(view, turn.lang))


@card_action(REFRESH_VERB)
async def refresh_status(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    """The status card's Refresh button: the same card, recounted for today."""
    reply = await status(services, turn)
    return ActionResult(card=reply.cards[0])


async def timeline(services: Services, turn: TurnInput) -> Reply:
    """Every milestone, marked against today in the user's time zone."""
    today_count = countdown(services.timeline, turn.now, turn.tz)
    next_id = today_count.next_milestone.id if today_count.next_milestone else None
    card = build_timeline_card(services.timeline, today_count.today, turn.tz.key, next_id, turn.lang)
    return Reply.card(card)


async def help_(services: Services, turn: TurnInput) -> Reply:
    """All commands, or one command in detail with ``/help <command>``."""
    if turn.args:
        name = turn.args.split()[0]
        command = commands.find(name)
        if command is None:
            return Reply.card(build_help_card(turn.lang, preface=t("help.unknown_command", turn.lang, name=name[:40])))
        return Reply.card(build_command_help_card(command, turn.lang))
    return Reply.card(build_help_card(turn.lang))


def not_understood(turn: TurnInput) -> Reply:
    """Never silence: say we did not understand and show what we can do."""
    shown = turn.text if len(turn.text) <= 60 else turn.text[:57] + "…"
    preface = t("unknown.text", turn.lang, text=shown) if shown else t("unknown.empty", turn.lang)
    return Reply.card(build_help_card(turn.lang, preface=preface))
