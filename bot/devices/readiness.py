"""The inventory in numbers (/readiness, /status) and the filters of /devices.

Pure functions over devices and the tenant posture: counts by status and by migration path, the
devices that break at the default-disable, and which devices a ``/devices`` filter selects.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from bot.devices.classify import Classified, classify
from bot.devices.cutoff import CutoffReport, Verdict, cutoff_report
from bot.devices.migration import MigrationPath
from bot.devices.model import Device, DeviceStatus
from bot.tenant.posture import Posture

PAGE_SIZE = 8


def not_ready(item: Classified) -> bool:
    """Still needs work: not moved off Basic auth yet and not already on OAuth."""
    return not item.device.done and item.path is not MigrationPath.NONE_NEEDED


@dataclass(frozen=True)
class ReadinessSummary:
    total: int
    senders: int
    by_status: dict[DeviceStatus, int]
    by_path: dict[MigrationPath, int]
    not_ready: int
    legacy_tls: int
    cutoff: CutoffReport
    posture_known: bool

    @property
    def breaking_devices(self) -> list[Device]:
        return self.cutoff.devices(Verdict.BREAKS)

    @property
    def borrowed_devices(self) -> list[Device]:
        return self.cutoff.devices(Verdict.BORROWED_TIME)


def summarize(devices: Sequence[Device], posture: Posture | None) -> ReadinessSummary:
    items = [classify(d) for d in devices]
    by_status = Counter(d.status for d in devices)
    by_path = Counter(item.path for item in items)
    return ReadinessSummary(
        total=len(devices),
        senders=len({d.sender for d in devices}),
        by_status={status: by_status.get(status, 0) for status in DeviceStatus},
        by_path={path: count for path, count in by_path.most_common()},
        not_ready=sum(1 for item in items if not_ready(item)),
        legacy_tls=sum(1 for item in items if item.legacy_tls and not item.device.done),
        cutoff=cutoff_report(devices, posture),
        posture_known=posture is not None,
    )


# ---------------------------------------------------------------- /devices filters

_NOT_READY = {"not-ready", "notready", "not_ready", "todo", "未完了", "未対応"}
_BREAKS = {"breaks", "break", "cutoff", "停止", "影響"}
_BORROWED = {"borrowed", "borrowed-time", "猶予"}
_PATH = {"path", "移行先"}
_OWNER = {"owner", "担当", "担当者"}
_STATUS = {"status", "状態"}
_ALL = {"", "all", "すべて"}


@dataclass(frozen=True)
class DeviceFilter:
    """What ``/devices`` shows: all, not-ready, breaks, borrowed, path, owner, status or sender (with a value)."""

    kind: str = "all"
    value: str = ""

    def as_text(self) -> str:
        return f"{self.kind} {self.value}".strip() if self.kind != "all" else ""


class FilterError(ValueError):
    """The filter text did not make sense; ``code`` picks the message."""

    def __init__(self, code: str, value: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.value = value


def parse_filter(args: str) -> DeviceFilter:
    """``not-ready``, ``breaks``, ``borrowed``, ``path oauth``, ``owner Tanaka`` (``path:oauth`` works too)."""
    text = " ".join(args.split())
    parts = re.split(r"[:=\s]+", text, maxsplit=1)
    word = parts[0].lower() if parts else ""
    rest = parts[1].strip() if len(parts) > 1 else ""
    if word in _ALL and not rest:
        return DeviceFilter()
    if word in _NOT_READY:
        return DeviceFilter("not-ready")
    if word in _BREAKS:
        return DeviceFilter("breaks")
    if word in _BORROWED:
        return DeviceFilter("borrowed")
    if word in _PATH:
        path = parse_path(rest)
        if path is None:
            raise FilterError("path", rest)
        return DeviceFilter("path", path.value)
    if word in _OWNER:
        if not rest:
            raise FilterError("owner")
        return DeviceFilter("owner", rest[:100])
    if word == "sender" and rest:
        return DeviceFilter("sender", rest.lower()[:320])
    if word in _STATUS:
        status = parse_status(rest)
        if status is None:
            raise FilterError("status", rest)
        return DeviceFilter("status", status.value)
    raise FilterError("unknown", text[:60])


def parse_path(text: str) -> MigrationPath | None:
    wanted = text.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {"relay": "connector_relay", "connector": "connector_relay", "direct": "direct_send",
               "onprem": "onprem_relay", "hybrid": "onprem_relay", "3rd_party": "third_party", "none": "none_needed"}
    wanted = aliases.get(wanted, wanted)
    try:
        return MigrationPath(wanted)
    except ValueError:
        return None


def parse_status(text: str) -> DeviceStatus | None:
    wanted = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return DeviceStatus(wanted)
    except ValueError:
        return None


def select(devices: Sequence[Device], wanted: DeviceFilter, posture: Posture | None) -> list[Classified]:
    """The devices a filter keeps, classified, in inventory order."""
    items = [classify(d) for d in devices]
    if wanted.kind == "all":
        return items
    if wanted.kind == "not-ready":
        return [i for i in items if not_ready(i)]
    if wanted.kind in ("breaks", "borrowed"):
        verdict = Verdict.BREAKS if wanted.kind == "breaks" else Verdict.BORROWED_TIME
        chosen = {d.id for d in cutoff_report(devices, posture).devices(verdict)}
        return [i for i in items if i.device.id in chosen]
    if wanted.kind == "path":
        return [i for i in items if i.path.value == wanted.value]
    if wanted.kind == "owner":
        needle = wanted.value.casefold()
        return [i for i in items if needle in i.device.owner.casefold()]
    if wanted.kind == "status":
        return [i for i in items if i.device.status.value == wanted.value]
    if wanted.kind == "sender":
        return [i for i in items if i.device.sender == wanted.value]
    return items


def page_of(items: Sequence[Classified], page: int, size: int = PAGE_SIZE) -> tuple[list[Classified], int, int]:
    """One page (1-based, clamped), the page number used and how many pages there are."""
    pages = max(1, -(-len(items) // size))
    page = min(max(1, page), pages)
    start = (page - 1) * size
    return list(items[start:start + size]), page, pages
