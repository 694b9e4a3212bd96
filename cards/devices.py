"""Device readiness cards: /readiness, /devices, /device, the add and edit forms, scans and imports.

Pure functions of views built in ``bot.devices.answers``. Buttons that change something use
``Action.Execute`` (the bot answers with this card rebuilt in place); buttons that only move to
another view do too, so a list pages in place instead of flooding the chat. The readiness chart is
a Teams ``Chart.Donut`` with a text ``fallback``: hosts without chart support (and the Adaptive
Cards 1.5 schema) see the same numbers as a list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from bot.devices.classify import Classified
from bot.devices.cutoff import Verdict
from bot.devices.discovery import DiscoveryResult
from bot.devices.importer import ImportRefused, ImportSummary
from bot.devices.migration import ACS_NOTE, PATH_LABELS, MigrationPath
from bot.devices.model import AuditEntry, Device, DeviceKind, DeviceStatus, ObservedAuth, RecipientScope, Source
from bot.devices.readiness import DeviceFilter, ReadinessSummary
from bot.devices.scan import ScanView
from bot.i18n import format_count, format_datetime, localized, t
from cards.base import (
    Element,
    bullets,
    card,
    command_action,
    container,
    execute_action,
    facts,
    heading,
    small,
    subheading,
    text,
)
from cards.tenant import demo_banner

LIST_VERB = "devices.list"
OPEN_VERB = "devices.open"
SAVE_VERB = "devices.save"
VERIFY_VERB = "devices.verify"
ADD_VERB = "devices.add"
REFRESH_VERB = "readiness.refresh"
RECOMMENDED = "recommended"  # the path choice "use the recommendation" (a choice value may not be empty)

MAX_LISTED = 8
MAX_STEPS = 8
MAX_ERRORS = 15
MAX_AUDIT = 6

STATUS_COLORS = {
    DeviceStatus.NOT_STARTED: "attention",
    DeviceStatus.IN_PROGRESS: "warning",
    DeviceStatus.MIGRATED: "categoricalBlue",
    DeviceStatus.VERIFIED: "good",
    DeviceStatus.RETIRED: "neutral",
}


# ---------------------------------------------------------------- labels


def status_label(status: DeviceStatus, lang: str) -> str:
    return t(f"devices.status.{status.value}", lang)


def kind_label(kind: DeviceKind, lang: str) -> str:
    return t(f"devices.kind.{kind.value}", lang)


def path_label(path: MigrationPath, lang: str) -> str:
    return localized(PATH_LABELS[path], lang)


def auth_label(auth: ObservedAuth, lang: str) -> str:
    return t(f"devices.auth.{auth.value}", lang)


def scope_label(scope: RecipientScope, lang: str) -> str:
    return t(f"devices.scope.{scope.value}", lang)


def verdict_label(verdict: Verdict, lang: str) -> str:
    return t(f"devices.verdict.{verdict.value}", lang)


def yes_no(value: bool | None, lang: str) -> str:
    return t("devices.value.unknown" if value is None else ("devices.value.yes" if value else "devices.value.no"), lang)


def source_label(source: Source, lang: str) -> str:
    return t(f"devices.source.{source.value}", lang)


def _when(moment: datetime | None, tz: ZoneInfo, lang: str) -> str:
    return format_datetime(moment, tz, lang) if moment else t("devices.value.never", lang)


# ---------------------------------------------------------------- the chart


def donut(title: str, slices: Sequence[tuple[str, int, str]], lang: str) -> Element:
    """A Teams ``Chart.Donut`` (legend, value, color per slice) whose fallback lists the same numbers.

    Shape from Microsoft's "Charts in Adaptive Cards" (msteams-docs): ``data`` items have ``legend``,
    ``value`` and an optional named ``color``; ``fallback`` is rendered where charts are unknown.
    """
    shown = [(legend, value, color) for legend, value, color in slices if value > 0]
    fallback = container(
        [text(title, weight="Bolder"), bullets([f"{legend}: {format_count(value, lang)}" for legend, value, _ in shown])],
        spacing="Small",
    )
    return {
        "type": "Chart.Donut",
        "title": title,
        "colorSet": "categorical",
        "data": [{"legend": legend, "value": value, "color": color} for legend, value, color in shown],
        "fallback": fallback,
    }


# ---------------------------------------------------------------- /readiness


@dataclass(frozen=True)
class ReadinessView:
    summary: ReadinessSummary
    demo: bool
    tz: ZoneInfo
    last_scan: datetime | None = None
    last_scan_events: int | None = None
    cutoff_label: dict[str, str] = field(default_factory=lambda: {"en": "the end of December 2026", "ja": "2026年12月末"})
    can_edit: bool = False
    error: str | None = None


def _device_line(device: Device) -> str:
    where = f" · {device.source_ip}" if device.source_ip else ""
    return f"**{device.name}** · {device.sender}{where}"


def _list_more(devices: Sequence[Device], lang: str, limit: int = MAX_LISTED) -> list[str]:
    lines = [_device_line(d) for d in devices[:limit]]
    if len(devices) > limit:
        lines.append(t("devices.more", lang, count=len(devices) - limit))
    return lines


def cutoff_elements(summary: ReadinessSummary, when: str, lang: str, *, with_lists: bool = True) -> list[Element]:
    """What breaks at the default-disable, and what is on borrowed time until the final removal."""
    report = summary.cutoff
    breaking = report.devices(Verdict.BREAKS)
    borrowed = report.devices(Verdict.BORROWED_TIME)
    unknown = report.devices(Verdict.UNKNOWN)
    blocked = report.devices(Verdict.ALREADY_BLOCKED)
    items: list[Element] = [subheading(t("devices.cutoff.title", lang, when=when))]
    if not summary.posture_known:
        items.append(text(t("devices.cutoff.no_posture", lang), color="Warning"))
    if breaking:
        items.append(
            text(
                t("devices.cutoff.breaks", lang, senders=len(report.senders(Verdict.BREAKS)), devices=len(breaking), when=when),
                weight="Bolder", color="Attention",
            )
        )
        if with_lists:
            items.append(bullets(_list_more(breaking, lang)))
    elif summary.posture_known:
        items.append(text(t("devices.cutoff.none_break", lang, when=when), color="Good"))
    if borrowed:
        items.append(text(t("devices.cutoff.borrowed", lang, senders=len(report.senders(Verdict.BORROWED_TIME)), devices=len(borrowed))))
        if with_lists:
            items.append(bullets(_list_more(borrowed, lang, 5)))
    if blocked:
        items.append(small(t("devices.cutoff.blocked", lang, devices=len(blocked))))
    if unknown:
        items.append(small(t("devices.cutoff.unknown", lang, devices=len(unknown))))
    return items


def readiness_section(summary: ReadinessSummary, when: str, lang: str) -> list[Element]:
    """The part of /status about this tenant's devices: counts and the breaks-at-cutoff number."""
    items: list[Element] = [subheading(t("devices.section.title", lang))]
    if summary.total == 0:
        items.append(text(t("devices.section.empty", lang)))
        return items
    done = summary.by_status[DeviceStatus.MIGRATED] + summary.by_status[DeviceStatus.VERIFIED] + summary.by_status[DeviceStatus.RETIRED]
    items.append(text(t("devices.section.counts", lang, total=summary.total, not_ready=summary.not_ready, done=done)))
    report = summary.cutoff
    breaking = report.devices(Verdict.BREAKS)
    if not summary.posture_known:
        items.append(small(t("devices.cutoff.no_posture", lang)))
    elif breaking:
        items.append(text(t("devices.section.breaks", lang, senders=report.breaking_senders, devices=len(breaking), when=when),
                          weight="Bolder", color="Attention"))
    else:
        items.append(text(t("devices.cutoff.none_break", lang, when=when)))
    borrowed = report.devices(Verdict.BORROWED_TIME)
    if borrowed:
        items.append(small(t("devices.section.borrowed", lang, senders=len(report.senders(Verdict.BORROWED_TIME)))))
    return items


def build_readiness_card(view: ReadinessView, lang: str) -> Element:
    summary = view.summary
    when = localized(view.cutoff_label, lang)
    body: list[Element] = [demo_banner(lang) if view.demo else {}, heading(t("devices.readiness.title", lang))]
    if view.error:
        body.append(container([text(view.error, weight="Bolder")], style="attention"))
    if summary.total == 0:
        body += [
            text(t("devices.readiness.empty", lang)),
            bullets([t("devices.readiness.empty.upload", lang), t("devices.readiness.empty.cli", lang),
                     t("devices.readiness.empty.scan", lang), t("devices.readiness.empty.add", lang)]),
        ]
    else:
        body += [
            text(t("devices.readiness.headline", lang, not_ready=summary.not_ready, total=summary.total, senders=summary.senders),
                 size="Large", weight="Bolder", color="Attention" if summary.not_ready else "Good"),
            donut(
                t("devices.readiness.by_status", lang),
                [(status_label(s, lang), summary.by_status[s], STATUS_COLORS[s]) for s in DeviceStatus],
                lang,
            ),
            subheading(t("devices.readiness.by_path", lang)),
            facts([(path_label(path, lang), format_count(count, lang)) for path, count in summary.by_path.items()]),
            *cutoff_elements(summary, when, lang),
        ]
        if summary.legacy_tls:
            body.append(small(t("devices.readiness.legacy_tls", lang, devices=summary.legacy_tls), color="Warning"))
    if view.last_scan is not None:
        body.append(small(t("devices.readiness.last_scan", lang, when=format_datetime(view.last_scan, view.tz, lang),
                            events=format_count(view.last_scan_events or 0, lang)), spacing="Medium"))
    else:
        body.append(small(t("devices.readiness.never_scanned", lang), spacing="Medium"))
    body.append(small(localized(ACS_NOTE, lang)))
    # Three buttons: a fourth does not fit a phone's width. Scanning is one typed /scan away (said above).
    actions = [
        execute_action(t("devices.action.not_ready", lang), LIST_VERB, {"filter": "not-ready", "page": 1}),
        execute_action(t("devices.action.breaks", lang), LIST_VERB, {"filter": "breaks", "page": 1}),
        _add_form_action(lang),
    ]
    return card(body, actions, lang=lang)


# ---------------------------------------------------------------- forms


def _choices(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"title": title, "value": value} for title, value in pairs]


def _choice_input(input_id: str, label: str, pairs: Sequence[tuple[str, str]], value: str) -> Element:
    return {"type": "Input.ChoiceSet", "id": input_id, "label": label, "style": "compact", "value": value,
            "choices": _choices(pairs)}


def _text_input(input_id: str, label: str, value: str = "", *, required: bool = False, max_length: int = 200,
                placeholder: str = "", multiline: bool = False, regex: str | None = None, error: str = "") -> Element:
    element: Element = {"type": "Input.Text", "id": input_id, "label": label, "value": value, "maxLength": max_length}
    if placeholder:
        element["placeholder"] = placeholder
    if required:
        element["isRequired"] = True
        element["errorMessage"] = error or label
    if multiline:
        element["isMultiline"] = True
    if regex:
        element["regex"] = regex
    return element


def kind_choices(lang: str) -> list[tuple[str, str]]:
    return [(kind_label(k, lang), k.value) for k in DeviceKind]


def scope_choices(lang: str) -> list[tuple[str, str]]:
    return [(scope_label(s, lang), s.value) for s in RecipientScope]


def tri_choices(lang: str) -> list[tuple[str, str]]:
    return [(t("devices.value.unknown", lang), "unknown"), (t("devices.value.yes", lang), "true"), (t("devices.value.no", lang), "false")]


def add_form_body(lang: str, values: dict[str, str] | None = None) -> list[Element]:
    """The add-a-device inputs (also used by the standalone form card)."""
    v = values or {}
    return [
        _text_input("sender", t("devices.field.sender", lang), v.get("sender", ""), required=True, max_length=320,
                    placeholder="scanner@contoso.com", regex=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                    error=t("devices.form.sender_error", lang)),
        _text_input("name", t("devices.field.name", lang), v.get("name", ""), required=True,
                    placeholder=t("devices.form.name_hint", lang), error=t("devices.form.name_error", lang)),
        _choice_input("kind", t("devices.field.kind", lang), kind_choices(lang), v.get("kind", DeviceKind.UNKNOWN.value)),
        _text_input("source_ip", t("devices.field.ip", lang), v.get("source_ip", ""), max_length=64, placeholder="203.0.113.10"),
        _text_input("location", t("devices.field.location", lang), v.get("location", "")),
        _text_input("owner", t("devices.field.owner", lang), v.get("owner", "")),
        _text_input("vendor_model", t("devices.field.vendor_model", lang), v.get("vendor_model", "")),
        _choice_input("recipient_scope", t("devices.field.scope", lang), scope_choices(lang),
                      v.get("recipient_scope", RecipientScope.UNKNOWN.value)),
        _text_input("notes", t("devices.field.notes", lang), v.get("notes", ""), max_length=2000, multiline=True),
    ]


def _add_form_action(lang: str) -> Element:
    form = card(add_form_body(lang), [execute_action(t("devices.action.add_save", lang), ADD_VERB)], lang=lang)
    return {"type": "Action.ShowCard", "title": t("devices.action.add", lang), "card": form}


def build_device_form_card(lang: str, *, error: str | None = None, values: dict[str, str] | None = None,
                           demo: bool = False) -> Element:
    """Add a device by hand (``/device add``), or the same form again with what was wrong."""
    body: list[Element] = [
        demo_banner(lang) if demo else {},
        heading(t("devices.form.title", lang)),
        text(t("devices.form.intro", lang)),
        container([text(error, weight="Bolder")], style="attention") if error else {},
        *add_form_body(lang, values),
    ]
    return card(body, [execute_action(t("devices.action.add_save", lang), ADD_VERB)], lang=lang)


def edit_form_body(device: Device, lang: str) -> list[Element]:
    paths = [(t("devices.form.path_recommended", lang), RECOMMENDED)] + [(path_label(p, lang), p.value) for p in MigrationPath]
    return [
        _text_input("name", t("devices.field.name", lang), device.name, required=True, error=t("devices.form.name_error", lang)),
        _choice_input("status", t("devices.field.status", lang), [(status_label(s, lang), s.value) for s in DeviceStatus],
                      device.status.value),
        _choice_input("path", t("devices.field.path", lang), paths, device.path.value if device.path else RECOMMENDED),
        _choice_input("kind", t("devices.field.kind", lang), kind_choices(lang), device.kind.value),
        _text_input("owner", t("devices.field.owner", lang), device.owner),
        _text_input("location", t("devices.field.location", lang), device.location),
        _text_input("vendor_model", t("devices.field.vendor_model", lang), device.vendor_model),
        _choice_input("recipient_scope", t("devices.field.scope", lang), scope_choices(lang), device.recipient_scope.value),
        _choice_input("supports_oauth", t("devices.field.oauth", lang), tri_choices(lang), _tri(device.supports_oauth)),
        _choice_input("has_static_ip", t("devices.field.static_ip", lang), tri_choices(lang), _tri(device.has_static_ip)),
        _text_input("notes", t("devices.field.notes", lang), device.notes, max_length=2000, multiline=True),
    ]


def _tri(value: bool | None) -> str:
    return "unknown" if value is None else ("true" if value else "false")


# ---------------------------------------------------------------- /device


@dataclass(frozen=True)
class DeviceView:
    item: Classified
    verdict: Verdict
    audit: list[AuditEntry]
    demo: bool
    tz: ZoneInfo
    when: dict[str, str] = field(default_factory=lambda: {"en": "the end of December 2026", "ja": "2026年12月末"})
    notice: str | None = None  # "Saved", or why a change was refused
    notice_style: str = "good"
    siblings: int = 0  # other devices of the same sender


def _device_facts(device: Device, view: DeviceView, lang: str) -> Element:
    pairs = [
        (t("devices.field.sender", lang), device.sender),
        (t("devices.field.ip", lang), device.source_ip or t("devices.value.unknown", lang)),
        (t("devices.field.kind", lang), kind_label(device.kind, lang)),
        (t("devices.field.status", lang), status_label(device.status, lang)),
        (t("devices.field.owner", lang), device.owner or "—"),
        (t("devices.field.location", lang), device.location or "—"),
        (t("devices.field.vendor_model", lang), device.vendor_model or "—"),
        (t("devices.field.auth", lang), auth_label(device.observed_auth, lang)),
        (t("devices.field.tls", lang), ", ".join(f"TLS {v}" for v in sorted(device.tls_versions)) or t("devices.value.unknown", lang)),
        (t("devices.field.scope", lang), scope_label(device.recipient_scope, lang)),
        (t("devices.field.oauth", lang), yes_no(device.supports_oauth, lang)),
        (t("devices.field.sources", lang), ", ".join(source_label(s, lang) for s in sorted(device.sources)) or "—"),
        (t("devices.field.first_seen", lang), _when(device.first_seen, view.tz, lang)),
        (t("devices.field.last_seen", lang), _when(device.last_seen, view.tz, lang)),
        (t("devices.field.sign_ins", lang), t("devices.value.sign_ins", lang, ok=format_count(device.sign_ins_ok, lang),
                                               failed=format_count(device.sign_ins_failed, lang))),
    ]
    if device.messages is not None:
        pairs.append((t("devices.field.messages", lang), format_count(device.messages, lang)))
    return facts(pairs)


_AUDIT_FIELDS = {
    "name": "name", "kind": "kind", "location": "location", "owner": "owner", "vendor_model": "vendor_model",
    "sources": "sources", "observed_auth": "auth", "tls_versions": "tls", "recipient_scope": "scope",
    "supports_oauth": "oauth", "has_static_ip": "static_ip", "path": "path", "status": "status", "notes": "notes",
    "source_ip": "ip", "messages": "messages",
}
_AUDIT_VALUES: dict[str, Callable[[str, str], str]] = {
    "status": lambda v, lang: status_label(DeviceStatus(v), lang),
    "kind": lambda v, lang: kind_label(DeviceKind(v), lang),
    "path": lambda v, lang: path_label(MigrationPath(v), lang),
    "observed_auth": lambda v, lang: auth_label(ObservedAuth(v), lang),
    "recipient_scope": lambda v, lang: scope_label(RecipientScope(v), lang),
    "supports_oauth": lambda v, lang: yes_no(v == "true", lang),
    "has_static_ip": lambda v, lang: yes_no(v == "true", lang),
    "sources": lambda v, lang: ", ".join(source_label(Source(s), lang) for s in v.split(",")),
}


def _audit_value(field_name: str, value: str | None, lang: str) -> str:
    """A trail value in words where the field has a vocabulary; as stored otherwise."""
    if value in (None, ""):
        return "—"
    assert value is not None
    try:
        return _AUDIT_VALUES[field_name](value, lang) if field_name in _AUDIT_VALUES else value[:80]
    except ValueError:
        return value[:80]


def _audit_lines(entries: Sequence[AuditEntry], tz: ZoneInfo, lang: str) -> list[str]:
    lines = []
    for entry in entries[:MAX_AUDIT]:
        when = format_datetime(entry.at, tz, lang)
        if entry.field == "created":
            lines.append(t("devices.audit.created", lang, when=when, actor=entry.actor))
            continue
        label = t(f"devices.field.{_AUDIT_FIELDS[entry.field]}", lang) if entry.field in _AUDIT_FIELDS else entry.field
        lines.append(t("devices.audit.changed", lang, when=when, actor=entry.actor, field=label,
                       old=_audit_value(entry.field, entry.old, lang), new=_audit_value(entry.field, entry.new, lang)))
    return lines


def build_device_card(view: DeviceView, lang: str) -> Element:
    item = view.item
    device = item.device
    recommendation = item.recommendation
    body: list[Element] = [demo_banner(lang) if view.demo else {}, heading(device.name)]
    if view.notice:
        body.append(container([text(view.notice, weight="Bolder")], style=view.notice_style))
    verdict_color = {Verdict.BREAKS: "Attention", Verdict.BORROWED_TIME: "Warning"}.get(view.verdict)
    body.append(text(t(f"devices.verdict.sentence.{view.verdict.value}", lang, when=localized(view.when, lang)),
                     weight="Bolder", **({"color": verdict_color} if verdict_color else {})))
    body.append(_device_facts(device, view, lang))
    if view.siblings:
        body.append(small(t("devices.device.siblings", lang, count=view.siblings, sender=device.sender)))
    path_line = (
        t("devices.device.path_chosen", lang, path=path_label(device.path, lang))
        if device.path else t("devices.device.path_recommended", lang, path=path_label(recommendation.path, lang))
    )
    body += [subheading(t("devices.device.path_title", lang)), text(path_line, weight="Bolder"),
             text(localized(recommendation.reason, lang))]
    if device.path and device.path is not recommendation.path:
        body.append(small(t("devices.device.differs", lang, path=path_label(recommendation.path, lang))))
    steps = [localized(step, lang) for step in recommendation.steps[:MAX_STEPS]]
    if steps and device.path in (None, recommendation.path):
        body += [subheading(t("devices.device.steps", lang)), bullets(steps)]
    warnings = [localized(w, lang) for w in recommendation.warnings]
    if warnings:
        body += [subheading(t("devices.device.warnings", lang)), container([bullets(warnings)], style="warning")]
    notes = [localized(n, lang) for n in recommendation.notes]
    if notes:
        body.append(small(" ".join(notes)))
    if device.notes:
        body += [subheading(t("devices.field.notes", lang)), text(device.notes)]
    if view.audit:
        body += [subheading(t("devices.device.audit", lang)), bullets(_audit_lines(view.audit, view.tz, lang))]
    edit = card(edit_form_body(device, lang), [execute_action(t("devices.action.save", lang), SAVE_VERB, {"id": device.id})],
                lang=lang)
    actions = [
        {"type": "Action.ShowCard", "title": t("devices.action.edit", lang), "card": edit},
        execute_action(t("devices.action.verify", lang), VERIFY_VERB, {"id": device.id}),
        execute_action(t("devices.action.back", lang), LIST_VERB, {"filter": "", "page": 1}),
    ]
    return card(body, actions, lang=lang)


def build_device_unknown_card(name: str, suggestions: Sequence[str], lang: str, *, demo: bool = False) -> Element:
    body: list[Element] = [
        demo_banner(lang) if demo else {},
        heading(t("devices.unknown.title", lang, name=name[:60])),
        text(t("devices.unknown.suggest" if suggestions else "devices.unknown.none", lang)),
    ]
    for suggestion in suggestions:
        body.append(container([text(suggestion)], separator=True,
                              selectAction=command_action(suggestion[:40], f"/device {suggestion}")))
    return card(body, [command_action(t("devices.action.list_all", lang), "/devices")], lang=lang)


# ---------------------------------------------------------------- /devices


@dataclass(frozen=True)
class DeviceListView:
    items: list[Classified]
    verdicts: dict[int, Verdict]
    filter: DeviceFilter
    page: int
    pages: int
    total: int
    demo: bool
    error: str | None = None


def filter_label(wanted: DeviceFilter, lang: str) -> str:
    if wanted.kind == "path":
        return t("devices.filter.path", lang, path=path_label(MigrationPath(wanted.value), lang))
    if wanted.kind == "status":
        return t("devices.filter.status", lang, status=status_label(DeviceStatus(wanted.value), lang))
    if wanted.kind in ("owner", "sender"):
        return t(f"devices.filter.{wanted.kind}", lang, **{wanted.kind: wanted.value})
    return t(f"devices.filter.{wanted.kind}", lang)


def _row(item: Classified, verdict: Verdict, lang: str) -> Element:
    device = item.device
    path = path_label(item.path, lang) + ("" if item.chosen else t("devices.list.recommended_mark", lang))
    line = f"{status_label(device.status, lang)} · {path}"
    if verdict in (Verdict.BREAKS, Verdict.BORROWED_TIME):
        line += f" · {verdict_label(verdict, lang)}"
    return container(
        [text(_device_line(device)), small(line, spacing="None")],
        selectAction=execute_action(t("devices.action.open", lang), OPEN_VERB, {"id": device.id}),
        separator=True,
    )


def build_device_list_card(view: DeviceListView, lang: str) -> Element:
    body: list[Element] = [
        demo_banner(lang) if view.demo else {},
        heading(t("devices.list.title", lang, filter=filter_label(view.filter, lang))),
    ]
    if view.error:
        body.append(container([text(view.error, weight="Bolder")], style="attention"))
    if not view.items:
        body.append(text(t("devices.list.empty", lang)))
    else:
        body.append(small(t("devices.list.count", lang, total=view.total, page=view.page, pages=view.pages)))
        body += [_row(item, view.verdicts.get(item.device.id, Verdict.UNKNOWN), lang) for item in view.items]
        body.append(small(t("devices.list.tap", lang)))
    data = view.filter.as_text()
    actions: list[Element] = []
    if view.page > 1:
        actions.append(execute_action(t("devices.action.previous", lang), LIST_VERB, {"filter": data, "page": view.page - 1}))
    if view.page < view.pages:
        actions.append(execute_action(t("devices.action.next", lang), LIST_VERB, {"filter": data, "page": view.page + 1}))
    actions.append(execute_action(t("devices.action.summary", lang), REFRESH_VERB))
    if len(actions) < 3:
        actions.append(command_action(t("devices.action.export", lang), "/devices export"))
    return card(body, actions, lang=lang)


# ---------------------------------------------------------------- /scan


def build_scan_card(view: ScanView, lang: str) -> Element:
    body: list[Element] = [demo_banner(lang) if view.demo else {}, heading(t("devices.scan.title", lang))]
    if view.state == "running":
        body.append(text(t("devices.scan.running", lang, events=format_count(view.events, lang)), weight="Bolder"))
        if view.oldest is not None:
            body.append(small(t("devices.scan.back_to", lang, when=format_datetime(view.oldest, view.tz, lang))))
        body.append(small(t("devices.scan.running_hint", lang)))
        return card(body, None, lang=lang)
    if view.state == "busy":
        body.append(text(t("devices.scan.busy", lang)))
        return card(body, [command_action("/readiness", "/readiness")], lang=lang)
    if view.state == "failed":
        body.append(container([text(t("devices.scan.failed", lang), weight="Bolder"),
                               text(localized(view.error or {}, lang) or "?")], style="attention"))
        body.append(small(t("devices.scan.failed_hint", lang)))
        return card(body, [command_action(t("devices.action.scan_again", lang), "/scan")], lang=lang)
    result: DiscoveryResult = view.result or DiscoveryResult(0, 0, [], [], [], 0)
    body.append(text(t("devices.scan.done", lang, events=format_count(result.events, lang), pairs=format_count(result.pairs, lang)),
                     weight="Bolder"))
    if view.since and view.until:
        body.append(small(t("devices.scan.window", lang, since=format_datetime(view.since, view.tz, lang),
                            until=format_datetime(view.until, view.tz, lang))))
    body.append(facts([
        (t("devices.scan.new_devices", lang), format_count(len(result.new_devices), lang)),
        (t("devices.scan.updated", lang), format_count(result.updated_devices, lang)),
        (t("devices.scan.new_senders", lang), format_count(len(result.new_senders), lang)),
        (t("devices.scan.gone_senders", lang), format_count(len(result.gone_senders), lang)),
    ]))
    if result.new_senders:
        body += [subheading(t("devices.scan.new_title", lang)), bullets(list(result.new_senders[:MAX_LISTED]))]
    if result.gone_senders:
        body += [subheading(t("devices.scan.gone_title", lang)), bullets(list(result.gone_senders[:MAX_LISTED]))]
    body.append(small(t("devices.scan.auth_hint", lang)))
    return card(body, [command_action("/readiness", "/readiness"), command_action(t("devices.action.list_all", lang), "/devices")],
                lang=lang)


# ---------------------------------------------------------------- EAC import


@dataclass(frozen=True)
class ImportView:
    file_name: str
    summary: ImportSummary | None = None
    refused: ImportRefused | None = None
    demo: bool = False
    pending_rows: int | None = None  # a big report being written in the background
    failed: str | None = None  # the write failed and was rolled back


def build_import_card(view: ImportView, lang: str) -> Element:
    body: list[Element] = [demo_banner(lang) if view.demo else {}, heading(t("devices.import.title", lang, name=view.file_name[:80]))]
    if view.pending_rows is not None:
        body.append(text(t("devices.import.pending", lang, rows=format_count(view.pending_rows, lang)), weight="Bolder"))
        return card(body, None, lang=lang)
    if view.failed is not None:
        body.append(container([text(t("devices.import.failed", lang), weight="Bolder"), text(view.failed)], style="attention"))
        return card(body, [command_action("/readiness", "/readiness")], lang=lang)
    if view.refused is not None:
        lines = view.refused.lines(lang)
        count = len(lines)
        body.append(container([text(t("devices.import.refused", lang, count=count), weight="Bolder")], style="attention"))
        body.append(bullets(lines[:MAX_ERRORS]))
        if count > MAX_ERRORS:
            body.append(small(t("devices.import.more_errors", lang, count=count - MAX_ERRORS)))
        body.append(small(t("devices.import.refused_hint", lang)))
        return card(body, [command_action("/readiness", "/readiness")], lang=lang)
    summary = view.summary
    assert summary is not None
    body.append(text(summary.line(lang), weight="Bolder"))
    notes = [localized(note, lang) for note in summary.notes]
    if notes:
        body += [subheading(t("devices.import.notes", lang)), bullets(notes[:8])]
    return card(body, [command_action("/readiness", "/readiness"),
                       execute_action(t("devices.action.not_ready", lang), LIST_VERB, {"filter": "not-ready", "page": 1})],
                lang=lang)

