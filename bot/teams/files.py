"""Files in the personal chat: an EAC report the user sends, and the inventory CSV the bot sends back.

Teams' own rules (msteams-docs "Send and receive files using bot", personal scope only, manifest
``supportsFiles: true``):

* A file the user sends arrives as a message attachment of type
  ``application/vnd.microsoft.teams.file.download.info`` whose ``content.downloadUrl`` is a short-lived
  pre-authorised OneDrive URL: a plain GET, no token.
* To send a file the bot posts a FileConsentCard; when the user accepts, a ``fileConsent/invoke``
  brings ``uploadInfo.uploadUrl``, the bot PUTs the bytes there (one ``Content-Range`` for the whole
  file), and then posts a FileInfoCard pointing at the stored file.

This module is the thin SDK part: it finds attachments, downloads and uploads with limits, and
hands bytes to ``bot.devices.answers`` (parsing and importing are plain code there).
``ReadinessBotWithFiles`` is the activity handler with these two paths added.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity, Attachment
from botbuilder.schema.teams import FileConsentCardResponse

from bot.devices import answers as device_answers
from bot.devices.runtime import runtime_of
from bot.i18n import pick_language, t
from bot.teams.handler import ReadinessBot, typing_while_slow

log = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
TRANSFER_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=15)


@dataclass(frozen=True)
class IncomingFile:
    name: str
    download_url: str
    file_type: str


def incoming_files(activity: Activity) -> list[IncomingFile]:
    """The files attached to a message (Teams' download-info attachments only, never inline images)."""
    found = []
    for attachment in activity.attachments or []:
        if attachment.content_type != FILE_DOWNLOAD_INFO or not isinstance(attachment.content, dict):
            continue
        url = attachment.content.get("downloadUrl")
        if isinstance(url, str) and url:
            found.append(IncomingFile(attachment.name or "file", url, str(attachment.content.get("fileType") or "")))
    return found


class TransferError(Exception):
    """A download or upload that did not work; ``code`` picks the message for the user."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def allowed_url(url: str, local_mode: bool) -> bool:
    """Only https URLs from Teams; plain http only in local mode (Agents Playground, tests on loopback)."""
    parts = urlsplit(url)
    return bool(parts.hostname) and (parts.scheme == "https" or (local_mode and parts.scheme == "http"))


async def download(url: str, limit: int, *, local_mode: bool) -> bytes:
    """The file's bytes, refusing anything over ``limit`` bytes without reading it all."""
    if not allowed_url(url, local_mode):
        raise TransferError("download")
    try:
        async with aiohttp.ClientSession(timeout=TRANSFER_TIMEOUT, trust_env=True) as session, session.get(
            url, allow_redirects=True, max_redirects=3
        ) as response:
            if response.status != 200:
                log.warning("file download answered HTTP %d", response.status)
                raise TransferError("download")
            if response.content_length is not None and response.content_length > limit:
                raise TransferError("too_large")
            received = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                received += chunk
                if len(received) > limit:
                    raise TransferError("too_large")
            data = bytes(received)
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("file download failed: %s", type(error).__name__)
        raise TransferError("download") from None
    if len(data) > limit:
        raise TransferError("too_large")
    return data


async def upload(url: str, data: bytes, *, local_mode: bool) -> None:
    """PUT the whole file into the OneDrive upload session Teams opened for it."""
    if not allowed_url(url, local_mode):
        raise TransferError("upload")
    headers = {"Content-Length": str(len(data)), "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    try:
        async with aiohttp.ClientSession(timeout=TRANSFER_TIMEOUT, trust_env=True) as session, session.put(
            url, data=data, headers=headers
        ) as response:
            if response.status not in (200, 201):
                log.warning("file upload answered HTTP %d", response.status)
                raise TransferError("upload")
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("file upload failed: %s", type(error).__name__)
        raise TransferError("upload") from None


def file_info_attachment(upload_info: Any) -> Attachment:
    """The FileInfoCard that lets the user open or download the uploaded file."""
    return Attachment(
        content_type=FILE_INFO_CARD,
        name=upload_info.name,
        content_url=upload_info.content_url,
        content={"uniqueId": upload_info.unique_id, "fileType": upload_info.file_type},
    )


class ReadinessBotWithFiles(ReadinessBot):
    """The bot's activity handler, plus EAC reports sent as files and the inventory sent back as one."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        files = incoming_files(turn_context.activity)
        if not files:
            await super().on_message_activity(turn_context)
            return
        activity = turn_context.activity
        await self.remember(activity)
        turn = self.turn_input(activity)
        if len(files) > 1:
            reply = await device_answers.import_upload(self.services, turn, files[0].name, None, "several")
        elif turn.conversation.conversation_type != "personal":
            reply = await device_answers.import_upload(self.services, turn, files[0].name, None, "not_personal")
        elif not turn.is_admin:
            reply = await device_answers.import_upload(self.services, turn, files[0].name, None)
        else:
            limit = runtime_of(self.services).settings.max_upload_mb * 2**20
            async with typing_while_slow(turn_context, self.services.settings.typing_delay_seconds):
                try:
                    data = await download(files[0].download_url, limit, local_mode=self.services.settings.local_mode)
                except TransferError as error:
                    reply = await device_answers.import_upload(self.services, turn, files[0].name, None, error.code)
                else:
                    reply = await device_answers.import_upload(self.services, turn, files[0].name, data)
        await self.send_reply(turn_context, reply)

    async def on_teams_file_consent_accept(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        activity = turn_context.activity
        lang = pick_language(activity.locale, self.services.settings.default_language)
        context = file_consent_card_response.context if isinstance(file_consent_card_response.context, dict) else {}
        info = file_consent_card_response.upload_info
        if context.get("kind") != device_answers.EXPORT_KIND or info is None or not info.upload_url:
            await turn_context.send_activity(t("action.unknown", lang))
            return
        _, data = await device_answers.export_bytes(self.services, str(context.get("day") or "export"))
        try:
            await upload(info.upload_url, data, local_mode=self.services.settings.local_mode)
        except TransferError:
            await turn_context.send_activity(t("devices.export.failed", lang))
            return
        log.info("inventory CSV uploaded (%d bytes)", len(data))
        message = MessageFactory.text(t("devices.export.done", lang))
        message.attachments = [file_info_attachment(info)]
        await turn_context.send_activity(message)

    async def on_teams_file_consent_decline(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        lang = pick_language(turn_context.activity.locale, self.services.settings.default_language)
        await turn_context.send_activity(t("devices.export.declined", lang))
