"""The shared HTTP client: retries, Retry-After, 401 refresh, paging, page cap and error mapping."""

from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import certifi
import pytest
from m365_fakes import (
    CLIENT_SECRET,
    ConnectProxy,
    FakeM365,
    Fault,
    service_message,
)

from bot.m365.errors import (
    CredentialsError,
    LicenseRequiredError,
    MalformedResponseError,
    NotFoundError,
    PagingLimitError,
    PermissionMissingError,
    ServiceError,
    ThrottledError,
    UnreachableError,
    permission_for,
    redact,
)
from bot.m365.http import (
    M365Client,
    RetryPolicy,
    backoff_delay,
    error_for_status,
    parse_retry_after,
    same_service,
)

MESSAGES = "/v1.0/admin/serviceAnnouncement/messages"


def messages_url(m365: FakeM365) -> str:
    return f"{m365.graph.base_url}{MESSAGES}"


# ------------------------------------------------------------------------------------ pure parts


NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        (" 0 ", 0.0),
        ("-3", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_backoff_is_exponential_jittered_and_capped() -> None:
    low = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=lambda: 0.0)
    high = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=lambda: 1.0)
    assert [backoff_delay(n, None, low) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert [backoff_delay(n, None, high) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff_delay(3, 12.5, high) == 12.5  # the server's Retry-After wins


@pytest.mark.parametrize(
    ("url", "allowed", "expected"),
    [
        ("https://graph.microsoft.com/v1.0/x?$skiptoken=1", "https://graph.microsoft.com", True),
        ("https://GRAPH.microsoft.com/v1.0/x", "https://graph.microsoft.com", True),
        ("http://graph.microsoft.com/v1.0/x", "https://graph.microsoft.com", False),
        ("https://graph.microsoft.com.evil.example/x", "https://graph.microsoft.com", False),
        ("https://127.0.0.1:1234/x", "https://127.0.0.1:4321", False),
        ("https://outlook.office.com/adminapi/beta/t/InvokeCommand", "https://outlook.office365.com", True),
        ("https://outlook.office.com/x", "https://graph.microsoft.com", False),
    ],
)
def test_same_service(url: str, allowed: str, expected: bool) -> None:
    assert same_service(url, allowed) is expected


@pytest.mark.parametrize(
    ("url", "permission"),
    [
        ("https://g/v1.0/admin/serviceAnnouncement/messages?$filter=x", "ServiceMessage.Read.All"),
        ("https://g/v1.0/admin/serviceAnnouncement/messages/MC1", "ServiceMessage.Read.All"),
        ("https://g/v1.0/admin/serviceAnnouncement/healthOverviews/Exchange", "ServiceHealth.Read.All"),
        ("https://g/v1.0/admin/serviceAnnouncement/issues", "ServiceHealth.Read.All"),
        ("https://g/v1.0/auditLogs/signIns?$filter=x", "AuditLog.Read.All"),
        ("https://g/v1.0/policies/identitySecurityDefaultsEnforcementPolicy", "Policy.Read.All"),
        ("https://g/beta/users/a@b/authentication/requirements", "Policy.Read.All"),
        ("https://g/v1.0/users/a@b", "User.Read.All"),
        ("https://o/adminapi/beta/t/InvokeCommand", "Exchange.ManageAsApp"),
        ("https://g/v1.0/me", None),
    ],
)
def test_permission_by_endpoint(url: str, permission: str | None) -> None:
    assert permission_for(url) == permission


def test_error_for_status_table() -> None:
    non_premium = '{"error":{"code":"Authentication_RequestFromNonPremiumTenantOrB2CTenant","message":"no"}}'
    denied = '{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges"}}'
    graph, exo = "https://g/v1.0/auditLogs/signIns", "https://o/adminapi/beta/t/InvokeCommand"
    assert isinstance(error_for_status(403, non_premium, graph), LicenseRequiredError)
    missing = error_for_status(403, denied, graph)
    assert isinstance(missing, PermissionMissingError) and missing.permission == "AuditLog.Read.All"
    exchange = error_for_status(403, "", exo)
    assert (
        isinstance(exchange, PermissionMissingError)
        and exchange.reason == "exchange"
        and exchange.role == "Global Reader"
    )
    assert isinstance(error_for_status(401, "", exo), PermissionMissingError)
    assert error_for_status(401, "", graph).reason == "token_rejected"
    assert isinstance(error_for_status(404, "", graph), NotFoundError)
    bad = error_for_status(400, '{"error":{"code":"BadRequest","message":"Invalid filter clause"}}', graph)
    assert isinstance(bad, ServiceError) and bad.code == "BadRequest" and "Invalid filter clause" in str(bad)
    assert error_for_status(504, "", graph).reason == "unavailable"


def test_redact_strips_tokens_and_secrets() -> None:
    jwt_like = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2ln"
    text = redact(f"Authorization: Bearer {jwt_like} client_secret={CLIENT_SECRET} ok")
    assert jwt_like not in text and CLIENT_SECRET not in text and "ok" in text
    assert redact("x" * 1000).endswith("…") and len(redact("x" * 1000)) == 400


# ----------------------------------------------------------------------------- against fakes


async def test_one_session_and_lifecycle(m365: FakeM365) -> None:
    client = m365.client()
    with pytest.raises(RuntimeError):
        await client.get_json(messages_url(m365), m365.settings().graph_scope)
    await client.start()
    first = client._session
    await client.start()
    assert client._session is first
    await client.close()
    await client.close()


async def test_refuses_to_send_a_token_to_another_host(m365_client: M365Client, m365: FakeM365) -> None:
    with pytest.raises(ValueError):
        await m365_client.get_json(f"{m365.exchange.base_url}/v1.0/anything", m365.settings().graph_scope)
    assert m365.authority.token_request_count == 0


async def test_429_with_retry_after_then_success(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.faults.append(Fault.throttle(MESSAGES, retry_after="7", times=2))
    page = await m365_client.get_json(messages_url(m365), m365.settings().graph_scope)
    assert page["value"] == []
    assert m365.sleeps == [7.0, 7.0]
    assert len(m365.graph.requests_to(MESSAGES)) == 3


async def test_retry_after_as_http_date(m365_client: M365Client, m365: FakeM365) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=20)
    m365.graph.faults.append(Fault.throttle(MESSAGES, retry_after=format_datetime(when, usegmt=True)))
    await m365_client.get_json(messages_url(m365), m365.settings().graph_scope)
    assert len(m365.sleeps) == 1 and 17.0 <= m365.sleeps[0] <= 20.0


async def test_503_and_504_back_off_exponentially(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.faults += [
        Fault.unavailable(MESSAGES, 503),
        Fault.unavailable(MESSAGES, 504),
        Fault.throttle(MESSAGES, None),
    ]
    await m365_client.get_json(messages_url(m365), m365.settings().graph_scope)
    assert m365.sleeps == [0.75, 1.5, 3.0]  # base 1 s doubling, jitter fixed at 0.5


async def test_retries_give_up_after_the_attempt_cap(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.faults.append(Fault.throttle(MESSAGES, retry_after="2", times=100))
    with pytest.raises(ThrottledError) as caught:
        await m365_client.get_json(messages_url(m365), m365.settings().graph_scope)
    assert len(m365.graph.requests_to(MESSAGES)) == 4  # max_attempts
    assert m365.sleeps == [2.0, 2.0, 2.0]
    assert "after 4 tries" in caught.value.message("en") and "4 回" in caught.value.message("ja")
    assert caught.value.status == 429


async def test_retries_give_up_when_the_wait_would_exceed_the_total_cap(
    m365_client: M365Client, m365: FakeM365
) -> None:
    m365.graph.faults.append(Fault.throttle(MESSAGES, retry_after="600", times=100))
    with pytest.raises(ThrottledError) as caught:
        await m365_client.get_json(messages_url(m365), m365.settings().graph_scope)
    assert m365.sleeps == []  # 600 s > max_total_delay: tell the admin now instead of waiting
    assert len(m365.graph.requests_to(MESSAGES)) == 1
    assert "Try again in 10 minutes" in caught.value.message("en")
    assert "10 分後" in caught.value.message("ja")


async def test_persistent_503_becomes_unreachable(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.faults.append(Fault.unavailable(MESSAGES, 503, times=100))
    with pytest.raises(UnreachableError) as caught:
        await m365_client.get_json(messages_url(m365), m365.settings().graph_scope)
    assert caught.value.reason == "unavailable" and caught.value.status == 503


async def test_401_triggers_one_token_refresh(m365_client: M365Client, m365: FakeM365) -> None:
    scope = m365.settings().graph_scope
    await m365_client.get_json(messages_url(m365), scope)
    m365.authority.revoke_all()
    await m365_client.get_json(messages_url(m365), scope)
    assert m365.authority.token_request_count == 2
    assert m365.sleeps == []


async def test_persistent_401_stops_after_one_refresh(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.faults.append(
        Fault(MESSAGES, 401, {"error": {"code": "InvalidAuthenticationToken", "message": "no"}}, times=100)
    )
    with pytest.raises(CredentialsError) as caught:
        await m365_client.get_json(messages_url(m365), m365.settings().graph_scope)
    assert caught.value.reason == "token_rejected"
    assert len(m365.graph.requests_to(MESSAGES)) == 2
    assert m365.authority.token_request_count == 2


async def test_paging_follows_next_links_one_page_at_a_time(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.service_messages += [service_message(f"MC{i}") for i in range(10)]
    m365.graph.page_size_cap = 3
    items = m365_client.paged(
        messages_url(m365), m365.settings().graph_scope, headers={"Prefer": "odata.maxpagesize=1000"}
    )
    first = await anext(items)
    assert first["id"] == "MC0"
    assert len(m365.graph.requests_to(MESSAGES)) == 1  # nothing read ahead
    rest = [item async for item in items]
    assert [m["id"] for m in [first, *rest]] == [f"MC{i}" for i in range(10)]
    requests = m365.graph.requests_to(MESSAGES)
    assert len(requests) == 4
    assert [r.query.get("$skiptoken") for r in requests] == [None, "3", "6", "9"]


async def test_page_cap_stops_an_endless_list(m365: FakeM365) -> None:
    m365.graph.endless_paths.add(MESSAGES)
    seen = []
    async with m365.client(page_cap=5) as client:
        with pytest.raises(PagingLimitError) as caught:
            async for item in client.paged(messages_url(m365), m365.settings().graph_scope):
                seen.append(item["id"])
                if len(seen) > 50:
                    pytest.fail("the page cap did not stop an endless list")
    assert len(seen) == 5 and len(m365.graph.requests_to(MESSAGES)) == 5
    assert "5 pages" in caught.value.message("en") and "5 ページ" in caught.value.message("ja")


async def test_next_link_to_another_host_is_refused(m365_client: M365Client, m365: FakeM365) -> None:
    body = {"value": [], "@odata.nextLink": "https://collector.example/steal?$skiptoken=1"}
    m365.graph.faults.append(Fault(MESSAGES, 200, body))
    with pytest.raises(MalformedResponseError) as caught:
        async for _ in m365_client.paged(messages_url(m365), m365.settings().graph_scope):
            pass
    assert "another host" in str(caught.value)


async def test_next_link_loop_is_refused(m365_client: M365Client, m365: FakeM365) -> None:
    body = {"value": [service_message("MC1")], "@odata.nextLink": f"{messages_url(m365)}?$skiptoken=1"}
    m365.graph.faults.append(Fault(MESSAGES, 200, body, times=2))
    with pytest.raises(MalformedResponseError):
        async for _ in m365_client.paged(messages_url(m365), m365.settings().graph_scope):
            pass
    assert len(m365.graph.requests_to(MESSAGES)) == 2


@pytest.mark.parametrize("body", ['{"value": [ {"id": "MC1"', "<html>proxy error</html>", "[1, 2]"])
async def test_malformed_json(m365_client: M365Client, m365: FakeM365, body: str) -> None:
    m365.graph.faults.append(Fault.malformed(MESSAGES, body))
    with pytest.raises(MalformedResponseError) as caught:
        await m365_client.get_json(messages_url(m365), m365.settings().graph_scope)
    assert f"127.0.0.1:{m365.graph.port}" in caught.value.message("en")


async def test_page_without_value_list_is_malformed(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.faults.append(Fault(MESSAGES, 200, {"value": {"not": "a list"}}))
    with pytest.raises(MalformedResponseError):
        async for _ in m365_client.paged(messages_url(m365), m365.settings().graph_scope):
            pass


async def test_403_missing_permission_names_it(m365_client: M365Client, m365: FakeM365) -> None:
    m365.authority.roles.discard("ServiceMessage.Read.All")
    with pytest.raises(PermissionMissingError) as caught:
        await m365_client.get_json(messages_url(m365), m365.settings().graph_scope)
    error = caught.value
    assert error.permission == "ServiceMessage.Read.All" and error.status == 403
    assert "ServiceMessage.Read.All" in error.message("en") and "Grant admin consent" in error.message("en")
    assert "ServiceMessage.Read.All" in error.message("ja") and "管理者の同意" in error.message("ja")


async def test_403_non_premium_means_entra_p1(m365_client: M365Client, m365: FakeM365) -> None:
    m365.graph.premium = False
    url = f"{m365.graph.base_url}/v1.0/auditLogs/signIns"
    with pytest.raises(LicenseRequiredError) as caught:
        await m365_client.get_json(url, m365.settings().graph_scope)
    assert "Entra ID P1 required" in caught.value.message("en")
    assert "Entra ID P1 が必要です" in caught.value.message("ja")


async def test_slow_response_times_out(m365: FakeM365) -> None:
    m365.graph.faults.append(Fault.slow(MESSAGES, times=2))
    async with m365.client(request_timeout=0.2, retry=m365.retry_policy(max_attempts=2)) as client:
        with pytest.raises(UnreachableError) as caught:
            await client.get_json(messages_url(m365), m365.settings().graph_scope)
    assert caught.value.reason == "timeout"
    assert len(m365.sleeps) == 1


async def test_connection_refused_is_unreachable(m365: FakeM365) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = m365.settings(graph_endpoint=f"https://127.0.0.1:{port}")
    async with m365.client(settings) as client:
        with pytest.raises(UnreachableError) as caught:
            await client.get_json(f"https://127.0.0.1:{port}{MESSAGES}", settings.graph_scope)
    assert caught.value.reason == "network" and f"127.0.0.1:{port}" in str(caught.value)


async def test_untrusted_certificate_fails_closed(m365: FakeM365, monkeypatch: pytest.MonkeyPatch) -> None:
    await m365.client().tokens.token(m365.settings().graph_scope)  # msal still trusts the fake CA
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with m365.client() as client:
        with pytest.raises(UnreachableError) as caught:
            await client.get_json(messages_url(m365), m365.settings().graph_scope)
    assert caught.value.reason == "tls" and "SSL_CERT_FILE" in caught.value.message("en")


async def test_https_proxy_is_honoured(m365: FakeM365, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = ConnectProxy()
    await proxy.start()
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        async with m365.client() as client:
            await client.get_json(messages_url(m365), m365.settings().graph_scope)
    finally:
        await proxy.close()
    assert f"127.0.0.1:{m365.graph.port}" in proxy.targets  # aiohttp went through the proxy
    assert f"127.0.0.1:{m365.authority.port}" in proxy.targets  # and so did msal


async def test_tokens_never_reach_logs_or_errors(
    m365_client: M365Client, m365: FakeM365, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    scope = m365.settings().graph_scope
    await m365_client.get_json(messages_url(m365), scope)
    m365.authority.revoke_all()
    m365.graph.faults += [Fault.throttle(MESSAGES, "1"), Fault.echoing(MESSAGES, 400)]
    with pytest.raises(ServiceError) as caught:
        await m365_client.get_json(messages_url(m365), scope)
    assert "[redacted" in str(caught.value)  # the server echoed the header; we did not pass it on
    m365.authority.roles.discard("ServiceMessage.Read.All")
    m365.authority.revoke_all()
    with pytest.raises(PermissionMissingError) as missing:
        await m365_client.get_json(messages_url(m365), scope)
    tokens = m365.issued_tokens()
    assert len(tokens) == 3
    assert any("retry" in r.getMessage() for r in caplog.records)
    for secret in [CLIENT_SECRET, *tokens]:
        assert secret not in caplog.text
        for error in (caught.value, missing.value):
            assert secret not in str(error) and secret not in repr(error)
            assert secret not in error.message("ja") and secret not in str(error.params)
