"""The one routing table: every command, its help line, and how chat text finds it.

Help cards and the Teams manifest's ``commandLists`` are generated from ``COMMANDS`` so a command
cannot exist without help, nor help without a command. Matching is by whole first word (case and
leading slash ignored), never by substring, so "statusx" is not "status".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class Command:
    name: str
    summary: Mapping[str, str]
    usage: str
    examples: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    admin_only: bool = False
    in_manifest: bool = True


COMMANDS: tuple[Command, ...] = (
    Command(
        name="status",
        summary={
            "en": "Where we stand: days left until the end-of-December-2026 default-disable and what to do now",
            "ja": "現在の状況: 2026年12月末の既定無効化までの残り日数と、今やるべきこと",
        },
        usage="/status",
        examples=("/status",),
        aliases=("countdown", "deadline", "状況", "ステータス"),
    ),
    Command(
        name="timeline",
        summary={
            "en": "Every MC786329 milestone, and how the date moved",
            "ja": "MC786329 のすべての予定と、日程の変遷",
        },
        usage="/timeline",
        examples=("/timeline",),
        aliases=("schedule", "タイムライン", "スケジュール"),
    ),
    Command(
        name="mc",
        summary={
            "en": "MC786329 as Microsoft last published it, and what its last update changed",
            "ja": "Microsoft が最後に公開した MC786329 と、直近の更新で変わったこと",
        },
        usage="/mc [history] [MC-id]",
        examples=("/mc", "/mc history", "/mc MC786329"),
        aliases=("messagecenter", "メッセージセンター"),
    ),
    Command(
        name="posture",
        summary={
            "en": "Your tenant's SMTP AUTH settings and what the default-disable will do to them",
            "ja": "テナントの SMTP AUTH 設定と、既定の無効化による影響",
        },
        usage="/posture",
        examples=("/posture",),
        aliases=("settings", "設定"),
        admin_only=True,
    ),
    Command(
        name="subscribe",
        summary={
            "en": "Admins: send this conversation alerts (countdown, Message Center, senders, weekly digest)",
            "ja": "管理者向け: この会話に通知を送る (カウントダウン、メッセージ センター、送信元、週次ダイジェスト)",
        },
        usage="/subscribe [countdown|mc|senders|digest|all] [en|ja] [Asia/Tokyo] [09:00]",
        examples=("/subscribe", "/subscribe countdown mc ja Asia/Tokyo 08:30"),
        aliases=("購読",),
    ),
    Command(
        name="unsubscribe",
        summary={
            "en": "Admins: stop some or all alerts in this conversation",
            "ja": "管理者向け: この会話への通知の一部またはすべてを停止",
        },
        usage="/unsubscribe [countdown|mc|senders|digest]",
        examples=("/unsubscribe", "/unsubscribe digest"),
        aliases=("購読解除",),
    ),
    Command(
        name="alerts",
        summary={
            "en": "Which alerts this conversation gets and when, with buttons to change them",
            "ja": "この会話に届く通知とそのタイミング (変更ボタン付き)",
        },
        usage="/alerts",
        examples=("/alerts",),
        aliases=("通知",),
    ),
    Command(
        name="help",
        summary={
            "en": "What I can do, with examples",
            "ja": "使えるコマンドと使い方の例",
        },
        usage="/help [command]",
        examples=("/help", "/help status"),
        aliases=("?", "ヘルプ", "使い方"),
    ),
)

_MENTION = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[\s\u00a0\u200b\u3000]+")


def clean_text(text: str | None, bot_mentions: tuple[str, ...] = ()) -> str:
    """Strip the bot's own mention, leftover HTML and odd spaces (nbsp, ideographic) from chat text.

    ``bot_mentions`` are the mention texts (``<at>Bot</at>``) that name the bot; with none given,
    every mention is treated as the bot's. Other people's mentions keep their names.
    """
    if not text:
        return ""
    for mention in bot_mentions:
        text = text.replace(mention, " ")
    if not bot_mentions:
        text = _MENTION.sub(" ", text)
    without = _TAG.sub(" ", text)
    without = without.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", without)).strip()


def _index() -> dict[str, Command]:
    table: dict[str, Command] = {}
    for command in COMMANDS:
        for word in (command.name, *command.aliases):
            key = word.lower()
            if key in table:
                raise ValueError(f"'{word}' routes to both {table[key].name} and {command.name}")
            table[key] = command
    return table


_BY_WORD = _index()


@dataclass(frozen=True)
class Routed:
    command: Command
    args: str


def route(text: str) -> Routed | None:
    """Find the command a cleaned message asks for, or None."""
    if not text:
        return None
    first, _, rest = text.partition(" ")
    word = first.lstrip("/／").lower()
    command = _BY_WORD.get(word)
    return Routed(command, rest.strip()) if command else None


def find(name: str) -> Command | None:
    return _BY_WORD.get(name.lstrip("/").lower())


def manifest_commands(lang: str = "en") -> list[dict[str, str]]:
    """``commandLists`` entries for the Teams manifest (title ≤ 32, description ≤ 128 characters)."""
    return [
        {"title": command.name, "description": command.summary[lang][:128]}
        for command in COMMANDS
        if command.in_manifest
    ][:12]

