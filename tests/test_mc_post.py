"""normalize_post: HTML to paragraphs, Graph dates, enums, update notes, and the content hash."""

from __future__ import annotations

import copy
import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.mc.post import (
    PostVersion,
    UpdateNote,
    html_to_paragraphs,
    normalize_post,
    parse_graph_datetime,
    parse_update_notes,
)

DEMO_PATH = Path(__file__).resolve().parents[1] / "bot" / "data" / "demo" / "message_center.json"


def demo_messages() -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = json.loads(DEMO_PATH.read_text(encoding="utf-8"))["value"]
    return messages


def mc786329_versions() -> list[PostVersion]:
    return [normalize_post(raw) for raw in demo_messages() if raw["id"] == "MC786329"]


def raw_post(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "MC123456",
        "title": "Example post",
        "startDateTime": "2025-01-01T00:00:00Z",
        "endDateTime": "2025-06-01T08:00:00Z",
        "lastModifiedDateTime": "2025-01-02T10:00:00.123Z",
        "actionRequiredByDateTime": None,
        "isMajorChange": False,
        "services": ["Exchange Online"],
        "tags": ["Admin impact", "Retirement"],
        "category": "planForChange",
        "severity": "normal",
        "body": {"contentType": "html", "content": "<p>First paragraph.</p><p>Second paragraph.</p>"},
    }
    raw.update(overrides)
    return raw


# --- HTML stripping -----------------------------------------------------------------------------


def test_nested_lists_give_one_paragraph_per_item_in_reading_order() -> None:
    html = (
        "<p>Intro</p><ul><li>Outer one<ul><li>Inner a</li><li>Inner <b>b</b></li></ul>outer tail</li>"
        "<li>Outer two<ol><li>Deep<ul><li>Deeper</li></ul></li></ol></li></ul><p>Outro</p>"
    )
    assert html_to_paragraphs(html) == [
        "Intro",
        "Outer one",
        "Inner a",
        "Inner b",
        "outer tail",
        "Outer two",
        "Deep",
        "Deeper",
        "Outro",
    ]


def test_entities_are_decoded_and_nbsp_collapses_like_a_space() -> None:
    html = "<p>A&nbsp;&amp;&nbsp;B &lt;b&gt; &quot;q&quot; it&#8217;s caf&eacute; &#x2192;</p>"
    assert html_to_paragraphs(html) == ['A & B <b> "q" it\u2019s café \u2192']


def test_br_splits_paragraphs_in_all_spellings() -> None:
    assert html_to_paragraphs("one<br>two<br/>three<BR />four</br>five") == [
        "one",
        "two",
        "three",
        "four",
        "five",
    ]


def test_whitespace_and_invisible_characters_are_collapsed() -> None:
    html = "<div>\n  Updated \t  June\n12,\u200b 2025: \u00a0text  </div><p>   </p><p>\n</p>"
    assert html_to_paragraphs(html) == ["Updated June 12, 2025: text"]


def test_script_and_style_text_never_reaches_a_paragraph() -> None:
    html = (
        "<p>keep</p><script>var s = '<p>injected</p>'; alert(1)</script>"
        "<style>p { color: red }</style><p>also <span>kept</span></p>"
    )
    assert html_to_paragraphs(html) == ["keep", "also kept"]


def test_inline_markup_does_not_split_a_paragraph() -> None:
    html = '<p><b>Updated</b> <i>June 12, 2025</i>: see <a href="https://x.example">the blog</a>.</p>'
    assert html_to_paragraphs(html) == ["Updated June 12, 2025: see the blog."]


def test_unmarked_text_and_table_cells_become_paragraphs() -> None:
    html = "Loose text<table><tr><td>cell 1</td><td>cell 2</td></tr></table>tail"
    assert html_to_paragraphs(html) == ["Loose text", "cell 1", "cell 2", "tail"]


@pytest.mark.parametrize(
    "body",
    [
        {"contentType": "html", "content": ""},
        {"contentType": "html", "content": "   "},
        {"contentType": "html", "content": None},
        {"contentType": "html"},
        None,
        "not a dict",
    ],
)
def test_empty_or_odd_bodies_give_no_paragraphs(body: Any) -> None:
    post = normalize_post(raw_post(body=body))
    assert post.paragraphs == ()
    assert post.body_html == ""
    assert post.update_notes == ()


def test_missing_body_key_is_tolerated() -> None:
    raw = raw_post()
    del raw["body"]
    post = normalize_post(raw)
    assert post.paragraphs == ()
    assert post.body_html == ""


def test_text_body_is_split_by_lines_not_parsed_as_html() -> None:
    body = {
        "contentType": "Text",
        "content": "Updated May 2, 2025: moved.\n\n  Line <b>two</b> &amp; more  \n",
    }
    post = normalize_post(raw_post(body=body))
    assert post.paragraphs == ("Updated May 2, 2025: moved.", "Line <b>two</b> &amp; more")
    assert (
        post.body_html
        == "<p>Updated May 2, 2025: moved.</p><p>Line &lt;b&gt;two&lt;/b&gt; &amp;amp; more</p>"
    )
    assert post.update_notes == (UpdateNote(date(2025, 5, 2), "moved."),)


def test_missing_content_type_is_treated_as_html() -> None:
    post = normalize_post(raw_post(body={"content": "<p>a</p><p>b</p>"}))
    assert post.paragraphs == ("a", "b")


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-10-18T16:26:45Z", datetime(2024, 10, 18, 16, 26, 45, tzinfo=UTC)),
        ("2024-10-18T16:26:45z", datetime(2024, 10, 18, 16, 26, 45, tzinfo=UTC)),
        ("2021-01-08T01:10:06.843Z", datetime(2021, 1, 8, 1, 10, 6, 843000, tzinfo=UTC)),
        ("2020-03-13T19:15:41.6195833Z", datetime(2020, 3, 13, 19, 15, 41, 619583, tzinfo=UTC)),
        ("2026-03-30T17:00:00+09:00", datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),
        ("2026-03-29T20:00:00-12:00", datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),
        ("2026-03-30T08:00:00", datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),
        (" 2026-03-30T08:00:00Z ", datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("0001-01-01T00:00:00Z", None),
    ],
)
def test_graph_datetimes_become_aware_utc(value: Any, expected: datetime | None) -> None:
    parsed = parse_graph_datetime(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0)


def test_offsetless_dates_mean_utc_whatever_the_server_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert parse_graph_datetime("2026-03-30T08:00:00") == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", 20260330])
def test_unreadable_dates_raise_instead_of_vanishing(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_graph_datetime(value)


def test_post_dates_are_parsed_and_missing_ones_are_none() -> None:
    raw = raw_post(actionRequiredByDateTime="2025-05-01T00:00:00+02:00")
    del raw["endDateTime"]
    post = normalize_post(raw)
    assert post.end is None
    assert post.action_required_by == datetime(2025, 4, 30, 22, 0, tzinfo=UTC)
    assert post.last_modified == datetime(2025, 1, 2, 10, 0, 0, 123000, tzinfo=UTC)
    assert post.start == datetime(2025, 1, 1, 0, 0, tzinfo=UTC)


# --- fields -------------------------------------------------------------------------------------


def test_category_and_severity_are_compared_case_insensitively() -> None:
    docs = normalize_post(raw_post(category="stayInformed", severity="normal"))
    sample = normalize_post(raw_post(category="StayInformed", severity="Normal"))
    assert (docs.category, docs.severity) == (sample.category, sample.severity) == ("stayInformed", "normal")
    assert docs.content_hash == sample.content_hash


def test_unknown_or_missing_enums_are_kept_as_given() -> None:
    post = normalize_post(raw_post(category="somethingNew", severity=None))
    assert (post.category, post.severity) == ("somethingNew", "")


def test_tags_and_services_drop_blanks_and_case_duplicates() -> None:
    post = normalize_post(
        raw_post(tags=["Retirement", "retirement", " ", None, "Admin  impact"], services=None)
    )
    assert post.tags == ("Retirement", "Admin impact")
    assert post.services == ()


def test_missing_id_is_an_error() -> None:
    with pytest.raises(ValueError):
        normalize_post(raw_post(id=None))


def test_graph_documentation_sample_normalizes() -> None:
    sample = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#admin/serviceAnnouncement/messages/$entity",
        "startDateTime": "2019-02-01T18:51:00Z",
        "endDateTime": "2019-06-01T08:00:00Z",
        "lastModifiedDateTime": "2021-01-08T01:10:06.843Z",
        "title": "(Updated) New feature: Changes to PowerPoint and Word to open files faster",
        "id": "MC172851",
        "category": "StayInformed",
        "severity": "Normal",
        "tags": ["Updated message"],
        "isMajorChange": True,
        "actionRequiredByDateTime": None,
        "services": ["SharePoint Online", "OneDrive for Business"],
        "details": [{"name": "ExternalLink", "value": "https://support.office.com/article/x"}],
        "body": {"contentType": "Html", "content": "Updated January 07, 2021: ..."},
        "viewPoint": None,
    }
    post = normalize_post(sample)
    assert post.id == "MC172851"
    assert post.is_major_change is True
    assert post.category == "stayInformed"
    assert post.details == (("ExternalLink", "https://support.office.com/article/x"),)
    assert post.update_notes == (UpdateNote(date(2021, 1, 7), "..."),)


# --- update notes -------------------------------------------------------------------------------


def test_update_notes_are_newest_first() -> None:
    notes = parse_update_notes(
        [
            "Updated October 18, 2024: report column.",
            "Intro text.",
            "Updated January 27, 2026: on hold.",
            "Updated June 12, 2025: delayed.",
        ]
    )
    assert [note.date for note in notes] == [date(2026, 1, 27), date(2025, 6, 12), date(2024, 10, 18)]
    assert notes[0].text == "on hold."


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("Updated Oct. 7th, 2025: short month.", UpdateNote(date(2025, 10, 7), "short month.")),
        ("updated SEPT 1 2025 : no comma.", UpdateNote(date(2025, 9, 1), "no comma.")),
        ("Updated January 07, 2021: padded.", UpdateNote(date(2021, 1, 7), "padded.")),
        ("Updated March 3, 2026：full-width colon", UpdateNote(date(2026, 3, 3), "full-width colon")),
    ],
)
def test_update_note_spellings(paragraph: str, expected: UpdateNote) -> None:
    assert parse_update_notes([paragraph]) == (expected,)


@pytest.mark.parametrize(
    "paragraph",
    [
        "(Updated) Exchange Online to retire Basic Auth for Client Submission (SMTP AUTH)",
        "Updated the SMTP AUTH report: new column.",
        "We updated October 18, 2024: not at the start.",
        "Updated February 30, 2025: impossible day.",
        "Updated Smarch 3, 2025: no such month.",
        "Updated June 12, 2025 without a colon",
    ],
)
def test_not_update_notes(paragraph: str) -> None:
    assert parse_update_notes([paragraph]) == ()


def test_note_heading_on_its_own_line_takes_the_next_paragraph() -> None:
    post = normalize_post(
        raw_post(
            body={"contentType": "html", "content": "<p><b>Updated June 12, 2025:</b></p><p>Delayed.</p>"}
        )
    )
    assert post.update_notes == (UpdateNote(date(2025, 6, 12), "Delayed."),)
    assert post.latest_note == UpdateNote(date(2025, 6, 12), "Delayed.")


# --- content hash -------------------------------------------------------------------------------


def test_hash_is_stable_across_a_refetch() -> None:
    first = raw_post()
    refetch = copy.deepcopy(first)
    refetch["lastModifiedDateTime"] = "2025-03-04T05:06:07Z"
    refetch["tags"] = ["retirement", "Admin impact"]
    refetch["category"] = "PlanForChange"
    refetch["endDateTime"] = "2025-06-01T17:00:00+09:00"
    refetch["viewPoint"] = None
    refetch["details"] = [{"name": "ExternalLink", "value": "https://example.invalid"}]
    refetch["body"] = {
        "contentType": "html",
        "content": "<div>First   paragraph.</div>\n<p>Second\nparagraph.</p>",
    }
    assert normalize_post(first).content_hash == normalize_post(refetch).content_hash
    assert normalize_post(first).last_modified != normalize_post(refetch).last_modified


@pytest.mark.parametrize(
    "change",
    [
        {
            "body": {
                "contentType": "html",
                "content": "<p>First paragraph.</p><p>Second paragraph, edited.</p>",
            }
        },
        {"body": {"contentType": "html", "content": "<p>Second paragraph.</p><p>First paragraph.</p>"}},
        {"body": {"contentType": "html", "content": "<p>First paragraph.</p>"}},
        {"title": "Example post (Updated)"},
        {"endDateTime": "2025-06-02T08:00:00Z"},
        {"actionRequiredByDateTime": "2025-05-01T00:00:00Z"},
        {"tags": ["Admin impact"]},
        {"services": ["Exchange Online", "Microsoft Teams"]},
        {"severity": "high"},
        {"isMajorChange": True},
    ],
)
def test_hash_changes_when_content_changes(change: dict[str, Any]) -> None:
    assert normalize_post(raw_post()).content_hash != normalize_post(raw_post(**change)).content_hash


def test_hash_is_hex_sha256() -> None:
    digest = normalize_post(raw_post()).content_hash
    assert re.fullmatch(r"[0-9a-f]{64}", digest), digest


# --- demo data ----------------------------------------------------------------------------------


def test_demo_file_is_marked_as_demo() -> None:
    document = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    assert document["_demo"] is True
    assert "DEMO" in document["_note"]
    fictional = {raw["id"] for raw in document["value"]} - {"MC786329"}
    assert fictional == {"MC900001", "MC900002", "MC900003"}  # the documentation-only range, never a real post


def test_demo_mc786329_versions_match_the_seed_dates() -> None:
    versions = mc786329_versions()
    assert [v.last_modified.date() for v in versions if v.last_modified] == [
        date(2024, 4, 26),
        date(2024, 10, 18),
        date(2025, 6, 12),
        date(2026, 1, 27),
    ]
    utc = UTC
    assert {v.start for v in versions} == {datetime(2024, 4, 26, 0, 16, 47, tzinfo=utc)}
    assert versions[1].last_modified == datetime(2024, 10, 18, 16, 26, 45, tzinfo=utc)
    assert versions[1].end == datetime(2025, 11, 3, 8, 0, tzinfo=utc)
    assert versions[3].last_modified == datetime(2026, 1, 27, 20, 11, 1, tzinfo=utc)
    assert versions[3].end == datetime(2026, 3, 30, 8, 0, tzinfo=utc)
    assert len({v.content_hash for v in versions}) == 4


def test_demo_versions_carry_their_update_notes() -> None:
    notes = [[note.date for note in v.update_notes] for v in mc786329_versions()]
    assert notes == [
        [],
        [date(2024, 10, 18)],
        [date(2025, 6, 12), date(2024, 10, 18)],
        [date(2026, 1, 27), date(2024, 10, 18)],  # Microsoft dropped the June 2025 note in January 2026
    ]
    june = mc786329_versions()[2].latest_note
    assert june is not None and "March 1, 2026" in june.text and "April 30, 2026" in june.text


def test_demo_nested_alternatives_are_separate_paragraphs() -> None:
    latest = mc786329_versions()[3]
    index = next(i for i, p in enumerate(latest.paragraphs) if p.startswith("If it does not, move it"))
    assert latest.paragraphs[index + 1].startswith("High Volume Email")
    assert latest.paragraphs[index + 2].startswith("An on-premises Exchange Server")
