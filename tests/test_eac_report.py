"""Tests for reading the EAC "SMTP AUTH clients" CSV export: encodings, delimiters, header aliases,
per-line validation with admin-visible line numbers, and the all-or-nothing result."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot.devices.eac_report import (
    FIELDS,
    HEADERS_PATH,
    EacReport,
    EacReportErrors,
    EacRow,
    header_key,
    load_aliases,
    parse_aliases,
    parse_count,
    parse_eac_report,
    parse_percent,
    summarize,
)

DATA = Path(__file__).parent / "data" / "eac"
DOC_HEADER = "Sender address,Domain,TLS 1.0 (%),TLS 1.1 (%),TLS 1.2 (%),Messages sent"
AUTH_HEADER = DOC_HEADER + ",Authentication Protocol"


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def ok(data: bytes, **kwargs: int) -> EacReport:
    result = parse_eac_report(data, **kwargs)
    assert isinstance(result, EacReport), result
    return result


def refused(data: bytes, **kwargs: int) -> EacReportErrors:
    result = parse_eac_report(data, **kwargs)
    assert isinstance(result, EacReportErrors), result
    return result


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def bilingual(text: dict[str, str]) -> bool:
    return bool(text.get("en", "").strip()) and bool(text.get("ja", "").strip())


# ---------------------------------------------------------------- whole files


def test_documented_columns_utf8() -> None:
    report = ok(fixture("documented_utf8.csv"))
    assert report.encoding == "utf-8"
    assert report.delimiter == ","
    assert report.column_map == {
        "sender": "Sender address",
        "domain": "Domain",
        "tls10": "TLS 1.0 (%)",
        "tls11": "TLS 1.1 (%)",
        "tls12": "TLS 1.2 (%)",
        "messages": "Messages sent",
    }
    assert report.guessed_fields == frozenset()
    assert report.rows == [
        EacRow(2, "scanner@contoso.com", "contoso.com", 0.0, 0.0, 100.0, 42, None),
        EacRow(3, "mfp-3f@contoso.com", "contoso.com", 100.0, 0.0, 0.0, 1234, None),
        EacRow(4, "app-payroll@fabrikam.co.jp", "fabrikam.co.jp", 0.0, 25.5, 74.5, 7, None),
    ]


def test_missing_auth_column_is_reported_in_both_languages() -> None:
    report = ok(fixture("documented_utf8.csv"))
    auth_notes = [n for n in report.notes if "Authentication Protocol" in n["en"]]
    assert len(auth_notes) == 1
    assert "Basic/OAuth is unknown" in auth_notes[0]["en"]
    assert "認証プロトコル列がない" in auth_notes[0]["ja"]
    assert all(bilingual(n) for n in report.notes)


def test_utf8_bom_with_auth_column_and_same_sender_on_basic_and_oauth() -> None:
    report = ok(fixture("with_auth_bom.csv"))
    assert report.encoding == "utf-8-sig"
    assert report.column_map["auth"] == "Authentication Protocol"
    assert report.guessed_fields == frozenset({"auth"})
    assert [(r.line, r.sender, r.auth, r.messages) for r in report.rows] == [
        (2, "printer@contoso.com", "basic", 1234),
        (3, "printer@contoso.com", "oauth", 10),
        (4, "erp@contoso.com", "basic", 300),
        (5, "crm@contoso.com", None, 5),
    ]
    guess_note = next(n for n in report.notes if "guess" in n["en"])
    assert "'Authentication Protocol'" in guess_note["en"]
    assert "「Authentication Protocol」" in guess_note["ja"]


def test_japanese_excel_shift_jis_with_japanese_headers() -> None:
    report = ok(fixture("japanese_cp932.csv"))
    assert report.encoding == "cp932"
    assert report.column_map == {
        "sender": "送信者アドレス",
        "domain": "ドメイン",
        "tls10": "TLS 1.0 (%)",
        "tls11": "TLS 1.1 (%)",
        "tls12": "TLS 1.2 (%)",
        "messages": "送信メッセージ数",
        "auth": "認証プロトコル",
    }
    assert report.guessed_fields == frozenset({"sender", "domain", "messages", "auth"})
    assert [(r.line, r.sender, r.domain, r.tls10, r.messages, r.auth) for r in report.rows] == [
        (2, "mfp@例え.jp", "例え.jp", 0.0, 5, "oauth"),
        (3, "fukugouki-2f@contoso.co.jp", "contoso.co.jp", 100.0, 1200, "basic"),
        (4, "scan@contoso.co.jp", "contoso.co.jp", 0.0, 123, "basic"),
    ]
    encoding_note = report.notes[0]
    assert "Shift_JIS" in encoding_note["en"] and "Shift_JIS" in encoding_note["ja"]


def test_total_line_is_ignored_with_a_note_naming_it() -> None:
    report = ok(fixture("japanese_cp932.csv"))
    totals = [n for n in report.notes if "total line" in n["en"]]
    assert len(totals) == 1
    assert "Line 6" in totals[0]["en"] and "6 行目" in totals[0]["ja"]
    assert all(row.line != 6 for row in report.rows)


def test_excel_unicode_text_is_utf16_with_tabs() -> None:
    report = ok(fixture("excel_unicode_text.txt"))
    assert report.encoding == "utf-16-le"
    assert report.delimiter == "\t"
    assert [(r.sender, r.auth) for r in report.rows] == [
        ("printer@contoso.com", "basic"),
        ("app@contoso.com", "oauth"),
    ]


def test_utf16_big_endian_with_bom() -> None:
    report = ok(
        b"\xfe\xff" + csv_bytes(DOC_HEADER, "a@contoso.com,contoso.com,0,0,100,1", encoding="utf-16-be")
    )
    assert report.encoding == "utf-16-be"
    assert report.rows[0].sender == "a@contoso.com"


def test_semicolons_decimal_commas_spaced_thousands_and_messy_headers() -> None:
    report = ok(fixture("semicolon_european.csv"))
    assert report.delimiter == ";"
    assert set(report.column_map) == set(FIELDS)
    assert report.column_map["tls10"] == "tls_1_0_%"
    first = report.rows[0]
    assert (first.tls10, first.tls12, first.messages, first.auth) == (12.5, 87.5, 1234, "basic")


def test_title_lines_above_the_header_are_skipped_and_line_numbers_stay_physical() -> None:
    report = ok(fixture("preamble.csv"))
    assert [row.line for row in report.rows] == [4]
    assert any("line 3" in n["en"] and "3 行目" in n["ja"] for n in report.notes)


def test_header_only_file_is_a_valid_empty_report() -> None:
    report = ok(csv_bytes(AUTH_HEADER))
    assert report.rows == []
    assert any("no data rows" in n["en"] for n in report.notes)
    assert summarize(report)["senders"] == 0


# ---------------------------------------------------------------- line errors


def test_every_bad_line_is_listed_with_its_line_and_field_and_no_rows_leak() -> None:
    result = refused(fixture("bad_lines.csv"))
    assert result.fatal is None
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "sender"),
        (4, "sender"),
        (6, "tls10"),
        (7, "tls11"),
        (7, "tls12"),
        (8, "messages"),
        (9, "messages"),
        (10, "auth"),
        (11, None),
        (12, "domain"),
    ]
    assert all(bilingual(e.reason) for e in result.errors)
    assert not hasattr(result, "rows")


def test_line_errors_quote_the_bad_value() -> None:
    result = refused(fixture("bad_lines.csv"))
    by_line = {(e.line, e.field): e.reason for e in result.errors}
    assert "'not-an-address'" in by_line[(3, "sender")]["en"]
    assert "「not-an-address」" in by_line[(3, "sender")]["ja"]
    assert "'NTLM'" in by_line[(10, "auth")]["en"]
    assert "'120'" in by_line[(6, "tls10")]["en"]


def test_a_multiline_quoted_cell_does_not_shift_later_line_numbers() -> None:
    data = csv_bytes(DOC_HEADER, 'a@contoso.com,"contoso\r\n.com",0,0,100,1', "bad,contoso.com,0,0,100,1")
    result = refused(data)
    assert [(e.line, e.field) for e in result.errors] == [(2, "domain"), (4, "sender")]


def test_duplicate_sender_and_protocol_names_both_lines() -> None:
    result = refused(fixture("duplicates.csv"))
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.line == 5
    assert "Lines 2 and 5" in error.reason["en"]
    assert "2 行目と 5 行目" in error.reason["ja"]


def test_duplicate_without_auth_column_is_an_error_too() -> None:
    result = refused(
        csv_bytes(DOC_HEADER, "a@contoso.com,contoso.com,0,0,100,1", "a@contoso.com,contoso.com,0,0,100,2")
    )
    assert [e.line for e in result.errors] == [3]


def test_extra_blank_trailing_cells_are_harmless() -> None:
    report = ok(csv_bytes(DOC_HEADER, "a@contoso.com,contoso.com,0,0,100,1,,,"))
    assert report.rows[0].messages == 1


def test_short_rows_read_missing_cells_as_blank() -> None:
    report = ok(csv_bytes(AUTH_HEADER, "a@contoso.com,contoso.com"))
    row = report.rows[0]
    assert (row.tls10, row.messages, row.auth) == (None, None, None)


def test_domain_is_taken_from_the_sender_when_the_column_is_missing() -> None:
    report = ok(csv_bytes("Sender address,Messages sent", "Printer@Contoso.COM,3"))
    assert (report.rows[0].sender, report.rows[0].domain) == ("printer@contoso.com", "contoso.com")
    assert any("No Domain column" in n["en"] for n in report.notes)


# ---------------------------------------------------------------- fatal errors


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"  \r\n\r\n\t\n"])
def test_empty_file_is_one_clear_error(data: bytes) -> None:
    result = refused(data)
    assert result.errors == []
    assert result.fatal is not None and "empty" in result.fatal["en"] and "空" in result.fatal["ja"]


def test_binary_garbage_is_refused() -> None:
    garbage = random.Random(7).randbytes(20_000)
    result = refused(garbage)
    assert result.errors == [] and result.fatal is not None
    assert bilingual(result.fatal)


def test_excel_workbook_gets_a_save_as_csv_hint() -> None:
    result = refused(b"PK\x03\x04" + bytes(200))
    assert result.fatal is not None
    assert "Excel workbook" in result.fatal["en"] and "CSV UTF-8" in result.fatal["ja"]


def test_text_with_control_characters_is_refused_as_binary() -> None:
    noise = "".join(chr(c) for c in range(1, 9)) * 50
    result = refused(csv_bytes(DOC_HEADER, noise))
    assert result.fatal is not None and "not a text" in result.fatal["en"]


def test_no_recognisable_header() -> None:
    result = refused(fixture("no_header.csv"))
    assert result.fatal is not None
    assert "Sender address" in result.fatal["en"] and "'Name,Value'" in result.fatal["en"]
    assert "送信者アドレス" in result.fatal["ja"]


def test_header_without_sender_column_is_not_a_header() -> None:
    result = refused(csv_bytes("Domain,Messages sent", "contoso.com,3"))
    assert result.fatal is not None


def test_over_max_bytes_is_refused_before_reading() -> None:
    data = csv_bytes(DOC_HEADER, "a@contoso.com,contoso.com,0,0,100,1")
    result = refused(data, max_bytes=len(data) - 1)
    assert result.fatal is not None and "limit" in result.fatal["en"]


def test_over_max_rows_is_refused() -> None:
    rows = [f"u{i}@contoso.com,contoso.com,0,0,100,1" for i in range(4)]
    assert len(ok(csv_bytes(DOC_HEADER, *rows), max_rows=4).rows) == 4
    result = refused(csv_bytes(DOC_HEADER, *rows), max_rows=3)
    assert result.errors == [] and result.fatal is not None and "3" in result.fatal["en"]


def test_a_flood_of_blank_lines_is_refused_without_walking_them() -> None:
    data = csv_bytes(DOC_HEADER, "a@contoso.com,contoso.com,0,0,100,1") + b"\n" * 1_100
    assert isinstance(parse_eac_report(data, max_rows=100), EacReport)
    result = refused(data, max_rows=1)
    assert result.fatal is not None and "lines" in result.fatal["en"] and "空行" in result.fatal["ja"]


def test_a_giant_cell_is_a_csv_error_with_its_line() -> None:
    result = refused(csv_bytes(DOC_HEADER, "a@contoso.com,contoso.com,0,0,100,1", "b" * 200_000))
    assert result.fatal is not None and "Line 3" in result.fatal["en"] and "3 行目" in result.fatal["ja"]


def test_excel_sep_hint_line_is_skipped() -> None:
    report = ok(b"sep=;\nSender address;Messages sent\na@contoso.com;1 234\n")
    assert report.delimiter == ";"
    assert [(r.line, r.messages) for r in report.rows] == [(3, 1234)]


def test_undecodable_bytes_are_refused() -> None:
    # 0x85 0x20 is invalid in both UTF-8 and cp932.
    result = refused(DOC_HEADER.encode() + b"\r\n\x85\x20\x85\x20@contoso.com\r\n")
    assert result.fatal is not None and "encoding" in result.fatal["en"]


# ---------------------------------------------------------------- headers and values


@pytest.mark.parametrize(
    "variant",
    [
        "TLS 1.0 (%)",
        "tls 1.0 %",
        "TLS_1_0_%",
        '"TLS 1.0 (%)"',
        "\ufeffTLS 1.0 (%)",
        "ＴＬＳ　１．０（％）",
        "TLS1.0 percent",
    ],
)
def test_header_variants_normalise_to_one_key(variant: str) -> None:
    assert header_key(variant) == header_key("TLS 1.0 (%)") == "tls10"


def test_distinct_tls_headers_stay_distinct() -> None:
    assert len({header_key("TLS 1.0 (%)"), header_key("TLS 1.1 (%)"), header_key("TLS 1.2 (%)")}) == 3


def test_documented_header_beats_a_guessed_one_for_the_same_field() -> None:
    report = ok(csv_bytes("Sender,Sender address,Domain", "x,a@contoso.com,contoso.com"))
    assert report.column_map["sender"] == "Sender address"
    assert "sender" not in report.guessed_fields
    assert any("'Sender'" in n["en"] and "not used" in n["en"] for n in report.notes)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5", 12.5),
        ("12.5%", 12.5),
        ("12,5", 12.5),
        (" 100 ", 100.0),
        ("0", 0.0),
        ("１２．５％", 12.5),
        ("", None),
    ],
)
def test_parse_percent_accepts(raw: str, expected: float | None) -> None:
    assert parse_percent(raw) == expected


@pytest.mark.parametrize("raw", ["100.1", "-1", "abc", "1e2", "nan", "12.5.1", "%", "1_0"])
def test_parse_percent_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_percent(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234", 1234),
        ("1,234", 1234),
        ("1 234", 1234),
        ("1\u00a0234", 1234),
        ("12,345,678", 12345678),
        ("０", 0),
        ("", None),
    ],
)
def test_parse_count_accepts(raw: str, expected: int | None) -> None:
    assert parse_count(raw) == expected


@pytest.mark.parametrize("raw", ["-1", "1.5", "12,34", "1,2345", "1 23", "ten", "1,234 567"])
def test_parse_count_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_count(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Basic", "basic"),
        ("BASIC", "basic"),
        ("基本認証", "basic"),
        ("OAuth", "oauth"),
        ("oauth 2.0", "oauth"),
        ("", None),
    ],
)
def test_auth_values(value: str, expected: str | None) -> None:
    report = ok(csv_bytes(AUTH_HEADER, f"a@contoso.com,contoso.com,0,0,100,1,{value}"))
    assert report.rows[0].auth == expected


# ---------------------------------------------------------------- alias data


def test_alias_file_covers_every_field_and_documented_header() -> None:
    aliases = load_aliases()
    for header, name in zip(DOC_HEADER.split(","), FIELDS):
        assert aliases.headers[header_key(header)] == (name, True)
    assert aliases.headers[header_key("Authentication Protocol")] == ("auth", False)
    assert aliases.headers[header_key("認証プロトコル")] == ("auth", False)


def test_alias_file_says_which_headers_are_guesses() -> None:
    raw = json.loads(HEADERS_PATH.read_text(encoding="utf-8"))
    assert raw["fields"]["auth"]["documented"] == []
    assert "guess" in raw["_guesses"] and "Japanese" in raw["_guesses"]


def test_an_alias_claimed_by_two_fields_fails_at_load() -> None:
    raw = json.loads(HEADERS_PATH.read_text(encoding="utf-8"))
    raw["fields"]["domain"]["guessed"].append("sender_address")
    with pytest.raises(ValueError, match="claimed by both"):
        parse_aliases(raw)


# ---------------------------------------------------------------- summary and scale


def test_summarize_counts_senders_by_protocol_and_legacy_tls() -> None:
    report = ok(fixture("with_auth_bom.csv"))
    assert summarize(report) == {
        "rows": 4,
        "senders": 3,
        "basic_senders": 2,
        "oauth_senders": 1,
        "unknown_auth_senders": 1,
        "legacy_tls_senders": 1,
        "total_messages": 1234 + 10 + 300 + 5,
    }


def test_one_hundred_thousand_rows_parse_completely() -> None:
    lines = [AUTH_HEADER]
    lines += [
        f'user{i}@contoso.com,contoso.com,{i % 2},0,{100 - i % 2},"{i:,}",{"Basic" if i % 3 else "OAuth"}'
        for i in range(100_000)
    ]
    report = ok(csv_bytes(*lines))
    assert len(report.rows) == 100_000
    assert report.rows[-1].line == 100_001
    totals = summarize(report)
    assert totals["senders"] == 100_000
    assert totals["total_messages"] == sum(range(100_000))
    assert totals["legacy_tls_senders"] == 50_000
