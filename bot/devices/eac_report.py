"""Reading the "SMTP AUTH clients" report that an admin exports as CSV from the Exchange admin center.

This module owns one thing: turning the bytes of that export (EAC > Reports > Mail flow > SMTP AUTH
clients > Export) into validated rows, or into the complete list of what is wrong with the file. It
never returns part of a file. An admin who fixes every listed line and uploads again gets the whole
inventory, which is easier to trust than one that silently lost rows.

What is known about the file (shared facts §5): Microsoft documents the columns Sender address,
Domain, TLS 1.0 (%), TLS 1.1 (%), TLS 1.2 (%) and Messages sent. The Authentication Protocol column
(Basic or OAuth), added in October 2024 per MC786329, has no documented CSV header, and neither has
an export from the Japanese-language admin center. Headers are therefore matched tolerantly through
``bot/data/eac_headers.json``. The Japanese headers and every Authentication Protocol header in it
are guesses, and each match made through a guess is reported in the notes so the admin can check it.

Line numbers are physical lines as a text editor counts them, starting at 1. They equal Excel's row
numbers unless a quoted cell holds a line break, which the EAC export does not produce.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple

log = logging.getLogger(__name__)

HEADERS_PATH: Final = Path(__file__).resolve().parent.parent / "data" / "eac_headers.json"

Localized = dict[str, str]
AuthProtocol = Literal["basic", "oauth"]

FIELDS: Final = ("sender", "domain", "tls10", "tls11", "tls12", "messages", "auth")
DELIMITERS: Final = (",", "\t", ";")
HEADER_SEARCH_LINES: Final = 10
"""The header may sit below a title line or two; this many non-empty lines are searched for it."""

FIELD_LABELS: Final[Mapping[str, Localized]] = {
    "sender": {"en": "Sender address", "ja": "送信者アドレス"},
    "domain": {"en": "Domain", "ja": "ドメイン"},
    "tls10": {"en": "TLS 1.0 (%)", "ja": "TLS 1.0 (%)"},
    "tls11": {"en": "TLS 1.1 (%)", "ja": "TLS 1.1 (%)"},
    "tls12": {"en": "TLS 1.2 (%)", "ja": "TLS 1.2 (%)"},
    "messages": {"en": "Messages sent", "ja": "送信メッセージ数"},
    "auth": {"en": "Authentication protocol", "ja": "認証プロトコル"},
}

_ENCODING_LABELS: Final[Mapping[str, Localized]] = {
    "utf-8": {"en": "UTF-8", "ja": "UTF-8"},
    "utf-8-sig": {"en": "UTF-8 with BOM", "ja": "UTF-8 (BOM 付き)"},
    "utf-16-le": {"en": "UTF-16 little-endian", "ja": "UTF-16 (リトルエンディアン)"},
    "utf-16-be": {"en": "UTF-16 big-endian", "ja": "UTF-16 (ビッグエンディアン)"},
    "cp932": {
        "en": "Shift_JIS (cp932, as Japanese Excel saves CSV)",
        "ja": "Shift_JIS (cp932、日本語版 Excel の CSV 形式)",
    },
}
_DELIMITER_LABELS: Final[Mapping[str, Localized]] = {
    ",": {"en": "commas", "ja": "カンマ"},
    "\t": {"en": "tabs", "ja": "タブ"},
    ";": {"en": "semicolons", "ja": "セミコロン"},
}
_HEADER_SUFFIXES: Final = ("percentage", "percent", "pct", "のパーセント", "パーセント", "の割合", "割合")
_SNIPPET_CHARS: Final = 60
_CONTROL_TO_SPACE: Final = {code: " " for code in range(32)}
_MAX_HEADER_LINE_CHARS: Final = 65_536
_BINARY_SAMPLE_CHARS: Final = 65_536

_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})"
_EMAIL_RE: Final = re.compile(f"{_LOCAL}@{_DOMAIN}")
_DOMAIN_RE: Final = re.compile(_DOMAIN)
_PERCENT_RE: Final = re.compile(r"(\d{1,3})(?:[.,](\d+))?\s*%?")
_COUNT_RE: Final = re.compile(r"\d+|\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+")


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class EacRow:
    """One validated report line. ``sender`` and ``domain`` are lower-case because Exchange addresses are
    case-insensitive and later joins (devices, sign-in logs) must not split one sender in two."""

    line: int
    sender: str
    domain: str
    tls10: float | None
    tls11: float | None
    tls12: float | None
    messages: int | None
    auth: AuthProtocol | None


@dataclass(frozen=True)
class EacReport:
    """A fully valid export. ``column_map`` is field -> header exactly as written in the file, so the admin
    can see how each column was read; ``notes`` say what was assumed, skipped or missing."""

    rows: list[EacRow]
    encoding: str
    delimiter: str
    column_map: dict[str, str]
    notes: list[Localized]
    guessed_fields: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class LineError:
    """One problem on one line; a line with two bad cells yields two errors so each can be fixed."""

    line: int
    reason: Localized
    field: str | None = None


@dataclass(frozen=True)
class EacReportErrors:
    """Why the file was refused: either ``fatal`` (the file as a whole) or every bad line in ``errors``."""

    errors: list[LineError]
    fatal: Localized | None = None


# ---------------------------------------------------------------- alias data


@dataclass(frozen=True)
class HeaderAliases:
    """The alias file, normalised for lookup: key -> (field or value, whether Microsoft documents it)."""

    headers: Mapping[str, tuple[str, bool]]
    auth_values: Mapping[str, tuple[AuthProtocol, bool]]
    summary_markers: frozenset[str]


@lru_cache(maxsize=4096)
def header_key(text: str) -> str:
    """Reduce a header or value to what matters for matching, so case, spacing, underscores, quotes,
    BOM, full-width characters and "(%)" versus "%" never decide whether a column is recognised."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    key = "".join(ch for ch in folded if ch.isalnum())
    for suffix in _HEADER_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def parse_aliases(raw: Mapping[str, Any]) -> HeaderAliases:
    """Build the lookup tables; a key claimed by two fields is a data bug and fails loudly at load."""
    headers: dict[str, tuple[str, bool]] = {}
    fields = raw["fields"]
    if set(fields) != set(FIELDS) or not fields["sender"].get("required"):
        raise ValueError(f"eac_headers.json must define exactly {FIELDS} with sender required")
    for name in FIELDS:
        _add_aliases(headers, name, fields[name], "header")
    values: dict[str, tuple[str, bool]] = {}
    for name in ("basic", "oauth"):
        _add_aliases(values, name, raw["auth_values"][name], "auth value")
    markers = frozenset(header_key(v) for v in raw["summary_markers"]["values"])
    auth_values = {key: (_as_auth(v[0]), v[1]) for key, v in values.items()}
    return HeaderAliases(headers=headers, auth_values=auth_values, summary_markers=markers)


def _as_auth(name: str) -> AuthProtocol:
    return "basic" if name == "basic" else "oauth"


def _add_aliases(table: dict[str, tuple[str, bool]], name: str, spec: Mapping[str, Any], what: str) -> None:
    for documented in (True, False):
        for alias in spec["documented" if documented else "guessed"]:
            key = header_key(alias)
            owner = table.get(key)
            if owner is not None and owner[0] != name:
                raise ValueError(f"{what} alias {alias!r} is claimed by both {owner[0]} and {name}")
            if owner is None:
                table[key] = (name, documented)


@lru_cache(maxsize=1)
def load_aliases(path: Path = HEADERS_PATH) -> HeaderAliases:
    with path.open(encoding="utf-8") as handle:
        return parse_aliases(json.load(handle))


# ---------------------------------------------------------------- value parsers


@lru_cache(maxsize=4096)
def parse_percent(text: str) -> float | None:
    """Percent 0-100 from "12.5", "12.5%" or "12,5" (European Excel); blank means the report had no value.
    Raises ValueError otherwise."""
    value = _clean(text)
    if not value:
        return None
    match = _PERCENT_RE.fullmatch(value)
    if match is None:
        raise ValueError(value)
    number = float(f"{match.group(1)}.{match.group(2) or 0}")
    if not (math.isfinite(number) and 0.0 <= number <= 100.0):
        raise ValueError(value)
    return number


def parse_count(text: str) -> int | None:
    """Whole number >= 0 from "1234", "1,234" or "1 234"; blank means no value.
    Raises ValueError otherwise."""
    value = _clean(text)
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return int(value)
    if _COUNT_RE.fullmatch(value) is None:
        raise ValueError(value)
    return int(value.replace(",", "").replace(" ", ""))


def parse_auth(text: str, aliases: HeaderAliases) -> AuthProtocol | None:
    """'basic' / 'oauth' from the Authentication Protocol cell; blank means unknown. Raises ValueError."""
    value = _clean(text)
    if not value:
        return None
    hit = aliases.auth_values.get(header_key(value))
    if hit is None:
        raise ValueError(value)
    return hit[0]


def is_email(text: str) -> bool:
    return _EMAIL_RE.fullmatch(text) is not None


@lru_cache(maxsize=4096)
def is_domain(text: str) -> bool:
    """Cached because an export repeats a handful of domains across thousands of rows."""
    return _DOMAIN_RE.fullmatch(text) is not None


def _clean(text: str) -> str:
    """Strip and, only when needed, NFKC-normalise: Japanese Excel may write full-width digits or "％"."""
    value = text.strip()
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value).strip()
    return value


# ---------------------------------------------------------------- decoding


@dataclass(frozen=True)
class _Decoded:
    text: str
    encoding: str


def _decode(data: bytes) -> _Decoded | Localized:
    """Text and codec name, or the reason the bytes are not a text file we can read.

    Order matters: BOMs are certain; strict UTF-8 almost never accepts Shift_JIS bytes by accident,
    so it is tried before cp932 (Japanese Excel's "CSV (comma delimited)")."""
    signature = _binary_signature(data)
    if signature is not None:
        return signature
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8-sig", "utf-8")
    if data.startswith(b"\xff\xfe"):
        return _strict(data[2:], "utf-16-le", "utf-16-le")
    if data.startswith(b"\xfe\xff"):
        return _strict(data[2:], "utf-16-be", "utf-16-be")
    if b"\x00" in data[:4096]:
        return _utf16_without_bom(data)
    for codec in ("utf-8", "cp932"):
        try:
            return _Decoded(data.decode(codec), codec)
        except UnicodeDecodeError:
            continue
    return _reason(
        "The file's text encoding could not be read. Save it as CSV UTF-8 (or CSV from Japanese Excel) and "
        "upload it again.",
        "ファイルの文字コードを判別できませんでした。CSV UTF-8 (または日本語版 Excel の CSV) で保存し直してアップロードしてください。",
    )


def _strict(payload: bytes, name: str, codec: str) -> _Decoded | Localized:
    try:
        return _Decoded(payload.decode(codec), name)
    except UnicodeDecodeError:
        label = _ENCODING_LABELS[name]
        return _reason(
            f"The file starts with a {label['en']} marker but is not valid {label['en']} text.",
            f"ファイル先頭は {label['ja']} の印 (BOM) ですが、中身が正しい {label['ja']} のテキストではありません。",
        )


def _utf16_without_bom(data: bytes) -> _Decoded | Localized:
    """Some tools write UTF-16 without a BOM; its ASCII text has a NUL in every other byte."""
    sample = data[:4096]
    half = max(1, len(sample) // 2)
    for codec, nul_offset in (("utf-16-le", 1), ("utf-16-be", 0)):
        if sample[nul_offset::2].count(0) >= 0.6 * half and len(data) % 2 == 0:
            try:
                return _Decoded(data.decode(codec), codec)
            except UnicodeDecodeError:
                break
    return _not_text()


def _binary_signature(data: bytes) -> Localized | None:
    """Catch the common wrong uploads by their magic bytes, with a fix the admin can act on."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return _reason(
            "This is an Excel workbook, not a CSV file. Upload the .csv that EAC's Export button saved, "
            "or in Excel use Save As > CSV UTF-8.",
            "これは CSV ではなく Excel ブックです。EAC の [エクスポート] で保存した .csv をアップロードするか、"
            "Excel の [名前を付けて保存] で「CSV UTF-8」を選んで保存してください。",
        )
    if data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")):
        return _not_text()
    return None


def _looks_binary(text: str) -> bool:
    """Control and private-use characters do not occur in a real export; more than a trace means garbage."""
    sample = text[:_BINARY_SAMPLE_CHARS]
    if "\x00" in sample:
        return True
    odd = sum(
        1
        for ch in sample
        if (ch < " " and ch not in "\t\r\n")
        or unicodedata.category(ch) in ("Co", "Cs")
        or "\x7f" <= ch <= "\x9f"
    )
    return odd > max(2, len(sample) // 200)


def _not_text() -> Localized:
    return _reason(
        "This is not a text (CSV) file. Export the SMTP AUTH clients report from the Exchange admin center "
        "and upload that .csv.",
        "テキスト (CSV) ファイルではありません。Exchange 管理センターで SMTP AUTH クライアント レポートをエクスポートし、"
        "その .csv をアップロードしてください。",
    )


# ---------------------------------------------------------------- header


@dataclass(frozen=True)
class _Header:
    line: int
    delimiter: str
    cells: list[str]


def _find_header(text: str, aliases: HeaderAliases) -> _Header | None:
    """The first of the leading non-empty lines in which some delimiter yields a sender column; among
    delimiters the one that recognises the most columns wins, so "12,5" values cannot fool it."""
    seen = 0
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if not line.strip():
            continue
        seen += 1
        if seen > HEADER_SEARCH_LINES:
            break
        if len(line) > _MAX_HEADER_LINE_CHARS:
            continue
        best: tuple[int, str, list[str]] | None = None
        for delimiter in DELIMITERS:
            cells = _split_line(line, delimiter)
            found = {aliases.headers[k][0] for k in map(header_key, cells) if k in aliases.headers}
            if "sender" in found and (best is None or len(found) > best[0]):
                best = (len(found), delimiter, cells)
        if best is not None:
            return _Header(number, best[1], best[2])
    return None


def _split_line(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


@dataclass(frozen=True)
class _Columns:
    index: dict[str, int]
    shown: dict[str, str]
    guessed: frozenset[str]
    unused: list[str]


def _map_columns(cells: list[str], aliases: HeaderAliases) -> _Columns:
    """Field -> column index. When two columns claim one field, a documented header beats a guessed one,
    otherwise the first wins; the loser is listed as unused so nothing disappears silently."""
    index: dict[str, int] = {}
    documented: dict[str, bool] = {}
    unused: list[str] = []
    for position, cell in enumerate(cells):
        shown = _display_header(cell)
        hit = aliases.headers.get(header_key(cell))
        if hit is None:
            if shown:
                unused.append(shown)
            continue
        name, is_documented = hit
        if name in index and (documented[name] or not is_documented):
            unused.append(shown)
            continue
        if name in index:
            unused.append(_display_header(cells[index[name]]))
        index[name] = position
        documented[name] = is_documented
    shown_map = {name: _display_header(cells[i]) for name, i in index.items()}
    guessed = frozenset(name for name, doc in documented.items() if not doc)
    return _Columns(index=index, shown=shown_map, guessed=guessed, unused=unused)


def _display_header(cell: str) -> str:
    return cell.replace("\ufeff", "").strip().strip('"').strip()


# ---------------------------------------------------------------- parsing


def parse_eac_report(
    data: bytes, *, max_rows: int = 200_000, max_bytes: int = 50 * 2**20
) -> EacReport | EacReportErrors:
    """Validate the whole export first; return every row, or every problem, never a mix."""
    if len(data) > max_bytes:
        return _fatal(
            f"The file is {_megabytes(len(data))} MB; the limit is {_megabytes(max_bytes)} MB. "
            "Export a shorter date range or fewer senders.",
            f"ファイルサイズが {_megabytes(len(data))} MB あり、上限の {_megabytes(max_bytes)} MB を超えています。"
            "期間を短くするなどしてエクスポートし直してください。",
        )
    decoded = _decode(data)
    if not isinstance(decoded, _Decoded):
        return EacReportErrors(errors=[], fatal=decoded)
    text = decoded.text.lstrip("\ufeff")
    if not text.strip():
        return _fatal(
            "The file is empty.",
            "ファイルが空です。",
        )
    if _looks_binary(text):
        return EacReportErrors(errors=[], fatal=_not_text())
    lines = _count_lines(text)
    if lines > max_rows * 2 + 1_000:
        return _fatal(
            f"The file has {lines:,} lines, far more than {max_rows:,} data rows need (blank lines count too).",
            f"ファイルが {lines:,} 行あり、データ行の上限 {max_rows:,} 行に対して多すぎます (空行も含みます)。",
        )
    aliases = load_aliases()
    header = _find_header(text, aliases)
    if header is None:
        return _fatal(
            "No column header was recognised: the report needs a 'Sender address' column "
            f"(the first line reads: {_show(_first_line(text))}).",
            "列見出しを認識できませんでした。「Sender address」(送信者アドレス) 列が必要です"
            f" (1 行目の内容:{_show(_first_line(text), 'ja')})。",
        )
    columns = _map_columns(header.cells, aliases)
    result = _parse_rows(text, header, columns, aliases, max_rows)
    if isinstance(result, EacReportErrors):
        log.info("EAC report refused: %d line errors, fatal=%s", len(result.errors), result.fatal is not None)
        return result
    rows, summary_lines = result
    notes = _notes(decoded.encoding, header, columns, summary_lines, len(rows))
    log.info(
        "EAC report parsed: %d rows, encoding %s, delimiter %r", len(rows), decoded.encoding, header.delimiter
    )
    return EacReport(
        rows=rows,
        encoding=decoded.encoding,
        delimiter=header.delimiter,
        column_map=dict(columns.shown),
        notes=notes,
        guessed_fields=columns.guessed,
    )


def _parse_rows(
    text: str, header: _Header, columns: _Columns, aliases: HeaderAliases, max_rows: int
) -> tuple[list[EacRow], list[int]] | EacReportErrors:
    """One pass over the records; this loop is the hot path for 100k-row exports, so cells are padded
    once per record and missing columns point at a trailing blank cell instead of being checked per field."""
    width = len(header.cells)
    col = _Positions(*(columns.index.get(name, width) for name in FIELDS))
    rows: list[EacRow] = []
    errors: list[LineError] = []
    first_seen: dict[tuple[str, str | None], int] = {}
    summary_lines: list[int] = []
    data_rows = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=header.delimiter)
    end = 0
    try:
        for record in reader:
            line, end = end + 1, reader.line_num
            if line <= header.line or not "".join(record).strip():
                continue
            cells, overflow = _pad(record, width)
            sender = _clean(cells[col.sender]).lower()
            valid_sender = is_email(sender)
            if not valid_sender and _is_summary(record, sender, aliases):
                summary_lines.append(line)
                continue
            data_rows += 1
            if data_rows > max_rows:
                return _fatal(
                    f"The file has more than {max_rows:,} data rows, the most one upload can hold. "
                    "Export a shorter date range.",
                    f"データ行が上限の {max_rows:,} 行を超えています。期間を短くしてエクスポートし直してください。",
                )
            before = len(errors)
            if overflow:
                errors.append(LineError(line, dict(_EXTRA_CELLS)))
            if not valid_sender:
                raw = cells[col.sender]
                errors.append(
                    LineError(line, _bad_email(raw) if raw.strip() else dict(_EMPTY_SENDER), "sender")
                )
            row = _parse_row(line, cells, col, sender, aliases, errors)
            if row is None or len(errors) > before:
                continue
            earlier = first_seen.setdefault((row.sender, row.auth), line)
            if earlier != line:
                errors.append(LineError(line, _duplicate_reason(earlier, row), "sender"))
                continue
            rows.append(row)
    except csv.Error as exc:
        return _fatal(
            f"Line {end + 1} is not valid CSV ({exc}). Check for a stray double quote.",
            f'{end + 1} 行目を CSV として読み取れません ({exc})。余分な二重引用符 (") がないか確認してください。',
        )
    if errors:
        return EacReportErrors(errors=errors, fatal=None)
    return rows, summary_lines


class _Positions(NamedTuple):
    """Column index per field; a field without a column points one past the header, at a blank cell."""

    sender: int
    domain: int
    tls10: int
    tls11: int
    tls12: int
    messages: int
    auth: int


def _pad(record: list[str], width: int) -> tuple[list[str], bool]:
    """Exactly ``width + 1`` cells (the last always blank) and whether non-blank cells were cut off."""
    length = len(record)
    if length <= width:
        return record + [""] * (width + 1 - length), False
    overflow = bool("".join(record[width:]).strip())
    return record[:width] + [""], overflow


def _parse_row(
    line: int,
    cells: list[str],
    col: _Positions,
    sender: str,
    aliases: HeaderAliases,
    errors: list[LineError],
) -> EacRow | None:
    """The row's values, or None after appending one LineError per bad cell (the sender is checked by
    the caller, which needs the verdict earlier to recognise total lines)."""
    before = len(errors)
    domain = _parse_domain(line, cells[col.domain], sender, errors)
    tls = []
    for name, position in (("tls10", col.tls10), ("tls11", col.tls11), ("tls12", col.tls12)):
        raw = cells[position]
        try:
            tls.append(parse_percent(raw))
        except ValueError:
            tls.append(None)
            errors.append(LineError(line, _bad_percent(name, raw), name))
    raw = cells[col.messages]
    try:
        messages = parse_count(raw)
    except ValueError:
        messages = None
        errors.append(LineError(line, _bad_count(raw), "messages"))
    raw = cells[col.auth]
    try:
        auth = parse_auth(raw, aliases)
    except ValueError:
        auth = None
        errors.append(LineError(line, _bad_auth(raw), "auth"))
    if len(errors) > before:
        return None
    return EacRow(line, sender, domain, tls[0], tls[1], tls[2], messages, auth)


def _parse_domain(line: int, raw: str, sender: str, errors: list[LineError]) -> str:
    """The Domain cell, or the sender's own domain when the column or cell is blank."""
    value = _clean(raw).lower().lstrip("@")
    if not value:
        return sender.rpartition("@")[2]
    if not is_domain(value):
        errors.append(
            LineError(
                line,
                {
                    "en": f"Domain {_show(raw)} is not a domain name.",
                    "ja": f"ドメイン{_show(raw, 'ja')}はドメイン名の形式ではありません。",
                },
                "domain",
            )
        )
    return value


def _is_summary(record: list[str], sender: str, aliases: HeaderAliases) -> bool:
    """A "Total" line is the only kind of non-sender row an export plausibly carries. Markers are short
    words, so long cells are not normalised at all (bad rows must stay cheap in a 100k-row file)."""
    markers = aliases.summary_markers
    first = record[0] if record else ""
    return any(len(cell) <= 24 and header_key(cell) in markers for cell in (sender, first))


# ---------------------------------------------------------------- summary


def summarize(report: EacReport) -> dict[str, int]:
    """Counts for a first answer in chat. A sender with both Basic and OAuth rows counts in both, because
    it still has something sending with Basic."""
    senders: set[str] = set()
    basic: set[str] = set()
    oauth: set[str] = set()
    unknown: set[str] = set()
    legacy_tls: set[str] = set()
    total = 0
    for row in report.rows:
        senders.add(row.sender)
        if row.auth == "basic":
            basic.add(row.sender)
        elif row.auth == "oauth":
            oauth.add(row.sender)
        else:
            unknown.add(row.sender)
        if (row.tls10 or 0.0) > 0.0 or (row.tls11 or 0.0) > 0.0:
            legacy_tls.add(row.sender)
        total += row.messages or 0
    return {
        "rows": len(report.rows),
        "senders": len(senders),
        "basic_senders": len(basic),
        "oauth_senders": len(oauth),
        "unknown_auth_senders": len(unknown),
        "legacy_tls_senders": len(legacy_tls),
        "total_messages": total,
    }


# ---------------------------------------------------------------- text


_EXTRA_CELLS: Final[Localized] = {
    "en": "This line has more values than the header has columns. Check the delimiter and the double quotes.",
    "ja": 'この行は見出しより値の数が多くなっています。区切り文字と二重引用符 (") を確認してください。',
}
_EMPTY_SENDER: Final[Localized] = {
    "en": "Sender address is empty.",
    "ja": "送信者アドレスが空です。",
}


def _bad_email(raw: str) -> Localized:
    return {
        "en": f"Sender address {_show(raw)} is not an email address.",
        "ja": f"送信者アドレス{_show(raw, 'ja')}はメールアドレスの形式ではありません。",
    }


def _bad_percent(name: str, raw: str) -> Localized:
    label = FIELD_LABELS[name]
    return {
        "en": f"{label['en']} must be a percentage from 0 to 100, such as 12.5 or 12.5% "
        f"(found {_show(raw)}).",
        "ja": f"{label['ja']} には 0～100 の割合 (12.5 や 12.5% など) を入れてください (値:{_show(raw, 'ja')})。",
    }


def _bad_count(raw: str) -> Localized:
    return {
        "en": "Messages sent must be a whole number of 0 or more, such as 1234 or 1,234 "
        f"(found {_show(raw)}).",
        "ja": f"送信メッセージ数には 0 以上の整数 (1234 や 1,234 など) を入れてください (値:{_show(raw, 'ja')})。",
    }


def _bad_auth(raw: str) -> Localized:
    return {
        "en": f"Authentication protocol must be Basic or OAuth (found {_show(raw)}).",
        "ja": f"認証プロトコルは Basic または OAuth のどちらかです (値:{_show(raw, 'ja')})。",
    }


def _duplicate_reason(earlier: int, row: EacRow) -> Localized:
    auth = {"basic": "Basic", "oauth": "OAuth"}.get(row.auth or "", "")
    en_auth = f" with {auth}" if auth else ""
    ja_auth = f" ({auth})" if auth else ""
    return {
        "en": f"Lines {earlier} and {row.line} are the same sender{en_auth}: {row.sender}. Keep one of them.",
        "ja": f"{earlier} 行目と {row.line} 行目が同じ送信者{ja_auth}です: {row.sender}。どちらか一方を残してください。",
    }


def _notes(
    encoding: str, header: _Header, columns: _Columns, summary_lines: list[int], row_count: int
) -> list[Localized]:
    """What the admin should know about how the file was read, most important first."""
    label = _ENCODING_LABELS[encoding]
    delimiter = _DELIMITER_LABELS[header.delimiter]
    notes: list[Localized] = [
        {
            "en": f"Read as {label['en']}, columns separated by {delimiter['en']}.",
            "ja": f"文字コード {label['ja']}、区切り文字は{delimiter['ja']}として読み込みました。",
        }
    ]
    guessed = [name for name in FIELDS if name in columns.guessed]
    if guessed:
        en = ", ".join(f"'{columns.shown[n]}' as {FIELD_LABELS[n]['en']}" for n in guessed)
        ja = "、".join(f"「{columns.shown[n]}」を{FIELD_LABELS[n]['ja']}" for n in guessed)
        notes.append(
            {
                "en": f"Read column {en}. Microsoft does not document these header names, so these "
                "matches are guesses: check that they are right.",
                "ja": f"列{ja}として読み込みました。これらの見出し名は Microsoft のドキュメントに記載がなく、"
                "推測による対応付けのため、正しいか確認してください。",
            }
        )
    notes.extend(_missing_notes(columns))
    if columns.unused:
        names = ", ".join(f"'{n}'" for n in columns.unused)
        names_ja = "、".join(f"「{n}」" for n in columns.unused)
        notes.append({"en": f"Columns not used: {names}.", "ja": f"使用しなかった列: {names_ja}。"})
    if header.line > 1:
        notes.append(
            {
                "en": f"The header is on line {header.line}; the lines above it were skipped.",
                "ja": f"見出しは {header.line} 行目にあり、それより上の行は読み飛ばしました。",
            }
        )
    for line in summary_lines:
        notes.append(
            {
                "en": f"Line {line} is a total line, not a sender, and was ignored.",
                "ja": f"{line} 行目は送信者ではなく合計行のため、無視しました。",
            }
        )
    if row_count == 0:
        notes.append(
            {
                "en": "The report has no data rows: nothing was sent with SMTP AUTH in the exported "
                "date range.",
                "ja": "レポートにデータ行がありません。エクスポートした期間に SMTP AUTH での送信はありませんでした。",
            }
        )
    return notes


def _missing_notes(columns: _Columns) -> list[Localized]:
    notes: list[Localized] = []
    if "auth" not in columns.index:
        notes.append(
            {
                "en": "No Authentication Protocol column: Basic/OAuth is unknown for every sender. "
                "Exports made since October 2024 should include it; check the column list in EAC.",
                "ja": "認証プロトコル列がないため、各送信者が Basic か OAuth かは不明です。"
                "2024 年 10 月以降のエクスポートには含まれるはずなので、EAC の列の設定を確認してください。",
            }
        )
    if "domain" not in columns.index:
        notes.append(
            {
                "en": "No Domain column: each sender's domain was taken from its address.",
                "ja": "ドメイン列がないため、ドメインは送信者アドレスから取り出しました。",
            }
        )
    tls_missing = [n for n in ("tls10", "tls11", "tls12") if n not in columns.index]
    if tls_missing:
        names = ", ".join(FIELD_LABELS[n]["en"] for n in tls_missing)
        notes.append(
            {
                "en": f"Missing column(s) {names}: TLS versions are not fully known.",
                "ja": f"{names} の列がないため、TLS のバージョンは一部不明です。",
            }
        )
    if "messages" not in columns.index:
        notes.append(
            {
                "en": "No Messages sent column: message volumes are unknown.",
                "ja": "送信メッセージ数の列がないため、送信量は不明です。",
            }
        )
    return notes


def _reason(en: str, ja: str) -> Localized:
    return {"en": en, "ja": ja}


def _fatal(en: str, ja: str) -> EacReportErrors:
    return EacReportErrors(errors=[], fatal=_reason(en, ja))


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f}"


def _count_lines(text: str) -> int:
    """Physical lines, counted at C speed so a flood of blank lines is refused before the row loop."""
    newlines = text.count("\n")
    return newlines if newlines else text.count("\r")


def _first_line(text: str) -> str:
    for line in io.StringIO(text, newline=""):
        if line.strip():
            return line.strip()
    return ""


def _show(raw: str, lang: str = "en") -> str:
    """A cell value safe to echo back: quoted as each language quotes, control characters blanked, long
    values cut before any other work so a 40 MB garbage cell costs nothing."""
    value = raw.strip()
    if len(value) > _SNIPPET_CHARS:
        value = value[: _SNIPPET_CHARS - 1] + "…"
    value = value.translate(_CONTROL_TO_SPACE)
    return f"「{value}」" if lang == "ja" else f"'{value}'"
