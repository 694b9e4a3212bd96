"""Importing the EAC "SMTP AUTH clients" report into the inventory: all rows, or none.

``bot.devices.eac_report`` decides whether the file is valid (every bad line with its number and
reason); this module decides what a valid report changes. The report knows senders, not devices, so
its facts (Basic or OAuth, TLS versions, message count) go onto every device of a sender, and a
sender with no device yet gets one. A sender with both Basic and OAuth rows counts as Basic:
something there still signs in with a password. Nothing is written unless the whole file is valid,
and the writing is one transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.devices.eac_report import EacReport, EacReportErrors, EacRow, parse_eac_report
from bot.devices.model import Device, DeviceKind, DeviceStatus, ObservedAuth, RecipientScope, Source
from bot.devices.naming import key, suggested_name
from bot.devices.store import DeviceStore, Plan

log = logging.getLogger(__name__)

Localized = dict[str, str]


@dataclass(frozen=True)
class SenderFacts:
    """What the report says about one sender, all its rows folded together."""

    upn: str
    auth: ObservedAuth
    tls_versions: frozenset[str]
    messages: int | None


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    senders: int
    created: int
    updated: int
    unchanged: int
    basic: int
    oauth: int
    unknown_auth: int
    legacy_tls: int
    notes: list[Localized] = field(default_factory=list)

    def line(self, lang: str) -> str:
        """The one-line summary the CLI prints and the chat card leads with."""
        if lang == "ja":
            return (
                f"{self.rows:,} 行 / 送信者 {self.senders:,} 件を取り込みました (新規 {self.created:,}、更新 {self.updated:,}、"
                f"変更なし {self.unchanged:,})。Basic {self.basic:,}、OAuth {self.oauth:,}、不明 {self.unknown_auth:,}、"
                f"TLS 1.2 未満 {self.legacy_tls:,}。"
            )
        return (
            f"Imported {self.rows:,} rows for {self.senders:,} senders ({self.created:,} new devices, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged): {self.basic:,} Basic, {self.oauth:,} OAuth, "
            f"{self.unknown_auth:,} unknown, {self.legacy_tls:,} below TLS 1.2."
        )


def fold_rows(rows: list[EacRow]) -> dict[str, SenderFacts]:
    """One entry per sender; Basic wins over OAuth because a single Basic client breaks at the cutoff."""
    auths: dict[str, set[str]] = defaultdict(set)
    tls: dict[str, set[str]] = defaultdict(set)
    messages: dict[str, int | None] = {}
    for row in rows:
        sender = row.sender
        auths[sender].add(row.auth or "unknown")
        versions = tls[sender]
        if row.tls10:
            versions.add("1.0")
        if row.tls11:
            versions.add("1.1")
        if row.tls12:
            versions.add("1.2")
        if row.messages is not None:
            messages[sender] = (messages.get(sender) or 0) + row.messages
        elif sender not in messages:
            messages[sender] = None
    facts = {}
    for upn, seen in auths.items():
        if "basic" in seen:
            auth = ObservedAuth.BASIC
        elif seen == {"oauth"}:
            auth = ObservedAuth.OAUTH
        else:  # a row without a protocol may hide a Basic client: unknown, not OAuth
            auth = ObservedAuth.UNKNOWN
        facts[upn] = SenderFacts(upn, auth, frozenset(tls[upn]), messages.get(upn))
    return facts


def plan_import(
    report: EacReport, existing: list[Device], tenant_id: str, actor: str, now: datetime
) -> tuple[Plan, ImportSummary]:
    """The inserts and updates a report causes, and the counts to tell the admin."""
    facts = fold_rows(report.rows)
    by_sender: dict[str, list[Device]] = defaultdict(list)
    for device in existing:
        by_sender[device.sender].append(device)
    taken = {key(d.name) for d in existing}
    inserts: list[Device] = []
    updates: list[tuple[Device, Device]] = []
    unchanged = 0
    for upn in sorted(facts):
        fact = facts[upn]
        current = by_sender.get(upn)
        if not current:
            inserts.append(
                Device(
                    id=0,
                    tenant_id=tenant_id,
                    sender=upn,
                    source_ip="",
                    name=suggested_name(upn, "", True, taken),
                    kind=DeviceKind.UNKNOWN,
                    sources=frozenset({Source.EAC}),
                    observed_auth=fact.auth,
                    tls_versions=fact.tls_versions,
                    recipient_scope=RecipientScope.UNKNOWN,
                    status=DeviceStatus.NOT_STARTED,
                    messages=fact.messages,
                    created_at=now,
                    updated_at=now,
                )
            )
            continue
        for device in current:
            after = replace(
                device,
                sources=device.sources | {Source.EAC},
                observed_auth=fact.auth,
                tls_versions=fact.tls_versions,
                messages=fact.messages,
            )
            if after == device:
                unchanged += 1
            else:
                updates.append((device, replace(after, updated_at=now)))
    summary = ImportSummary(
        rows=len(report.rows),
        senders=len(facts),
        created=len(inserts),
        updated=len(updates),
        unchanged=unchanged,
        basic=sum(1 for f in facts.values() if f.auth is ObservedAuth.BASIC),
        oauth=sum(1 for f in facts.values() if f.auth is ObservedAuth.OAUTH),
        unknown_auth=sum(1 for f in facts.values() if f.auth is ObservedAuth.UNKNOWN),
        legacy_tls=sum(1 for f in facts.values() if f.tls_versions & {"1.0", "1.1"}),
        notes=list(report.notes),
    )
    return Plan(inserts, updates, actor), summary


@dataclass(frozen=True)
class ImportRefused:
    """Why nothing was imported: the parser's verdict on the file."""

    errors: EacReportErrors

    def lines(self, lang: str, limit: int | None = None) -> list[str]:
        """"Line 7: reason" for every bad line (or the one reason the whole file was refused)."""
        if self.errors.fatal is not None:
            return [self.errors.fatal.get(lang) or self.errors.fatal["en"]]
        shown = self.errors.errors if limit is None else self.errors.errors[:limit]
        prefix = "{} 行目: " if lang == "ja" else "Line {}: "
        return [prefix.format(e.line) + (e.reason.get(lang) or e.reason["en"]) for e in shown]


@dataclass(frozen=True)
class PreparedImport:
    """A valid report and what it will change, before anything is written."""

    plan: Plan
    summary: ImportSummary

    @property
    def changes(self) -> int:
        return len(self.plan.inserts) + len(self.plan.updates)


async def prepare_import(store: DeviceStore, data: bytes, actor: str, now: datetime) -> PreparedImport | ImportRefused:
    """Parse ``data`` and work out its changes; a file with any bad line is refused whole."""
    parsed = parse_eac_report(data)
    if isinstance(parsed, EacReportErrors):
        log.info("EAC import refused (%d line errors)", len(parsed.errors))
        return ImportRefused(parsed)
    plan, summary = plan_import(parsed, await store.all(), store.tenant_id, actor, now)
    return PreparedImport(plan, summary)


async def write_import(store: DeviceStore, prepared: PreparedImport, now: datetime) -> ImportSummary:
    """Write a prepared import in one transaction: all of it, or (on any error) none of it."""
    await store.apply(prepared.plan, now)
    summary = prepared.summary
    log.info("EAC import: %d senders, %d new devices, %d updated", summary.senders, summary.created, summary.updated)
    return summary


async def import_report(
    store: DeviceStore, data: bytes, actor: str, now: datetime
) -> ImportSummary | ImportRefused:
    """Parse ``data`` and, only if every line is valid, merge it into ``store`` in one transaction."""
    prepared = await prepare_import(store, data, actor, now)
    if isinstance(prepared, ImportRefused):
        return prepared
    return await write_import(store, prepared, now)
