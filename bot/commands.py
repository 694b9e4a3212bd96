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
        name="check",
        summary={
            "en": "Admins: why one sender would succeed or fail with SMTP AUTH, now and after December 2026, with the fixes",
            "ja": "管理者向け: 送信元 1 件の SMTP AUTH の可否 (現在と 2026 年 12 月以降) と対処方法",
        },
        usage="/check <user@domain>",
        examples=("/check scanner@contoso.com", "/check printer-3f@contoso.com"),
        aliases=("diagnose", "診断"),
        admin_only=True,
    ),
    Command(
        name="explain",
        summary={
            "en": "What an SMTP reply such as 535 5.7.139 means, its likely cause and the fix (or just paste the reply)",
            "ja": "535 5.7.139 などの SMTP 応答の意味・原因・対処 (応答を貼り付けるだけでも可)",
        },
        usage="/explain <SMTP reply>",
        examples=(
            "/explain 550 5.7.30 Basic authentication is not supported for Client Submission.",
            "/explain 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
            "/explain 5.7.57",
        ),
        aliases=("解説",),
        in_manifest=False,  # pasting a reply is explained without any command
    ),
    Command(
        name="paths",
        summary={
            "en": "Where a printer or app that can't do OAuth can send from instead",
            "ja": "OAuth に対応していないプリンターやアプリの移行先",
        },
        usage="/paths",
        examples=("/paths",),
        aliases=("alternatives", "代替手段"),
        in_manifest=False,
    ),
    Command(
        name="readiness",
        summary={
            "en": "Your devices and apps: how many are ready, by migration path, and what breaks at the end of December 2026",
            "ja": "デバイスとアプリの準備状況: 対応状況と移行先の内訳、2026年12月末に止まるもの",
        },
        usage="/readiness",
        examples=("/readiness",),
        aliases=("準備状況", "準備"),
    ),
    Command(
        name="devices",
        summary={
            "en": "The device inventory, filtered: not-ready, breaks, borrowed, path X, owner X; or export as CSV",
            "ja": "デバイス一覧 (not-ready、breaks、borrowed、path、owner で絞り込み)、または CSV 出力",
        },
        usage="/devices [not-ready|breaks|borrowed|path <path>|owner <name>|status <status>|export]",
        examples=("/devices not-ready", "/devices breaks", "/devices path hve", "/devices owner Tanaka", "/devices export"),
        aliases=("デバイス一覧", "機器一覧"),
    ),
    Command(
        name="device",
        summary={
            "en": "One device or sender in detail, with the steps for its migration path; /device add to add one",
            "ja": "デバイスまたは送信者の詳細と移行手順。/device add で追加",
        },
        usage="/device <name|mailbox|#id|add>",
        examples=("/device printer-3f", "/device scan-to-mail@contoso.com", "/device add"),
        aliases=("デバイス", "機器"),
        in_manifest=False,  # needs an argument; the manifest has room for 12 commands only
    ),
    Command(
        name="scan",
        summary={
            "en": "Admins: find SMTP AUTH senders in the Entra sign-in logs now (needs Entra ID P1)",
            "ja": "管理者向け: Entra のサインイン ログから SMTP AUTH の送信者を今すぐ検索 (Entra ID P1 が必要)",
        },
        usage="/scan",
        examples=("/scan",),
        aliases=("スキャン", "discover"),
        admin_only=True,
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

