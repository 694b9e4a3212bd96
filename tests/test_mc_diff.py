"""diff_versions and summarize_diff, mostly on the demo tenant's MC786329 history."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import format_date
from bot.mc.diff import DateChange, diff_paragraphs, diff_versions, summarize_diff
from bot.mc.post import PostVersion, UpdateNote, normalize_post

DEMO_PATH = Path(__file__).resolve().parents[1] / "bot" / "data" / "demo" / "message_center.json"
UTC = UTC


def demo_raw() -> list[dict[str, Any]]:
    return [
        raw for raw in json.loads(DEMO_PATH.read_text(encoding="utf-8"))["value"] if raw["id"] == "MC786329"
    ]


def versions() -> list[PostVersion]:
    return [normalize_post(raw) for raw in demo_raw()]


def post(body: str = "<p>One.</p><p>Two.</p><p>Three.</p>", **overrides: Any) -> PostVersion:
    raw: dict[str, Any] = {
        "id": "MC123456",
        "title": "Example",
        "startDateTime": "2025-01-01T00:00:00Z",
        "endDateTime": "2025-06-01T08:00:00Z",
        "lastModifiedDateTime": "2025-01-01T00:00:00Z",
        "services": ["Exchange Online"],
        "tags": ["Retirement"],
        "category": "planForChange",
        "severity": "normal",
        "body": {"contentType": "html", "content": body},
    }
    raw.update(overrides)
    return normalize_post(raw)


# --- the demo history ---------------------------------------------------------------------------


def test_original_to_october_2024_names_title_tag_and_new_note() -> None:
    original, october, _, _ = versions()
    diff = diff_versions(original, october)
    assert diff.title is not None and diff.title.new.startswith("(Updated)")
    assert diff.tags_added == ("Updated message",)
    assert diff.tags_removed == ()
    assert diff.dates == ()
    assert diff.headline is not None and diff.headline.date == date(2024, 10, 18)
    assert len(diff.paragraphs_added) == 1 and diff.paragraphs_removed == ()
    assert summarize_diff(diff, "en")[1:] == [
        "Title changed",
        "Tag added: Updated message",
        "1 paragraph added",
    ]


def test_october_2024_to_june_2025_names_the_moved_dates_and_the_new_note() -> None:
    _, october, june, _ = versions()
    diff = diff_versions(october, june)
    assert diff.dates == (
        DateChange("end", datetime(2025, 11, 3, 8, tzinfo=UTC), datetime(2026, 3, 30, 8, tzinfo=UTC)),
    )
    assert diff.headline is not None and diff.headline.date == date(2025, 6, 12)
    assert "March 1, 2026" in diff.headline.text and "April 30, 2026" in diff.headline.text
    assert diff.title is None and diff.tags_added == () and diff.fields == ()
    assert any("March 1, 2026" in p for p in diff.paragraphs_added)
    assert any("September 2025" in p for p in diff.paragraphs_removed)
    en = summarize_diff(diff, "en")
    assert en[0].startswith(f"Update of {format_date(date(2025, 6, 12), 'en')}: The removal is delayed")
    old_end, new_end = format_date(date(2025, 11, 3), "en"), format_date(date(2026, 3, 30), "en")
    assert f"End date moved from {old_end} to {new_end}" in en
    assert "Title changed" not in en


def test_june_2025_to_january_2026_names_the_hold_and_the_dropped_june_note() -> None:
    _, _, june, january = versions()
    diff = diff_versions(june, january)
    assert diff.headline is not None and diff.headline.date == date(2026, 1, 27)
    assert "end of December 2026" in diff.headline.text
    assert diff.removed_notes[0].date == date(2025, 6, 12)
    assert diff.dates == ()  # endDateTime stayed 2026-03-30
    assert diff.fields == ()  # "PlanForChange"/"Normal" equal "planForChange"/"normal"
    assert any(p.startswith("End of December 2026") for p in diff.paragraphs_added)
    ja = summarize_diff(diff, "ja")
    assert ja[0].startswith("2026年1月27日の更新：The removal is on hold.")
    assert "2025年6月12日の更新情報が削除されました" in ja
    assert f"段落が{len(diff.paragraphs_added)}件追加されました" in ja


def test_hash_change_and_non_empty_diff_agree_for_every_pair_of_versions() -> None:
    for old, new in itertools.permutations(versions(), 2):
        assert diff_versions(old, new).is_empty == (old.content_hash == new.content_hash)


def test_reverse_diff_swaps_added_and_removed() -> None:
    _, october, june, _ = versions()
    forward, backward = diff_versions(october, june), diff_versions(june, october)
    assert forward.paragraphs_added == backward.paragraphs_removed
    assert backward.headline is None and backward.removed_notes[0].date == date(2025, 6, 12)


# --- empty diffs --------------------------------------------------------------------------------


def test_identical_versions_give_an_empty_diff_and_no_lines() -> None:
    for version in versions():
        diff = diff_versions(version, version)
        assert diff.is_empty
        assert summarize_diff(diff, "en") == [] and summarize_diff(diff, "ja") == []


def test_refetch_with_new_last_modified_and_reformatted_html_is_empty() -> None:
    raw = demo_raw()[3]
    refetched = dict(raw, lastModifiedDateTime="2026-02-01T00:00:00Z", category="planForChange")
    refetched["body"] = {"contentType": "html", "content": raw["body"]["content"].replace("<p>", "<p>\n  ")}
    diff = diff_versions(normalize_post(raw), normalize_post(refetched))
    assert diff.is_empty


def test_whitespace_only_changes_are_not_changes() -> None:
    diff = diff_versions(post(), post("<p>One.</p>\n<p>  Two. </p><div>Three.\u200b</div><p> </p>"))
    assert diff.is_empty


def test_different_posts_cannot_be_diffed() -> None:
    with pytest.raises(ValueError):
        diff_versions(post(), post(id="MC654321"))


# --- individual changes -------------------------------------------------------------------------


def test_paragraph_edit_is_one_removed_and_one_added() -> None:
    diff = diff_versions(post(), post("<p>One.</p><p>Two, edited.</p><p>Three.</p>"))
    assert diff.paragraphs_added == ("Two, edited.",)
    assert diff.paragraphs_removed == ("Two.",)
    assert summarize_diff(diff, "en") == ["1 paragraph added", "1 paragraph removed"]
    assert summarize_diff(diff, "ja") == ["段落が1件追加されました", "段落が1件削除されました"]


def test_moved_paragraph_is_reported_as_moved() -> None:
    diff = diff_versions(post(), post("<p>Three.</p><p>One.</p><p>Two.</p>"))
    assert diff.paragraphs_moved == ("Three.",)
    assert diff.paragraphs_added == () and diff.paragraphs_removed == ()
    assert summarize_diff(diff, "en") == ["1 paragraph moved"]


def test_repeated_paragraphs_are_counted_per_occurrence() -> None:
    added, removed, moved = diff_paragraphs(["A", "B"], ["A", "B", "B", "B"])
    assert (added, removed, moved) == (("B", "B"), (), ())


def test_plural_lines() -> None:
    diff = diff_versions(post(), post("<p>One.</p><p>Two.</p><p>Three.</p><p>Four.</p><p>Five.</p>"))
    assert summarize_diff(diff, "en") == ["2 paragraphs added"]
    assert summarize_diff(diff, "ja") == ["段落が2件追加されました"]


def test_tags_and_services_compare_case_insensitively() -> None:
    diff = diff_versions(
        post(tags=["Retirement", "Admin impact"]),
        post(tags=["retirement", "User impact"], services=["exchange online", "Microsoft Teams"]),
    )
    assert diff.tags_added == ("User impact",)
    assert diff.tags_removed == ("Admin impact",)
    assert diff.services_added == ("Microsoft Teams",)
    assert diff.services_removed == ()
    assert summarize_diff(diff, "en") == [
        "Tag added: User impact",
        "Tag removed: Admin impact",
        "Service added: Microsoft Teams",
    ]
    assert summarize_diff(diff, "ja") == [
        "タグが追加されました：User impact",
        "タグが削除されました：Admin impact",
        "対象サービスが追加されました：Microsoft Teams",
    ]


def test_date_set_removed_and_time_only_lines() -> None:
    old = post(actionRequiredByDateTime=None, startDateTime="2025-01-01T00:00:00Z")
    new = post(
        actionRequiredByDateTime="2025-05-01T00:00:00Z",
        startDateTime="2025-01-01T18:00:00Z",
        endDateTime=None,
    )
    diff = diff_versions(old, new)
    assert {change.field for change in diff.dates} == {"start", "end", "action_required_by"}
    en = summarize_diff(diff, "en")
    assert f"Start date time of day changed ({format_date(date(2025, 1, 1), 'en')})" in en
    assert f"End date removed (was {format_date(date(2025, 6, 1), 'en')})" in en
    assert f"Act-by date set to {format_date(date(2025, 5, 1), 'en')}" in en
    ja = summarize_diff(diff, "ja")
    assert "開始日の時刻が変更されました（2025年1月1日）" in ja
    assert "終了日（2025年6月1日）が削除されました" in ja
    assert "対応期限が2025年5月1日に設定されました" in ja


def test_japanese_end_date_line_uses_japanese_dates() -> None:
    diff = diff_versions(post(), post(endDateTime="2026-03-30T08:00:00Z"))
    assert summarize_diff(diff, "ja") == ["終了日が2025年6月1日から2026年3月30日に変更されました"]
    assert summarize_diff(diff, "ja-JP") == summarize_diff(diff, "ja")
    assert summarize_diff(diff, "fr-FR") == summarize_diff(diff, "en")


def test_category_severity_and_major_change_lines() -> None:
    diff = diff_versions(post(), post(category="StayInformed", severity="High", isMajorChange=True))
    assert [change.field for change in diff.fields] == ["category", "severity"]
    assert summarize_diff(diff, "en") == [
        "Category changed from Plan for change to Stay informed",
        "Severity changed from Normal to High",
        "Now marked as a major change",
    ]
    assert summarize_diff(diff, "ja") == [
        "カテゴリが変更の計画から最新情報に変更されました",
        "重要度が標準から高に変更されました",
        "重大な変更に指定されました",
    ]


def test_title_change_line_in_both_languages() -> None:
    diff = diff_versions(post(), post(title="(Updated) Example"))
    assert summarize_diff(diff, "en") == ["Title changed"]
    assert summarize_diff(diff, "ja") == ["タイトルが変更されました"]


def test_new_note_is_the_headline_and_long_text_is_shortened() -> None:
    long_text = "word " * 80
    diff = diff_versions(
        post(), post(f"<p>Updated March 5, 2026: {long_text}</p><p>One.</p><p>Two.</p><p>Three.</p>")
    )
    assert diff.headline == UpdateNote(date(2026, 3, 5), long_text.strip())
    first = summarize_diff(diff, "en")[0]
    assert first.startswith(f"Update of {format_date(date(2026, 3, 5), 'en')}: word word")
    assert first.endswith("…") and len(first) < 240
    assert summarize_diff(diff, "ja")[0].startswith("2026年3月5日の更新：word")
