"""What the bot can use of free text before reading it: addresses, binary junk, and length.

Chat text arrives already cleaned (``bot.commands.clean_text``: mentions and tags gone, NFKC, one
space between words). This module decides whether it is worth reading and pulls out the few
entities the diagnostics need, so every handler rejects bad input the same way, with a reason the
admin can act on instead of an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# Long enough for a pasted NDR; Teams caps a message at about 28 KB anyway.
MAX_TEXT_CHARS = 40_000
# Longer than this, free text is a paste, not a question to map onto a command.
MAX_QUESTION_CHARS = 400
# Entra ID caps userPrincipalName at 113 characters; 254 is the SMTP limit for any address.
MAX_ADDRESS_CHARS = 254
_BINARY_SAMPLE = 4_000
_BINARY_SHARE = 0.1

# Deliberately plain: the local part of a UPN allows letters, digits and . _ % + - ' (Entra ID
# rejects most other symbols), and the domain needs a dot and a letter-only top-level label.
_ADDRESS = re.compile(
    r"(?<![A-Za-z0-9._%+'-])([A-Za-z0-9][A-Za-z0-9._%+'-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63})(?![A-Za-z0-9@-])"
)
_ADDRESS_ONLY = re.compile(r"^" + _ADDRESS.pattern + r"$")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufffd\ufffe\uffff]")

Problem = Literal["empty", "binary", "too_long"]


@dataclass(frozen=True)
class Address:
    """A user principal name or SMTP address as typed, and the form used to compare and look up."""

    text: str

    @property
    def key(self) -> str:
        return self.text.lower()


def text_problem(text: str) -> Problem | None:
    """Why ``text`` can't be read as a message at all, or None when it can."""
    if not text or not text.strip():
        return "empty"
    sample = text[:_BINARY_SAMPLE]
    if len(_CONTROL.findall(sample)) > max(2, len(sample) * _BINARY_SHARE):
        return "binary"
    if len(text) > MAX_TEXT_CHARS:
        return "too_long"
    return None


def parse_address(raw: str) -> Address | None:
    """The one address ``raw`` consists of (``<mailto:…>`` and brackets tolerated), else None."""
    candidate = raw.strip().strip("<>()[]\"'`「」『』").strip()
    if candidate.lower().startswith("mailto:"):
        candidate = candidate[len("mailto:") :]
    candidate = candidate.rstrip(".,;:!?。、")
    if len(candidate) > MAX_ADDRESS_CHARS or ".." in candidate or not _ADDRESS_ONLY.match(candidate):
        return None
    local = candidate.split("@", 1)[0]
    if local.endswith("."):
        return None
    return Address(candidate)


def find_addresses(text: str, limit: int = 5) -> list[Address]:
    """Addresses mentioned anywhere in ``text``, first occurrence first, without repeats."""
    found: list[Address] = []
    seen: set[str] = set()
    for match in _ADDRESS.finditer(text[:MAX_TEXT_CHARS]):
        address = parse_address(match.group(1))
        if address is not None and address.key not in seen:
            seen.add(address.key)
            found.append(address)
            if len(found) >= limit:
                break
    return found


def shorten(text: str, limit: int = 60) -> str:
    """Echo user text back safely: one line, capped, never the whole paste."""
    flat = " ".join(_CONTROL.sub("", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
