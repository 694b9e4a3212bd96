"""Help cards, generated from the routing table so help and commands cannot drift apart."""

from __future__ import annotations

from bot.commands import COMMANDS, Command
from bot.diagnostics.questions import examples as question_examples
from bot.i18n import localized, t
from cards.base import Element, bullets, card, command_action, container, heading, small, subheading, text


def _command_lines(lang: str) -> list[str]:
    lines = []
    for command in COMMANDS:
        line = f"**{command.usage}**: {localized(command.summary, lang)}"
        if command.admin_only:
            line += f" ({t('help.admin_only', lang)})"
        lines.append(line)
    return lines


def build_help_card(lang: str, *, preface: str | None = None) -> Element:
    """All commands; ``preface`` says why help is shown (an unknown command, say)."""
    body: list[Element] = [
        text(preface, weight="Bolder") if preface else {},
        heading(t("help.title", lang)),
        text(t("help.intro", lang)),
        subheading(t("help.commands", lang)),
        bullets(_command_lines(lang)),
        subheading(t("diag.help.ask", lang)),
        bullets([f"“{question}”" for question in question_examples(lang)]),
        small(t("diag.help.paste", lang)),
        small(t("help.channel_hint", lang, name=t("app.name", lang))),
    ]
    # The three first questions of a new admin; more buttons do not fit a phone's width.
    names = {command.name for command in COMMANDS}
    starters = [name for name in ("status", "readiness", "timeline") if name in names]
    return card(body, [command_action(f"/{name}", f"/{name}") for name in starters], lang=lang)


def build_command_help_card(command: Command, lang: str) -> Element:
    """One command in detail, with examples to copy."""
    body: list[Element] = [
        heading(t("help.command_title", lang, name=command.name)),
        text(localized(command.summary, lang)),
        container(
            [
                subheading(t("help.usage", lang)),
                text(command.usage, fontType="Monospace"),
                subheading(t("help.examples", lang)),
                bullets(list(command.examples)),
                *_question_forms(command, lang),
            ]
        ),
        small(t("help.admin_only", lang)) if command.admin_only else {},
    ]
    return card(body, [command_action(command.examples[0], command.examples[0])] if command.examples else None, lang=lang)


def _question_forms(command: Command, lang: str) -> list[Element]:
    """The plain questions that reach ``command``, so help teaches both ways of asking."""
    asked = question_examples(lang, command.name)
    return [subheading(t("diag.help.also_ask", lang)), bullets([f"“{q}”" for q in asked])] if asked else []


def build_welcome_card(lang: str) -> Element:
    return card(
        [heading(t("welcome.title", lang)), text(t("welcome.text", lang))],
        [command_action("/status", "/status"), command_action("/help", "/help")],
        lang=lang,
    )
