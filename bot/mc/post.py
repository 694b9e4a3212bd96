"""One version of a Message Center post, normalised from a Graph ``serviceUpdateMessage`` dict.

This module owns what "the same post content" means: which fields count, how the HTML body becomes
plain paragraphs, how Graph's date strings become aware UTC datetimes, how the "Updated <Month>
<day>, <year>:" notes are found, and the ``content_hash`` that storage uses to tell a real new
version from a re-fetch. ``lastModifiedDateTime`` is kept for display but is deliberately not part of
the hash: Microsoft bumps it without changing the text, and we only want to alert on content.

Everything here is pure: dict in, frozen dataclass out. No Graph calls, no storage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from html.parser import HTMLParser
from typing import Any

log = logging.getLogger(__name__)

HASH_SCHEMA = 1  # bump when the canonical form changes, so old and new hashes never collide silently

# Graph documents these enums in lower camelCase, but its own samples return "StayInformed" /
# "Normal". We store the documented spelling so equal values compare equal whatever Graph sends.
_CATEGORIES = ("preventOrFixIssue", "planForChange", "stayInformed", "unknownFutureValue")
_SEVERITIES = ("normal", "high", "critical", "unknownFutureValue")

# Elements whose boundaries end a paragraph. Inline elements (b, a, span, …) only contribute text.
_BLOCK_TAGS = frozenset(
    """address article aside blockquote br caption dd div dl dt figcaption figure footer form h1 h2 h3
    h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul""".split()
)
# Elements whose text is never shown to a reader, so it must not reach a card or the hash.
_HIDDEN_TAGS = frozenset({"script", "style", "template", "head"})
# Characters that render as nothing but would make identical-looking paragraphs differ.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_UPDATE_NOTE = re.compile(
    r"^updated\s+(?P<month>[a-z]+)\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(?P<year>\d{4})"
    r"\s*[:：]\s*(?P<text>.*)$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class UpdateNote:
    """An "Updated <date>:" lead paragraph: Microsoft's own headline for what a version changed."""

    date: date
    text: str


@dataclass(frozen=True)
class PostVersion:
    """One fetched state of a Message Center post, with everything a diff or a card needs.

    ``details`` (Graph's name/value pairs such as ExternalLink) and ``last_modified`` are carried for
    display but are not part of ``content_hash``; see the module docstring.
    """

    id: str
    title: str
    start: datetime | None
    end: datetime | None
    action_required_by: datetime | None
    last_modified: datetime | None
    is_major_change: bool
    category: str
    severity: str
    services: tuple[str, ...]
    tags: tuple[str, ...]
    body_html: str
    paragraphs: tuple[str, ...]
    update_notes: tuple[UpdateNote, ...]
    details: tuple[tuple[str, str], ...]
    content_hash: str

    @property
    def latest_note(self) -> UpdateNote | None:
        return self.update_notes[0] if self.update_notes else None


def collapse_whitespace(text: str) -> str:
    """One space between words, none at the ends, invisible characters gone: our paragraph identity."""
    return " ".join(text.translate(_INVISIBLE).split())


class _ParagraphParser(HTMLParser):
    """Collects visible text, starting a new paragraph at every block boundary and <br>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._buffer: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = collapse_whitespace("".join(self._buffer))
        self._buffer.clear()
        if text:
            self.paragraphs.append(text)


def html_to_paragraphs(html: str) -> list[str]:
    """Plain paragraphs from Message Center HTML, safe to show anywhere and stable to compare.

    Block elements and <br> split paragraphs (so each list item, however deeply nested, is its own
    paragraph), entities are decoded, whitespace is collapsed, and script/style text is dropped.
    """
    parser = _ParagraphParser()
    parser.feed(html)
    parser.close()
    return parser.paragraphs


def text_to_paragraphs(text: str) -> list[str]:
    """Plain-text bodies: each non-blank line is a paragraph, as the author laid it out."""
    return [line for line in (collapse_whitespace(raw) for raw in text.splitlines()) if line]


def parse_graph_datetime(value: object) -> datetime | None:
    """An aware UTC datetime from a Graph DateTimeOffset, or None when Graph gives none.

    Accepts "Z", explicit offsets and any number of fractional digits. A value without an offset is
    taken as UTC, which is what Graph means by it. Graph's "0001-01-01" placeholder means "not set".
    Anything else that is not a date is an error: silently dropping a date would fake a change.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # 7-digit .NET ticks; 3.11 copes, older would not
        if text[-1:] in ("z", "Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as error:
            raise ValueError(f"not an ISO 8601 date-time: {value!r}") from error
    else:
        raise ValueError(f"not a date-time: {value!r}")
    if parsed.year <= 1:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _canonical_enum(value: object, known: Sequence[str]) -> str:
    text = collapse_whitespace(str(value)) if value is not None else ""
    for name in known:
        if name.casefold() == text.casefold():
            return name
    return text


def canonical_category(value: object) -> str:
    """The documented lower-camelCase category, whatever casing Graph sent; unknown values kept."""
    return _canonical_enum(value, _CATEGORIES)


def canonical_severity(value: object) -> str:
    """The documented lower-camelCase severity, whatever casing Graph sent; unknown values kept."""
    return _canonical_enum(value, _SEVERITIES)


def _string_list(value: object) -> tuple[str, ...]:
    """Tags/services as given, minus blanks and case-insensitive duplicates, in Graph's order."""
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes, Mapping)):
        return ()
    seen: set[str] = set()
    result: list[str] = []
    for item in value:
        if item is None:
            continue
        text = collapse_whitespace(str(item))
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    return tuple(result)


def _details(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        (str(item.get("name") or ""), str(item.get("value") or ""))
        for item in value
        if isinstance(item, Mapping)
    )


def _body(raw_body: object) -> tuple[str, tuple[str, ...]]:
    """(html, paragraphs). A text body is escaped into HTML so cards can treat every body alike."""
    if not isinstance(raw_body, Mapping):
        return "", ()
    content = raw_body.get("content")
    if not isinstance(content, str) or not content.strip():
        return "", ()
    if str(raw_body.get("contentType") or "html").strip().casefold() == "text":
        paragraphs = tuple(text_to_paragraphs(content))
        return "".join(f"<p>{escape(p)}</p>" for p in paragraphs), paragraphs
    return content, tuple(html_to_paragraphs(content))


def parse_update_notes(paragraphs: Sequence[str]) -> tuple[UpdateNote, ...]:
    """The "Updated <Month> <day>, <year>:" notes, newest first (same-day notes keep body order).

    A note whose text sits in the following paragraph (a bold "Updated …:" line on its own) takes
    that paragraph as its text. Impossible dates are logged and skipped rather than guessed.
    """
    notes: list[UpdateNote] = []
    for index, paragraph in enumerate(paragraphs):
        match = _UPDATE_NOTE.match(paragraph)
        if not match:
            continue
        month = _MONTHS.get(match["month"].casefold())
        if month is None:
            continue
        try:
            when = date(int(match["year"]), month, int(match["day"]))
        except ValueError:
            log.warning("ignoring update note with an impossible date: %r", paragraph[:80])
            continue
        text = match["text"].strip()
        if not text and index + 1 < len(paragraphs) and not _UPDATE_NOTE.match(paragraphs[index + 1]):
            text = paragraphs[index + 1]
        notes.append(UpdateNote(when, text))
    return tuple(sorted(notes, key=lambda note: note.date, reverse=True))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def compute_content_hash(
    *,
    post_id: str,
    title: str,
    start: datetime | None,
    end: datetime | None,
    action_required_by: datetime | None,
    is_major_change: bool,
    category: str,
    severity: str,
    services: Sequence[str],
    tags: Sequence[str],
    paragraphs: Sequence[str],
) -> str:
    """sha256 over exactly the fields a diff reports, so "hash changed" means "diff is not empty".

    Services and tags are compared case-insensitively and as sets; paragraphs keep their order.
    """
    canonical = {
        "schema": HASH_SCHEMA,
        "id": post_id.upper(),
        "title": title,
        "start": _iso(start),
        "end": _iso(end),
        "action_required_by": _iso(action_required_by),
        "is_major_change": is_major_change,
        "category": category,
        "severity": severity,
        "services": sorted({s.casefold() for s in services}),
        "tags": sorted({t.casefold() for t in tags}),
        "paragraphs": list(paragraphs),
    }
    encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def normalize_post(raw: Mapping[str, Any]) -> PostVersion:
    """A comparable PostVersion from one Graph serviceUpdateMessage dict.

    Missing optional fields become empty values; a missing id or an unreadable date raises
    ValueError, because storing a version we cannot identify or date would corrupt the history.
    """
    post_id = collapse_whitespace(str(raw.get("id") or ""))
    if not post_id:
        raise ValueError("serviceUpdateMessage has no id")
    fields = {
        name: parse_graph_datetime(raw.get(key))
        for name, key in (
            ("start", "startDateTime"),
            ("end", "endDateTime"),
            ("action_required_by", "actionRequiredByDateTime"),
            ("last_modified", "lastModifiedDateTime"),
        )
    }
    title = collapse_whitespace(str(raw.get("title") or ""))
    category = canonical_category(raw.get("category"))
    severity = canonical_severity(raw.get("severity"))
    is_major_change = bool(raw.get("isMajorChange"))
    services = _string_list(raw.get("services"))
    tags = _string_list(raw.get("tags"))
    body_html, paragraphs = _body(raw.get("body"))
    content_hash = compute_content_hash(
        post_id=post_id,
        title=title,
        start=fields["start"],
        end=fields["end"],
        action_required_by=fields["action_required_by"],
        is_major_change=is_major_change,
        category=category,
        severity=severity,
        services=services,
        tags=tags,
        paragraphs=paragraphs,
    )
    return PostVersion(
        id=post_id,
        title=title,
        start=fields["start"],
        end=fields["end"],
        action_required_by=fields["action_required_by"],
        last_modified=fields["last_modified"],
        is_major_change=is_major_change,
        category=category,
        severity=severity,
        services=services,
        tags=tags,
        body_html=body_html,
        paragraphs=paragraphs,
        update_notes=parse_update_notes(paragraphs),
        details=_details(raw.get("details")),
        content_hash=content_hash,
    )
