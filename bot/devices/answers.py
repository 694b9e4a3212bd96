"""Chat answers for device readiness: /readiness, /devices, /device, /scan, their card buttons, the
EAC upload and the export, and the readiness section of /status.

Anyone in an allowed tenant may read the inventory; only the bot's admins (ADMIN_USER_IDS) may
change it, and a refused change is answered with the card it was pressed on, saying why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.actions import ActionResult, card_action
from bot.devices.classify import classify
from bot.devices.cutoff import device_verdict
from bot.devices.edits import FieldError, parse_draft, parse_edit
from bot.devices.export import export_file_name, inventory_csv
from bot.devices.importer import ImportRefused, PreparedImport, prepare_import, write_import
from bot.devices.model import Device, DeviceStatus
from bot.devices.naming import find
from bot.devices.outbox import FileOffer
from bot.devices.readiness import (
    DeviceFilter,
    FilterError,
    ReadinessSummary,
    page_of,
    parse_filter,
    select,
    summarize,
)
from bot.devices.runtime import runtime_of
from bot.devices.scan import ScanStateStore, ScanView
from bot.devices.store import DeviceConflict, DeviceStore
from bot.i18n import format_count, t
from bot.services import Services
from bot.storage.readcache import shared_cache
from bot.tenant.posture import Posture
from bot.turn import Reply, TurnInput
from cards.base import Element
from cards.devices import (
    ADD_VERB,
    LIST_VERB,
    OPEN_VERB,
    REFRESH_VERB,
    SAVE_VERB,
    VERIFY_VERB,
    DeviceListView,
    DeviceView,
    ImportView,
    ReadinessView,
    build_device_card,
    build_device_form_card,
    build_device_list_card,
    build_device_unknown_card,
    build_import_card,
    build_readiness_card,
    build_scan_card,
    readiness_section,
)

log = logging.getLogger(__name__)

EXPORT_KIND = "devices-export"
BACKGROUND_CHANGES = 5_000
"""Imports bigger than this are written after the turn is answered: Teams gives a turn 15 seconds."""


@dataclass(frozen=True)
class Inventory:
    """One read of everything an answer needs: the devices, the posture, demo or not."""

    store: DeviceStore
    devices: list[Device]
    posture: Posture | None
    demo: bool


async def load(services: Services) -> Inventory:
    store = runtime_of(services).store()
    posture = (await services.tenant.posture()).value
    return Inventory(store, await store.all(), posture, services.tenant.demo)


def cutoff_when(services: Services, lang: str) -> str:
    return services.timeline.milestone("default-disable").describe_when(lang, in_sentence=True) or ""


def _when_pair(services: Services) -> dict[str, str]:
    return {lang: cutoff_when(services, lang) for lang in ("en", "ja")}


def actor(turn: TurnInput) -> str:
    """Who made a change, as the audit trail shows it: their name and Entra id."""
    name = (turn.user_name or "").strip()
    ident = turn.user_aad_id or turn.user_id or "?"
    return f"{name} ({ident})" if name else ident


def _errors_text(errors: list[FieldError], lang: str) -> str:
    return " ".join(t(error.key, lang) for error in errors)


# ---------------------------------------------------------------- /readiness


async def readiness_card(services: Services, turn: TurnInput, error: str | None = None) -> Element:
    inventory = await load(services)
    scan = await ScanStateStore(services.db.engine, inventory.store.tenant_id).get()
    view = ReadinessView(
        summary=summarize(inventory.devices, inventory.posture),
        demo=inventory.demo,
        tz=turn.tz,
        last_scan=scan.finished_at if scan.outcome == "ok" else None,
        last_scan_events=scan.events,
        cutoff_label=_when_pair(services),
        can_edit=turn.is_admin,
        error=error,
    )
    return build_readiness_card(view, turn.lang)


async def readiness(services: Services, turn: TurnInput) -> Reply:
    """Counts by status and path, the chart, and what breaks at the default-disable."""
    return Reply.card(await readiness_card(services, turn))


@card_action(REFRESH_VERB)
async def refresh_readiness(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    return ActionResult(card=await readiness_card(services, turn))


async def status_summary(services: Services) -> ReadinessSummary:
    """The readiness counts, kept a few seconds because every /status shows them and reading the whole
    inventory for each message was most of its database time. The bot's own device changes show at
    once; an import by the CLI (another process) within ``bot.storage.readcache.DEFAULT_TTL`` seconds."""

    async def compute() -> ReadinessSummary:
        inventory = await load(services)
        return summarize(inventory.devices, inventory.posture)

    cache = shared_cache(services.db.engine, "devices.status_summary")
    return await cache.get(runtime_of(services).tenant_id, compute)  # type: ignore[no-any-return]


async def status_section(services: Services, turn: TurnInput) -> list[Element]:
    """What /status adds about devices: counts and how many senders break at the cutoff."""
    return readiness_section(await status_summary(services), cutoff_when(services, turn.lang), turn.lang)


# ---------------------------------------------------------------- /devices


async def list_card(services: Services, turn: TurnInput, wanted: DeviceFilter, page: int, error: str | None = None) -> Element:
    inventory = await load(services)
    items = select(inventory.devices, wanted, inventory.posture)
    shown, page, pages = page_of(items, page)
    verdicts = {item.device.id: device_verdict(item.device, inventory.posture) for item in shown}
    view = DeviceListView(shown, verdicts, wanted, page, pages, len(items), inventory.demo, error)
    return build_device_list_card(view, turn.lang)


def filter_error(error: FilterError, lang: str) -> str:
    return t(f"devices.filter.error.{error.code}", lang, value=error.value)


async def devices(services: Services, turn: TurnInput) -> Reply:
    """``/devices [not-ready|breaks|borrowed|path X|owner X|status X]``, or ``/devices export``."""
    if turn.args.strip().lower() in ("export", "csv", "エクスポート"):
        return await export(services, turn)
    try:
        wanted = parse_filter(turn.args)
    except FilterError as error:
        return Reply.card(await list_card(services, turn, DeviceFilter(), 1, filter_error(error, turn.lang)))
    return Reply.card(await list_card(services, turn, wanted, 1))


def _page(data: dict[str, Any]) -> int:
    try:
        return int(data.get("page", 1))
    except (TypeError, ValueError):
        return 1


@card_action(LIST_VERB)
async def list_page(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    try:
        wanted = parse_filter(str(data.get("filter") or ""))
    except FilterError:
        wanted = DeviceFilter()
    return ActionResult(card=await list_card(services, turn, wanted, _page(data)))


# ---------------------------------------------------------------- /device


async def device_card(
    services: Services, turn: TurnInput, device_id: int, notice: str | None = None, notice_style: str = "good"
) -> Element | None:
    inventory = await load(services)
    device = next((d for d in inventory.devices if d.id == device_id), None)
    if device is None:
        return None
    view = DeviceView(
        item=classify(device),
        verdict=device_verdict(device, inventory.posture),
        audit=await inventory.store.audit(device.id),
        demo=inventory.demo,
        tz=turn.tz,
        when=_when_pair(services),
        notice=notice,
        notice_style=notice_style,
        siblings=sum(1 for d in inventory.devices if d.sender == device.sender and d.id != device.id),
    )
    return build_device_card(view, turn.lang)


async def device(services: Services, turn: TurnInput) -> Reply:
    """``/device <name|UPN|#id>`` in detail with its steps, or ``/device add`` for the form."""
    wanted = turn.args.strip()
    if wanted.lower() in ("add", "new", "追加"):
        return Reply.card(build_device_form_card(turn.lang, demo=services.tenant.demo))
    if not wanted:
        return Reply.card(await list_card(services, turn, DeviceFilter(), 1, t("devices.device.usage", turn.lang)))
    inventory = await load(services)
    found = find(wanted, inventory.devices)
    if len(found.devices) == 1:
        card = await device_card(services, turn, found.devices[0].id)
        assert card is not None
        return Reply.card(card)
    if found.devices:
        return Reply.card(await list_card(services, turn, DeviceFilter("sender", found.devices[0].sender), 1))
    return Reply.card(build_device_unknown_card(wanted, found.suggestions, turn.lang, demo=inventory.demo))


def _device_id(data: dict[str, Any]) -> int | None:
    try:
        return int(data.get("id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


async def _gone(services: Services, turn: TurnInput) -> ActionResult:
    return ActionResult(card=await list_card(services, turn, DeviceFilter(), 1, t("devices.edit.gone", turn.lang)))


@card_action(OPEN_VERB)
async def open_device(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    device_id = _device_id(data)
    card = await device_card(services, turn, device_id) if device_id is not None else None
    return ActionResult(card=card) if card else await _gone(services, turn)


async def _change(services: Services, turn: TurnInput, data: dict[str, Any], changes: dict[str, Any] | None) -> ActionResult:
    """Apply a change from a device card: admins only, validated, recorded in the audit trail."""
    device_id = _device_id(data)
    if device_id is None:
        return await _gone(services, turn)
    if not turn.is_admin:
        card = await device_card(services, turn, device_id, t("devices.edit.refused", turn.lang), "attention")
        return ActionResult(card=card) if card else await _gone(services, turn)
    errors: list[FieldError] = []
    if changes is None:
        changes, errors = parse_edit(data)
    if errors:
        card = await device_card(services, turn, device_id, _errors_text(errors, turn.lang), "attention")
        return ActionResult(card=card) if card else await _gone(services, turn)
    store = runtime_of(services).store()
    try:
        updated = await store.update(device_id, changes, actor(turn), turn.now)
    except DeviceConflict as conflict:
        card = await device_card(services, turn, device_id, t("devices.edit.conflict", turn.lang, value=conflict.value), "attention")
        return ActionResult(card=card) if card else await _gone(services, turn)
    if updated is None:
        return await _gone(services, turn)
    card = await device_card(services, turn, device_id, t("devices.edit.saved", turn.lang))
    return ActionResult(card=card) if card else await _gone(services, turn)


@card_action(SAVE_VERB)
async def save_device(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    return await _change(services, turn, data, None)


@card_action(VERIFY_VERB)
async def verify_device(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    return await _change(services, turn, data, {"status": DeviceStatus.VERIFIED})


def _form_values(data: dict[str, Any]) -> dict[str, str]:
    fields = ("sender", "name", "kind", "source_ip", "location", "owner", "vendor_model", "recipient_scope", "notes")
    return {name: str(data[name])[:2000] for name in fields if isinstance(data.get(name), str)}


@card_action(ADD_VERB)
async def add_device(services: Services, turn: TurnInput, data: dict[str, Any]) -> ActionResult:
    demo = services.tenant.demo
    values = _form_values(data)
    if not turn.is_admin:
        return ActionResult(card=build_device_form_card(turn.lang, error=t("devices.edit.refused", turn.lang), values=values, demo=demo))
    draft, errors = parse_draft(data)
    if draft is None:
        return ActionResult(card=build_device_form_card(turn.lang, error=_errors_text(errors, turn.lang), values=values, demo=demo))
    try:
        added = await runtime_of(services).store().add(draft, actor(turn), turn.now)
    except DeviceConflict as conflict:
        error = t("devices.edit.conflict", turn.lang, value=conflict.value)
        return ActionResult(card=build_device_form_card(turn.lang, error=error, values=values, demo=demo))
    card = await device_card(services, turn, added.id, t("devices.edit.added", turn.lang))
    return ActionResult(card=card)


# ---------------------------------------------------------------- /scan


async def scan(services: Services, turn: TurnInput) -> Reply:
    """Read the sign-in logs now; progress shows in one message that updates in place."""
    runtime = runtime_of(services)
    if runtime.chat_scans is not None:
        started = await runtime.chat_scans.start(turn.conversation, turn.lang, turn.tz)
        if started:
            return Reply()
        return Reply.card(build_scan_card(ScanView("busy", demo=services.tenant.demo, tz=turn.tz), turn.lang))
    outcome = await runtime.scanner.run()
    if outcome.busy:
        view = ScanView("busy", demo=services.tenant.demo, tz=turn.tz)
    elif outcome.error is not None:
        view = ScanView("failed", since=outcome.since, until=outcome.until, error=outcome.error, demo=services.tenant.demo, tz=turn.tz)
    else:
        assert outcome.result is not None
        view = ScanView("done", outcome.result.events, since=outcome.since, until=outcome.until, result=outcome.result,
                        demo=services.tenant.demo, tz=turn.tz)
    return Reply.card(build_scan_card(view, turn.lang))


# ---------------------------------------------------------------- EAC upload and export


async def import_upload(services: Services, turn: TurnInput, file_name: str, data: bytes | None, problem: str | None = None) -> Reply:
    """An EAC report sent as a file in chat: admins only, all rows or none."""
    demo = services.tenant.demo
    if not turn.is_admin:
        return Reply(text=t("devices.import.admins_only", turn.lang))
    if problem is not None or data is None:
        return Reply(text=t(f"devices.import.problem.{problem or 'download'}", turn.lang, name=file_name[:80],
                            limit=runtime_of(services).settings.max_upload_mb))
    runtime = runtime_of(services)
    store = runtime.store()
    prepared = await prepare_import(store, data, actor(turn), turn.now)
    if isinstance(prepared, ImportRefused):
        return Reply.card(build_import_card(ImportView(file_name, refused=prepared, demo=demo), turn.lang))
    if prepared.changes > BACKGROUND_CHANGES and runtime.outbox is not None:
        pending = ImportView(file_name, demo=demo, pending_rows=prepared.summary.rows)
        activity_id = await runtime.outbox.post(turn.conversation, build_import_card(pending, turn.lang))
        runtime.spawn(_write_later(services, turn, file_name, prepared, activity_id))
        return Reply()
    summary = await write_import(store, prepared, turn.now)
    return Reply.card(build_import_card(ImportView(file_name, summary=summary, demo=demo), turn.lang))


async def _write_later(services: Services, turn: TurnInput, file_name: str, prepared: PreparedImport, activity_id: str | None) -> None:
    """Write a big import after the turn, then turn its "importing" message into the result."""
    runtime = runtime_of(services)
    demo = services.tenant.demo
    try:
        summary = await write_import(runtime.store(), prepared, turn.now)
        view = ImportView(file_name, summary=summary, demo=demo)
    except Exception as error:  # noqa: BLE001 - the transaction rolled back; the admin is told, the log has why
        log.exception("EAC import failed while writing; rolled back")
        view = ImportView(file_name, demo=demo, failed=f"{type(error).__name__}")
    assert runtime.outbox is not None
    card = build_import_card(view, turn.lang)
    if activity_id is not None:
        await runtime.outbox.update(turn.conversation, activity_id, card)
    else:
        await runtime.outbox.post(turn.conversation, card)


async def export_bytes(services: Services, now_day: str) -> tuple[str, bytes]:
    """The CSV the chat offers for download, named after the tenant and the day."""
    inventory = await load(services)
    name = export_file_name("demo" if inventory.demo else inventory.store.tenant_id[:8], now_day)
    return name, inventory_csv(inventory.devices, inventory.posture)


async def export(services: Services, turn: TurnInput) -> Reply:
    """Offer the inventory as a CSV file (Teams allows bots to send files in personal chats only)."""
    runtime = runtime_of(services)
    if turn.conversation.conversation_type != "personal" or runtime.outbox is None:
        return Reply(text=t("devices.export.personal_only", turn.lang))
    day = turn.now.astimezone(turn.tz).date().isoformat()
    name, data = await export_bytes(services, day)
    count = max(0, data.count(b"\r\n") - 1)
    offer = FileOffer(name, t("devices.export.description", turn.lang, count=format_count(count, turn.lang)), len(data),
                      {"kind": EXPORT_KIND, "day": day})
    await runtime.outbox.offer_file(turn.conversation, offer)
    return Reply()
