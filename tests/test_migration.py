"""Tests for the migration-path classifier: each rule, their order, the TLS warning, the ACS caveat,
and invariants checked over every combination of facts."""

from __future__ import annotations

import itertools

import pytest

from bot.devices.migration import (
    ACS_NOTE,
    MC786329_LISTED_PATHS,
    PATH_LABELS,
    RULES,
    DeviceFacts,
    DeviceKind,
    MigrationPath,
    ObservedAuth,
    RecipientScope,
    Recommendation,
    decide,
    normalize_tls_version,
    recommend,
    tls_versions_from_percentages,
)

P = MigrationPath
INTERNAL_ONLY = frozenset({P.HVE, P.DIRECT_SEND})


def all_facts() -> list[DeviceFacts]:
    """Every combination of the inputs the rules look at, minus the contradictory ones."""
    combos = itertools.product(
        list(DeviceKind),
        [True, False, None],
        list(RecipientScope),
        [True, False],
        [True, False, None],
        [True, False, None],
        [True, False],
        list(ObservedAuth),
        [True, False, None],
    )
    facts = []
    for kind, oauth, scope, hybrid, static, tls12, needed, observed, can_auth in combos:
        if can_auth is False and (oauth is True or observed is not ObservedAuth.UNKNOWN):
            continue
        facts.append(
            DeviceFacts(
                kind=kind,
                supports_oauth=oauth,
                recipient_scope=scope,
                hybrid_onprem=hybrid,
                has_static_ip=static,
                supports_tls12=tls12,
                still_needed=needed,
                observed_auth=observed,
                can_authenticate=can_auth,
            )
        )
    return facts


ALL_FACTS = all_facts()


def texts(rec: Recommendation) -> list[dict[str, str]]:
    return [rec.reason, *rec.steps, *rec.warnings, *rec.notes]


def joined(rec: Recommendation, lang: str) -> str:
    return "\n".join(t[lang] for t in texts(rec))


# ---------------------------------------------------------------- each rule


@pytest.mark.parametrize(
    ("facts", "path", "rule"),
    [
        (DeviceFacts(observed_auth="oauth"), P.NONE_NEEDED, "already_oauth"),
        (DeviceFacts(still_needed=False), P.RETIRE, "not_needed"),
        (DeviceFacts(supports_oauth=True), P.OAUTH, "oauth"),
        (DeviceFacts(supports_oauth=None), P.OAUTH, "oauth_unknown"),
        (
            DeviceFacts(supports_oauth=False, recipient_scope="internal", can_authenticate=False),
            P.DIRECT_SEND,
            "internal_no_auth",
        ),
        (DeviceFacts(supports_oauth=False, recipient_scope="internal"), P.HVE, "internal"),
        (
            DeviceFacts(supports_oauth=False, recipient_scope="external", has_static_ip=True),
            P.CONNECTOR_RELAY,
            "static_ip",
        ),
        (
            DeviceFacts(supports_oauth=False, recipient_scope="external", hybrid_onprem=True),
            P.ONPREM_RELAY,
            "hybrid",
        ),
        (DeviceFacts(supports_oauth=False, recipient_scope="external"), P.THIRD_PARTY, "third_party"),
    ],
)
def test_each_rule(facts: DeviceFacts, path: MigrationPath, rule: str) -> None:
    rec = recommend(facts)
    assert (rec.path, rec.rule) == (path, rule)
    assert decide(facts) == (path, rule)


def test_every_rule_is_reachable_and_named_in_order() -> None:
    fired = {decide(f)[1] for f in ALL_FACTS}
    assert fired == set(RULES)
    assert RULES[0] == "already_oauth" and RULES[-1] == "third_party"


# ---------------------------------------------------------------- order


def test_already_oauth_beats_not_needed() -> None:
    rec = recommend(DeviceFacts(observed_auth="oauth", still_needed=False))
    assert rec.path is P.NONE_NEEDED
    assert rec.alternatives == [P.RETIRE]


def test_not_needed_beats_oauth_support() -> None:
    rec = recommend(DeviceFacts(still_needed=False, supports_oauth=True, observed_auth="basic"))
    assert rec.path is P.RETIRE
    assert rec.alternatives == []


def test_oauth_beats_hve_for_internal_devices() -> None:
    rec = recommend(DeviceFacts(supports_oauth=True, recipient_scope="internal"))
    assert rec.path is P.OAUTH
    assert rec.alternatives[0] is P.HVE


def test_hve_beats_connector_relay_for_internal_devices_with_static_ip() -> None:
    rec = recommend(
        DeviceFacts(supports_oauth=False, recipient_scope="internal", has_static_ip=True, hybrid_onprem=True)
    )
    assert rec.path is P.HVE
    assert rec.alternatives == [P.CONNECTOR_RELAY, P.ONPREM_RELAY, P.DIRECT_SEND, P.THIRD_PARTY]


def test_hve_is_preferred_over_direct_send_when_the_device_can_sign_in() -> None:
    assert (
        recommend(DeviceFacts(supports_oauth=False, recipient_scope="internal", can_authenticate=True)).path
        is P.HVE
    )
    assert (
        recommend(DeviceFacts(supports_oauth=False, recipient_scope="internal", observed_auth="basic")).path
        is P.HVE
    )


def test_a_device_that_cannot_sign_in_never_gets_oauth_or_hve() -> None:
    rec = recommend(DeviceFacts(supports_oauth=None, recipient_scope="internal", can_authenticate=False))
    assert rec.path is P.DIRECT_SEND
    assert P.OAUTH not in rec.alternatives and P.HVE not in rec.alternatives


def test_connector_relay_beats_hybrid() -> None:
    rec = recommend(
        DeviceFacts(supports_oauth=False, recipient_scope="external", has_static_ip=True, hybrid_onprem=True)
    )
    assert rec.path is P.CONNECTOR_RELAY
    assert rec.alternatives == [P.ONPREM_RELAY, P.THIRD_PARTY]


def test_hybrid_beats_third_party_when_static_ip_is_unknown() -> None:
    rec = recommend(DeviceFacts(supports_oauth=False, recipient_scope="external", hybrid_onprem=True))
    assert rec.path is P.ONPREM_RELAY
    assert rec.alternatives == [P.CONNECTOR_RELAY, P.THIRD_PARTY]


def test_unknown_scope_is_treated_as_external() -> None:
    rec = recommend(DeviceFacts(supports_oauth=False, recipient_scope="unknown", has_static_ip=True))
    assert rec.path is P.CONNECTOR_RELAY
    assert "recipient scope is unknown" in rec.reason["en"]
    assert any("High Volume Email" in w["en"] for w in rec.warnings)


def test_third_party_suggests_checking_for_a_static_ip_only_when_unknown() -> None:
    unknown = recommend(DeviceFacts(supports_oauth=False, recipient_scope="external", has_static_ip=None))
    known_no = recommend(DeviceFacts(supports_oauth=False, recipient_scope="external", has_static_ip=False))
    assert unknown.path is known_no.path is P.THIRD_PARTY
    assert P.CONNECTOR_RELAY in unknown.alternatives and P.CONNECTOR_RELAY not in known_no.alternatives
    assert len(unknown.steps) == len(known_no.steps) + 1


# ---------------------------------------------------------------- unknown OAuth support


@pytest.mark.parametrize(
    ("facts", "fallback"),
    [
        (DeviceFacts(recipient_scope="internal"), P.HVE),
        (DeviceFacts(recipient_scope="external", has_static_ip=True), P.CONNECTOR_RELAY),
        (DeviceFacts(recipient_scope="external", hybrid_onprem=True), P.ONPREM_RELAY),
        (DeviceFacts(recipient_scope="external", has_static_ip=False), P.THIRD_PARTY),
    ],
)
def test_unknown_oauth_means_check_with_the_vendor_and_names_the_fallback(
    facts: DeviceFacts, fallback: MigrationPath
) -> None:
    rec = recommend(facts)
    assert (rec.path, rec.rule) == (P.OAUTH, "oauth_unknown")
    assert rec.alternatives[0] is fallback
    assert PATH_LABELS[fallback]["en"] in rec.reason["en"]
    assert PATH_LABELS[fallback]["ja"] in rec.reason["ja"]
    assert "vendor" in rec.steps[0]["en"] and "メーカー" in rec.steps[0]["ja"]
    assert PATH_LABELS[fallback]["en"] in rec.steps[-1]["en"]


# ---------------------------------------------------------------- steps


def test_oauth_steps_for_an_application_include_the_exchange_service_principal() -> None:
    steps = joined(recommend(DeviceFacts(kind="application", supports_oauth=True)), "en")
    assert "New-ServicePrincipal -AppId" in steps
    assert "SMTP.SendAsApp" in steps
    assert "smtp.office365.com, port 587" in steps


def test_oauth_steps_for_a_printer_talk_about_firmware_not_app_registration() -> None:
    steps = joined(recommend(DeviceFacts(kind="printer_mfp", supports_oauth=True)), "en")
    assert "firmware" in steps
    assert "New-ServicePrincipal" not in steps


@pytest.mark.parametrize(
    ("facts", "needles"),
    [
        (
            DeviceFacts(supports_oauth=False, recipient_scope="internal"),
            ["smtp.hve.mx.microsoft", "587", "New-MailUser -HVEAccount"],
        ),
        (
            DeviceFacts(supports_oauth=False, recipient_scope="internal", can_authenticate=False),
            ["mail.protection.outlook.com", "port 25", "RejectDirectSend"],
        ),
        (
            DeviceFacts(supports_oauth=False, recipient_scope="external", has_static_ip=True),
            ["New-InboundConnector", "-ConnectorType OnPremises", "mail.protection.outlook.com", "port 25"],
        ),
        (
            DeviceFacts(supports_oauth=False, recipient_scope="external", hybrid_onprem=True),
            ["New-ReceiveConnector", "Ms-Exch-SMTP-Accept-Any-Recipient", "port 25"],
        ),
        (DeviceFacts(still_needed=False), ["-SmtpClientAuthenticationDisabled $true"]),
    ],
)
def test_steps_name_the_endpoint_port_and_powershell(facts: DeviceFacts, needles: list[str]) -> None:
    rec = recommend(facts)
    en = "\n".join(s["en"] for s in rec.steps)
    ja = "\n".join(s["ja"] for s in rec.steps)
    for needle in needles:
        assert needle in en
        if needle.startswith(("New-", "-", "Ms-", "smtp.", "Reject")):
            assert needle in ja


def test_direct_send_warns_about_reject_direct_send() -> None:
    rec = recommend(DeviceFacts(supports_oauth=False, recipient_scope="internal", can_authenticate=False))
    assert any("Set-OrganizationConfig -RejectDirectSend" in w["en"] for w in rec.warnings)
    assert any("Set-OrganizationConfig -RejectDirectSend" in w["ja"] for w in rec.warnings)


def test_relay_paths_say_they_are_not_in_mc786329() -> None:
    for facts in (
        DeviceFacts(supports_oauth=False, recipient_scope="internal", can_authenticate=False),
        DeviceFacts(supports_oauth=False, recipient_scope="external", has_static_ip=True),
    ):
        rec = recommend(facts)
        assert rec.path not in MC786329_LISTED_PATHS
        assert any("MC786329" in n["en"] and "MC786329" in n["ja"] for n in rec.notes)


# ---------------------------------------------------------------- warnings


def test_tls_below_12_on_oauth_gets_firmware_fix_and_legacy_endpoint_stopgap() -> None:
    rec = recommend(DeviceFacts(supports_oauth=True, supports_tls12=False))
    tls = [w for w in rec.warnings if "TLS" in w["en"]]
    assert len(tls) == 1
    for lang in ("en", "ja"):
        assert "smtp-legacy.office365.com" in tls[0][lang]
        assert "AllowLegacyTLSClients" in tls[0][lang]
        assert "GCC" in tls[0][lang] and "DoD" in tls[0][lang]
    assert "firmware" in tls[0]["en"] and "ファームウェア" in tls[0]["ja"]


@pytest.mark.parametrize("seen", [{"1.0"}, {"TLS 1.1", "TLS 1.2"}, {"tlsv1"}])
def test_legacy_tls_seen_in_the_report_triggers_the_warning(seen: set[str]) -> None:
    rec = recommend(DeviceFacts(supports_oauth=True, tls_versions_seen=frozenset(seen)))
    assert any("TLS below 1.2" in w["en"] for w in rec.warnings)


def test_no_tls_warning_for_tls12_or_unknown() -> None:
    for facts in (
        DeviceFacts(supports_oauth=True, supports_tls12=True),
        DeviceFacts(supports_oauth=True),
        DeviceFacts(supports_oauth=True, tls_versions_seen=frozenset({"1.2", "1.3"})),
    ):
        assert not any("TLS below 1.2" in w["en"] for w in recommend(facts).warnings)


def test_legacy_endpoint_is_only_offered_on_smtp_auth_paths() -> None:
    rec = recommend(
        DeviceFacts(
            supports_oauth=False, recipient_scope="external", has_static_ip=True, supports_tls12=False
        )
    )
    tls = [w for w in rec.warnings if "TLS below 1.2" in w["en"]]
    assert len(tls) == 1 and "smtp-legacy" not in tls[0]["en"]


def test_retired_devices_get_no_tls_warning() -> None:
    rec = recommend(DeviceFacts(still_needed=False, supports_tls12=False))
    assert not any("TLS" in w["en"] for w in rec.warnings)


def test_high_volume_on_oauth_warns_about_smtp_auth_limits() -> None:
    assert any(
        "10,000" in w["en"]
        for w in recommend(DeviceFacts(supports_oauth=True, messages_per_day=20_000)).warnings
    )
    assert not any(
        "10,000" in w["en"]
        for w in recommend(DeviceFacts(supports_oauth=True, messages_per_day=500)).warnings
    )


def test_hve_warns_that_its_basic_auth_has_an_end_date() -> None:
    rec = recommend(DeviceFacts(supports_oauth=False, recipient_scope="internal"))
    assert any("September 2028" in w["en"] and "2028 年 9 月" in w["ja"] for w in rec.warnings)


# ---------------------------------------------------------------- ACS


def test_acs_note_reflects_the_current_mc786329_text() -> None:
    assert "Azure Communication Services" in ACS_NOTE["en"] and "2026-01-27" in ACS_NOTE["en"]
    assert "Azure" in ACS_NOTE["ja"] and "2026 年 1 月 27 日" in ACS_NOTE["ja"]


def test_third_party_carries_the_acs_caveat() -> None:
    rec = recommend(DeviceFacts(supports_oauth=False, recipient_scope="external", has_static_ip=False))
    assert ACS_NOTE in rec.warnings


def test_acs_is_never_a_recommended_step() -> None:
    for facts in ALL_FACTS:
        rec = recommend(facts)
        steps = "\n".join(s["en"] for s in rec.steps)
        assert "azurecomm" not in steps and "Azure Communication" not in steps


# ---------------------------------------------------------------- invariants over every combination


def test_never_hve_or_direct_send_unless_every_recipient_is_internal() -> None:
    for facts in ALL_FACTS:
        if facts.recipient_scope is RecipientScope.INTERNAL:
            continue
        rec = recommend(facts)
        assert rec.path not in INTERNAL_ONLY, facts
        assert not INTERNAL_ONLY & set(rec.alternatives), facts


def test_every_recommendation_is_complete_in_both_languages() -> None:
    for facts in ALL_FACTS:
        rec = recommend(facts)
        assert rec.rule in RULES
        assert rec.steps, facts
        for text in texts(rec):
            assert text["en"].strip() and text["ja"].strip(), (facts, text)
        assert rec.path not in rec.alternatives
        assert len(rec.alternatives) == len(set(rec.alternatives))


def test_japanese_text_is_japanese() -> None:
    for facts in ALL_FACTS[::97]:
        rec = recommend(facts)
        for text in texts(rec):
            assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text["ja"]), text


def test_path_labels_cover_every_path_in_both_languages() -> None:
    assert set(PATH_LABELS) == set(MigrationPath)
    assert all(label["en"].strip() and label["ja"].strip() for label in PATH_LABELS.values())


# ---------------------------------------------------------------- inputs


def test_strings_are_accepted_for_enum_fields() -> None:
    facts = DeviceFacts(kind="scanner", recipient_scope="internal", observed_auth="basic")
    assert facts.kind is DeviceKind.SCANNER
    assert facts.recipient_scope is RecipientScope.INTERNAL
    assert facts.can_authenticate is True


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "fax"},
        {"recipient_scope": "everyone"},
        {"messages_per_day": -1},
        {"can_authenticate": False, "supports_oauth": True},
        {"can_authenticate": False, "observed_auth": "basic"},
        {"tls_versions_seen": frozenset({"SSL 3"})},
    ],
)
def test_invalid_or_contradictory_facts_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DeviceFacts(**kwargs)  # type: ignore[arg-type]


def test_tls_version_helpers() -> None:
    assert normalize_tls_version("TLS 1.2") == "1.2"
    assert normalize_tls_version("tlsv1") == "1.0"
    assert tls_versions_from_percentages(0.0, 12.5, 87.5) == frozenset({"1.1", "1.2"})
    assert tls_versions_from_percentages(None, None, None) == frozenset()
