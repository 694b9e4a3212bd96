"""Finding senders in the Entra sign-in logs: stream 'Authenticated SMTP' sign-ins, fold them per
(sender, source IP), and merge the result into the inventory.

Memory holds one counter per (UPN, IP) pair, never the events: a page of 1,000 sign-ins is folded
and dropped before the next is read, so a month of a busy tenant costs what its distinct senders
cost. Timestamps are compared as their first 19 characters (``2026-11-23T03:00:00``), which Graph
writes in UTC with a ``Z``; parsing a million datetimes would cost more than the rest of the fold.

Re-runs are incremental: a run reads from where the last one stopped (minus a 15-minute overlap,
because sign-ins reach the log late), and skips the overlap's events the previous run already
counted, by id. The window is read one day at a time so no single query meets the client's page cap.

Sign-in logs do not say whether a password or a token was used (the beta ``authenticationProtocol``
says ``oAuth2`` for token sign-ins when present; v1.0 does not return it), so the auth a discovery
run records is "unknown" unless that field says OAuth; the EAC report is where Basic vs OAuth comes from.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence

from bot.devices.model import (
    Device,
    DeviceKind,
    DeviceStatus,
    ObservedAuth,
    RecipientScope,
    SenderFlag,
    SenderRecord,
    Source,
)
from bot.devices.naming import key, suggested_name
from bot.devices.store import Plan

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=15)
SLICE = timedelta(days=1)
BOUNDARY_CAP = 50_000  # ids remembered for the overlap; beyond it the overlap may count twice


def stamp(moment: datetime) -> str:
    """The 19-character UTC form events are compared in."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def from_stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


@dataclass(slots=True)
class PairStats:
    """What the sign-ins say about one (sender, IP) pair in one run."""

    ok: int = 0
    failed: int = 0
    first: str = ""
    last: str = ""
    oauth: int = 0


@dataclass
class Aggregator:
    """Folds sign-in events into ``pairs``; feed it with ``add`` one event at a time."""

    skip_ids: frozenset[str] = frozenset()  # counted by the previous run (its overlap)
    skip_before: str = ""  # only events up to this stamp (the last run's end, inclusive) can be in ``skip_ids``
    boundary_from: str = ""  # events at or after this stamp are remembered for the next run
    pairs: dict[tuple[str, str], PairStats] = field(default_factory=dict)
    events: int = 0
    skipped: int = 0
    malformed: int = 0
    boundary: list[str] = field(default_factory=list)
    oldest: str = ""

    def add(self, event: Mapping[str, Any], upper: str | None = None) -> None:
        """Count one event; ``upper`` (exclusive) drops what a newer day slice already counted.

        The hot loop of discovery (a million calls a month in a busy tenant): lookups are kept few.
        """
        get = event.get
        created = get("createdDateTime")
        upn = get("userPrincipalName")
        if created.__class__ is not str or len(created) < 19 or created[10] != "T" or upn.__class__ is not str or not upn:
            self.malformed += 1
            return
        moment = created[:19]
        if upper is not None and moment >= upper:
            return
        if moment <= self.skip_before and get("id") in self.skip_ids:
            self.skipped += 1
            return
        self.events += 1
        if moment >= self.boundary_from:
            event_id = get("id")
            if isinstance(event_id, str) and len(self.boundary) < BOUNDARY_CAP:
                self.boundary.append(event_id)
        pair = (upn.lower(), get("ipAddress") or "")
        stats = self.pairs.get(pair)
        if stats is None:
            stats = self.pairs[pair] = PairStats(first=moment, last=moment)
        elif moment > stats.last:
            stats.last = moment
        elif moment < stats.first:
            stats.first = moment
        status = get("status")
        if status.__class__ is dict and status.get("errorCode") not in (0, "0", None):
            stats.failed += 1
        else:
            stats.ok += 1
        if get("authenticationProtocol") == "oAuth2":
            stats.oauth += 1
        if moment < self.oldest or not self.oldest:
            self.oldest = moment


def day_slices(since: datetime, until: datetime, step: timedelta = SLICE) -> Iterator[tuple[datetime, datetime]]:
    """[since, until] cut into pieces of ``step``, newest first, as Graph lists sign-ins."""
    end = until
    while end > since:
        start = max(since, end - step)
        yield start, end
        end = start


SignInSource = Callable[[datetime, datetime], AsyncIterator[dict[str, Any]]]
Progress = Callable[[int, str], Awaitable[None]]


async def collect(
    sign_ins: SignInSource,
    since: datetime,
    until: datetime,
    aggregator: Aggregator,
    progress: Progress | None = None,
    every: int = 1000,
    concurrency: int = 2,
) -> Aggregator:
    """Read the window slice by slice, folding every event; ``progress(events, oldest)`` every ``every``.

    ``concurrency`` day slices are read at once, so the next page is on its way while one is being
    folded (the fold is synchronous, so the aggregator needs no lock). Graph throttles sign-in log
    reads per app and tenant; the client honours its Retry-After, and two readers stay polite.
    """
    slices = iter(list(day_slices(since, until)))
    next_report = every

    async def reader() -> None:
        nonlocal next_report
        for start, end in slices:
            upper = None if end == until else stamp(end)
            add = aggregator.add
            async for event in sign_ins(start, end):
                add(event, upper)
                if progress is not None and aggregator.events >= next_report:
                    next_report = aggregator.events + every
                    await progress(aggregator.events, aggregator.oldest)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, concurrency)):
                group.create_task(reader())
    except BaseExceptionGroup as failed:
        raise _first(failed) from None  # callers show the admin one reason (licence, permission...)
    if progress is not None:
        await progress(aggregator.events, aggregator.oldest)
    return aggregator


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


# ---------------------------------------------------------------- merging into the inventory


@dataclass(frozen=True)
class DiscoveryResult:
    events: int
    pairs: int
    new_devices: list[str]  # names
    new_senders: list[str]
    gone_senders: list[str]
    updated_devices: int


def plan_discovery(
    pairs: Mapping[tuple[str, str], PairStats],
    existing: Sequence[Device],
    senders: Sequence[SenderRecord],
    tenant_id: str,
    now: datetime,
    gone_after: timedelta,
    events: int,
) -> tuple[Plan, list[SenderRecord], DiscoveryResult]:
    """Devices to add or update, sender flags, and the counts for the result card.

    A (sender, IP) pair already listed gets its counters and dates moved on; a sender known only
    from the EAC report or by hand (a device without IP) lends that device to its busiest new IP;
    other pairs become new devices. Senders never seen before are flagged new, senders silent for
    ``gone_after`` are flagged gone (the flags of the previous run are replaced).
    """
    by_pair = {(d.sender, d.source_ip): d for d in existing}
    placeholders = {d.sender: d for d in existing if not d.source_ip}
    known_senders = {d.sender for d in existing} | {s.upn for s in senders}
    taken = {key(d.name) for d in existing}
    devices_of: dict[str, int] = {}
    for device in existing:
        devices_of[device.sender] = devices_of.get(device.sender, 0) + 1
    inserts: list[Device] = []
    updates: dict[int, tuple[Device, Device]] = {}
    ordered = sorted(pairs.items(), key=lambda item: (item[0][0], -(item[1].ok + item[1].failed), item[0][1]))
    for (upn, ip), stats in ordered:
        first, last = from_stamp(stats.first), from_stamp(stats.last)
        current = by_pair.get((upn, ip))
        if current is None and upn in placeholders:
            current = placeholders.pop(upn)
            current_after = replace(current, source_ip=ip)
        elif current is not None:
            current_after = current
        else:
            name = suggested_name(upn, ip, devices_of.get(upn, 0) == 0, taken)
            devices_of[upn] = devices_of.get(upn, 0) + 1
            inserts.append(
                Device(
                    id=0, tenant_id=tenant_id, sender=upn, source_ip=ip, name=name, kind=DeviceKind.UNKNOWN,
                    sources=frozenset({Source.SIGN_INS}), first_seen=first, last_seen=last,
                    observed_auth=ObservedAuth.OAUTH if stats.oauth and stats.oauth == stats.ok + stats.failed else ObservedAuth.UNKNOWN,
                    recipient_scope=RecipientScope.UNKNOWN, status=DeviceStatus.NOT_STARTED,
                    sign_ins_ok=stats.ok, sign_ins_failed=stats.failed, created_at=now, updated_at=now,
                )
            )
            continue
        base = updates[current.id][1] if current.id in updates else current_after
        after = replace(
            base,
            sources=base.sources | {Source.SIGN_INS},
            first_seen=min(filter(None, (base.first_seen, first))),
            last_seen=max(filter(None, (base.last_seen, last))),
            sign_ins_ok=base.sign_ins_ok + stats.ok,
            sign_ins_failed=base.sign_ins_failed + stats.failed,
            updated_at=now,
        )
        updates[current.id] = (current, after)
    records = _sender_records(pairs, existing, senders, tenant_id, now, gone_after, known_senders)
    result = DiscoveryResult(
        events=events,
        pairs=len(pairs),
        new_devices=[d.name for d in inserts],
        new_senders=sorted(r.upn for r in records if r.flag is SenderFlag.NEW),
        gone_senders=sorted(r.upn for r in records if r.flag is SenderFlag.GONE),
        updated_devices=len(updates),
    )
    return Plan(inserts, list(updates.values()), "discovery"), records, result


def _sender_records(
    pairs: Mapping[tuple[str, str], PairStats],
    existing: Sequence[Device],
    senders: Sequence[SenderRecord],
    tenant_id: str,
    now: datetime,
    gone_after: timedelta,
    known: set[str],
) -> list[SenderRecord]:
    seen: dict[str, tuple[str, str]] = {}
    for (upn, _), stats in pairs.items():
        earliest, latest = seen.get(upn, (stats.first, stats.last))
        seen[upn] = (min(earliest, stats.first), max(latest, stats.last))
    previous = {s.upn: s for s in senders}
    # Senders that discovery has seen before, or that have devices seen in sign-ins, can go quiet.
    upns = set(previous) | set(seen) | {d.sender for d in existing if Source.SIGN_INS in d.sources}
    records = []
    for upn in sorted(upns):
        old = previous.get(upn)
        first: datetime | None = old.first_seen if old else None
        last: datetime | None = old.last_seen if old else None
        if upn in seen:
            new_first, new_last = from_stamp(seen[upn][0]), from_stamp(seen[upn][1])
            first = min(first, new_first) if first else new_first
            last = max(last, new_last) if last else new_last
        if last is None:
            last = max((d.last_seen for d in existing if d.sender == upn and d.last_seen), default=None)
        flag: SenderFlag | None = None
        flagged_at = None
        if last is not None and now - last > gone_after:  # silent wins: a sender first found long quiet is gone
            flag = SenderFlag.GONE
            flagged_at = old.flagged_at if old and old.flag is SenderFlag.GONE and old.flagged_at else now
        elif upn in seen and upn not in known:
            flag, flagged_at = SenderFlag.NEW, now
        records.append(SenderRecord(tenant_id, upn, first, last, flag, flagged_at))
    return records
