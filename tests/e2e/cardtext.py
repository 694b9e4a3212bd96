"""The text a person sees on a rendered Adaptive Card, predicted from the card's JSON.

``visible_lines(card)`` walks what the bot built (TextBlock, RichTextBlock, FactSet, Table, input
labels, button titles, a Teams chart's fallback) and returns each line as it reads once rendered:
markdown list markers, bold markers, code backticks and link targets gone, spaces collapsed.
``missing_lines(card, rendered)`` lists the lines that are not in the rendered text, so a test can
say "every line the bot built is on the screen" without knowing the card's layout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _markdown_lines(text: str) -> Iterator[str]:
    for raw in text.splitlines():
        line = _LIST_MARKER.sub("", raw)
        line = _LINK.sub(r"\1", line).replace("**", "").replace("`", "")
        line = clean(line)
        if line:
            yield line


def _walk(element: Any) -> Iterator[str]:
    if isinstance(element, list):
        for item in element:
            yield from _walk(item)
        return
    if not isinstance(element, dict) or element.get("isVisible") is False:
        return
    kind = element.get("type", "")
    if kind.startswith("Chart."):
        # Teams charts are not rendered by the Playground or the JS renderer: the fallback is shown.
        yield from _walk(element.get("fallback"))
        return
    if kind == "TextBlock":
        yield from _markdown_lines(str(element.get("text", "")))
    elif kind == "RichTextBlock":
        yield from (clean(str(run.get("text", ""))) for run in element.get("inlines", []) if isinstance(run, dict))
    elif kind == "FactSet":
        for fact in element.get("facts", []):
            yield from _markdown_lines(str(fact.get("title", "")))
            yield from _markdown_lines(str(fact.get("value", "")))
    elif kind.startswith("Input.") and element.get("label"):
        yield clean(str(element["label"]))
    elif kind.startswith("Action.") and element.get("title"):
        yield clean(str(element["title"]))
    for key in ("body", "items", "columns", "rows", "cells", "actions"):
        if key in element:
            yield from _walk(element[key])
    # Action.ShowCard content is hidden until pressed; Action.ToggleVisibility targets are hidden.


def visible_lines(card: dict[str, Any]) -> list[str]:
    return [line for line in _walk(card) if line]


def missing_lines(card: dict[str, Any], rendered: str) -> list[str]:
    shown = clean(rendered)
    return [line for line in visible_lines(card) if line not in shown]
