"""Device cards: the chart is checked against Teams' documented chart shape and reads as text where
charts are unknown; the rest of each card passes the official 1.5 schema and the phone rules."""

from __future__ import annotations

import copy

from card_checks import card_problems, card_text, chart_problems, without_charts
from cards.devices import donut
from cards.gallery import gallery

DEVICE_CARDS = [g for g in gallery() if g.builder in {
    "build_readiness_card", "build_device_list_card", "build_device_card", "build_device_unknown_card",
    "build_device_form_card", "build_scan_card", "build_import_card"}]


def readiness(lang: str = "en") -> dict:
    return next(g.card for g in DEVICE_CARDS if g.name == "readiness" and g.lang == lang)


def test_every_device_card_state_is_in_the_gallery_in_both_languages():
    names = {(g.name, g.lang) for g in DEVICE_CARDS}
    assert len(names) == len(DEVICE_CARDS) >= 30
    for name, _ in names:
        assert (name, "en") in names and (name, "ja") in names


def test_the_readiness_chart_is_a_teams_donut_with_a_text_fallback():
    card = readiness()
    [chart] = [e for e in card["body"] if e.get("type") == "Chart.Donut"]
    assert chart_problems(card) == []
    assert [d["legend"] for d in chart["data"]] == ["Not started", "In progress", "Verified", "Retired"]
    assert all(d["value"] > 0 for d in chart["data"])
    fallback = card_text(chart["fallback"])
    for item in chart["data"]:
        assert f"{item['legend']}: {item['value']}" in fallback
    plain = without_charts(card)
    assert "Chart.Donut" not in str(plain) and fallback in card_text(plain)


def test_the_checker_rejects_charts_teams_would_not_render():
    card = readiness()
    broken = copy.deepcopy(card)
    chart = next(e for e in broken["body"] if e.get("type") == "Chart.Donut")
    chart["data"][0]["color"] = "hotPink"
    chart["data"].append({"label": "x", "value": 1})
    assert any("hotPink" in p for p in card_problems(broken))
    assert any("label" in p for p in card_problems(broken))

    no_fallback = copy.deepcopy(card)
    next(e for e in no_fallback["body"] if e.get("type") == "Chart.Donut").pop("fallback")
    assert any("without a text fallback" in p for p in card_problems(no_fallback))

    unknown = copy.deepcopy(card)
    next(e for e in unknown["body"] if e.get("type") == "Chart.Donut")["type"] = "Chart.Radar"
    assert any("Chart.Radar" in p for p in card_problems(unknown))

    not_a_chart = copy.deepcopy(card)
    not_a_chart["body"].append({"type": "Gauge", "value": 3})
    assert any(p.startswith("schema:") for p in card_problems(not_a_chart))


def test_empty_slices_are_left_out():
    chart = donut("Devices", [("A", 3, "good"), ("B", 0, "attention")], "en")
    assert [d["legend"] for d in chart["data"]] == ["A"]
    assert "B" not in card_text(chart["fallback"])


def test_no_device_card_has_more_than_three_buttons():
    for item in DEVICE_CARDS:
        assert len(item.card.get("actions", [])) <= 3, item.name


def test_japanese_cards_read_naturally():
    text = card_text(readiness("ja"))
    assert "デバイスの移行準備状況" in text
    assert "2026年12月末に止まるもの" in text
    assert "猶予期間中" in text
    assert "Azure Communication Services" in text  # named in the ACS caveat
    detail = next(g.card for g in DEVICE_CARDS if g.name == "device-breaks" and g.lang == "ja")
    assert "手順" in card_text(detail) and "注意点" in card_text(detail)
    assert "TLS 1.2 未満" in card_text(detail)


def test_device_detail_flags_legacy_tls_and_names_what_breaks():
    detail = next(g.card for g in DEVICE_CARDS if g.name == "device-breaks" and g.lang == "en")
    text = card_text(detail)
    assert "It uses TLS below 1.2" in text
    assert "it stops sending at the end of December 2026" in text
    assert "Recommended: SMTP relay through an inbound connector" in text
    borrowed = card_text(next(g.card for g in DEVICE_CARDS if g.name == "device-borrowed" and g.lang == "en"))
    assert "On borrowed time" in borrowed and "second half of 2027" in borrowed
