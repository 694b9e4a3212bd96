"""Which Message Center posts the bot follows, and when live MC786329 contradicts what we ship.

The watch rule (every clause is case-insensitive; a term must stand as its own word, so
"SMTPAUTHX" or "basically" never match):

1. MC786329 itself, always.
2. Any id the tenant added to its watchlist (``extra_ids``).
3. An Exchange Online post tagged "Retirement".
4. Any post whose title or body says "SMTP AUTH" (also "SMTP-AUTH", "SMTP authentication",
   "SmtpClientAuthentication…") or "client submission". These phrases only ever mean Exchange
   client submission, so the service does not matter.
5. An Exchange Online post that mentions "Basic auth" / "Basic authentication" in a sentence that
   does not name a different protocol. "Basic authentication for POP and IMAP" therefore does not
   count, but "Basic auth for POP, IMAP and SMTP" does, because SMTP is named. The sentence is the
   unit because that is where a qualifier lives; a whole-post test would let one unrelated
   protocol name elsewhere veto a real SMTP mention.

``timeline_conflicts`` is deliberately simple: a live "Updated" note newer than the latest version
we ship, or a live endDateTime on a different day from the shipped one, is worth showing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from bot.mc.post import PostVersion, UpdateNote, parse_graph_datetime

log = logging.getLogger(__name__)

MC786329_ID = "MC786329"
EXCHANGE_ONLINE = "exchange online"
RETIREMENT_TAG = "retirement"

_B = r"(?<![a-z0-9])"  # word-ish start: no letter or digit before
_E = r"(?![a-z0-9])"  # word-ish end: no letter or digit after
_SMTP_AUTH = re.compile(
    rf"{_B}(?:smtp[\s_-]*auth(?:entication)?{_E}|smtpclientauthentication)", re.IGNORECASE
)
_CLIENT_SUBMISSION = re.compile(rf"{_B}clients?[\s-]+submissions?{_E}", re.IGNORECASE)
_BASIC_AUTH = re.compile(rf"{_B}basic[\s-]+auth(?:entication)?{_E}", re.IGNORECASE)
_SMTP = re.compile(rf"{_B}smtp", re.IGNORECASE)
_OTHER_PROTOCOL = re.compile(
    rf"{_B}(?:pop3?|imap4?|ews|exchange web services|(?:exchange )?activesync|eas|"
    rf"remote powershell|rps|mapi(?:/http)?|autodiscover|offline address book|oab){_E}",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")

WatchReason = Literal["mc786329", "extra_id", "retirement_tag", "smtp_terms", "basic_auth"]


def _sentences(post: PostVersion) -> list[str]:
    sentences = [post.title] if post.title else []
    for paragraph in post.paragraphs:
        sentences.extend(s for s in _SENTENCE_END.split(paragraph) if s)
    return sentences


def _is_exchange_online(post: PostVersion) -> bool:
    return any(service.casefold() == EXCHANGE_ONLINE for service in post.services)


def mentions_smtp_terms(text: str) -> bool:
    """ "SMTP AUTH" or "client submission" anywhere in ``text``."""
    return bool(_SMTP_AUTH.search(text) or _CLIENT_SUBMISSION.search(text))


def basic_auth_is_about_smtp(sentence: str) -> bool:
    """A Basic-auth mention that is not qualified by some other protocol (see the module rule 5)."""
    if not _BASIC_AUTH.search(sentence):
        return False
    return bool(_SMTP.search(sentence)) or not _OTHER_PROTOCOL.search(sentence)


def watch_reasons(post: PostVersion, extra_ids: Set[str]) -> tuple[WatchReason, ...]:
    """Every rule that selects ``post``, in rule order: what a card can say under "why am I seeing this"."""
    reasons: list[WatchReason] = []
    post_id = post.id.strip().upper()
    if post_id == MC786329_ID:
        reasons.append("mc786329")
    if post_id in {extra.strip().upper() for extra in extra_ids}:
        reasons.append("extra_id")
    exchange = _is_exchange_online(post)
    if exchange and any(tag.casefold() == RETIREMENT_TAG for tag in post.tags):
        reasons.append("retirement_tag")
    sentences = _sentences(post)
    if any(mentions_smtp_terms(sentence) for sentence in sentences):
        reasons.append("smtp_terms")
    if exchange and any(basic_auth_is_about_smtp(sentence) for sentence in sentences):
        reasons.append("basic_auth")
    return tuple(reasons)


def is_watched(post: PostVersion, extra_ids: Set[str]) -> bool:
    """Whether the bot follows ``post``; the rule is in the module docstring."""
    return bool(watch_reasons(post, extra_ids))


# --- live MC786329 against the shipped timeline --------------------------------------------------

ConflictKind = Literal["newer_update_note", "end_date_changed"]


@dataclass(frozen=True)
class Conflict:
    """The live post disagrees with the timeline we ship: ``shipped`` and ``live`` are UTC days."""

    kind: ConflictKind
    shipped: date | None
    live: date | None
    note: UpdateNote | None = None


def _utc_day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None


def _shipped_day(value: object, key: str) -> date | None:
    """A shipped date given as "YYYY-MM-DD" or as a full ISO date-time (its UTC day is used)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc_day(parse_graph_datetime(value))
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else _utc_day(parse_graph_datetime(text))
    except ValueError as error:
        raise ValueError(f"shipped timeline {key} is not a date: {value!r}") from error


def timeline_conflicts(post: PostVersion, shipped: Mapping[str, Any]) -> list[Conflict]:
    """Where live MC786329 has moved past the timeline summary the bot ships.

    ``shipped`` is e.g. ``{"latest_version_date": "2026-01-27", "end_date": "2026-03-30"}`` (an
    optional "id" defaults to MC786329). A missing key skips that check; ``"end_date": None`` means
    we ship no end date. Passing some other post is a caller bug and raises ValueError.
    """
    expected = str(shipped.get("id") or MC786329_ID).strip().upper()
    if post.id.strip().upper() != expected:
        raise ValueError(f"timeline is for {expected}, not {post.id}")
    conflicts: list[Conflict] = []
    latest = _shipped_day(shipped.get("latest_version_date"), "latest_version_date")
    if latest is not None:
        conflicts.extend(
            Conflict("newer_update_note", latest, note.date, note)
            for note in post.update_notes
            if note.date > latest
        )
    if "end_date" in shipped:
        shipped_end = _shipped_day(shipped["end_date"], "end_date")
        live_end = _utc_day(post.end)
        if shipped_end != live_end:
            conflicts.append(Conflict("end_date_changed", shipped_end, live_end))
    if conflicts:
        log.info("live %s differs from the shipped timeline: %s", post.id, [c.kind for c in conflicts])
    return conflicts
