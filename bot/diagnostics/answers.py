"""Chat answers of the diagnostics feature: /explain, /check, /paths, and free text that no command matched.

``understand`` is where the dispatcher sends text that is not a command: a pasted SMTP reply is
explained at once; a plain question (English or Japanese) is answered by the command it maps to,
or, when the mapping is unsure, by a card offering the two likeliest commands; anything else gets
the usual "I didn't understand" with the help card. Bad input (binary junk, an over-long paste, an
address that isn't one, a user that doesn't exist) gets one clear sentence in the user's language.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from bot import answers, commands
from bot.actions import ActionResult, card_action
from bot.diagnostics.check import evaluate
from bot.diagnostics.gather import gather
from bot.diagnostics.intake import (
    MAX_QUESTION_CHARS,
    MAX_TEXT_CHARS,
    find_addresses,
    parse_address,
    shorten,
    text_problem,
)
from bot.diagnostics.questions import interpret
from bot.diagnostics.smtp_replies import Localized, default_table, looks_like_smtp_reply
from bot.diagnostics.smtp_replies import explain as explain_text
from bot.i18n import localized, t
from bot.services import Services
from bot.tenant.source import _demo_file
from bot.turn import Reply, TurnInput
from cards.diagnostics import (
    RECHECK_VERB,
    CheckView,
    Choice,
    ExplainView,
    PathRow,
    PathsView,
    build_check_card,
    build_explain_card,
    build_paths_card,
    build_question_choice_card,
)
from cards.help import build_command_help_card

log = logging.getLogger(__name__)

Runner = Callable[[Services, TurnInput, commands.Routed], Awaitable[Reply]]


def input_problem_reply(text: str, lang: str) -> Reply | None:
    """One sentence for text that can't be read at all (binary, too long), else None."""
    problem = text_problem(text)
    if problem == "binary":
        return Reply(text=t("diag.input.binary", lang))
    if problem == "too_long":
        return Reply(text=t("diag.input.too_long", lang, count=f"{len(text):,}", limit=f"{MAX_TEXT_CHARS:,}"))
    return None


# --- /explain and pasted replies ----------------------------------------------------------------


def explain_reply(text: str, lang: str, *, automatic: bool = False) -> Reply:
    table = default_table()
    explanation = explain_text(text, table)
    senders = find_addresses(text, limit=1)
    known = tuple(dict.fromkeys(entry.code for entry in table.entries)) if not explanation.items else ()
    view = ExplainView(explanation, automatic=automatic, sender=senders[0].text if senders else None, known_codes=known)
    return Reply.card(build_explain_card(view, lang))


async def explain(services: Services, turn: TurnInput) -> Reply:
    """``/explain <reply>``: every Exchange Online reply in the text, or an honest "not in my table"."""
    if not turn.args.strip():
        command = commands.find("explain")
        assert command is not None
        return Reply.card(build_command_help_card(command, turn.lang), text=t("diag.explain.usage", turn.lang))
    return input_problem_reply(turn.args, turn.lang) or explain_reply(turn.args, turn.lang)


# --- /check ---------------------------------------------------------------------------------------


def _demo_senders() -> str:
    return ", ".join(str(user["userPrincipalName"]) for user in _demo_file("check.json")["users"])


async def check_address(services: Services, turn: TurnInput, address: str, note: str | None = None) -> Reply:
    """The check card for one sender, or why there is none."""
    tenant = services.tenant
    gathered = await gather(tenant, services.db.engine, services.settings, address, turn.now)
    if gathered is None:
        lines = [t("diag.check.user_missing", turn.lang, address=address)]
        if tenant.demo:
            lines.append(t("diag.check.demo_users", turn.lang, list=_demo_senders()))
        return Reply(text="\n\n".join(lines))
    report = evaluate(gathered.facts)
    log.info("check: now %s, after %s, oauth %s", report.now.outcome, report.after.outcome, report.oauth.outcome)
    return Reply.card(build_check_card(CheckView(report, gathered.org, turn.tz, note), turn.lang))


async def check(services: Services, turn: TurnInput) -> Reply:
    """``/check <address>``: why this sender would succeed or fail with SMTP AUTH, now and after December 2026."""
    raw = turn.args.strip()
    if not raw:
        return Reply(text=t("diag.check.no_address", turn.lang))
    problem = input_problem_reply(raw, turn.lang)
    if problem is not None:
        return problem
    addresses = find_addresses(raw)
    if not addresses:
        return Reply(text=t("diag.check.bad_address", turn.lang, text=shorten(raw, 60)))
    note = t("diag.check.several", turn.lang, address=addresses[0].text) if len(addresses) > 1 else None
    return await check_address(services, turn, addresses[0].text, note)


@card_action(RECHECK_VERB, admin_only=True)
async def recheck(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    """The check card's "Check again" button: the same sender, read afresh, replacing the card."""
    address = parse_address(str(data.get("upn") or ""))
    if address is None:
        return ActionResult(message=t("diag.check.no_address", turn.lang), status=400)
    reply = await check_address(services, turn, address.text)
    return ActionResult(card=reply.cards[0]) if reply.cards else ActionResult(message=reply.text)


# --- /paths ---------------------------------------------------------------------------------------

# Each scenario is a device that can't do OAuth; the path comes from the migration classifier, so
# this card and the inventory's recommendations can never disagree.
PATH_SCENARIOS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("internal_no_auth", {"recipient_scope": "internal", "can_authenticate": False}),
    ("internal", {"recipient_scope": "internal"}),
    ("static_ip", {"recipient_scope": "external", "has_static_ip": True}),
    ("hybrid", {"recipient_scope": "external", "has_static_ip": False, "hybrid_onprem": True}),
    ("third_party", {"recipient_scope": "external", "has_static_ip": False}),
)


def _pair(raw: dict[str, str]) -> Localized:
    return Localized(raw["en"], raw["ja"])


def paths_view(devices_command: bool) -> PathsView:
    from bot.devices.migration import ACS_NOTE, PATH_LABELS, DeviceFacts, DeviceKind, recommend

    rows = []
    for scenario, facts in PATH_SCENARIOS:
        recommendation = recommend(DeviceFacts(kind=DeviceKind.PRINTER_MFP, supports_oauth=False, **facts))
        rows.append(PathRow(scenario, _pair(PATH_LABELS[recommendation.path]), _pair(recommendation.reason)))
    return PathsView(rows, notes=(_pair(ACS_NOTE),), devices_command=devices_command)


async def paths(services: Services, turn: TurnInput) -> Reply:
    """``/paths``: where a printer or app that can't do OAuth can send from instead."""
    return Reply.card(build_paths_card(paths_view(commands.find("devices") is not None), turn.lang))


# --- free text ------------------------------------------------------------------------------------


async def understand(services: Services, turn: TurnInput, run: Runner, available: Collection[str]) -> Reply:
    """Text no command matched: explain a pasted reply, answer a plain question, or admit not knowing."""
    text = turn.text
    if not text.strip() or text.startswith(("/", "／")):
        return answers.not_understood(turn)
    problem = input_problem_reply(text, turn.lang)
    if problem is not None:
        return problem
    if looks_like_smtp_reply(text):
        reply = explain_reply(text, turn.lang, automatic=True)
        log.info("free text: explained as an SMTP reply")
        return reply
    reading = interpret(text, available=available)
    if reading.kind == "answer" and reading.best is not None:
        best = reading.best
        command = commands.find(best.command)
        if command is not None:
            log.info("free text: answered as /%s", command.name)
            reply = await run(services, turn, commands.Routed(command, best.args))
            note = t("diag.q.read_as", turn.lang, text=shorten(text), command=best.line)
            return Reply(text=f"{note}\n\n{reply.text}" if reply.text else note, cards=reply.cards)
    if reading.kind == "offer":
        choices = []
        for candidate in reading.candidates:
            command = commands.find(candidate.command)
            if command is not None:
                choices.append(Choice(candidate.line, localized(command.summary, turn.lang)))
        if choices:
            log.info("free text: offered %d commands", len(choices))
            return Reply.card(build_question_choice_card(shorten(text), choices, turn.lang))
    if len(text) > MAX_QUESTION_CHARS:
        return Reply(text=t("diag.input.long_no_reply", turn.lang))
    return answers.not_understood(turn)

