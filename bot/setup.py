"""``python -m bot setup``: the admin-consent link, the permissions the bot needs and why, and whether
the tenant has granted them, checked one call each.

The check uses the same credentials, client and error texts as the running bot, so what it prints
is what the bot will meet: each permission is ✔ (the call worked), ✘ (403: what to grant), or ? (could
not tell, and why). Exit code 0 when everything is granted, 1 when something is missing or could
not be checked, 2 for a bad setting. ``--no-check`` prints the link and the list without calling
anything (before the app exists, or on a machine that cannot reach the tenant).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TextIO

from bot.m365.errors import CredentialsError, LicenseRequiredError, M365Error, NotFoundError, PermissionMissingError
from bot.m365.permissions import (
    ENTRA_ROLE,
    EXCHANGE_APP_ID,
    GRAPH_APP_ID,
    REQUIREMENTS,
    Requirement,
    admin_consent_url,
)
from bot.m365.settings import DEFAULT_AUTHORITY_HOST, M365Settings
from bot.operator import begin

GRANT_SCRIPT = "deploy/grant-permissions.sh"


@dataclass(frozen=True)
class Result:
    requirement: Requirement
    state: str  # "granted", "missing", "unknown"
    detail: str


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot setup",
        description="Print the admin-consent link and check the Graph and Exchange permissions against the tenant.",
    )
    parser.add_argument("--no-check", action="store_true", help="print the link and the list only; call nothing")
    return parser


def token_roles(token: str) -> frozenset[str]:
    """The application permissions in an access token's ``roles`` claim (read, never verified or shown)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return frozenset()
    roles = claims.get("roles") if isinstance(claims, dict) else None
    return frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else frozenset()


async def check(client: Any, now: datetime) -> list[Result]:
    """One call per requirement, in order; a credentials failure stops the rest (they would all fail)."""
    results: list[Result] = []
    for requirement in REQUIREMENTS:
        try:
            await requirement.probe(client, now)
        except NotFoundError:
            if requirement.not_found_means_granted:
                results.append(Result(requirement, "granted", "the call was allowed (404 for a user that does not exist)"))
            else:
                results.append(Result(requirement, "unknown", "the call answered 404"))
        except PermissionMissingError as error:
            results.append(Result(requirement, "missing", error.message("en")))
        except LicenseRequiredError as error:
            results.append(Result(requirement, "unknown", error.message("en")))
        except CredentialsError as error:
            results.append(Result(requirement, "unknown", error.message("en")))
            break
        except M365Error as error:
            results.append(Result(requirement, "unknown", error.message("en")))
        else:
            results.append(Result(requirement, "granted", "the call worked"))
    return results


def print_plan(out: TextIO, app: str | None, tenant: str | None, authority: str) -> None:
    out.write("SMTP AUTH Readiness reads your tenant as an app, with these application permissions:\n\n")
    for requirement in REQUIREMENTS:
        out.write(f"  {requirement.api} > {requirement.permission}\n      why: {requirement.why}\n")
    out.write(f"  Microsoft Entra role for the app: {ENTRA_ROLE}\n"
              "      why: Exchange Online checks an admin role before it runs Get-* cmdlets for an app\n\n")
    if app and tenant:
        out.write("Admin consent (a Global Administrator or Privileged Role Administrator opens this once, after\n"
                  "the permissions are on the app registration):\n")
        out.write(f"  {admin_consent_url(authority, tenant, app)}\n\n")
    else:
        out.write("No app or tenant configured yet: set GRAPH_CLIENT_ID and GRAPH_TENANT_ID (or MicrosoftAppId\n"
                  "and MicrosoftAppTenantId) to get the admin-consent link and a check against the tenant.\n\n")
    out.write(f"To add the permissions, consent and assign the role with the Azure CLI: {GRANT_SCRIPT} <app id>\n")


def print_results(out: TextIO, results: list[Result], roles: dict[str, frozenset[str]]) -> None:
    """``roles``: the permissions in each API's token, by the API's app id."""
    marks = {"granted": "✔", "missing": "✘", "unknown": "?"}
    out.write("\nChecked against the tenant just now:\n")
    for result in results:
        granted = result.requirement.permission in roles.get(result.requirement.api_app_id, frozenset())
        in_token = "in the token" if granted else "not in the token"
        out.write(f"  {marks[result.state]} {result.requirement.permission} ({in_token}): {result.detail}\n")
    checked = {r.requirement.permission for r in results}
    for requirement in REQUIREMENTS:
        if requirement.permission not in checked:
            out.write(f"  ? {requirement.permission}: not checked (sign-in failed)\n")


async def _run(settings: M365Settings, out: TextIO) -> int:
    from bot.m365.http import M365Client, RetryPolicy

    # Quick answers: a check is not the place to wait out throttling for minutes.
    async with M365Client(settings, retry=RetryPolicy(max_attempts=2, max_total_delay=10.0)) as client:
        roles: dict[str, frozenset[str]] = {}
        try:
            for api, scope in ((GRAPH_APP_ID, settings.graph_scope), (EXCHANGE_APP_ID, settings.exchange_scope)):
                roles[api] = token_roles(await client.tokens.token(scope))
        except M365Error as error:
            out.write(f"\nSigning in as the app failed: {error.message('en')}\n")
            return 1
        results = await check(client, datetime.now(timezone.utc))
    print_results(out, results, roles)
    missing = [r for r in results if r.state != "granted"] or len(results) < len(REQUIREMENTS)
    out.write("\nAll granted.\n" if not missing else "\nNot ready: grant what is marked ✘, then run this again.\n")
    return 1 if missing else 0


def main(argv: Sequence[str]) -> int:
    started = begin(_parser(), argv, lambda settings: None, log_level=logging.ERROR)
    if isinstance(started, int):
        return started
    args, settings = started
    m365 = settings.m365
    app = m365.client_id if m365 else (settings.app_id or None)
    tenant = m365.tenant_id if m365 else (settings.app_tenant_id or None)
    authority = m365.authority_host if m365 else (settings.env.get("AUTHORITY_HOST") or DEFAULT_AUTHORITY_HOST)
    out = sys.stdout
    print_plan(out, app, tenant, authority)
    if args.no_check:
        return 0
    if m365 is None:
        out.write("\nNothing to check: no Graph credentials are configured (the bot runs on its demo tenant).\n")
        return 1
    return asyncio.run(_run(m365, out))
