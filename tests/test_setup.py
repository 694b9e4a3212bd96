"""``python -m bot setup`` against HTTPS fakes of Entra, Graph and Exchange (real msal and aiohttp)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from bot.m365.permissions import REQUIREMENTS
from m365_fakes import CLIENT_ID, CLIENT_SECRET, EXCHANGE_ROLE, GRAPH_ROLES, TENANT_ID
from test_tenant_live import live_env

PROJECT = Path(__file__).resolve().parent.parent


async def run_setup(env: dict[str, str], *args: str) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "GRAPH_", "LOG_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "setup", *args, cwd=PROJECT, env={**clean, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return int(process.returncode or 0), out.decode()


def fake_env(fakes, **extra: str) -> dict[str, str]:
    """The bot's live settings for the fakes, plus trust in their CA for the subprocess."""
    return {**live_env(fakes), "SSL_CERT_FILE": str(fakes.ca_path), "REQUESTS_CA_BUNDLE": str(fakes.ca_path), **extra}


def line_for(output: str, permission: str) -> str:
    [line] = [line for line in output.splitlines() if re.match(rf"\s+[✔✘?] {re.escape(permission)} ", line)]
    return line


async def test_everything_granted(m365):
    code, out = await run_setup(fake_env(m365))
    assert code == 0, out
    assert f"{m365.authority.base_url}/{TENANT_ID}/adminconsent?client_id={CLIENT_ID}" in out
    for requirement in REQUIREMENTS:
        assert f"> {requirement.permission}\n      why: {requirement.why}" in out
        assert line_for(out, requirement.permission).lstrip().startswith(f"✔ {requirement.permission} (in the token)")
    assert "Global Reader" in out and "All granted." in out
    assert CLIENT_SECRET not in out and "eyJ" not in out  # no secret, no token


async def test_missing_permissions_say_what_to_grant(m365):
    m365.authority.roles = set(GRAPH_ROLES - {"AuditLog.Read.All", "User.Read.All"})  # and no Exchange role
    code, out = await run_setup(fake_env(m365))
    assert code == 1, out
    for granted in ("ServiceMessage.Read.All", "ServiceHealth.Read.All", "Policy.Read.All"):
        assert line_for(out, granted).lstrip().startswith("✔")
    audit = line_for(out, "AuditLog.Read.All")
    assert audit.lstrip().startswith("✘ AuditLog.Read.All (not in the token)")
    assert "Add it under App registrations > API permissions" in audit
    assert line_for(out, "User.Read.All").lstrip().startswith("✘")
    exchange = line_for(out, EXCHANGE_ROLE)
    assert exchange.lstrip().startswith("✘") and "Exchange.ManageAsApp and grant admin consent" in exchange
    assert "Not ready" in out


async def test_exchange_role_missing_and_no_premium_licence(m365):
    m365.exchange.has_role = False  # permission granted, but no Entra role for the app: 403
    m365.graph.premium = False
    code, out = await run_setup(fake_env(m365))
    assert code == 1
    assert line_for(out, EXCHANGE_ROLE).lstrip().startswith(f"✘ {EXCHANGE_ROLE} (in the token)")
    assert "Global Reader" in line_for(out, EXCHANGE_ROLE)
    audit = line_for(out, "AuditLog.Read.All")
    assert audit.lstrip().startswith("?") and "Entra ID P1" in audit


async def test_wrong_secret_is_one_clear_failure(m365):
    code, out = await run_setup(fake_env(m365, GRAPH_CLIENT_SECRET="not-the-secret"))
    assert code == 1
    assert "Signing in as the app failed: Microsoft Entra ID rejected the client secret" in out
    assert "not-the-secret" not in out


async def test_no_check_without_credentials_prints_the_plan():
    code, out = await run_setup({}, "--no-check")
    assert code == 0
    assert all(r.permission in out for r in REQUIREMENTS)
    assert "No app or tenant configured yet" in out and "deploy/grant-permissions.sh" in out
    code, out = await run_setup({})
    assert code == 1 and "Nothing to check" in out


def test_the_grant_script_grants_exactly_these_permissions():
    script = (PROJECT / "deploy" / "grant-permissions.sh").read_text(encoding="utf-8")
    graph = re.search(r"^GRAPH_PERMISSIONS=\"([^\"]*)\"", script, re.M)
    exchange = re.search(r"^EXCHANGE_PERMISSIONS=\"([^\"]*)\"", script, re.M)
    role = re.search(r"^ENTRA_ROLE=\"([^\"]*)\"", script, re.M)
    assert graph and exchange and role
    assert sorted(graph.group(1).split()) == sorted(r.permission for r in REQUIREMENTS if r.api == "Microsoft Graph")
    assert exchange.group(1).split() == [r.permission for r in REQUIREMENTS if r.api != "Microsoft Graph"]
    assert role.group(1) == "Global Reader"
    assert "az ad app permission admin-consent" in script
