"""Diagnostics cards: an SMTP reply explained, one sender checked, ways out without OAuth, and "which did you mean?".

Pure functions of small views; all wording comes from the catalog (``diag.*``) or the reply table,
so the same card reads in English or Japanese.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.diagnostics.check import CheckReport, Finding, Verdict
from bot.diagnostics.smtp_replies import ExplainedReply, Explanation, Localized, ReplyEntry
from bot.i18n import catalog, format_datetime, t
from bot.tenant.posture import Posture
from bot.tenant.service import Section
from cards.base import (
    Element,
    bullets,
    card,
    command_action,
    container,
    execute_action,
    heading,
    small,
    subheading,
    text,
)
from cards.tenant import demo_banner, freshness

RECHECK_VERB = "diag.recheck"
MAX_FULL_REPLIES = 3
MAX_SUGGESTION_BUTTONS = 3
SNIPPET_CHARS = 160


# --- SMTP replies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplainView:
    explanation: Explanation
    automatic: bool = False  # answered a pasted reply without /explain
    sender: str | None = None  # an address in the same text, offered for /check
    known_codes: tuple[str, ...] = ()  # listed when nothing was found


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _labelled(label: str, value: str) -> Element:
    return text(f"**{label}:** {value}")


def _powershell(line: str) -> Element:
    return text(line, fontType="Monospace", size="Small")


def _retirement(entry: ReplyEntry, lang: str) -> Element:
    key = "diag.explain.retirement.yes" if entry.is_retirement else "diag.explain.retirement.no"
    return container([text(t(key, lang), weight="Bolder", size="Small")], style="attention" if entry.is_retirement else "emphasis")


def _entry_items(item: ExplainedReply, lang: str) -> list[Element]:
    entry = item.match.entry
    assert entry is not None
    items: list[Element] = [
        subheading(f"{item.match.code or entry.code}: {entry.title.text(lang)}"),
        small(t("diag.explain.pasted", lang, snippet=_clip(item.match.snippet, SNIPPET_CHARS))) if item.match.snippet else {},
        text(item.notice.text(lang), color="Warning") if item.notice else {},
        _retirement(entry, lang),
        _labelled(t("diag.explain.meaning", lang), entry.meaning.text(lang)),
        _labelled(t("diag.explain.cause", lang), entry.cause.text(lang)),
        _labelled(t("diag.explain.fix", lang), entry.fix.text(lang)),
    ]
    if entry.admin_center is not None:
        items.append(_labelled(t("diag.explain.admin", lang), entry.admin_center.text(lang)))
    if entry.powershell:
        items += [text(f"**{t('diag.explain.powershell', lang)}:**"), _powershell(entry.powershell)]
    if item.confidence_note is not None:
        items.append(small(item.confidence_note.text(lang)))
    items.append(small(t("diag.explain.source", lang, source=entry.source)))
    return items


def _unresolved_items(item: ExplainedReply, lang: str) -> list[Element]:
    suggestions = item.match.suggestions
    return [
        subheading(item.match.code or "?"),
        small(t("diag.explain.pasted", lang, snippet=_clip(item.match.snippet, SNIPPET_CHARS))) if item.match.snippet else {},
        text(item.notice.text(lang)) if item.notice else {},
        text(t("diag.explain.closest", lang), weight="Bolder") if suggestions else {},
        *[row for s in suggestions[:MAX_SUGGESTION_BUTTONS] for row in _suggestion_rows(s, lang)],
        bullets([t("diag.explain.candidate", lang, code=s.code, title=s.title.text(lang)) for s in suggestions[MAX_SUGGESTION_BUTTONS:]])
        if len(suggestions) > MAX_SUGGESTION_BUTTONS else {},
    ]


def _button_row(action: Element) -> Element:
    """One button on its own row: side by side, long titles are cut off on a phone."""
    return {"type": "ActionSet", "actions": [action]}


def _suggestion_rows(entry: ReplyEntry, lang: str) -> list[Element]:
    """One candidate: its title, then a button that explains it (its sample resolves to exactly it)."""
    sample = entry.samples[0] if entry.samples else entry.code
    title = t("diag.explain.candidate", lang, code=entry.code, title=entry.title.text(lang))
    button = command_action(t("diag.action.explain_code", lang, code=entry.code), f"/explain {sample}")
    return [text(title, size="Small", spacing="Small"), _button_row(button)]


def build_explain_card(view: ExplainView, lang: str) -> Element:
    """What each reply in the text means, whether it is the retirement, and how to fix it."""
    explanation = view.explanation
    body: list[Element] = [heading(t("diag.explain.title", lang))]
    if view.automatic:
        body.append(small(t("diag.explain.auto", lang)))
    if explanation.notice is not None:
        body.append(text(explanation.notice.text(lang)))
        if view.known_codes:
            body.append(small(t("diag.explain.known_codes", lang, codes=", ".join(view.known_codes))))
    actions: list[Element] = []
    for item in explanation.items[:MAX_FULL_REPLIES]:
        items = _entry_items(item, lang) if item.match.entry is not None else _unresolved_items(item, lang)
        body.append(container(items))
    rest = explanation.items[MAX_FULL_REPLIES:]
    if rest:
        body.append(small(t("diag.explain.more", lang, codes=", ".join(i.match.code for i in rest))))
    if view.sender:
        actions.append(command_action(t("diag.action.check_sender", lang, address=_clip(view.sender, 30)), f"/check {view.sender}"))
    actions.append(command_action(t("action.help", lang), "/help explain"))
    return card(body, actions, lang=lang)


# --- plain questions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    line: str  # the command as typed, e.g. "/device scanner@contoso.com"
    summary: str  # what it answers, in the user's language


def build_question_choice_card(question: str, choices: Sequence[Choice], lang: str) -> Element:
    """Unsure what a question asks: the likeliest commands as buttons rather than a guess."""
    key = "diag.q.choose" if len(choices) > 1 else "diag.q.choose_one"
    body: list[Element] = [heading(t("diag.q.choose_title", lang)), text(t(key, lang, text=_clip(question, 60)))]
    for choice in choices:
        body += [text(choice.line, spacing="Medium", fontType="Monospace"), small(choice.summary, spacing="None")]
        body.append(_button_row(command_action(t("diag.action.choose", lang, command=choice.line.split()[0]), choice.line)))
    return card(body, [command_action(t("action.help", lang), "/help")], lang=lang)


# --- /check ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckView:
    report: CheckReport
    org: Section[Posture] | None
    tz: ZoneInfo
    note: str | None = None  # e.g. "I check one sender at a time"


def _outcome(verdict: Verdict, report: CheckReport, lang: str) -> str:
    if verdict.outcome == "works":
        return t("diag.outcome.works", lang)
    ids = verdict.blockers if verdict.outcome == "fails" else verdict.open_questions
    names = ("、" if lang == "ja" else ", ").join(report.finding(i).title.text(lang) for i in ids)
    return t(f"diag.outcome.{verdict.outcome}", lang, items=names)


def _verdict_row(label_key: str, verdict: Verdict, report: CheckReport, lang: str) -> Element:
    color = {"works": "Good", "fails": "Attention", "unknown": "Warning"}[verdict.outcome]
    return container(
        [
            text(t(label_key, lang), size="Small", isSubtle=True),
            text(_outcome(verdict, report, lang), weight="Bolder", color=color, spacing="None"),
        ]
    )


def _finding_items(finding: Finding, report: CheckReport, tz: ZoneInfo, lang: str) -> list[Element]:
    icon = t(f"diag.status.{finding.status}", lang)
    items: list[Element] = [
        text(f"{icon} **{finding.title.text(lang)}**: {finding.found.text(lang)}", spacing="Medium"),
        small(finding.effect.text(lang), spacing="None") if finding.effect else {},
    ]
    if finding.id == "sign_ins" and report.sign_ins is not None:
        items += _sign_in_lines(report, tz, lang)
    fix = finding.fix
    if fix is not None and finding.status in ("fail", "warn"):
        items.append(_labelled(t("diag.check.fix_label", lang), fix.text.text(lang)))
        if fix.admin_center is not None:
            items.append(small(f"{t('diag.check.admin_label', lang)}: {fix.admin_center.text(lang)}"))
        if fix.powershell:
            items.append(_powershell(fix.powershell))
    return items


def _sign_in_lines(report: CheckReport, tz: ZoneInfo, lang: str) -> list[Element]:
    summary = report.sign_ins
    assert summary is not None
    lines = []
    if summary.last_success is not None:
        lines.append(t("diag.check.sign_ins.last_success", lang, when=format_datetime(summary.last_success, tz, lang)))
    if summary.last_failure is not None:
        lines.append(t("diag.check.sign_ins.last_failure", lang, when=format_datetime(summary.last_failure, tz, lang)))
    for code, count, reason in summary.codes:
        known = f"diag.signin.{code}"
        described = t(known, lang) if known in catalog() else (_clip(reason, 120) or "—")
        lines.append(t("diag.check.sign_ins.code", lang, code=code, count=count, reason=described))
    return [bullets(lines)] if lines else []


def build_check_card(view: CheckView, lang: str) -> Element:
    """One sender: three verdicts, then every setting that decides them with its fix."""
    report = view.report
    body: list[Element] = [
        demo_banner(lang) if report.demo else {},
        heading(t("diag.check.heading", lang, upn=report.upn)),
        small(report.display_name, spacing="None") if report.display_name else {},
        small(view.note) if view.note else {},
        text(report.advice.text(lang), weight="Bolder"),
        subheading(t("diag.check.verdicts", lang)),
        _verdict_row("diag.verdict.now", report.now, report, lang),
        _verdict_row("diag.verdict.after", report.after, report, lang),
        _verdict_row("diag.verdict.oauth", report.oauth, report, lang),
        subheading(t("diag.check.findings", lang)),
    ]
    for finding in report.findings:
        body.append(container(_finding_items(finding, report, view.tz, lang)))
    body.append(small(t("diag.check.stopgap", lang)))
    if view.org is not None:
        line = freshness(view.org, view.tz, lang)
        body.append(small(t("diag.check.org_from", lang, freshness=line["text"]), color=line.get("color", "Default")))
    actions = [
        execute_action(t("diag.action.recheck", lang), RECHECK_VERB, {"upn": report.upn}),
        command_action("/posture", "/posture"),
        command_action("/paths", "/paths"),
    ]
    return card(body, actions, lang=lang)


# --- /paths ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathRow:
    scenario: str  # catalog key suffix, e.g. "internal"
    path: Localized
    reason: Localized


@dataclass(frozen=True)
class PathsView:
    rows: Sequence[PathRow]
    notes: Sequence[Localized] = field(default_factory=tuple)
    devices_command: bool = False  # /devices exists (the device inventory feature)


def build_paths_card(view: PathsView, lang: str) -> Element:
    """Where a device that can't do OAuth can go, by whom it mails and how it connects."""
    body: list[Element] = [heading(t("diag.paths.title", lang)), text(t("diag.paths.intro", lang))]
    for row in view.rows:
        body.append(
            container(
                [
                    text(f"**{t(f'diag.paths.scenario.{row.scenario}', lang)}** → {row.path.text(lang)}", spacing="Medium"),
                    small(row.reason.text(lang), spacing="None"),
                ]
            )
        )
    for note in view.notes:
        body.append(small(note.text(lang)))
    body.append(small(t("diag.paths.own", lang)))
    actions = [command_action("/devices not-ready", "/devices not-ready")] if view.devices_command else []
    return card(body, [*actions, command_action("/help", "/help")], lang=lang)
