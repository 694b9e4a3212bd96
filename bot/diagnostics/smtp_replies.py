"""Exchange Online SMTP replies: finding them in pasted text and saying what each one means.

The knowledge is data (``bot/data/smtp_replies.json``); this module owns validating that table,
recognising replies in free text (an NDR, a printer log line, a whole email, a chat message) and
choosing the entry that explains each one. It never guesses: a code the table doesn't know, or a
known code whose wording doesn't show which meaning applies, comes back unresolved together with the
closest known entries, so the bot can say "I don't know this one" instead of being confidently wrong.

Localised text: every user-facing string is a :class:`Localized` pair. Call ``.text(lang)`` with
``"en"``, ``"ja"`` or a locale such as ``"ja-JP"``; anything that isn't Japanese reads English.

Spans (``ReplyMatch.start`` / ``end``) index the text exactly as given, because the normalisation
done before matching (full-width ASCII, ideographic space, no-break space and curly quotes to their
ASCII forms) swaps characters one for one. Only the first ``MAX_SCAN_CHARS`` characters are read.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from bot.i18n import pick_language

log = logging.getLogger(__name__)

TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "smtp_replies.json"
MAX_SCAN_CHARS = 2_000_000
MAX_MATCHES = 100
MAX_SUGGESTIONS = 3
MAX_EXPLAINED = 10
MAX_CODE_TOKENS = 5_000  # code-shaped tokens examined per text; a real NDR has a handful
MAX_PHRASES_PER_ANCHOR = 2_000
MAX_ANCHOR_LOOKS = 20_000  # occurrences of one anchor word checked per text

Confidence = Literal["documented", "observed", "inferred"]
MatchedBy = Literal["code+text", "code", "text", "none"]
Problem = Literal["unknown_code", "ambiguous", "unknown_wording"]

CONFIDENCE_LEVELS: tuple[Confidence, ...] = ("documented", "observed", "inferred")
MESSAGE_KEYS = (
    "unknown_code",
    "ambiguous",
    "unknown_wording",
    "nothing_found",
    "follows",
    "confidence.observed",
    "confidence.inferred",
)
SETTING_SCOPES = ("org", "mailbox", "user", "tenant")

_WINDOW = 600  # how far after a code its reply text may run
_SNIPPET = 300
_SHORT_MESSAGE = 120  # a chat line this short that names a known code is a question about it
_CONTEXT_REACH = 48

_NORMALIZE = {codepoint: codepoint - 0xFEE0 for codepoint in range(0xFF01, 0xFF5F)}
_NORMALIZE.update({0x3000: 0x20, 0x00A0: 0x20, 0x2018: 0x27, 0x2019: 0x27, 0x201C: 0x22, 0x201D: 0x22})
_NEEDS_NORMALIZING = re.compile("[\uff01-\uff5e\u3000\u00a0\u2018\u2019\u201c\u201d]")
_ASCII_LOWER = {codepoint: codepoint + 32 for codepoint in range(0x41, 0x5B)}

# An enhanced code, classes 4 and 5 only (a 2xx is a success, nothing to explain). The guards keep
# IP addresses and four-part versions out; the look-behind sits after the first character so the
# regex engine can skip ahead to a 4 or 5 instead of trying every position.
_CODE = re.compile(
    r"(?P<enh>(?P<cls>[45])(?<![A-Za-z0-9_.][45])\.(?P<subject>\d{1,3})\.(?P<detail>\d{1,3}))"
    r"(?![0-9A-Za-z_]|\.\d)"
)
# The basic code right before it, with the separators real logs use: "550 ", "550-", "(535): ",
# "(535, b'" (Python's smtplib), and an optional NDR "#".
_BASIC_BEFORE = re.compile(
    r"(?<![A-Za-z0-9_.])(?P<basic>[45]\d\d)"
    r"(?:\s+|[ \t]*-[ \t]*|\)?:[ \t]*|\)?,[ \t]*b?['\"]|\)[ \t]+)(?:\#[ \t]?)?\Z"
)
_HASH_BEFORE = re.compile(r"\#[ \t]?\Z")
_NOT_A_REPLY_BEFORE = re.compile(
    r"(?:version|ver|v|firmware|fw|release|build|rev|revision|python|node|tls|ssl|upgraded?|updated?|"
    r"section|sec|chapter|step|item|§|rfc\s*\d+|バージョン|ファームウェア|ファーム|リリース|ビルド|第|章|節|項|手順)"
    r"[\s.:=#]*(?:is|was|to)?[\s.:=]*$"
)  # matched against a lower-cased slice: IGNORECASE alternations cost ~10x more per call
_CONTEXT = re.compile(
    r"smtp|ndr|dsn|error|fail|reply|respon|bounce|returned|diagnostic|status|reject|denied|"
    r"unsuccessful|authenticat|storedrv|エラー|応答|返信|不達|配信|失敗|拒否|認証|コード|送信"
)  # matched against a lower-cased slice, like the pattern above
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z]{4,}")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BASIC = re.compile(r"^[45]\d\d$")
_ENHANCED = re.compile(r"^[45]\.\d{1,3}\.\d{1,3}$")
_SETTING = re.compile(r"^[A-Za-z0-9]+:(?:" + "|".join(SETTING_SCOPES) + r")$")


class ReplyTableError(ValueError):
    """The reply table is malformed; ``str()`` names the file, the entry and the problem."""


@dataclass(frozen=True)
class Localized:
    """One sentence in both languages, so no caller can forget the Japanese one."""

    en: str
    ja: str

    def text(self, lang: str | None) -> str:
        return self.ja if pick_language(lang) == "ja" else self.en

    def format(self, **values: object) -> Localized:
        return Localized(self.en.format(**values), self.ja.format(**values))


@dataclass(frozen=True)
class ReplyEntry:
    """One known reply (or one wording of a shared code) and what an admin should do about it."""

    id: str
    basic_codes: tuple[str, ...]
    enhanced_codes: tuple[str, ...]
    identifying_codes: tuple[str, ...]
    patterns: tuple[str, ...]
    standalone: bool
    samples: tuple[str, ...]
    title: Localized
    meaning: Localized
    cause: Localized
    fix: Localized
    admin_center: Localized | None
    powershell: str | None
    is_retirement: bool
    related_settings: tuple[str, ...]
    confidence: Confidence
    source: str
    follows_codes: tuple[str, ...] = ()

    @property
    def enhanced_code(self) -> str:
        return self.enhanced_codes[0]

    @property
    def code(self) -> str:
        """The canonical code pair, e.g. ``550 5.7.30``, for headings."""
        return f"{self.basic_codes[0]} {self.enhanced_code}"


@dataclass(frozen=True)
class _Anchor:
    """A pattern phrase, found by ``str.find`` on its first word and then confirmed by regex: one
    big case-insensitive alternation costs most of a second per megabyte, this costs milliseconds."""

    word: str
    regex: re.Pattern[str]
    entry_id: str
    standalone: bool


@dataclass(frozen=True)
class _Index:
    """Lookups compiled once per table, so scanning a message costs a few passes, not setup."""

    by_code: Mapping[str, tuple[ReplyEntry, ...]]
    ids_by_code: Mapping[str, frozenset[str]]
    words: Mapping[str, frozenset[str]]
    anchors: Mapping[str, tuple[_Anchor, ...]]  # by first word, so "sender" is searched once


@dataclass(frozen=True)
class ReplyTable:
    """The validated reply table plus the lookups compiled from it."""

    entries: tuple[ReplyEntry, ...]
    messages: Mapping[str, Localized]
    index: _Index = field(repr=False, compare=False)

    def entry(self, entry_id: str) -> ReplyEntry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def message(self, key: str) -> Localized:
        return self.messages[key]

    @property
    def known_codes(self) -> frozenset[str]:
        return frozenset(self.index.by_code)


@dataclass(frozen=True)
class ReplyMatch:
    """One reply found in the text; ``entry`` is None when the table can't say which reply it is."""

    start: int
    end: int
    snippet: str
    basic_code: str | None
    enhanced_code: str | None
    entry: ReplyEntry | None
    matched_by: MatchedBy
    problem: Problem | None = None
    suggestions: tuple[ReplyEntry, ...] = ()

    @property
    def found(self) -> bool:
        return self.entry is not None

    @property
    def code(self) -> str:
        """The code as the user gave it (``535 5.7.139``, ``5.7.99``); the entry's when none was given."""
        given = " ".join(part for part in (self.basic_code, self.enhanced_code) if part)
        if given:
            return given
        return self.entry.code if self.entry else ""


@dataclass(frozen=True)
class ExplainedReply:
    """A match with the notes a card needs beside the entry's own text."""

    match: ReplyMatch
    notice: Localized | None = None
    confidence_note: Localized | None = None
    follows: str | None = None


@dataclass(frozen=True)
class Explanation:
    """Everything worth saying about a pasted text, most useful reply first."""

    items: tuple[ExplainedReply, ...]
    notice: Localized | None = None

    @property
    def found(self) -> bool:
        return any(item.match.entry for item in self.items)

    @property
    def entries(self) -> tuple[ReplyEntry, ...]:
        return tuple(item.match.entry for item in self.items if item.match.entry)

    @property
    def best(self) -> ReplyEntry | None:
        return next(iter(self.entries), None)

    @property
    def unresolved(self) -> tuple[ExplainedReply, ...]:
        return tuple(item for item in self.items if item.match.entry is None)

    @property
    def is_retirement(self) -> bool:
        return any(entry.is_retirement for entry in self.entries)


# --- loading and validation -------------------------------------------------------------------


def load_table(path: Path | None = None) -> ReplyTable:
    """Read and validate the table; a broken data file must fail loudly at start, not mid-chat."""
    source = path or TABLE_PATH
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ReplyTableError(f"{source.name}: not valid JSON ({error})") from error
    table = parse_table(raw, where=source.name)
    log.debug("loaded %d SMTP reply entries from %s", len(table.entries), source)
    return table


@lru_cache(maxsize=1)
def default_table() -> ReplyTable:
    """The shipped table, read once: the per-message check must not touch the disk."""
    return load_table()


def parse_table(raw: Any, where: str = "smtp_replies.json") -> ReplyTable:
    """Validate already-decoded JSON; separate from the file read so it stays pure."""
    if not isinstance(raw, dict):
        raise ReplyTableError(f"{where}: the top level must be an object")
    raw_entries = raw.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise ReplyTableError(f"{where}: 'entries' must be a non-empty list")
    messages = _parse_messages(raw.get("messages"), where)
    entries: list[ReplyEntry] = []
    seen: set[str] = set()
    for position, item in enumerate(raw_entries):
        entry = _parse_entry(item, f"{where}: entry #{position + 1}")
        if entry.id in seen:
            raise ReplyTableError(f"{where}: duplicate entry id {entry.id!r}")
        seen.add(entry.id)
        entries.append(entry)
    return ReplyTable(tuple(entries), MappingProxyType(messages), _build_index(entries))


def _parse_messages(raw: Any, where: str) -> dict[str, Localized]:
    if not isinstance(raw, dict):
        raise ReplyTableError(f"{where}: 'messages' must be an object")
    missing = [key for key in MESSAGE_KEYS if key not in raw]
    if missing:
        raise ReplyTableError(f"{where}: 'messages' lacks {', '.join(missing)}")
    return {key: _localized(value, f"{where}: message {key!r}") for key, value in raw.items()}


def _parse_entry(raw: Any, where: str) -> ReplyEntry:
    if not isinstance(raw, dict):
        raise ReplyTableError(f"{where}: must be an object")
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise ReplyTableError(f"{where}: 'id' must be lower-case words joined by '-', got {entry_id!r}")
    where = f"{where.rsplit(':', 1)[0]}: entry {entry_id!r}"
    enhanced = _codes(raw, "enhanced_codes", _ENHANCED, where, required=True)
    basic = _codes(raw, "basic_codes", _BASIC, where, required=True)
    classes = {code[0] for code in enhanced}
    if any(code[0] not in classes for code in basic):
        raise ReplyTableError(f"{where}: basic codes {basic} don't match the class of {enhanced}")
    identifying = _codes(raw, "identifying_codes", _ENHANCED, where, required=False)
    if not set(identifying) <= set(enhanced):
        raise ReplyTableError(f"{where}: 'identifying_codes' must be among 'enhanced_codes'")
    follows = _codes(raw, "follows_codes", _ENHANCED, where, required=False, optional_key=True)
    patterns = _strings(raw, "patterns", where)
    samples = _strings(raw, "samples", where)
    for sample in samples:
        if not any(code in sample for code in enhanced):
            raise ReplyTableError(f"{where}: sample {sample[:40]!r}… names none of {enhanced}")
    confidence = raw.get("confidence")
    if confidence not in CONFIDENCE_LEVELS:
        raise ReplyTableError(f"{where}: 'confidence' must be one of {CONFIDENCE_LEVELS}, got {confidence!r}")
    settings = _strings(raw, "related_settings", where, allow_empty=True)
    for setting in settings:
        if not _SETTING.match(setting):
            raise ReplyTableError(
                f"{where}: related setting {setting!r} must look like Name:{'|'.join(SETTING_SCOPES)}"
            )
    if "powershell" not in raw:
        raise ReplyTableError(f"{where}: 'powershell' is missing (use null when none applies)")
    powershell = raw["powershell"]
    if powershell is not None and (not isinstance(powershell, str) or not powershell.strip()):
        raise ReplyTableError(f"{where}: 'powershell' must be a command line or null")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ReplyTableError(f"{where}: 'source' must name where the reply comes from")
    return ReplyEntry(
        id=entry_id,
        basic_codes=basic,
        enhanced_codes=enhanced,
        identifying_codes=identifying,
        patterns=patterns,
        standalone=_flag(raw, "standalone", where),
        samples=samples,
        title=_localized(raw.get("title"), f"{where}: 'title'"),
        meaning=_localized(raw.get("meaning"), f"{where}: 'meaning'"),
        cause=_localized(raw.get("cause"), f"{where}: 'cause'"),
        fix=_localized(raw.get("fix"), f"{where}: 'fix'"),
        admin_center=_optional_localized(raw, "admin_center", where),
        powershell=powershell,
        is_retirement=_flag(raw, "is_retirement", where),
        related_settings=settings,
        confidence=confidence,
        source=source,
        follows_codes=follows,
    )


def _localized(raw: Any, where: str) -> Localized:
    if not isinstance(raw, dict):
        raise ReplyTableError(f"{where} must be an object with 'en' and 'ja'")
    for lang in ("en", "ja"):
        value = raw.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise ReplyTableError(f"{where} has no {lang!r} text")
    if not _JAPANESE.search(raw["ja"]):
        raise ReplyTableError(f"{where}: the 'ja' text contains no Japanese")
    return Localized(raw["en"], raw["ja"])


def _optional_localized(raw: dict[str, Any], key: str, where: str) -> Localized | None:
    if key not in raw:
        raise ReplyTableError(f"{where}: '{key}' is missing (use null when none applies)")
    return None if raw[key] is None else _localized(raw[key], f"{where}: '{key}'")


def _flag(raw: dict[str, Any], key: str, where: str) -> bool:
    value = raw.get(key)
    if not isinstance(value, bool):
        raise ReplyTableError(f"{where}: '{key}' must be true or false")
    return value


def _strings(raw: dict[str, Any], key: str, where: str, allow_empty: bool = False) -> tuple[str, ...]:
    value = raw.get(key)
    if not isinstance(value, list) or (not value and not allow_empty):
        raise ReplyTableError(f"{where}: '{key}' must be a {'' if allow_empty else 'non-empty '}list")
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise ReplyTableError(f"{where}: '{key}' must hold non-empty strings")
    return tuple(value)


def _codes(
    raw: dict[str, Any],
    key: str,
    shape: re.Pattern[str],
    where: str,
    required: bool,
    optional_key: bool = False,
) -> tuple[str, ...]:
    if optional_key and key not in raw:
        return ()
    codes = _strings(raw, key, where, allow_empty=not required)
    bad = [code for code in codes if not shape.match(code)]
    if bad:
        raise ReplyTableError(f"{where}: '{key}' has malformed codes {bad}")
    if len(set(codes)) != len(codes):
        raise ReplyTableError(f"{where}: '{key}' repeats a code")
    return codes


def _phrase_pattern(phrase: str) -> str:
    """Words may be split by any run of whitespace (pasted NDRs wrap lines), case is ignored, and a
    phrase starting with a letter must start a word so ``QuotaExceededException`` isn't found inside
    ``SubmissionQuotaExceededException``."""
    body = r"\s+".join(re.escape(word) for word in phrase.split())
    return (r"(?<![A-Za-z0-9])" if phrase[:1].isalnum() else "") + body


def _build_index(entries: Sequence[ReplyEntry]) -> _Index:
    by_code: dict[str, list[ReplyEntry]] = {}
    words: dict[str, frozenset[str]] = {}
    anchors: dict[str, list[_Anchor]] = {}
    for entry in entries:
        for code in entry.enhanced_codes:
            by_code.setdefault(code, []).append(entry)
        words[entry.id] = frozenset(_WORD.findall(" ".join((*entry.patterns, *entry.samples)).lower()))
        for phrase in entry.patterns:
            word = phrase.split()[0].lower()
            regex = re.compile(_phrase_pattern(phrase), re.IGNORECASE)
            anchors.setdefault(word, []).append(_Anchor(word, regex, entry.id, entry.standalone))
    return _Index(
        by_code=MappingProxyType({code: tuple(found) for code, found in by_code.items()}),
        ids_by_code=MappingProxyType(
            {code: frozenset(entry.id for entry in found) for code, found in by_code.items()}
        ),
        words=MappingProxyType(words),
        anchors=MappingProxyType({word: tuple(group) for word, group in anchors.items()}),
    )


# --- finding replies ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    basic: str | None
    enhanced: str


@dataclass(frozen=True)
class _Phrase:
    start: int
    end: int
    entry_id: str
    standalone: bool


@dataclass(frozen=True)
class _Phrases:
    """Every pattern phrase in a text, found once, so each code asks "any wording near me?" by
    bisection instead of re-reading its window."""

    hits: tuple[_Phrase, ...]
    starts: tuple[int, ...]

    def between(self, start: int, stop: int) -> Iterator[_Phrase]:
        position = bisect.bisect_left(self.starts, start)
        while position < len(self.hits) and self.hits[position].start < stop:
            yield self.hits[position]
            position += 1


def find_replies(text: str, table: ReplyTable) -> list[ReplyMatch]:
    """Every Exchange Online reply in ``text``, in order, each resolved to an entry where possible.

    A bare enhanced code counts only with evidence that it is a reply (a basic code, an NDR ``#``,
    reply words nearby, the reply's own wording, or a short message asking about a code the table
    knows), so versions, IP addresses, dates and section numbers are left alone.
    """
    if not isinstance(text, str) or not text:
        return []
    prepared = _prepare(text)
    return _scan(prepared, table, _find_phrases(prepared, table), lenient=False)


def looks_like_smtp_reply(text: str, table: ReplyTable | None = None) -> bool:
    """Cheap gate run on every chat message before auto-explaining: stop at the first evidence."""
    if not isinstance(text, str) or len(text) < 5:
        return False
    table = table or default_table()
    scanned = _prepare(text)
    phrases = _find_phrases(scanned, table, stop_at_standalone=True)
    if any(phrase.standalone for phrase in phrases.hits):
        return True
    short = len(scanned.strip()) <= _SHORT_MESSAGE
    for examined, found in enumerate(_CODE.finditer(scanned)):
        if examined >= MAX_CODE_TOKENS:
            return False
        if _hit(found, scanned, table, phrases, short, lenient=False) is not None:
            return True
    return False


def _prepare(text: str) -> str:
    if len(text) > MAX_SCAN_CHARS:
        log.info("scanning only the first %d of %d characters for SMTP replies", MAX_SCAN_CHARS, len(text))
        text = text[:MAX_SCAN_CHARS]
    # translate() walks every character in Python-level lookups; most text needs none of it
    return text.translate(_NORMALIZE) if _NEEDS_NORMALIZING.search(text) else text


def _lowered(text: str) -> str:
    """Lower case with every character kept in place, so offsets found in it hold in ``text``."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _find_phrases(text: str, table: ReplyTable, stop_at_standalone: bool = False) -> _Phrases:
    lowered = _lowered(text)
    hits: list[_Phrase] = []
    for word, group in table.index.anchors.items():
        position = lowered.find(word)
        found_here = looks = 0
        while position >= 0 and found_here < MAX_PHRASES_PER_ANCHOR and looks < MAX_ANCHOR_LOOKS:
            looks += 1
            for anchor in group:
                found = anchor.regex.match(text, position)
                if found:
                    hits.append(_Phrase(found.start(), found.end(), anchor.entry_id, anchor.standalone))
                    found_here += 1
                    if stop_at_standalone and anchor.standalone:
                        return _Phrases(tuple(hits), tuple(hit.start for hit in hits))
            position = lowered.find(word, position + len(word))
    hits.sort(key=lambda hit: (hit.start, -hit.end))
    return _Phrases(tuple(hits), tuple(hit.start for hit in hits))


def _scan(
    text: str, table: ReplyTable, phrases: _Phrases, lenient: bool, wording: bool = True
) -> list[ReplyMatch]:
    short = len(text.strip()) <= _SHORT_MESSAGE
    hits: list[_Hit] = []
    for examined, found in enumerate(_CODE.finditer(text)):
        if examined >= MAX_CODE_TOKENS or len(hits) >= MAX_MATCHES:
            log.info("stopped reading SMTP reply codes after %d tokens (%d replies)", examined, len(hits))
            break
        hit = _hit(found, text, table, phrases, short, lenient)
        if hit is not None:
            hits.append(hit)
    hits = _merge_adjacent(hits)
    matches: list[ReplyMatch] = []
    covered: list[tuple[int, int]] = []
    for position, hit in enumerate(hits):
        following = hits[position + 1].start if position + 1 < len(hits) else len(text)
        window_end = _window_end(text, hit.end, following)
        matches.append(_resolve(hit, text, window_end, table, phrases))
        covered.append((hit.start, window_end))
    if wording:
        matches.extend(_text_only(text, table, phrases, covered, MAX_MATCHES - len(matches)))
    return sorted(matches, key=lambda match: match.start)


def _hit(
    found: re.Match[str], text: str, table: ReplyTable, phrases: _Phrases, short: bool, lenient: bool
) -> _Hit | None:
    """Turn a code-shaped token into a hit, or None when nothing says it is a reply."""
    enhanced = found.group("enh")
    end = found.end("enh")
    start = found.start("enh")
    hashed = _HASH_BEFORE.search(text, max(0, start - 2), start)
    before = _BASIC_BEFORE.search(text, max(0, start - 24), start)
    basic = before.group("basic") if before and before.group("basic")[0] == found.group("cls") else None
    if basic and before:
        start = before.start()
    elif hashed:
        start = hashed.start()
    if basic or hashed or _bare_code_is_reply(text, start, end, enhanced, table, phrases, short, lenient):
        return _Hit(start, end, basic, enhanced)
    return None


def _bare_code_is_reply(
    text: str,
    start: int,
    end: int,
    code: str,
    table: ReplyTable,
    phrases: _Phrases,
    short: bool,
    lenient: bool,
) -> bool:
    if _NOT_A_REPLY_BEFORE.search(text[max(0, start - 24) : start].lower()):
        return False
    if lenient:
        return True
    ids = table.index.ids_by_code.get(code)
    if ids:
        if any(phrase.entry_id in ids for phrase in phrases.between(end, end + _WINDOW)):
            return True
        # RFC 3463 base codes (single-digit detail, e.g. 4.3.2) are too common as section numbers to
        # count on their own; Exchange's own codes (5.7.139) are not.
        if short and len(code.rsplit(".", 1)[1]) > 1:
            return True
    nearby = f"{text[max(0, start - _CONTEXT_REACH) : start]} {text[end : end + _CONTEXT_REACH]}"
    return _CONTEXT.search(nearby.lower()) is not None


def _merge_adjacent(hits: list[_Hit]) -> list[_Hit]:
    """``#5.7.30 smtp;550 5.7.30 …`` is one reply written twice by the NDR, not two replies."""
    merged: list[_Hit] = []
    for hit in hits:
        previous = merged[-1] if merged else None
        if previous and previous.enhanced == hit.enhanced and hit.start - previous.end <= 16:
            merged[-1] = _Hit(previous.start, hit.end, hit.basic or previous.basic, hit.enhanced)
        else:
            merged.append(hit)
    return merged


def _window_end(text: str, code_end: int, following: int) -> int:
    end = min(following, code_end + _WINDOW, len(text))
    blank = _BLANK_LINE.search(text, code_end, end)
    return blank.start() if blank else end


def _resolve(hit: _Hit, text: str, window_end: int, table: ReplyTable, phrases: _Phrases) -> ReplyMatch:
    """Wording decides between entries sharing a code; without it, only a code (or basic + enhanced
    pair) that names exactly one entry resolves."""
    candidates = table.index.by_code.get(hit.enhanced, ())
    context = text[hit.end : window_end]
    if not candidates:
        suggestions = _closest(hit.enhanced, hit.basic, context, table)
        return _match(hit, text, window_end, None, "none", "unknown_code", suggestions)
    ids = table.index.ids_by_code[hit.enhanced]
    worded = next((phrase for phrase in phrases.between(hit.end, window_end) if phrase.entry_id in ids), None)
    if worded:
        return _match(hit, text, window_end, table.entry(worded.entry_id), "code+text", end=worded.end)
    by_code = [entry for entry in candidates if hit.enhanced in entry.identifying_codes]
    if hit.basic:
        by_code = [entry for entry in by_code if hit.basic in entry.basic_codes] or by_code
    if len(by_code) == 1:
        return _match(hit, text, window_end, by_code[0], "code")
    problem: Problem = "ambiguous" if len(candidates) > 1 else "unknown_wording"
    return _match(hit, text, window_end, None, "none", problem, _by_overlap(candidates, context, table))


def _match(
    hit: _Hit,
    text: str,
    window_end: int,
    entry: ReplyEntry | None,
    matched_by: MatchedBy,
    problem: Problem | None = None,
    suggestions: tuple[ReplyEntry, ...] = (),
    end: int | None = None,
) -> ReplyMatch:
    stop = end if end is not None else hit.end
    return ReplyMatch(
        start=hit.start,
        end=stop,
        snippet=_snippet(text, hit.start, stop, window_end),
        basic_code=hit.basic,
        enhanced_code=hit.enhanced,
        entry=entry,
        matched_by=matched_by,
        problem=problem,
        suggestions=suggestions,
    )


def _text_only(
    text: str, table: ReplyTable, phrases: _Phrases, covered: list[tuple[int, int]], room: int
) -> list[ReplyMatch]:
    """Replies pasted without their code, recognised by wording specific enough to stand alone."""
    if room <= 0:
        return []
    starts = [start for start, _ in covered]
    last_end: dict[str, int] = {}
    found_matches: list[ReplyMatch] = []
    for phrase in phrases.hits:
        if not phrase.standalone:
            continue
        slot = bisect.bisect_right(starts, phrase.start) - 1
        if slot >= 0 and phrase.start < covered[slot][1]:
            continue
        if phrase.entry_id in last_end and phrase.start - last_end[phrase.entry_id] < _WINDOW:
            continue  # "SendAsDenied; … SendAsDeniedException" is one reply
        last_end[phrase.entry_id] = phrase.end
        line_start = text.rfind("\n", 0, phrase.start) + 1
        line_start = line_start if phrase.start - line_start <= 40 else phrase.start
        line_end = text.find("\n", phrase.end)
        snippet = _snippet(text, line_start, phrase.end, len(text) if line_end < 0 else line_end)
        entry = table.entry(phrase.entry_id)
        found_matches.append(ReplyMatch(phrase.start, phrase.end, snippet, None, None, entry, "text"))
        if len(found_matches) >= room:
            break
    return found_matches


def _snippet(text: str, start: int, end: int, window_end: int) -> str:
    """The reply as a one-line quote: through its wording, to the end of that line, capped."""
    line_break = text.find("\n", end, window_end)
    stop = min(window_end if line_break < 0 else line_break, start + _SNIPPET)
    stop = max(stop, min(end, start + _SNIPPET))
    quote = _SPACES.sub(" ", text[start:stop]).strip().strip("'\"`")
    return quote + ("…" if stop - start >= _SNIPPET else "")


def _closest(code: str, basic: str | None, context: str, table: ReplyTable) -> tuple[ReplyEntry, ...]:
    """Nearest known replies for an unknown code: same class and subject (5.7.x) first, then same
    class, then shared wording and basic code; one entry per code so 5.7.139's wordings don't crowd
    out the rest."""
    klass, subject, detail = (int(part) for part in code.split("."))
    words = frozenset(_WORD.findall(context.lower()))
    ranked: list[tuple[tuple[bool, bool, int, bool, int], int, ReplyEntry]] = []
    for order, entry in enumerate(table.entries):
        overlap = len(words & table.index.words[entry.id])
        best = max(
            (
                int(known.split(".")[0]) == klass and int(known.split(".")[1]) == subject,
                int(known.split(".")[0]) == klass,
                overlap,
                basic is not None and basic in entry.basic_codes,
                -abs(int(known.split(".")[2]) - detail),
            )
            for known in entry.enhanced_codes
        )
        ranked.append((best, -order, entry))
    ranked.sort(key=lambda item: (item[0], item[1]), reverse=True)
    chosen: list[ReplyEntry] = []
    seen: set[str] = set()
    for _, _, entry in ranked:
        if entry.enhanced_code in seen:
            continue
        seen.add(entry.enhanced_code)
        chosen.append(entry)
        if len(chosen) == MAX_SUGGESTIONS:
            break
    return tuple(chosen)


def _by_overlap(candidates: Sequence[ReplyEntry], context: str, table: ReplyTable) -> tuple[ReplyEntry, ...]:
    words = frozenset(_WORD.findall(context.lower()))
    return tuple(sorted(candidates, key=lambda entry: -len(words & table.index.words[entry.id])))


# --- explaining ---------------------------------------------------------------------------------


def explain(text: str, table: ReplyTable) -> Explanation:
    """What to tell the admin about ``text``: each distinct reply once, causes before consequences.

    When strict scanning finds nothing, bare codes are read leniently, because someone who asks the
    bot to explain "5.7.99" is asking about a reply code even without any reply words around it.
    """
    if not isinstance(text, str) or not text:
        return Explanation(items=(), notice=table.message("nothing_found"))
    prepared = _prepare(text)
    phrases = _find_phrases(prepared, table)
    matches = _scan(prepared, table, phrases, lenient=False) or _scan(
        prepared, table, phrases, lenient=True, wording=False
    )
    kept = _distinct(matches)
    if not kept:
        return Explanation(items=(), notice=table.message("nothing_found"))
    present = {
        match.enhanced_code or (match.entry.enhanced_code if match.entry else ""): match for match in kept
    }
    items = [_explained(match, present, table) for match in kept]
    items.sort(key=lambda item: (item.follows is not None, item.match.entry is None, item.match.start))
    return Explanation(items=tuple(items[:MAX_EXPLAINED]))


def _distinct(matches: Sequence[ReplyMatch]) -> list[ReplyMatch]:
    """One item per entry, and no "which 5.7.139?" once the same text already answered it."""
    resolved_codes = {match.enhanced_code or match.entry.enhanced_code for match in matches if match.entry}
    kept: list[ReplyMatch] = []
    seen: set[tuple[str, ...]] = set()
    for match in matches:
        if match.entry:
            key: tuple[str, ...] = ("entry", match.entry.id)
        elif match.enhanced_code in resolved_codes:
            continue
        else:
            key = ("code", match.enhanced_code or "", match.problem or "")
        if key not in seen:
            seen.add(key)
            kept.append(match)
    return kept


def _explained(match: ReplyMatch, present: Mapping[str, ReplyMatch], table: ReplyTable) -> ExplainedReply:
    entry = match.entry
    if entry is None:
        problem = match.problem or "unknown_code"
        return ExplainedReply(match, notice=table.message(problem).format(code=match.code))
    follows = next((code for code in entry.follows_codes if code in present), None)
    notice = table.message("follows").format(code=present[follows].code) if follows else None
    confidence_note = table.messages.get(f"confidence.{entry.confidence}")
    return ExplainedReply(match, notice=notice, confidence_note=confidence_note, follows=follows)
