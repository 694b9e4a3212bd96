"""Plain questions → commands: the bank of phrasings in English and Japanese, and the rules file itself."""

from __future__ import annotations

import copy
import json
import unicodedata
from pathlib import Path

import pytest

from bot.commands import COMMANDS
from bot.diagnostics.questions import (
    RULES_PATH,
    QuestionRulesError,
    default_rules,
    examples,
    find_entities,
    interpret,
    load_rules,
    normalise,
    parse_rules,
)

BANK = json.loads((Path(__file__).parent / "data" / "question_bank.json").read_text(encoding="utf-8"))["questions"]
RULES = load_rules()
RAW_RULES = json.loads(RULES_PATH.read_text(encoding="utf-8"))


def _id(case: dict) -> str:
    return f"{case['lang']}:{case['text'][:40]}"


def test_the_bank_is_big_enough_in_both_languages():
    answers = [case for case in BANK if case.get("kind", "answer") == "answer"]
    assert len(BANK) >= 60
    assert sum(1 for case in answers if case["lang"] == "en") >= 30
    assert sum(1 for case in answers if case["lang"] == "ja") >= 30
    # Every command a question can lead to is exercised by the bank.
    assert {intent.command for intent in RULES.intents} <= {case["expected"]["command"] for case in answers}


@pytest.mark.parametrize("case", BANK, ids=_id)
def test_each_phrasing_maps_to_its_command(case):
    reading = interpret(case["text"], RULES)
    kind = case.get("kind", "answer")
    assert reading.kind == kind, (reading, case)
    if kind == "none":
        assert reading.candidates == ()
        return
    best = reading.best
    assert best is not None
    assert (best.command, best.args) == (case["expected"]["command"], case["expected"]["args"])
    if kind == "answer":
        assert len(reading.candidates) == 1
    if "also" in case:
        assert len(reading.candidates) == 2
        second = reading.candidates[1]
        assert (second.command, second.args) == (case["also"]["command"], case["also"]["args"])
    assert len(reading.candidates) <= 2  # never more than two buttons


def test_the_brief_s_questions_in_particular():
    assert interpret("when will basic auth stop working?").best.line == "/status"
    assert interpret("いつ無効になりますか").best.line == "/status"
    assert interpret("which printers aren't ready?").best.line == "/devices not-ready"
    assert interpret("準備できていないデバイスは?").best.line == "/devices not-ready"
    assert interpret("is scanner@contoso.com ready?").best.line == "/device scanner@contoso.com"
    assert interpret("what changed in MC786329?").best.line == "/mc MC786329"
    assert interpret("what should a copier that can't do OAuth use?").best.line == "/paths"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_example_on_the_help_cards_maps_to_its_own_command(lang):
    for intent in RULES.intents:
        for question in intent.examples[lang]:
            reading = interpret(question, RULES)
            assert reading.kind == "answer", (intent.id, question, reading)
            assert reading.best.command == intent.command, (intent.id, question, reading)
    assert len(examples(lang)) == sum(1 for intent in RULES.intents if intent.featured)


def test_only_commands_that_exist_are_offered():
    everything = {command.name for command in COMMANDS}
    without_devices = everything - {"readiness", "devices", "device"}
    assert interpret("which printers aren't ready?", available=everything).best.line == "/devices not-ready"
    # Without the device commands the question is not forced onto something else.
    assert interpret("which printers aren't ready?", available=without_devices).kind == "none"
    reading = interpret("is scanner@contoso.com ready?", available=without_devices)
    assert reading.kind == "offer" and reading.best.line == "/check scanner@contoso.com"


def test_every_command_a_question_names_is_in_the_routing_table():
    routed = {command.name for command in COMMANDS}
    assert {intent.command for intent in RULES.intents} <= routed


@pytest.mark.parametrize(
    "text, entities",
    [
        ("is Scanner@Contoso.com ready?", ("Scanner@Contoso.com", None, None)),
        ("what does 535 5.7.139 mean", (None, "535 5.7.139", None)),
        ("what does 5.7.57 mean", (None, "5.7.57", None)),
        ("ｍｃ７８６３２９ の変更点", (None, None, "MC786329")),
        ("version 1.2.3.4 at 10.5.7.30 is not a code", (None, None, None)),
    ],
)
def test_entities(text, entities):
    found = find_entities(unicodedata.normalize("NFKC", text))
    assert (found.address, found.code, found.mc) == entities


def test_words_are_whole_words_and_contractions_expand():
    assert normalise("Aren't / can't / won't / it's") == "are not / can not / will not / it is"
    # "ready" must not be found inside "already": no substring routing.
    assert interpret("already", RULES).kind == "none"
    assert interpret("x" * 401, RULES).kind == "none"  # a paste, not a question


@pytest.mark.parametrize(
    "change, complaint",
    [
        (lambda raw: raw.pop("thresholds"), "thresholds"),
        (lambda raw: raw["thresholds"].update(offer_at=9), "offer_at"),
        (lambda raw: raw["intents"][0].update(id="Bad Id"), "'id'"),
        (lambda raw: raw["intents"][0].update(command="/status"), "'command'"),
        (lambda raw: raw["intents"][0].update(needs=["phone"]), "'needs'"),
        (lambda raw: raw["intents"][0].update(args="{phone}"), "unknown entity"),
        (lambda raw: raw["intents"][0].update(en=[["When", 2]]), "lower-case"),
        (lambda raw: raw["intents"][0].update(ja=[]), "both"),
        (lambda raw: raw["intents"][0]["en"].append(["zero", 0]), "non-zero"),
        (lambda raw: raw["intents"].append(copy.deepcopy(raw["intents"][0])), "twice"),
        (lambda raw: raw["intents"][0].update(examples={"en": ["x"]}), "examples"),
    ],
)
def test_a_broken_rules_file_is_refused_with_a_reason(change, complaint):
    raw = json.loads(json.dumps(RAW_RULES))
    change(raw)
    with pytest.raises(QuestionRulesError, match=complaint):
        parse_rules(raw)


def test_every_shipped_intent_answers_with_a_real_command_and_speaks_both_languages():
    from bot.commands import find

    for intent in default_rules().intents:
        assert find(intent.command) is not None, intent.id
        assert intent.english and intent.japanese, intent.id
