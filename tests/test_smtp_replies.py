"""The SMTP reply explainer: the shipped table, messy pastes, and honest answers for unknown codes."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.diagnostics.smtp_replies import (
    MAX_MATCHES,
    TABLE_PATH,
    ReplyEntry,
    ReplyTable,
    default_table,
    explain,
    find_replies,
    load_table,
    looks_like_smtp_reply,
)

TABLE = load_table()
SAMPLES = [(entry, sample) for entry in TABLE.entries for sample in entry.samples]
SAMPLE_IDS = [f"{entry.id}#{number}" for entry in TABLE.entries for number in range(len(entry.samples))]
SUFFIX = " [BN8PR12CA0001.namprd12.prod.outlook.com 2026-11-23T10:00:00.000Z 08DD0C1234567890]"
_LEADING_CODES = re.compile(r"^\s*(?:[45]\d\d[ -])?[45]\.\d{1,3}\.\d{1,3}\s*(?:SMTP;\s*)?")
_FULL_WIDTH = {codepoint: codepoint + 0xFEE0 for codepoint in range(0x21, 0x7F)}
@pytest.fixture(scope="module")
def table() -> ReplyTable:
    return TABLE


def only_entry(text: str, table: ReplyTable) -> ReplyEntry:
    """The single entry ``text`` explains to; fails loudly when it is none or several."""
    explanation = explain(text, table)
    assert len(explanation.entries) == 1, explanation
    assert not explanation.unresolved, explanation.unresolved
    return explanation.entries[0]


def sample_code(sample: str) -> str:
    found = re.search(r"[45]\.\d{1,3}\.\d{1,3}", sample)
    assert found, sample
    return found.group()


# --- the shipped table ----------------------------------------------------------------------------


def test_shipped_table_loads_with_unique_ids(table):
    ids = [entry.id for entry in table.entries]
    assert len(ids) == len(set(ids)) >= 21
    assert default_table().entries == table.entries


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("550 5.7.30", "basic-auth-retired"),
        ("535 5.7.139 SmtpClientAuthentication is disabled for the Tenant", "smtp-auth-disabled-tenant"),
        ("535 5.7.139 SmtpClientAuthentication is disabled for the Mailbox", "smtp-auth-disabled-mailbox"),
        (
            "535 5.7.139 user is locked by your organization's security defaults policy",
            "security-defaults-lock",
        ),
        (
            "535 5.7.139 the request did not meet the criteria to be authenticated successfully",
            "auth-criteria-not-met",
        ),
        ("535 5.7.139 the user credentials were incorrect", "auth-credentials-incorrect"),
        ("535 5.7.139 basic authentication is disabled", "basic-auth-disabled"),
        ("535 5.7.3", "auth-unsuccessful"),
        ("530 5.7.57", "client-not-authenticated"),
        ("550 5.7.57", "client-not-authenticated"),
        ("550 5.7.60", "send-as-not-permitted"),
        ("554 5.2.252", "send-as-denied"),
        ("554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException", "send-as-denied"),
        ("550 5.2.251", "throttled-mailbox-full"),
        ("550 5.2.252", "throttled-send-as-denied"),
        ("550 5.2.253", "throttled-invalid-license"),
        ("550 5.2.254", "throttled-too-many-recipients"),
        ("550 5.2.255", "throttled-invalid-recipients"),
        ("432 4.3.2 Concurrent connections limit exceeded", "concurrent-connections"),
        ("432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", "concurrent-connections"),
        (
            "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException",
            "submission-quota-exceeded",
        ),
        (
            "554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException",
            "sending-mailbox-full",
        ),
        ("550 5.7.68", "direct-send-rejected"),
        ("550 5.5.105", "hve-external-recipient"),
    ],
)
def test_every_reply_the_bot_promises_is_in_the_table(table, text, entry_id):
    assert only_entry(text, table).id == entry_id


def test_only_the_retirement_reply_is_flagged_as_the_retirement(table):
    assert [entry.id for entry in table.entries if entry.is_retirement] == ["basic-auth-retired"]
    assert only_entry(
        "550 5.7.30 Basic authentication is not supported for Client Submission.", table
    ).is_retirement


def test_inferred_causes_say_so_in_both_languages(table):
    inferred = [entry for entry in table.entries if entry.confidence == "inferred"]
    assert {entry.id for entry in inferred} >= {
        "auth-criteria-not-met",
        "auth-credentials-incorrect",
        "basic-auth-disabled",
    }
    for entry in inferred:
        assert "inferred" in entry.cause.en.lower(), entry.id
        assert "推定" in entry.cause.ja, entry.id


def test_every_text_exists_in_english_and_japanese(table):
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    for entry in table.entries:
        for text in (entry.title, entry.meaning, entry.cause, entry.fix, entry.admin_center):
            if text is None:
                continue
            assert text.en.strip() and not japanese.search(text.en), entry.id
            assert japanese.search(text.ja), entry.id
        assert entry.source.strip(), entry.id
    for key, message in table.messages.items():
        assert message.en.strip() and japanese.search(message.ja), key


def test_settings_and_commands_point_at_the_right_scope(table):
    assert "SmtpClientAuthenticationDisabled:org" in table.entry("smtp-auth-disabled-tenant").related_settings
    assert table.entry("smtp-auth-disabled-mailbox").related_settings == (
        "SmtpClientAuthenticationDisabled:mailbox",
    )
    assert "SecurityDefaults:tenant" in table.entry("security-defaults-lock").related_settings
    assert "RejectDirectSend:org" in table.entry("direct-send-rejected").related_settings
    # Only cmdlets our checked sources document; a made-up cmdlet in a fix would hurt an admin.
    documented = {
        "Set-CASMailbox",
        "Set-TransportConfig",
        "Add-RecipientPermission",
        "Set-AuthenticationPolicy",
        "New-ServicePrincipal",
    }
    for entry in table.entries:
        if entry.powershell:
            assert entry.powershell.split()[0] in documented, entry.id
    assert "-SmtpClientAuthenticationDisabled $false" in (
        table.entry("smtp-auth-disabled-mailbox").powershell or ""
    )


def test_localized_text_follows_the_locale(table):
    title = table.entry("basic-auth-retired").title
    assert title.text("ja") == title.text("ja-JP") == title.ja
    assert title.text("en-US") == title.text("fr") == title.text(None) == title.en


# --- validation of a broken table -----------------------------------------------------------------


def write_table(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    raw = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "smtp_replies.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


def _duplicate_first(raw: dict[str, Any]) -> None:
    raw["entries"].append(dict(raw["entries"][0]))


def _drop_japanese_title(raw: dict[str, Any]) -> None:
    del raw["entries"][1]["title"]["ja"]


def _english_in_japanese(raw: dict[str, Any]) -> None:
    raw["entries"][2]["fix"]["ja"] = raw["entries"][2]["fix"]["en"]


def _bad_code(raw: dict[str, Any]) -> None:
    raw["entries"][0]["enhanced_codes"] = ["5.7"]


def _foreign_identifying_code(raw: dict[str, Any]) -> None:
    raw["entries"][0]["identifying_codes"] = ["5.7.99"]


def _missing_message(raw: dict[str, Any]) -> None:
    del raw["messages"]["unknown_code"]


def _unknown_confidence(raw: dict[str, Any]) -> None:
    raw["entries"][0]["confidence"] = "certain"


def _sample_without_its_code(raw: dict[str, Any]) -> None:
    raw["entries"][0]["samples"] = ["Basic authentication is not supported"]


def _no_powershell_key(raw: dict[str, Any]) -> None:
    del raw["entries"][0]["powershell"]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (_duplicate_first, "duplicate entry id 'basic-auth-retired'"),
        (_drop_japanese_title, "'title' has no 'ja' text"),
        (_english_in_japanese, "contains no Japanese"),
        (_bad_code, "malformed codes"),
        (_foreign_identifying_code, "'identifying_codes' must be among"),
        (_missing_message, "lacks unknown_code"),
        (_unknown_confidence, "'confidence' must be one of"),
        (_sample_without_its_code, "names none of"),
        (_no_powershell_key, "'powershell' is missing"),
    ],
)
def test_a_broken_table_is_refused_with_a_clear_reason(tmp_path, change, complaint):
    with pytest.raises(ValueError, match=re.escape(complaint)):
        load_table(write_table(tmp_path, change))


def test_a_table_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "smtp_replies.json"
    path.write_text('{"entries": [', encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_table(path)


# --- each entry's own samples -----------------------------------------------------------------------


@pytest.mark.parametrize(("entry", "sample"), SAMPLES, ids=SAMPLE_IDS)
def test_each_sample_resolves_to_its_entry(table, entry, sample):
    matches = find_replies(sample, table)
    assert [match.entry.id if match.entry else match.problem for match in matches] == [entry.id]
    assert matches[0].enhanced_code == sample_code(sample)
    assert matches[0].matched_by in ("code+text", "code")
    assert looks_like_smtp_reply(sample, table)
    assert only_entry(sample, table) == entry


@pytest.mark.parametrize(
    ("entry", "sample"),
    [(entry, sample) for entry, sample in SAMPLES if entry.standalone],
    ids=[name for (entry, _), name in zip(SAMPLES, SAMPLE_IDS) if entry.standalone],
)
def test_distinctive_wording_is_recognised_without_any_code(table, entry, sample):
    wording = _LEADING_CODES.sub("", sample)
    assert not re.search(r"[45]\.\d{1,3}\.\d{1,3}", wording.split("[")[0])
    matches = find_replies(wording, table)
    assert [(match.entry.id if match.entry else None, match.matched_by) for match in matches] == [
        (entry.id, "text")
    ]
    assert looks_like_smtp_reply(wording, table)


MESSY: dict[str, Callable[[str], str]] = {
    "line breaks and runs of spaces": lambda s: s.replace(" ", "  \r\n\t "),
    "lower case": str.lower,
    "upper case": str.upper,
    "square brackets": lambda s: f"[{s}]",
    "single quotes": lambda s: f"'{s}'",
    "backticks": lambda s: f"`{s}`",
    "code fence": lambda s: f"```\n{s}\n```",
    "curly quotes": lambda s: f"“{s}”",
    "Japanese brackets": lambda s: f"「{s}」",
    "SMTP; wrapper": lambda s: f"smtp;{s}",
    "Remote Server returned": lambda s: f"Remote Server returned '{s}'",
    ".NET SmtpException": lambda s: f"System.Net.Mail.SmtpException: The server response was: {s}",
    "Diagnostic-Code": lambda s: f"Status: {sample_code(s)}\nDiagnostic-Code: smtp; {s}",
    "server suffix": lambda s: s.rstrip(".") + SUFFIX,
    "NDR hash form": lambda s: f"#< #{sample_code(s)} smtp;{s}> #SMTP#",
    "full-width characters": lambda s: s.translate(_FULL_WIDTH),
    "all at once": lambda s: f"Remote Server returned '{s.lower().replace(' ', chr(10) + '  ')}{SUFFIX}'",
}


@pytest.mark.parametrize("mess", list(MESSY), ids=list(MESSY))
@pytest.mark.parametrize(("entry", "sample"), SAMPLES, ids=SAMPLE_IDS)
def test_messy_copies_still_resolve(table, entry, sample, mess):
    text = MESSY[mess](sample)
    assert looks_like_smtp_reply(text, table)
    assert only_entry(text, table) == entry


# --- real-world shapes --------------------------------------------------------------------------------


def test_dotnet_chain_puts_the_cause_before_the_consequence(table):
    text = (
        "System.Net.Mail.SmtpException: The SMTP server requires a secure connection or the client was not "
        "authenticated. The server response was: 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 "
        "Authentication unsuccessful, basic authentication is disabled. [YT3PR01CA0122.CANPRD01.PROD.OUTLOOK.COM "
        "2025-01-22T03:07:00.315Z 08DD393115E98C2B]"
    )
    explanation = explain(text, table)
    assert [item.match.entry.id for item in explanation.items if item.match.entry] == [
        "basic-auth-disabled",
        "client-not-authenticated",
    ]
    consequence = explanation.items[1]
    assert consequence.follows == "5.7.139"
    assert consequence.notice is not None and "535 5.7.139" in consequence.notice.text("en")
    assert "535 5.7.139" in consequence.notice.text("ja")


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        (
            "(535, b'5.7.139 Authentication unsuccessful, the user credentials were incorrect.')",
            "auth-credentials-incorrect",
        ),
        (
            (
                "permanent error (535): 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is "
                "disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
            ),
            "smtp-auth-disabled-tenant",
        ),
        (
            "Invalid login: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.",
            "smtp-auth-disabled-mailbox",
        ),
        (
            "com.sun.mail.smtp.SMTPSendFailedException: 530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM [HK2PR06CA0009.apcprd06.prod.outlook.com]",
            "client-not-authenticated",
        ),
        (
            "53C2C140E40: host smtp.office365.com[52.97.201.210] said: 432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information. [Hostname=P212321.PROD.OUTLOOK.COM] (in reply to end of DATA command)",
            "concurrent-connections",
        ),
        (
            "SMTPDataError: 554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit",
            "send-as-denied",
        ),
        ("550-5.7.30 Basic authentication is not supported for Client Submission.", "basic-auth-retired"),
    ],
)
def test_replies_as_libraries_and_mail_servers_print_them(table, text, entry_id):
    assert only_entry(text, table).id == entry_id


def test_a_whole_ndr_is_one_explanation_per_reply(table):
    ndr = (
        "Delivery has failed to these recipients or groups:\n\nscanner@contoso.com\n"
        "Your message couldn't be delivered.\n\nDiagnostic information for administrators:\n\n"
        "Generating server: BN8PR12MB1234.namprd12.prod.outlook.com\n\n"
        "scanner@contoso.com\nRemote Server returned '550 5.7.30 Basic authentication is not supported for Client "
        "Submission. [BN8PR12CA0001.namprd12.prod.outlook.com 2026-12-31T10:00:00.000Z 08DD0C...]'\n\n"
        "Original message headers:\n\nReceived: from BN8PR12MB1234.namprd12.prod.outlook.com (2603:10b6:408:e3::10)\n"
        " by BN8PR12MB1234.namprd12.prod.outlook.com with HTTPS; Thu, 31 Dec 2026 10:00:00 +0000\n"
        "MIME-Version: 1.0\nX-MS-Exchange-Organization-SCL: -1\n\n"
        "Reporting-MTA: dns;BN8PR12MB1234.namprd12.prod.outlook.com\nStatus: 5.7.30\n"
        "Diagnostic-Code: smtp;550 5.7.30 Basic authentication is not supported for Client Submission.\n"
        "#< #5.7.30 smtp;550 5.7.30 Basic authentication is not supported for Client Submission.> #SMTP#\n"
    )
    explanation = explain(ndr, table)
    assert [entry.id for entry in explanation.entries] == ["basic-auth-retired"]
    assert explanation.is_retirement
    assert not explanation.unresolved
    assert len(find_replies(ndr, table)) >= 3  # every occurrence is reported, each with its span
    for match in find_replies(ndr, table):
        assert ndr[match.start : match.end].lstrip("#< ").startswith(("550", "5.7.30"))


def test_the_ndr_doubled_code_form_is_one_reply(table):
    text = "#< #5.7.139 smtp;535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.> #SMTP#"
    (match,) = find_replies(text, table)
    assert match.entry is not None and match.entry.id == "smtp-auth-disabled-tenant"
    assert match.start == text.index("#5.7.139") and match.code == "535 5.7.139"


def test_two_different_replies_keep_their_order(table):
    text = (
        "09:00 554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionQuotaExceeded\n"
        "09:05 550 5.2.251 Sender throttled due to continuous mailbox full errors.\n"
    )
    explanation = explain(text, table)
    assert [entry.id for entry in explanation.entries] == ["sending-mailbox-full", "throttled-mailbox-full"]
    matches = find_replies(text, table)
    assert matches[0].start < matches[1].start
    assert text[matches[0].start :].startswith("554 5.2.2")
    assert text[matches[1].start :].startswith("550 5.2.251")


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [("550 5.2.252", "throttled-send-as-denied"), ("554 5.2.252", "send-as-denied")],
)
def test_the_basic_code_decides_a_shared_enhanced_code(table, text, entry_id):
    assert only_entry(text, table).id == entry_id


def test_a_shared_code_without_wording_is_not_guessed(table):
    explanation = explain("5.2.252", table)
    assert not explanation.found
    (item,) = explanation.items
    assert item.match.problem == "ambiguous"
    assert {entry.id for entry in item.match.suggestions} == {"send-as-denied", "throttled-send-as-denied"}


def test_5_7_139_alone_lists_every_wording(table):
    (item,) = explain("what does 5.7.139 mean?", table).items
    assert item.match.entry is None and item.match.problem == "ambiguous"
    assert {entry.id for entry in item.match.suggestions} == {
        entry.id for entry in table.entries if "5.7.139" in entry.enhanced_codes
    }
    assert item.notice is not None and "5.7.139" in item.notice.text("ja")


def test_a_known_code_with_other_wording_is_not_forced_onto_the_entry(table):
    # A recipient's full mailbox on delivery is not the sender's full mailbox on submission.
    text = "Diagnostic-Code: smtp;554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded"
    (item,) = explain(text, table).items
    assert item.match.entry is None
    assert item.match.problem == "unknown_wording"
    assert [entry.id for entry in item.match.suggestions] == ["sending-mailbox-full"]
    other = explain(
        "Remote Server returned '554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException'", table
    )
    assert not other.found
    assert {entry.id for entry in other.items[0].match.suggestions} == {
        "send-as-denied",
        "submission-quota-exceeded",
    }


def test_observed_and_inferred_entries_carry_a_note(table):
    (inferred,) = explain(
        "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.", table
    ).items
    assert inferred.confidence_note == table.message("confidence.inferred")
    (documented,) = explain(
        "550 5.2.253 Sender throttled due to continuous invalid license errors.", table
    ).items
    assert documented.confidence_note is None


# --- unknown codes ----------------------------------------------------------------------------------


def test_an_unknown_code_is_admitted_with_the_closest_known_ones(table):
    explanation = explain("550 5.7.99 Something the bot has never seen", table)
    assert not explanation.found
    (item,) = explanation.items
    assert item.match.code == "550 5.7.99"
    assert item.match.problem == "unknown_code"
    suggestions = item.match.suggestions
    assert 2 <= len(suggestions) <= 3
    assert all(entry.enhanced_code.startswith("5.7.") for entry in suggestions)
    assert len({entry.enhanced_code for entry in suggestions}) == len(suggestions)
    assert item.notice is not None
    assert "550 5.7.99" in item.notice.text("en") and "550 5.7.99" in item.notice.text("ja")


def test_closest_entries_prefer_the_same_class_then_shared_wording(table):
    (temporary,) = explain("451 4.4.7 Message expired", table).items
    assert temporary.match.suggestions[0].enhanced_code.startswith("4.")
    (worded,) = explain("535 5.7.200 Authentication unsuccessful, a brand new reason", table).items
    assert worded.match.suggestions[0].enhanced_code in ("5.7.139", "5.7.3")
    (other_subject,) = explain("550 5.1.10 RESOLVER.ADR.RecipientNotFound", table).items
    assert all(entry.enhanced_code.startswith("5.") for entry in other_subject.match.suggestions)


def test_a_bare_unknown_code_is_explained_when_asked(table):
    (item,) = explain("5.7.99", table).items
    assert item.match.enhanced_code == "5.7.99" and item.match.problem == "unknown_code"
    assert item.match.suggestions


def test_text_without_any_reply_says_so(table):
    explanation = explain("How do I move my printer to OAuth?", table)
    assert explanation.items == () and not explanation.found
    assert explanation.notice == table.message("nothing_found")
    assert explain("", table).notice == table.message("nothing_found")


# --- the per-message gate -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "is TLS 1.2 required?",
        "what changed in MC786329?",
        "When does Basic auth for SMTP AUTH stop working?",
        "What is SMTP AUTH?",
        "SMTP AUTH の基本認証はいつ廃止されますか？",
        "TLS 1.2 が必要ですか？",
        "Our MFP firmware is 5.2.2",
        "We upgraded to 5.7.30 last week",
        "Python 3.11.7 and node 20.5.1",
        "Exchange 2019 CU14 (15.2.1544.4)",
        "see section 4.3.2 of RFC 5321",
        "servers 10.5.7.30 and 52.97.201.210",
        "version 5.7.30.1",
        "Meeting on 2026.5.7 or 5.7.2026",
        "We have 550 users and 432 printers",
        "v5.7.30",
        "4.3.2",
        "550",
        "",
        "status",
        "basic authentication questions for the team",
    ],
)
def test_plain_chat_is_not_taken_for_a_reply(table, text):
    assert not looks_like_smtp_reply(text, table)
    assert find_replies(text, table) == []


@pytest.mark.parametrize(
    "text",
    [
        "what does 5.7.139 mean?",
        "5.7.139 の意味を教えてください",
        "NDR: #5.7.57",
        "エラー 4.3.2 が出ます",
        "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant",
        "550 5.7.99 whatever this is",
        "got 5.5.105 from the HVE account",
    ],
)
def test_questions_and_pastes_about_replies_are_taken(table, text):
    assert looks_like_smtp_reply(text, table)
    assert looks_like_smtp_reply(text)  # the shipped table is the default


def test_the_gate_refuses_what_is_not_text(table):
    assert not looks_like_smtp_reply(None, table)  # type: ignore[arg-type]
    assert not looks_like_smtp_reply(b"550 5.7.30", table)  # type: ignore[arg-type]
    assert find_replies(None, table) == []  # type: ignore[arg-type]


# --- Japanese around a reply --------------------------------------------------------------------------


def test_a_reply_inside_a_japanese_message(table):
    text = (
        "お世話になっております。複合機からスキャンしたメールが届かず、ログに次のエラーが出ていました。\n"
        "「535 5.7.139 Authentication unsuccessful, user is locked by your organization’s security defaults policy.」\n"
        "対処方法を教えてください。"
    )
    assert looks_like_smtp_reply(text, table)
    (match,) = find_replies(text, table)
    assert match.entry is not None and match.entry.id == "security-defaults-lock"
    assert text[match.start : match.start + 11] == "535 5.7.139"
    assert match.snippet.startswith("535 5.7.139 Authentication unsuccessful")
    assert "対処方法" not in match.snippet


def test_full_width_digits_typed_with_a_japanese_ime(table):
    text = "エラーコード：５３５　５．７．１３９ Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox"
    (match,) = find_replies(text, table)
    assert match.entry is not None and match.entry.id == "smtp-auth-disabled-mailbox"
    assert match.code == "535 5.7.139"
    assert text[match.start : match.start + 3] == "５３５"  # spans index the text as given


def test_japanese_and_english_replies_in_one_message(table):
    text = (
        "昨日は「550 5.7.60 SMTP; Client does not have permissions to send as this sender」、"
        "今日は 432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded が出ています。"
    )
    assert [entry.id for entry in explain(text, table).entries] == [
        "send-as-not-permitted",
        "concurrent-connections",
    ]


# --- size and junk ------------------------------------------------------------------------------------


# What these inputs get is checked here; how fast (linear in the paste) is bench/smtp_replies.py.


def test_a_megabyte_of_prose_with_the_reply_at_the_end(table):
    prose = "The printer on the third floor sends scans to the team. Version 1.2.3 fixed the tray. " * 12_000
    text = (
        prose
        + "\nRemote Server returned '550 5.7.30 Basic authentication is not supported for Client Submission.'"
    )
    assert len(text) > 1_000_000
    assert looks_like_smtp_reply(text, table)
    assert [match.entry.id for match in find_replies(text, table) if match.entry] == ["basic-auth-retired"]
    assert explain(text, table).best.id == "basic-auth-retired"
    assert not looks_like_smtp_reply(prose, table)


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8-surrogateescape"])
def test_a_megabyte_of_binary_junk_is_harmless(table, encoding):
    raw = random.Random(7).randbytes(1 << 20)
    junk = raw.decode("utf-8", "surrogateescape") if encoding.startswith("utf-8") else raw.decode(encoding)
    assert looks_like_smtp_reply(junk, table) in (True, False)
    matches = find_replies(junk, table)
    assert len(matches) <= MAX_MATCHES
    for match in matches:
        assert 0 <= match.start < match.end <= len(junk)
    explanation = explain(junk, table)
    assert len(explanation.items) <= 10
    assert isinstance(explanation.found, bool)


@pytest.mark.parametrize(
    "unit",
    [
        "foo 4.3.2 ",
        "5.7.139 ",
        "5.5.5.5.5.5.5.5 ",
        "Basic Basic client sender ",
        "SendAsDenied ",
        "550 5.7.30 Basic authentication is not supported for Client Submission ",
    ],
)
def test_a_megabyte_of_repeated_code_shapes_stays_fast(table, unit):
    text = unit * (1_000_000 // len(unit))
    looks_like_smtp_reply(text, table)
    assert len(find_replies(text, table)) <= MAX_MATCHES
    assert len(explain(text, table).items) <= 10


def test_os_random_text_never_raises(table):
    for seed in range(20):
        rng = random.Random(seed)
        tokens = [
            "550",
            "5.7.",
            "139",
            "4.3.2",
            " ",
            "\n",
            "#",
            "'",
            "SendAs",
            "Denied",
            "４",
            "．",
            "é",
            "\x00",
        ]
        pieces = [rng.choice(tokens) for _ in range(400)]
        text = "".join(pieces)
        looks_like_smtp_reply(text, table)
        for match in find_replies(text, table):
            assert 0 <= match.start < match.end <= len(text)
        explain(text, table)
