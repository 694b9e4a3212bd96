"""What changed between two versions of one Message Center post, and how to say it on a card.

This module owns the comparison rules: the same fields ``content_hash`` covers are compared (so a
changed hash always yields a non-empty diff), tags and services are compared case-insensitively as
sets, body paragraphs are compared in order with difflib after whitespace normalisation, and a
paragraph that only moved is reported as moved rather than as removed plus added. Microsoft's new
"Updated <date>:" notes are the headline. ``last_modified`` is not compared: it changes on every
edit and says nothing an admin can act on.

``summarize_diff`` turns a diff into short English or Japanese lines. Update-note text is quoted as
Microsoft wrote it (Graph only serves English); everything around it is localised.
"""

from __future__ import annotations

import difflib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.i18n import format_date, pick_language
from bot.mc.post import PostVersion, UpdateNote

log = logging.getLogger(__name__)

DATE_FIELDS = ("start", "end", "action_required_by")
_HEADLINE_MAX = 200


@dataclass(frozen=True)
class TextChange:
    """A scalar field (title, category, severity) that now reads differently."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class DateChange:
    """A date field that moved, appeared (old is None) or disappeared (new is None)."""

    field: str
    old: datetime | None
    new: datetime | None


@dataclass(frozen=True)
class FlagChange:
    field: str
    old: bool
    new: bool


@dataclass(frozen=True)
class PostDiff:
    """Everything that differs between an older and a newer version of the same post."""

    post_id: str
    title: TextChange | None = None
    dates: tuple[DateChange, ...] = ()
    fields: tuple[TextChange, ...] = ()
    flags: tuple[FlagChange, ...] = ()
    tags_added: tuple[str, ...] = ()
    tags_removed: tuple[str, ...] = ()
    services_added: tuple[str, ...] = ()
    services_removed: tuple[str, ...] = ()
    paragraphs_added: tuple[str, ...] = ()
    paragraphs_removed: tuple[str, ...] = ()
    paragraphs_moved: tuple[str, ...] = ()
    new_notes: tuple[UpdateNote, ...] = ()
    removed_notes: tuple[UpdateNote, ...] = ()

    @property
    def headline(self) -> UpdateNote | None:
        """Microsoft's own newest explanation of this change, if it wrote one."""
        return self.new_notes[0] if self.new_notes else None

    @property
    def is_empty(self) -> bool:
        return not (
            self.title
            or self.dates
            or self.fields
            or self.flags
            or self.tags_added
            or self.tags_removed
            or self.services_added
            or self.services_removed
            or self.paragraphs_added
            or self.paragraphs_removed
            or self.paragraphs_moved
            or self.new_notes
            or self.removed_notes
        )

    def date_change(self, field: str) -> DateChange | None:
        return next((change for change in self.dates if change.field == field), None)


def _set_difference(new: Sequence[str], old: Sequence[str]) -> tuple[str, ...]:
    """Items of ``new`` missing from ``old``, ignoring case, in ``new``'s order and spelling."""
    known = {item.casefold() for item in old}
    return tuple(item for item in new if item.casefold() not in known)


def _normal(paragraph: str) -> str:
    return " ".join(paragraph.split())


def _split(items: list[str], counts: Counter[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(kept, taken): take one occurrence of each item per count in ``counts``, keeping order."""
    remaining = Counter(counts)
    kept: list[str] = []
    taken: list[str] = []
    for item in items:
        if remaining[item] > 0:
            remaining[item] -= 1
            taken.append(item)
        else:
            kept.append(item)
    return tuple(kept), tuple(taken)


def diff_paragraphs(
    old: Sequence[str], new: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(added, removed, moved) paragraphs; whitespace-only edits are not changes."""
    before = [_normal(p) for p in old if _normal(p)]
    after = [_normal(p) for p in new if _normal(p)]
    added: list[str] = []
    removed: list[str] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed.extend(before[i1:i2])
        if tag in ("replace", "insert"):
            added.extend(after[j1:j2])
    moved = Counter(added) & Counter(removed)
    still_added, moved_paragraphs = _split(added, moved)
    still_removed, _ = _split(removed, moved)
    return still_added, still_removed, moved_paragraphs


def _date_changes(old: PostVersion, new: PostVersion) -> tuple[DateChange, ...]:
    changes = []
    for field in DATE_FIELDS:
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            changes.append(DateChange(field, before, after))
    return tuple(changes)


def diff_versions(old: PostVersion, new: PostVersion) -> PostDiff:
    """What ``new`` changed relative to ``old``. Both must be versions of the same post."""
    if old.id.upper() != new.id.upper():
        raise ValueError(f"cannot diff different posts: {old.id} vs {new.id}")
    added, removed, moved = diff_paragraphs(old.paragraphs, new.paragraphs)
    old_note_dates = {note.date for note in old.update_notes}
    new_note_dates = {note.date for note in new.update_notes}
    diff = PostDiff(
        post_id=new.id,
        title=TextChange("title", old.title, new.title) if old.title != new.title else None,
        dates=_date_changes(old, new),
        fields=tuple(
            TextChange(name, getattr(old, name), getattr(new, name))
            for name in ("category", "severity")
            if getattr(old, name) != getattr(new, name)
        ),
        flags=(
            (FlagChange("is_major_change", old.is_major_change, new.is_major_change),)
            if old.is_major_change != new.is_major_change
            else ()
        ),
        tags_added=_set_difference(new.tags, old.tags),
        tags_removed=_set_difference(old.tags, new.tags),
        services_added=_set_difference(new.services, old.services),
        services_removed=_set_difference(old.services, new.services),
        paragraphs_added=added,
        paragraphs_removed=removed,
        paragraphs_moved=moved,
        new_notes=tuple(note for note in new.update_notes if note.date not in old_note_dates),
        removed_notes=tuple(note for note in old.update_notes if note.date not in new_note_dates),
    )
    if diff.is_empty and old.content_hash != new.content_hash:
        log.warning("post %s: content hash changed but the diff is empty", new.id)
    return diff


# --- summary lines -------------------------------------------------------------------------------

_DATE_LABELS = {
    "start": {"en": "Start date", "ja": "開始日"},
    "end": {"en": "End date", "ja": "終了日"},
    "action_required_by": {"en": "Act-by date", "ja": "対応期限"},
}
_FIELD_LABELS = {
    "category": {"en": "Category", "ja": "カテゴリ"},
    "severity": {"en": "Severity", "ja": "重要度"},
}
_VALUE_LABELS = {
    "preventOrFixIssue": {"en": "Prevent or fix issues", "ja": "問題の防止または修正"},
    "planForChange": {"en": "Plan for change", "ja": "変更の計画"},
    "stayInformed": {"en": "Stay informed", "ja": "最新情報"},
    "normal": {"en": "Normal", "ja": "標準"},
    "high": {"en": "High", "ja": "高"},
    "critical": {"en": "Critical", "ja": "緊急"},
}
_LINES = {
    "note": {"en": "Update of {date}: {text}", "ja": "{date}の更新：{text}"},
    "note_removed": {"en": "Update note of {date} removed", "ja": "{date}の更新情報が削除されました"},
    "title": {"en": "Title changed", "ja": "タイトルが変更されました"},
    "date_moved": {
        "en": "{label} moved from {old} to {new}",
        "ja": "{label}が{old}から{new}に変更されました",
    },
    "date_set": {"en": "{label} set to {new}", "ja": "{label}が{new}に設定されました"},
    "date_removed": {"en": "{label} removed (was {old})", "ja": "{label}（{old}）が削除されました"},
    "date_time": {
        "en": "{label} time of day changed ({new})",
        "ja": "{label}の時刻が変更されました（{new}）",
    },
    "field": {"en": "{label} changed from {old} to {new}", "ja": "{label}が{old}から{new}に変更されました"},
    "major_on": {"en": "Now marked as a major change", "ja": "重大な変更に指定されました"},
    "major_off": {"en": "No longer marked as a major change", "ja": "重大な変更の指定が外れました"},
    "tags_added": {"en": "Tags added: {items}", "ja": "タグが追加されました：{items}"},
    "tag_added": {"en": "Tag added: {items}", "ja": "タグが追加されました：{items}"},
    "tags_removed": {"en": "Tags removed: {items}", "ja": "タグが削除されました：{items}"},
    "tag_removed": {"en": "Tag removed: {items}", "ja": "タグが削除されました：{items}"},
    "services_added": {"en": "Services added: {items}", "ja": "対象サービスが追加されました：{items}"},
    "service_added": {"en": "Service added: {items}", "ja": "対象サービスが追加されました：{items}"},
    "services_removed": {"en": "Services removed: {items}", "ja": "対象サービスが削除されました：{items}"},
    "service_removed": {"en": "Service removed: {items}", "ja": "対象サービスが削除されました：{items}"},
    "paragraphs_added": {"en": "{n} paragraphs added", "ja": "段落が{n}件追加されました"},
    "paragraph_added": {"en": "1 paragraph added", "ja": "段落が1件追加されました"},
    "paragraphs_removed": {"en": "{n} paragraphs removed", "ja": "段落が{n}件削除されました"},
    "paragraph_removed": {"en": "1 paragraph removed", "ja": "段落が1件削除されました"},
    "paragraphs_moved": {"en": "{n} paragraphs moved", "ja": "段落が{n}件移動しました"},
    "paragraph_moved": {"en": "1 paragraph moved", "ja": "段落が1件移動しました"},
}


def _line(key: str, lang: str, **values: object) -> str:
    return _LINES[key][lang].format(**values)


def _shorten(text: str, limit: int = _HEADLINE_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _date_line(change: DateChange, lang: str) -> str:
    """Dates only, in UTC: Graph's times of day (08:00Z) mean nothing to an admin."""
    label = _DATE_LABELS.get(change.field, {}).get(lang, change.field)
    old, new = change.old, change.new
    if old is None:
        return _line("date_set", lang, label=label, new=format_date(new.date(), lang)) if new else ""
    if new is None:
        return _line("date_removed", lang, label=label, old=format_date(old.date(), lang))
    if old.date() == new.date():
        return _line("date_time", lang, label=label, new=format_date(new.date(), lang))
    return _line(
        "date_moved", lang, label=label, old=format_date(old.date(), lang), new=format_date(new.date(), lang)
    )


def _value_label(value: str, lang: str) -> str:
    return _VALUE_LABELS.get(value, {}).get(lang, value or "—")


def _list_line(plural: str, singular: str, items: tuple[str, ...], lang: str) -> list[str]:
    if not items:
        return []
    joiner = "、" if lang == "ja" else ", "
    return [_line(plural if len(items) > 1 else singular, lang, items=joiner.join(items))]


def _count_line(plural: str, singular: str, count: int, lang: str) -> list[str]:
    if not count:
        return []
    return [_line(plural if count > 1 else singular, lang, n=count)]


def summarize_diff(diff: PostDiff, lang: str) -> list[str]:
    """Short card lines, headline first: new update notes, then fields, then body counts.

    ``lang`` is a locale ("ja", "ja-JP", "en-US"…); anything not Japanese reads as English. An
    empty diff gives no lines; the caller decides whether "nothing changed" is worth saying.
    """
    language = pick_language(lang)
    lines = [
        _line("note", language, date=format_date(note.date, language), text=_shorten(note.text))
        for note in diff.new_notes
    ]
    if diff.title:
        lines.append(_line("title", language))
    lines.extend(line for line in (_date_line(c, language) for c in diff.dates) if line)
    for change in diff.fields:
        label = _FIELD_LABELS.get(change.field, {}).get(language, change.field)
        lines.append(
            _line(
                "field",
                language,
                label=label,
                old=_value_label(change.old, language),
                new=_value_label(change.new, language),
            )
        )
    for flag in diff.flags:
        if flag.field == "is_major_change":
            lines.append(_line("major_on" if flag.new else "major_off", language))
    lines += _list_line("tags_added", "tag_added", diff.tags_added, language)
    lines += _list_line("tags_removed", "tag_removed", diff.tags_removed, language)
    lines += _list_line("services_added", "service_added", diff.services_added, language)
    lines += _list_line("services_removed", "service_removed", diff.services_removed, language)
    lines += _count_line("paragraphs_added", "paragraph_added", len(diff.paragraphs_added), language)
    lines += _count_line("paragraphs_removed", "paragraph_removed", len(diff.paragraphs_removed), language)
    lines += _count_line("paragraphs_moved", "paragraph_moved", len(diff.paragraphs_moved), language)
    lines.extend(
        _line("note_removed", language, date=format_date(note.date, language)) for note in diff.removed_notes
    )
    return lines
