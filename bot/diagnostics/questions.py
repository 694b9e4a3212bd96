"""Plain questions in English or Japanese, mapped onto the bot's commands without any AI service.

The knowledge is data (``bot/data/questions.json``): each intent names the command it answers with,
the phrases that point at it and how strongly, and the entities it needs (an address, a reply code,
a Message Center id). Reading a question is deterministic: score every intent, then

* answer with the best one when it is clearly ahead (``answer_at`` and ``margin``),
* offer the two most likely commands as buttons when it is only somewhat likely (``offer_at``),
* otherwise admit not understanding.

English is matched by whole words ("ready" is not found in "already"; ``printer*`` is a declared
prefix), after contractions are expanded ("aren't" → "are not"). Japanese has no spaces, so its
phrases are matched as substrings of the NFKC-normalised text; they are chosen long enough to mean
one thing. Both sets are tried on every message, so text that mixes the languages still scores.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from bot.diagnostics.intake import MAX_QUESTION_CHARS, find_addresses

RULES_PATH = Path(__file__).resolve().parent.parent / "data" / "questions.json"
ENTITIES = ("address", "code", "mc")

_CONTRACTIONS = (
    (re.compile(r"\bcan't\b|\bcannot\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'s\b"), " is"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ll\b"), " will"),
)
_WORD = re.compile(r"[a-z0-9]+(?:[.@-][a-z0-9]+)*")
_CODE = re.compile(r"(?<![\d.])(?:([245]\d\d)[ -])?([245]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)")
_MC = re.compile(r"(?<![A-Za-z0-9])MC\d{4,8}(?![0-9])", re.IGNORECASE)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})

Kind = Literal["answer", "offer", "none"]


class QuestionRulesError(ValueError):
    """``questions.json`` is malformed; ``str()`` names the intent and the problem."""


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    weight: int

    def found_in(self, tokens: tuple[str, ...]) -> bool:
        size = len(self.words)
        return any(
            all(_word_matches(pattern, token) for pattern, token in zip(self.words, tokens[start : start + size]))
            for start in range(len(tokens) - size + 1)
        )


@dataclass(frozen=True)
class Intent:
    id: str
    command: str
    args: str
    needs: frozenset[str]
    unless: frozenset[str]
    english: tuple[Phrase, ...]
    japanese: tuple[tuple[str, int], ...]
    examples: Mapping[str, tuple[str, ...]]
    featured: bool = False


@dataclass(frozen=True)
class QuestionRules:
    intents: tuple[Intent, ...]
    answer_at: int
    margin: int
    offer_at: int
    entity_bonus: int


@dataclass(frozen=True)
class Entities:
    address: str | None = None
    code: str | None = None
    mc: str | None = None

    def get(self, name: str) -> str | None:
        return getattr(self, name)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Candidate:
    intent: str
    command: str
    args: str
    score: int

    @property
    def line(self) -> str:
        """What a user would type: ``/device scanner@contoso.com``."""
        return f"/{self.command} {self.args}".strip()


@dataclass(frozen=True)
class Interpretation:
    kind: Kind
    candidates: tuple[Candidate, ...] = ()

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


# --- loading ------------------------------------------------------------------------------------


def load_rules(path: Path | None = None) -> QuestionRules:
    """Read and validate the question data; a broken file must stop the bot at start, not mid-chat."""
    source = path or RULES_PATH
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise QuestionRulesError(f"{source.name}: not valid JSON ({error})") from error
    return parse_rules(raw, source.name)


@lru_cache(maxsize=1)
def default_rules() -> QuestionRules:
    return load_rules()


def parse_rules(raw: Any, where: str = "questions.json") -> QuestionRules:
    if not isinstance(raw, dict) or not isinstance(raw.get("intents"), list) or not raw["intents"]:
        raise QuestionRulesError(f"{where}: expected an object with a non-empty 'intents' list")
    thresholds = raw.get("thresholds")
    if not isinstance(thresholds, dict):
        raise QuestionRulesError(f"{where}: 'thresholds' must be an object")
    numbers = {}
    for name in ("answer_at", "margin", "offer_at", "entity_bonus"):
        value = thresholds.get(name)
        if not isinstance(value, int) or value < 0:
            raise QuestionRulesError(f"{where}: thresholds.{name} must be a whole number ≥ 0")
        numbers[name] = value
    if numbers["offer_at"] > numbers["answer_at"]:
        raise QuestionRulesError(f"{where}: offer_at must not exceed answer_at")
    intents = []
    seen: set[str] = set()
    for position, item in enumerate(raw["intents"]):
        intent = _parse_intent(item, f"{where}: intent #{position + 1}")
        if intent.id in seen:
            raise QuestionRulesError(f"{where}: intent {intent.id!r} appears twice")
        seen.add(intent.id)
        intents.append(intent)
    return QuestionRules(tuple(intents), **numbers)


def _parse_intent(raw: Any, where: str) -> Intent:
    if not isinstance(raw, dict):
        raise QuestionRulesError(f"{where}: must be an object")
    intent_id, command, args = raw.get("id"), raw.get("command"), raw.get("args", "")
    if not isinstance(intent_id, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", intent_id):
        raise QuestionRulesError(f"{where}: 'id' must be a lower-case name")
    where = f"{where.rsplit(':', 1)[0]}: intent {intent_id!r}"
    if not isinstance(command, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", command):
        raise QuestionRulesError(f"{where}: 'command' must be a command name without the slash")
    if not isinstance(args, str):
        raise QuestionRulesError(f"{where}: 'args' must be a string")
    needs = _entity_set(raw.get("needs", []), where, "needs")
    unless = _entity_set(raw.get("unless", []), where, "unless")
    for field in re.findall(r"{(\w+)}", args):
        if field not in ENTITIES:
            raise QuestionRulesError(f"{where}: 'args' uses unknown entity {{{field}}}")
    english = tuple(Phrase(tuple(text.split()), weight) for text, weight in _pairs(raw.get("en"), where, "en"))
    for phrase in english:
        if any(not re.fullmatch(r"[a-z0-9.@-]+\*?", word) for word in phrase.words):
            raise QuestionRulesError(f"{where}: English phrase {' '.join(phrase.words)!r} must be lower-case words")
    japanese = tuple((unicodedata.normalize("NFKC", text).lower(), weight) for text, weight in _pairs(raw.get("ja"), where, "ja"))
    if not english or not japanese:
        raise QuestionRulesError(f"{where}: needs phrases in both 'en' and 'ja'")
    examples = raw.get("examples", {})
    if not isinstance(examples, dict) or any(
        not isinstance(examples.get(lang), list) or not all(isinstance(e, str) and e for e in examples[lang])
        for lang in ("en", "ja")
    ):
        raise QuestionRulesError(f"{where}: 'examples' must hold 'en' and 'ja' lists of questions")
    shown = {lang: tuple(examples[lang]) for lang in ("en", "ja")}
    featured = raw.get("featured", False)
    if not isinstance(featured, bool):
        raise QuestionRulesError(f"{where}: 'featured' must be true or false")
    return Intent(intent_id, command, args, needs, unless, english, japanese, shown, featured)


def _entity_set(raw: Any, where: str, key: str) -> frozenset[str]:
    if not isinstance(raw, list) or any(item not in ENTITIES for item in raw):
        raise QuestionRulesError(f"{where}: '{key}' must list entities among {ENTITIES}")
    return frozenset(raw)


def _pairs(raw: Any, where: str, key: str) -> list[tuple[str, int]]:
    if not isinstance(raw, list):
        raise QuestionRulesError(f"{where}: '{key}' must be a list of [phrase, weight]")
    pairs = []
    for item in raw:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], str)
            or not item[0].strip()
            or not isinstance(item[1], int)
            or item[1] == 0
        ):
            raise QuestionRulesError(f"{where}: '{key}' entry {item!r} must be [phrase, non-zero weight]")
        pairs.append((item[0].strip(), item[1]))
    return pairs


# --- reading a question -------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower case, NFKC (full-width to ASCII), one kind of apostrophe, contractions expanded."""
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    for pattern, replacement in _CONTRACTIONS:
        folded = pattern.sub(replacement, folded)
    return folded


def _word_matches(pattern: str, token: str) -> bool:
    return token.startswith(pattern[:-1]) if pattern.endswith("*") else token == pattern


def find_entities(text: str) -> Entities:
    addresses = find_addresses(text, limit=1)
    code = _CODE.search(text)
    mc = _MC.search(text)
    return Entities(
        address=addresses[0].text if addresses else None,
        code=" ".join(part for part in code.groups() if part) if code else None,
        mc=mc.group().upper() if mc else None,
    )


def score(intent: Intent, tokens: tuple[str, ...], folded: str, entities: Entities, bonus: int) -> int | None:
    """How strongly the text points at ``intent``; None when it lacks an entity the intent needs."""
    if any(entities.get(name) is None for name in intent.needs):
        return None
    if any(entities.get(name) is not None for name in intent.unless):
        return None
    total = sum(phrase.weight for phrase in intent.english if phrase.found_in(tokens))
    total += sum(weight for phrase, weight in intent.japanese if phrase in folded)
    return total + bonus * len(intent.needs)


def _args(intent: Intent, entities: Entities) -> str:
    return re.sub(r"{(\w+)}", lambda m: entities.get(m.group(1)) or "", intent.args).strip()


def interpret(text: str, rules: QuestionRules | None = None, available: Collection[str] | None = None) -> Interpretation:
    """Which command ``text`` asks for. ``available`` limits the answer to commands that exist."""
    rules = rules or default_rules()
    if not text or len(text) > MAX_QUESTION_CHARS:
        return Interpretation("none")
    folded = normalise(text)
    tokens = tuple(_WORD.findall(folded))
    entities = find_entities(unicodedata.normalize("NFKC", text))
    scored: list[Candidate] = []
    for intent in rules.intents:
        if available is not None and intent.command not in available:
            continue
        value = score(intent, tokens, folded, entities, rules.entity_bonus)
        if value is not None and value > 0:
            scored.append(Candidate(intent.id, intent.command, _args(intent, entities), value))
    ranked = _distinct(sorted(scored, key=lambda c: -c.score))
    if not ranked or ranked[0].score < rules.offer_at:
        return Interpretation("none")
    top = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0
    if top.score >= rules.answer_at and top.score - runner_up >= rules.margin:
        return Interpretation("answer", (top,))
    return Interpretation("offer", tuple(c for c in ranked[:2] if c.score >= rules.offer_at) or (top,))


def _distinct(ranked: list[Candidate]) -> list[Candidate]:
    """Two intents that end in the same command line are one choice, not two buttons."""
    seen: set[str] = set()
    kept = []
    for candidate in ranked:
        if candidate.line not in seen:
            seen.add(candidate.line)
            kept.append(candidate)
    return kept


def examples(lang: str, command: str | None = None, rules: QuestionRules | None = None, limit: int = 8) -> list[str]:
    """Questions worth showing on help cards, in ``lang``: the featured ones, or those of one command."""
    rules = rules or default_rules()
    language = "ja" if lang == "ja" else "en"
    shown = [
        example
        for intent in rules.intents
        if (intent.featured if command is None else intent.command == command)
        for example in intent.examples[language][:1]
    ]
    return shown[:limit]
