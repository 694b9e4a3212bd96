"""Files in the personal chat, over real HTTP: the EAC report sent to the bot (download, all-or-nothing
import) and the inventory sent back (FileConsentCard, fileConsent/invoke, PUT to the upload URL,
FileInfoCard). OneDrive is a small fake on loopback that serves downloads and records uploads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from activities import ADMIN_AAD, file_consent, file_message, personal_message
from card_checks import assert_valid_card, card_text

DATA = Path(__file__).parent / "data" / "eac"
ADMIN_ENV = {"ADMIN_USER_IDS": ADMIN_AAD}


@dataclass
class FakeOneDrive:
    """Downloads by name from ``files``; every PUT recorded in ``uploads`` (status from ``upload_status``)."""

    files: dict[str, bytes] = field(default_factory=dict)
    uploads: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    upload_status: int = 201
    server: TestServer | None = None

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    async def _get(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        return web.Response(status=404) if data is None else web.Response(body=data)

    async def _put(self, request: web.Request) -> web.Response:
        self.uploads.append((request.match_info["id"], dict(request.headers), await request.read()))
        return web.json_response({"id": "drive-item"}, status=self.upload_status)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 2**20)
        app.router.add_get("/download/{name}", self._get)
        app.router.add_put("/upload/{id}", self._put)
        return app


@pytest.fixture
async def onedrive() -> AsyncIterator[FakeOneDrive]:
    fake = FakeOneDrive()
    fake.server = TestServer(fake.app(), host="127.0.0.1")
    await fake.server.start_server()
    yield fake
    await fake.server.close()


async def send_file(bot: Any, onedrive: FakeOneDrive, name: str, data: bytes | None, **kwargs: Any) -> None:
    if data is not None:
        onedrive.files[name] = data
    status, _ = await bot.post(file_message(name, onedrive.url(f"/download/{name}"), bot.connector.url, **kwargs))
    assert status == 200


async def test_admin_imports_the_eac_report_sent_as_a_file(make_bot, connector, onedrive):
    bot = await make_bot(env=ADMIN_ENV)
    await send_file(bot, onedrive, "SMTPAuthClients.csv", (DATA / "with_auth_bom.csv").read_bytes(), aad=ADMIN_AAD)
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "EAC report: SMTPAuthClients.csv" in text
    assert "Imported 4 rows for 3 senders (3 new devices" in text
    devices = await bot.services.devices.store().all()
    assert sorted((d.sender, d.observed_auth.value) for d in devices) == [
        ("crm@contoso.com", "unknown"), ("erp@contoso.com", "basic"), ("printer@contoso.com", "basic")]
    assert all(d.sources == frozenset({"eac"}) for d in devices)


async def test_a_japanese_excel_report_is_read(make_bot, connector, onedrive):
    bot = await make_bot(env=ADMIN_ENV)
    await send_file(bot, onedrive, "レポート.csv", (DATA / "japanese_cp932.csv").read_bytes(), aad=ADMIN_AAD, locale="ja-JP")
    [card] = connector.cards()
    text = card_text(card)
    assert "取り込みました" in text
    assert "Shift_JIS" in text


async def test_a_bad_report_imports_nothing_and_lists_every_bad_line(make_bot, connector, onedrive):
    bot = await make_bot(env=ADMIN_ENV)
    await send_file(bot, onedrive, "good.csv", (DATA / "documented_utf8.csv").read_bytes(), aad=ADMIN_AAD)
    before = await bot.services.devices.store().all()
    connector.clear()
    await send_file(bot, onedrive, "bad.csv", (DATA / "bad_lines.csv").read_bytes(), aad=ADMIN_AAD)
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "Nothing was imported" in text
    assert "Line 3: Sender address 'not-an-address' is not an email address." in text
    assert "Line 10: Authentication protocol must be Basic or OAuth" in text
    assert await bot.services.devices.store().all() == before


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("book.xlsx", b"PK\x03\x04" + b"\x00" * 200, "This is an Excel workbook, not a CSV file."),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "This is not a text (CSV) file."),
        ("noise.csv", bytes((i * 37 + 11) % 256 for i in range(4096)), "is not"),
        ("empty.csv", b"\r\n\r\n\r\n", "The file is empty."),
        ("columns.csv", b"Name,Count\r\nfoo,1\r\n", "No column header was recognised"),
    ],
)
async def test_files_that_are_not_a_report_get_a_clear_answer(make_bot, connector, onedrive, name, data, expected):
    bot = await make_bot(env=ADMIN_ENV)
    await send_file(bot, onedrive, name, data, aad=ADMIN_AAD)
    [card] = connector.cards()
    assert_valid_card(card)
    assert "Nothing was imported" in card_text(card)
    assert expected in card_text(card)
    assert await bot.services.devices.store().count() == 0


async def test_only_admins_import_and_a_refusal_says_why(make_bot, connector, onedrive):
    bot = await make_bot(env=ADMIN_ENV)
    await send_file(bot, onedrive, "SMTPAuthClients.csv", (DATA / "with_auth_bom.csv").read_bytes())
    [message] = connector.messages()
    assert "Only the bot's admins (ADMIN_USER_IDS) can import the EAC report" in message.activity["text"]
    assert await bot.services.devices.store().count() == 0


async def test_download_failures_and_oversized_files_import_nothing(make_bot, connector, onedrive):
    bot = await make_bot(env={**ADMIN_ENV, "DEVICES_MAX_UPLOAD_MB": "1"})
    await send_file(bot, onedrive, "gone.csv", None, aad=ADMIN_AAD)  # the download URL answers 404
    onedrive.files["big.csv"] = b"Sender address\r\n" + b"a@contoso.com\r\n" * 80_000
    await send_file(bot, onedrive, "big.csv", None, aad=ADMIN_AAD)
    gone, big = connector.messages()
    assert 'could not download "gone.csv"' in gone.activity["text"]
    assert '"big.csv" is larger than 1 MB' in big.activity["text"]
    assert await bot.services.devices.store().count() == 0


async def test_export_goes_through_file_consent_and_an_upload(make_bot, connector, onedrive):
    bot = await make_bot(env=ADMIN_ENV)
    await send_file(bot, onedrive, "r.csv", (DATA / "with_auth_bom.csv").read_bytes(), aad=ADMIN_AAD)
    connector.clear()
    await bot.post(personal_message("/devices export", connector.url))
    [offer] = connector.messages()
    [attachment] = offer.activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
    assert attachment["name"] == "smtp-auth-devices-demo-2026-11-23.csv"
    content = attachment["content"]
    assert "(3 devices)" in content["description"]
    context = content["acceptContext"]
    assert content["sizeInBytes"] > 100 and context == content["declineContext"]

    connector.clear()
    status, _ = await bot.post(
        file_consent("accept", connector.url, context, upload_url=onedrive.url("/upload/session-1"), name=attachment["name"])
    )
    assert status == 200
    [(session, headers, data)] = onedrive.uploads
    assert session == "session-1"
    assert data.startswith(b"\xef\xbb\xbf" + b"name,sender,source_ip,kind,status,path")
    assert headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    lines = data.decode("utf-8-sig").splitlines()
    assert len(lines) == 4 and all(line.count(",") >= 20 for line in lines)
    [info] = connector.messages()
    assert info.activity["text"] == "Here is the device inventory."
    [card] = info.activity["attachments"]
    assert card["contentType"] == "application/vnd.microsoft.teams.card.file.info"
    assert card["content"]["uniqueId"] == "1150D938-8870-4044-9F2C-5BBDEBA70C8C"


async def test_a_declined_or_failed_export_says_so(make_bot, connector, onedrive):
    bot = await make_bot()
    context = {"kind": "devices-export", "day": "2026-11-23"}
    await bot.post(file_consent("decline", connector.url, context, locale="ja-JP"))
    onedrive.upload_status = 500
    await bot.post(file_consent("accept", connector.url, context, upload_url=onedrive.url("/upload/s2")))
    declined, failed = connector.messages()
    assert declined.activity["text"] == "ファイルの送信を取りやめました。"
    assert "upload to your OneDrive failed" in failed.activity["text"]


async def test_a_consent_for_something_else_is_not_uploaded(make_bot, connector, onedrive):
    bot = await make_bot()
    await bot.post(file_consent("accept", connector.url, {"kind": "other"}, upload_url=onedrive.url("/upload/s3")))
    assert onedrive.uploads == []
    [message] = connector.messages()
    assert "no longer does anything" in message.activity["text"]


def test_plain_http_is_refused_outside_local_mode():
    from bot.teams.files import allowed_url

    assert allowed_url("https://contoso-my.sharepoint.com/x", local_mode=False)
    assert not allowed_url("http://127.0.0.1:8080/x", local_mode=False)
    assert allowed_url("http://127.0.0.1:8080/x", local_mode=True)
    assert not allowed_url("file:///etc/passwd", local_mode=True)


async def test_a_100k_row_report_with_one_bad_line_is_refused_whole(make_bot, connector, onedrive):
    bot = await make_bot(env=ADMIN_ENV)
    rows = [f"sender{i:06d}@contoso.com,contoso.com,0,0,100,{i % 40},Basic" for i in range(100_000)]
    rows[70_000] = "sender-bad@contoso.com,contoso.com,0,0,100,12,Kerberos"
    rows.insert(50_000, "")  # blank lines are allowed anywhere
    header = "Sender address,Domain,TLS 1.0 (%),TLS 1.1 (%),TLS 1.2 (%),Messages sent,Authentication Protocol"
    await send_file(bot, onedrive, "big.csv", ("\r\n".join([header, *rows]) + "\r\n").encode(), aad=ADMIN_AAD)
    [card] = connector.cards()
    assert_valid_card(card)
    text = card_text(card)
    assert "Nothing was imported: 1 problem to fix first." in text
    assert "Line 70003: Authentication protocol must be Basic or OAuth (found 'Kerberos')." in text
    assert await bot.services.devices.store().count() == 0


async def test_a_big_report_is_written_after_the_turn_and_its_message_updated(make_bot, connector, onedrive):
    bot = await make_bot(env=ADMIN_ENV)
    rows = [f"sender{i:05d}@contoso.com,contoso.com,0,0,100,{i % 40},{'OAuth' if i % 4 == 0 else 'Basic'}" for i in range(6_000)]
    header = "Sender address,Domain,TLS 1.0 (%),TLS 1.1 (%),TLS 1.2 (%),Messages sent,Authentication Protocol"
    await send_file(bot, onedrive, "many.csv", ("\r\n".join([header, *rows]) + "\r\n").encode(), aad=ADMIN_AAD)
    await bot.services.devices.idle()
    [posted] = [s for s in connector.sent if s.type == "message" and s.method == "POST"]
    assert "importing 6,000 rows now" in card_text(posted.cards[0])
    [update] = [s for s in connector.sent if s.method == "PUT"]
    assert update.reply_to == posted.id  # (a typing indicator may have come first on a slow machine)
    result = update.cards[0]
    assert_valid_card(result)
    assert "Imported 6,000 rows for 6,000 senders (6,000 new devices" in card_text(result)
    assert "4,500 Basic, 1,500 OAuth" in card_text(result)
    assert await bot.services.devices.store().count() == 6_000
