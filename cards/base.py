"""Small builders for the card elements every card uses, so all cards look and behave alike."""

from __future__ import annotations

import re
from typing import Any

from bot.i18n import t

Element = dict[str, Any]
CARD_VERSION = "1.5"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"


def card(body: list[Element], actions: list[Element] | None = None, *, lang: str = "en") -> Element:
    """A 1.5 card in ``lang`` (the language of its text; the parameter documents the call site).

    Deliberately without the card's ``lang`` property: the Adaptive Cards JS renderer (3.0.6)
    validates it with a stateful global regex, so every second card with ``lang`` is reported
    invalid. And no ``msteams`` width hint: the official schema forbids extra card properties.
    """
    result: Element = {
        "$schema": SCHEMA_URL,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": [element for element in body if element],
    }
    if actions:
        result["actions"] = actions
    return result


# Teams' light theme draws Warning (yellow) and Good (light green) text too pale to read on white,
# so text never uses them: warnings read in Attention red, good news in the default colour.
_READABLE_COLOR = {"Warning": "Attention", "Good": None}
_TAG_LIKE = re.compile(r"<([^<>\n]*)>")


def text(value: str, **style: Any) -> Element:
    """A TextBlock that always wraps (a phone must never cut a sentence off), in a readable colour.

    ``<placeholder>`` becomes ``‹placeholder›`` because Teams takes it for an HTML tag and drops it.
    """
    if style.get("color") in _READABLE_COLOR:
        color = _READABLE_COLOR[style.pop("color")]
        if color:
            style["color"] = color
    value = _TAG_LIKE.sub(r"‹\1›", value)
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def heading(value: str) -> Element:
    return text(value, size="Large", weight="Bolder", style="heading")


def subheading(value: str) -> Element:
    return text(value, weight="Bolder", spacing="Medium", separator=True)


def small(value: str, **style: Any) -> Element:
    return text(value, size="Small", isSubtle=True, **style)


def bullets(items: list[str]) -> Element:
    """A list as one markdown block; Teams renders "- " lists on desktop and mobile."""
    return text("\n".join(f"- {item}" for item in items))


def facts(pairs: list[tuple[str, str]]) -> Element:
    return {"type": "FactSet", "facts": [{"title": key, "value": value} for key, value in pairs]}


def container(items: list[Element], **style: Any) -> Element:
    return {"type": "Container", "items": [item for item in items if item], **style}


def two_columns(left: list[Element], right: list[Element]) -> Element:
    """A narrow label column and a wide content column: the widest layout we allow on phones."""
    return {
        "type": "ColumnSet",
        "columns": [
            {"type": "Column", "width": "auto", "items": left},
            {"type": "Column", "width": "stretch", "items": right},
        ],
    }


def command_action(title: str, command: str) -> Element:
    """A button that runs ``command``: the bot reads ``data.command`` from the submitted value.

    Plain data rather than Teams' ``imBack``: the Agents Playground fails on any ``msteams`` data,
    and the bot answers both the same way.
    """
    return {"type": "Action.Submit", "title": title, "data": {"command": command}}


def execute_action(title: str, verb: str, data: dict[str, Any] | None = None, **extra: Any) -> Element:
    """A Universal Action button: the bot answers with a card that replaces this one in place."""
    action: Element = {"type": "Action.Execute", "title": title, "verb": verb, **extra}
    if data:
        action["data"] = data
    return action


def open_url(title: str, url: str) -> Element:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def help_action(lang: str) -> Element:
    return command_action(t("action.help", lang), "/help")
