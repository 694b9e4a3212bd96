"""Names for devices the bot finds by itself, and finding a device by what an admin types.

Discovered devices are named after their mailbox's local part (``scan-to-mail``), with the source IP
added for a sender's second and later devices (``scan-to-mail (198.51.100.20)``), so a name says
where to look. Lookups accept a name or a UPN; unknown text gets the closest names as suggestions.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence

from bot.devices.model import Device, normalize_upn

MAX_NAME = 200


def key(name: str) -> str:
    return " ".join(name.casefold().split())


def suggested_name(upn: str, ip: str, first_of_sender: bool, taken: set[str]) -> str:
    """A free name for a new device; ``taken`` holds name keys and gets the new one added."""
    local = upn.partition("@")[0] or upn
    base = local if first_of_sender or not ip else f"{local} ({ip})"
    base = base[: MAX_NAME - 4]
    name, number = base, 2
    while key(name) in taken:
        name = f"{base} {number}"
        number += 1
    taken.add(key(name))
    return name


@dataclass(frozen=True)
class Lookup:
    """What an admin's text found: one device, several (a sender with several devices), or suggestions."""

    devices: list[Device]
    suggestions: list[str]


def find(text: str, inventory: Sequence[Device], limit: int = 5) -> Lookup:
    """Exact name, then UPN, then device id (``#12``); otherwise close matches by name and UPN."""
    wanted = text.strip()
    if not wanted:
        return Lookup([], [])
    by_name = [d for d in inventory if key(d.name) == key(wanted)]
    if by_name:
        return Lookup(by_name, [])
    upn = normalize_upn(wanted)
    by_sender = [d for d in inventory if d.sender == upn]
    if by_sender:
        return Lookup(by_sender, [])
    if wanted.startswith("#") and wanted[1:].isdigit():
        by_id = [d for d in inventory if d.id == int(wanted[1:])]
        if by_id:
            return Lookup(by_id, [])
    return Lookup([], suggestions(wanted, inventory, limit))


def suggestions(text: str, inventory: Iterable[Device], limit: int = 5) -> list[str]:
    """Names (and senders) that look like ``text``: typos, missing domains, partial names."""
    wanted = key(text)
    candidates: dict[str, str] = {}
    for device in inventory:
        candidates.setdefault(key(device.name), device.name)
        candidates.setdefault(device.sender, device.sender)
        candidates.setdefault(device.sender.partition("@")[0], device.sender)
    scored: list[tuple[float, str]] = []
    for candidate, shown in candidates.items():
        ratio = difflib.SequenceMatcher(None, wanted, candidate).ratio()
        if wanted and (wanted in candidate or candidate in wanted):
            ratio = max(ratio, 0.75)
        if ratio >= 0.6:
            scored.append((ratio, shown))
    seen: list[str] = []
    for _, shown in sorted(scored, key=lambda item: (-item[0], item[1])):
        if shown not in seen:
            seen.append(shown)
        if len(seen) == limit:
            break
    return seen
