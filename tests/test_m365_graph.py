"""Graph wrappers: the URLs they build and what they return from the fake Graph."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from m365_fakes import (
    SMTP_CLIENT_APP,
    FakeM365,
    Fault,
    service_issue,
    service_message,
)

from bot.m365 import graph
from bot.m365.errors import (
    LicenseRequiredError,
    MalformedResponseError,
    NotFoundError,
    PermissionMissingError,
)
from bot.m365.http import M365Client

UTC = timezone.utc
START = datetime(2025, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------------------ URLs


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_graph_datetime_is_utc_and_refuses_naive() -> None:
    jst = timezone(timedelta(hours=9))
    assert graph.graph_datetime(datetime(2025, 5, 1, 9, 0, 0, 123, tzinfo=jst)) == "2025-05-01T00:00:00Z"
    with pytest.raises(ValueError):
        graph.graph_datetime(datetime(2025, 5, 1))


def test_service_messages_url() -> None:
    assert graph.service_messages_url("https://g") == "https://g/v1.0/admin/serviceAnnouncement/messages"
    url = graph.service_messages_url("https://g", START)
    assert "$filter=lastModifiedDateTime%20ge%202025-01-01T00:00:00Z" in url  # %20, never '+'
    assert _query(url) == {"$filter": "lastModifiedDateTime ge 2025-01-01T00:00:00Z"}


def test_sign_ins_url() -> None:
    url = graph.sign_ins_url("https://g", START, START + timedelta(days=1))
    query = _query(url)
    assert urlsplit(url).path == "/v1.0/auditLogs/signIns"
    assert query["$filter"] == (
        "clientAppUsed eq 'Authenticated SMTP' and createdDateTime ge 2025-01-01T00:00:00Z"
        " and createdDateTime le 2025-01-02T00:00:00Z"
    )
    assert set(query["$select"].split(",")) >= {
        "userPrincipalName",
        "userId",
        "ipAddress",
        "createdDateTime",
        "status",
        "appDisplayName",
        "location",
        "clientAppUsed",
    }
    with pytest.raises(ValueError):
        graph.sign_ins_url("https://g", START, START)


def test_user_urls_escape_guest_upns() -> None:
    url = graph.mfa_requirements_url("https://g", "ann_fabrikam.com#EXT#@contoso.onmicrosoft.com")
    assert (
        url
        == "https://g/beta/users/ann_fabrikam.com%23EXT%23@contoso.onmicrosoft.com/authentication/requirements"
    )
    assert urlsplit(graph.user_url("https://g", "a/b@c")).path == "/v1.0/users/a%2Fb@c"
    with pytest.raises(ValueError):
        graph.user_url("https://g", " ")


# --------------------------------------------------------------------------------- service info


async def test_list_service_messages_since(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.service_messages += [
        service_message("MC1", last_modified=START - timedelta(days=2)),
        service_message("MC786329", last_modified=START + timedelta(hours=1)),
        service_message("MC2", last_modified=START + timedelta(days=3)),
    ]
    ids = [m["id"] async for m in graph.list_service_messages(m365_client, since=START)]
    assert ids == ["MC786329", "MC2"]
    request = m365.graph.requests_to("/messages")[-1]
    assert request.headers.get("Prefer") == "odata.maxpagesize=1000"
    assert request.query["$filter"] == "lastModifiedDateTime ge 2025-01-01T00:00:00Z"
    all_ids = [m["id"] async for m in graph.list_service_messages(m365_client)]
    assert all_ids == ["MC1", "MC786329", "MC2"]


async def test_list_service_messages_pages_at_1000(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.service_messages += [service_message(f"MC{i:06d}") for i in range(2345)]
    count = 0
    async for _ in graph.list_service_messages(m365_client):
        count += 1
    assert count == 2345
    assert len(m365.graph.requests_to("/messages")) == 3


async def test_get_service_message(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.service_messages.append(service_message("MC786329", title="Basic auth for SMTP AUTH"))
    message = await graph.get_service_message(m365_client, "MC786329")
    assert message["title"] == "Basic auth for SMTP AUTH"
    with pytest.raises(NotFoundError):
        await graph.get_service_message(m365_client, "MC404")


async def test_exchange_health_with_issues(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.issues += [service_issue("EX1"), service_issue("TM1", service="Microsoft Teams")]
    health = await graph.exchange_health(m365_client)
    assert health["status"] == "serviceOperational"
    assert [i["id"] for i in health["issues"]] == ["EX1"]


async def test_list_issues_filters_by_service(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.issues += [
        service_issue("EX1"),
        service_issue("TM1", service="Microsoft Teams"),
        service_issue("EX2"),
    ]
    assert [i["id"] async for i in graph.list_issues(m365_client)] == ["EX1", "EX2"]
    assert [i["id"] async for i in graph.list_issues(m365_client, "microsoft teams")] == ["TM1"]
    assert len([i async for i in graph.list_issues(m365_client, None)]) == 3


async def test_service_health_needs_its_permission(m365_client: M365Client, m365: FakeM365) -> None:
    m365.authority.roles.discard("ServiceHealth.Read.All")
    with pytest.raises(PermissionMissingError) as caught:
        await graph.exchange_health(m365_client)
    assert caught.value.permission == "ServiceHealth.Read.All"


# ------------------------------------------------------------------------------------- sign-ins


async def test_sign_ins_pages_thousands_of_smtp_events(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.add_sign_ins(2500, start=START)
    m365.graph.add_sign_ins(300, start=START, client_app="Browser")
    events = [e async for e in graph.sign_ins(m365_client, since=START)]
    assert len(events) == 2500
    assert {e["clientAppUsed"] for e in events} == {SMTP_CLIENT_APP}
    assert events[0]["createdDateTime"] > events[-1]["createdDateTime"]  # newest first
    assert "deviceDetail" not in events[0] and "userPrincipalName" in events[0]  # $select applied
    requests = m365.graph.requests_to("/auditLogs/signIns")
    assert len(requests) == 3  # 1,000 per page


async def test_sign_ins_window(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.add_sign_ins(120, start=START, every=timedelta(minutes=1))
    since, until = START + timedelta(minutes=10), START + timedelta(minutes=19)
    events = [e async for e in graph.sign_ins(m365_client, since=since, until=until)]
    assert len(events) == 10


async def test_sign_ins_page_cap(m365_client: M365Client, m365: FakeM365) -> None:
    from bot.m365.errors import PagingLimitError

    m365.graph.add_sign_ins(2500, start=START)
    with pytest.raises(PagingLimitError):
        async for _ in graph.sign_ins(m365_client, since=START, page_cap=2):
            pass


async def test_sign_ins_on_a_free_tenant(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.premium = False
    with pytest.raises(LicenseRequiredError) as caught:
        async for _ in graph.sign_ins(m365_client, since=START):
            pass
    assert "Entra ID P1 required" in str(caught.value)


async def test_sign_ins_without_audit_log_permission(m365_client: M365Client, m365: FakeM365) -> None:
    m365.authority.roles.discard("AuditLog.Read.All")
    with pytest.raises(PermissionMissingError) as caught:
        async for _ in graph.sign_ins(m365_client, since=START):
            pass
    assert caught.value.permission == "AuditLog.Read.All"
    assert "AuditLog.Read.All" in caught.value.message("ja")


async def test_sign_ins_throttled_then_served(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.add_sign_ins(1500, start=START)
    m365.graph.faults.append(Fault.throttle("/auditLogs/signIns", retry_after="10"))
    events = [e async for e in graph.sign_ins(m365_client, since=START)]
    assert len(events) == 1500 and m365.sleeps == [10.0]


# ------------------------------------------------------------------------------ policies, users


@pytest.mark.parametrize("enabled", [True, False])
async def test_security_defaults(m365_client: M365Client, m365: FakeM365, enabled: bool) -> None:
    m365.graph.security_defaults = enabled
    assert await graph.security_defaults_enabled(m365_client) is enabled


async def test_security_defaults_needs_policy_read(m365_client: M365Client, m365: FakeM365) -> None:
    m365.authority.roles.discard("Policy.Read.All")
    with pytest.raises(PermissionMissingError) as caught:
        await graph.security_defaults_enabled(m365_client)
    assert caught.value.permission == "Policy.Read.All"


async def test_security_defaults_without_boolean_is_malformed(
    m365_client: M365Client, m365: FakeM365
) -> None:
    m365.graph.faults.append(Fault("/policies/", 200, {"id": "x", "isEnabled": "yes"}))
    with pytest.raises(MalformedResponseError):
        await graph.security_defaults_enabled(m365_client)


async def test_per_user_mfa_state(m365_client: M365Client, m365: FakeM365) -> None:
    guest = "ann_fabrikam.com#EXT#@contoso.onmicrosoft.com"
    m365.graph.mfa_states.update({"scanner1@contoso.example": "enforced", guest.lower(): "disabled"})
    assert await graph.per_user_mfa_state(m365_client, "scanner1@contoso.example") == "enforced"
    assert await graph.per_user_mfa_state(m365_client, guest) == "disabled"
    assert m365.graph.requests_to("/beta/users/")[0].path.startswith("/beta/users/")
    with pytest.raises(NotFoundError):
        await graph.per_user_mfa_state(m365_client, "nobody@contoso.example")


async def test_get_user(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.users.append(
        {
            "id": "u1",
            "userPrincipalName": "Scanner1@contoso.example",
            "displayName": "Scanner 1",
            "mail": "scanner1@contoso.example",
            "accountEnabled": True,
            "jobTitle": "Printer",
        }
    )
    user = await graph.get_user(m365_client, "scanner1@contoso.example")
    assert user["id"] == "u1" and "jobTitle" not in user
    assert (await graph.get_user(m365_client, "u1"))["displayName"] == "Scanner 1"
    with pytest.raises(NotFoundError):
        await graph.get_user(m365_client, "missing@contoso.example")
