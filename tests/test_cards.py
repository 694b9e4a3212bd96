"""Every card the bot can send: valid Adaptive Card 1.5, readable on a phone, in English and Japanese."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import cards
from bot.i18n import catalog, t
from card_checks import assert_valid_card, card_problems, card_text
from cards.gallery import gallery

GALLERY = list(gallery())


@pytest.mark.parametrize("item", GALLERY, ids=lambda item: f"{item.name}.{item.lang}")
def test_card_is_valid_and_phone_readable(item):
    assert_valid_card(item.card)


def test_every_card_builder_is_in_the_gallery():
    builders = set()
    for module_info in pkgutil.iter_modules(cards.__path__):
        module = importlib.import_module(f"cards.{module_info.name}")
        builders |= {
            name for name, fn in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("build_") and name.endswith("_card") and fn.__module__ == module.__name__
        }
    assert builders <= {item.builder for item in GALLERY}


def _japanese_share(text: str) -> float:
    """The share of kana, kanji and full-width characters among the visible ones."""
    visible = [ch for ch in text if not ch.isspace()]
    japanese = sum(1 for ch in visible if "\u3000" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    return japanese / max(1, len(visible))


def test_japanese_cards_are_japanese():
    english = {item.name: card_text(item.card) for item in GALLERY if item.lang == "en"}
    for item in GALLERY:
        if item.lang == "ja":
            text = card_text(item.card)
            assert text != english[item.name], item.name
            # At least a fifth: Microsoft's own English (post titles and bodies), addresses, commands and
            # reply codes stay as they are, and the cards that quote them most sit just above this.
            assert _japanese_share(text) >= 0.2, item.name


def test_catalog_has_both_languages_and_same_fields():
    import string

    for key, pair in catalog().items():
        assert pair.get("en") and pair.get("ja"), key
        fields = {f for _, f, _, _ in string.Formatter().parse(pair["en"]) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(pair["ja"]) if f}, key


def test_status_card_phases_say_the_right_thing():
    by_name = {(i.name, i.lang): card_text(i.card) for i in GALLERY}
    assert "Nothing has changed yet" in by_name[("status", "en")]
    assert "11 days left" in by_name[("status-deadline-month", "en")]
    assert "any day now" in by_name[("status-deadline-month", "en")]
    assert "Last day of the month" in by_name[("status-last-day", "en")]
    after = by_name[("status-after", "en")]
    assert "off by default" in after and "not announced yet" in after and "second half of 2027" in after
    assert "days left" not in after


def test_the_checker_catches_bad_cards():
    bad = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "no wrap"}], "msteams": {}}
    problems = card_problems(bad)
    assert len(problems) == 2 and problems[0].startswith("schema: "), problems  # 1.5 has no "msteams" here
    assert problems[1] == "TextBlock without wrap (cut off on phones): 'no wrap'"
    del bad["msteams"]
    bad["body"][0]["wrap"] = True
    assert card_problems(bad) == []
    bad["body"][0]["size"] = "huge"
    assert [p[:8] for p in card_problems(bad)] == ["schema: "]


def test_english_chooses_singular_or_plural_by_the_number_and_japanese_needs_neither():
    assert t("devices.cutoff.breaks", "en", senders=1, devices=1, when="31 December 2026") == (
        "1 sender (1 device) signs in with Basic auth and relies on the organisation default: "
        "it stops sending at 31 December 2026."
    )
    assert t("devices.cutoff.breaks", "en", senders=2, devices=3, when="x").startswith(
        "2 senders (3 devices) sign in with Basic auth and rely"
    )
    assert t("devices.list.count", "en", total=0, page=1, pages=1) == "0 devices, page 1 of 1"
    assert "|" not in t("devices.cutoff.breaks", "ja", senders=1, devices=1, when="x")
    for key, pair in catalog().items():  # no "(s)" left for a reader to decode
        assert "(s)" not in pair["en"], key


def _mutations(card: dict) -> list[dict]:
    """Broken copies of ``card``: a wrong element type, a wrong enum value, a missing field, a wrong type."""
    import copy

    broken = []
    for change in (
        lambda c: c["body"][0].update(type="TextBlok"),
        lambda c: c["body"][0].update(size="huge", weight="heavy"),
        lambda c: c.update(version=1.5),
        lambda c: c["body"].append({"type": "Input.Text"}),  # no id
        lambda c: c.update(actions=[{"type": "Action.Submit", "title": 3}]),
        lambda c: c.update(body={"type": "TextBlock"}),
    ):
        mutated = copy.deepcopy(card)
        change(mutated)
        broken.append(mutated)
    return broken


def test_the_fast_schema_check_gives_the_reference_validators_verdict():
    from card_checks import _fast_check, _validator, schema_errors, without_charts

    fast, reference = _fast_check(), _validator()
    for item in GALLERY[::9]:
        for card in [without_charts(item.card), *_mutations(without_charts(item.card))]:
            expected = next(reference.iter_errors(card), None) is not None
            try:
                fast(card)
                refused = False
            except Exception:  # noqa: BLE001 - fastjsonschema.JsonSchemaException
                refused = True
            assert refused == expected, item.name
    assert schema_errors(_mutations(without_charts(GALLERY[0].card))[0])  # a refused card gets the messages
