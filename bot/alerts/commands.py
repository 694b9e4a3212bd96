"""/subscribe, /unsubscribe and /alerts, and the buttons on alert and settings cards.

Only admins (ADMIN_USER_IDS) change anything, because alerts reach everyone in a channel; anyone
may look. Card buttons carry nothing but an alert id (a random UUID); the handler checks that the
alert belongs to the conversation the button was pressed in, so a tampered payload can neither
reach another conversation's alert nor crash anything.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.actions import ActionResult, card_action
from bot.alerts import ladder, rules
from bot.alerts.config import alert_settings
from bot.alerts.ledger import Ledger
from bot.alerts.render import Marks, render_alert
from bot.alerts.subscriptions import (
    DEFAULT_KINDS,
    KINDS,
    Options,
    Subscription,
    SubscriptionStore,
    merge_kinds,
    normalise_time,
    parse_options,
    remove_kinds,
    valid_timezone,
)
from bot.i18n import t
from bot.services import Services
from bot.storage.conversations import base_conversation_id
from bot.turn import Reply, TurnInput
from cards.alerts import (
    ACK_VERB,
    SAVE_VERB,
    SNOOZE_VERB,
    SUBSCRIBE_VERB,
    UNSUBSCRIBE_VERB,
    KindSchedule,
    SubscriptionsView,
    build_alerts_settings_card,
)

log = logging.getLogger(__name__)

SNOOZE = timedelta(days=7)
_ALERT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _store(services: Services) -> SubscriptionStore:
    return SubscriptionStore(services.db.engine)


def _ledger(services: Services) -> Ledger:
    return Ledger(services.db.engine, holder="chat")


def _kind_list(kinds: tuple[str, ...], lang: str) -> str:
    joiner = "、" if lang == "ja" else ", "
    return joiner.join(t(f"alerts.kind.{kind}", lang) for kind in kinds)


async def settings_view(services: Services, turn: TurnInput, notice: str | None = None) -> SubscriptionsView:
    """What /alerts shows for the conversation ``turn`` came from."""
    store = _store(services)
    key = turn.conversation
    conversation_id = base_conversation_id(key.conversation_id)
    sub = await store.get(key.tenant_id, conversation_id)
    others = [s for s in await store.all(key.tenant_id) if s.conversation_id != conversation_id]
    settings = alert_settings(services.settings)
    schedules: list[KindSchedule] = []
    if sub is not None:
        now = turn.now
        last = await _ledger(services).last_sent(key.tenant_id, conversation_id)
        for kind in sub.kinds:
            snoozed = sub.snoozed_until(kind)
            item = KindSchedule(
                kind, last_sent=last.get(kind), snoozed_until=snoozed if snoozed and snoozed > now else None
            )
            if kind == rules.COUNTDOWN:
                rung = ladder.next_rung(services.timeline, now, sub.tz, sub.local_send_time)
                if rung is not None:
                    item = replace(item, next_at=rung.due_at, next_days=rung.days)
            elif kind == rules.DIGEST:
                item = replace(item, next_at=rules.next_digest(sub, now))
            schedules.append(item)
    return SubscriptionsView(
        conversation_type=key.conversation_type,
        subscription=sub,
        schedules=schedules,
        mc_poll_minutes=settings.mc_poll_minutes,
        senders_at_utc=settings.senders_at_utc,
        others=others,
        can_change=turn.is_admin,
        notice=notice,
        default_send_time=settings.send_time,
        lang_default=turn.lang,
        tz_default=turn.tz.key,
    )


async def _settings_card(services: Services, turn: TurnInput, notice: str | None = None) -> dict[str, Any]:
    return build_alerts_settings_card(await settings_view(services, turn, notice), turn.lang)


async def _save(
    services: Services,
    turn: TurnInput,
    existing: Subscription | None,
    kinds: tuple[str, ...],
    lang: str | None,
    zone: str | None,
    send_time: str | None,
) -> Subscription:
    settings = alert_settings(services.settings)
    key = turn.conversation
    sub = Subscription(
        tenant_id=key.tenant_id,
        conversation_id=key.conversation_id,
        conversation_type=key.conversation_type,
        kinds=kinds,
        lang=lang or (existing.lang if existing else turn.lang),
        timezone=zone or (existing.timezone if existing else turn.tz.key),
        send_time=send_time or (existing.send_time if existing else settings.send_time),
        active=True,
        snoozes=dict(existing.snoozes) if existing else {},
        created_by=existing.created_by if existing else (turn.user_aad_id or ""),
        created_by_name=existing.created_by_name if existing else turn.user_name,
        created_at=existing.created_at if existing else None,
    )
    saved = await _store(services).save(sub, turn.now)
    log.info(
        "alert subscription saved (%s, kinds=%s, lang=%s, tz=%s)",
        key.conversation_type,
        ",".join(kinds),
        saved.lang,
        saved.timezone,
    )
    return saved


# --- chat commands ---------------------------------------------------------------------------


def _admin_options(turn: TurnInput) -> Options | Reply:
    """The command's options, or the reply refusing it (not an admin, or words it does not know)."""
    if not turn.is_admin:
        return Reply(text=t("alerts.cmd.not_admin", turn.lang))
    options = parse_options(turn.args)
    if options.unknown:
        words = ", ".join(f"'{word[:30]}'" for word in options.unknown[:5])
        return Reply(text=t("alerts.cmd.unknown_options", turn.lang, words=words))
    return options


async def subscribe(services: Services, turn: TurnInput) -> Reply:
    """/subscribe [kinds] [en|ja] [zone] [HH:MM]: this conversation gets alerts."""
    options = _admin_options(turn)
    if isinstance(options, Reply):
        return options
    existing = await _store(services).get(turn.conversation.tenant_id, turn.conversation.conversation_id)
    if options.kinds:
        kinds = merge_kinds(existing.kinds if existing and existing.active else (), options.kinds)
    else:
        kinds = existing.kinds if existing and existing.kinds else DEFAULT_KINDS
    saved = await _save(services, turn, existing, kinds, options.lang, options.timezone, options.send_time)
    notice = t("alerts.cmd.subscribed", turn.lang, kinds=_kind_list(saved.kinds, turn.lang))
    return Reply.card(await _settings_card(services, turn, notice))


async def unsubscribe(services: Services, turn: TurnInput) -> Reply:
    """/unsubscribe [kinds]: stop some or all alerts here."""
    options = _admin_options(turn)
    if isinstance(options, Reply):
        return options
    store = _store(services)
    key = turn.conversation
    existing = await store.get(key.tenant_id, key.conversation_id)
    if existing is None:
        return Reply(text=t("alerts.cmd.not_subscribed", turn.lang))
    left = remove_kinds(existing.kinds, options.kinds) if options.kinds else ()
    if left:
        await _save(services, turn, existing, left, None, None, None)
        notice = t(
            "alerts.cmd.removed_kinds",
            turn.lang,
            kinds=_kind_list(options.kinds or (), turn.lang),
            left=_kind_list(left, turn.lang),
        )
        return Reply.card(await _settings_card(services, turn, notice))
    await store.delete(key.tenant_id, key.conversation_id)
    log.info("alert subscription removed (%s)", key.conversation_type)
    return Reply(text=t("alerts.cmd.unsubscribed", turn.lang))


async def alerts(services: Services, turn: TurnInput) -> Reply:
    """/alerts: what this conversation gets and when, with the controls for admins."""
    return Reply.card(await _settings_card(services, turn))


# --- /alerts card buttons ------------------------------------------------------------------


def _form_values(
    data: dict[str, Any], lang: str
) -> tuple[tuple[str, ...], str | None, str | None, str | None] | str:
    """Kinds, language, zone and time from the card's inputs; a message for the first bad one."""
    raw_kinds = data.get("kinds")
    kinds: tuple[str, ...] = ()
    if isinstance(raw_kinds, str):
        wanted = {part.strip() for part in raw_kinds.split(",")}
        kinds = tuple(kind for kind in KINDS if kind in wanted)
    if not kinds:
        return t("alerts.button.no_kinds", lang)
    chosen_lang = data.get("lang") if data.get("lang") in ("en", "ja") else None
    zone = None
    raw_zone = data.get("timezone")
    if isinstance(raw_zone, str) and raw_zone.strip():
        zone = valid_timezone(raw_zone.strip())
        if zone is None:
            return t("alerts.button.bad_timezone", lang, value=raw_zone.strip()[:64])
    send_time = None
    raw_time = data.get("send_time")
    if isinstance(raw_time, str) and raw_time.strip():
        send_time = normalise_time(raw_time)
        if send_time is None:
            return t("alerts.button.bad_time", lang, value=raw_time.strip()[:16])
    return kinds, chosen_lang, zone, send_time


async def _save_from_card(
    services: Services, turn: TurnInput, data: dict[str, Any], notice_key: str
) -> ActionResult:
    values = _form_values(data, turn.lang)
    if isinstance(values, str):
        return ActionResult(message=values)
    kinds, lang, zone, send_time = values
    existing = await _store(services).get(turn.conversation.tenant_id, turn.conversation.conversation_id)
    saved = await _save(services, turn, existing, kinds, lang, zone, send_time)
    notice = t(notice_key, turn.lang, kinds=_kind_list(saved.kinds, turn.lang))
    return ActionResult(card=await _settings_card(services, turn, notice))


@card_action(SUBSCRIBE_VERB, admin_only=True)
async def subscribe_button(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    """The Subscribe button on /alerts."""
    return await _save_from_card(services, turn, data, "alerts.cmd.subscribed")


@card_action(SAVE_VERB, admin_only=True)
async def save_button(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    """The Save button on /alerts."""
    return await _save_from_card(services, turn, data, "alerts.cmd.updated")


@card_action(UNSUBSCRIBE_VERB, admin_only=True)
async def unsubscribe_button(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    """The Unsubscribe button on /alerts."""
    key = turn.conversation
    await _store(services).delete(key.tenant_id, key.conversation_id)
    return ActionResult(card=await _settings_card(services, turn, t("alerts.cmd.unsubscribed", turn.lang)))


# --- alert card buttons --------------------------------------------------------------------


async def _own_alert(services: Services, turn: TurnInput, data: dict[str, Any]) -> list[Any] | None:
    """The ledger rows of the pressed alert, if the payload names an alert of this conversation."""
    alert_id = data.get("alert")
    if not isinstance(alert_id, str) or not _ALERT_ID.match(alert_id):
        log.warning("alert button refused: malformed payload")
        return None
    rows = await _ledger(services).batch(alert_id)
    key = turn.conversation
    if (
        not rows
        or rows[0].key.tenant_id != key.tenant_id
        or rows[0].key.conversation_id != base_conversation_id(key.conversation_id)
    ):
        log.warning("alert button refused: the alert is not from this conversation")
        return None
    return rows


async def _rebuilt(services: Services, turn: TurnInput, rows: list[Any], now: datetime) -> dict[str, Any]:
    first = rows[0]
    sub = await _store(services).get(first.key.tenant_id, first.key.conversation_id)
    snoozed = sub.snoozed_until(first.key.kind) if sub else None
    marks = Marks(
        acked_by=first.acked_by_name or (first.acked_by and t("alerts.state.someone", turn.lang)),
        acked_at=first.acked_at,
        snoozed_until=snoozed if snoozed and snoozed > now else None,
    )
    return render_alert(first.key.kind, [row.payload for row in rows], first.batch, services.timeline, marks)


@card_action(ACK_VERB, admin_only=True)
async def acknowledge(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    """Acknowledge: record who and when, and show it on the card."""
    rows = await _own_alert(services, turn, data)
    if rows is None:
        return ActionResult(message=t("alerts.button.invalid", turn.lang), status=400)
    await _ledger(services).acknowledge(
        rows[0].batch, turn.user_aad_id or turn.user_id or "", turn.user_name, turn.now
    )
    rows = await _ledger(services).batch(rows[0].batch)
    return ActionResult(card=await _rebuilt(services, turn, rows, turn.now))


@card_action(SNOOZE_VERB, admin_only=True)
async def snooze(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    """Snooze 7 days: no alerts of this kind here until then (what is still due then goes out)."""
    rows = await _own_alert(services, turn, data)
    if rows is None:
        return ActionResult(message=t("alerts.button.invalid", turn.lang), status=400)
    key = rows[0].key
    await _store(services).snooze(key.tenant_id, key.conversation_id, key.kind, turn.now + SNOOZE, turn.now)
    return ActionResult(card=await _rebuilt(services, turn, rows, turn.now))
