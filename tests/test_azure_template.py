"""deploy/azure/main.bicep: the resources it must create, documented parameters, no secret in plain text.

The Bicep compiler is a .NET tool that no package registry reachable here ships, so the template is
checked by structure: every resource type and its key properties, every parameter described (and
secure when it is a secret), secrets only as Key Vault references, the app settings ones the bot
reads, and the README's parameter table matching the template.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE = (PROJECT / "deploy" / "azure" / "main.bicep").read_text(encoding="utf-8")
PARAMETERS = json.loads((PROJECT / "deploy" / "azure" / "main.parameters.json").read_text(encoding="utf-8"))
README = (PROJECT / "README.md").read_text(encoding="utf-8")
SECRET_NAME = re.compile(r"password|secret|key\b", re.IGNORECASE)


def params() -> dict[str, dict[str, object]]:
    """name -> {decorators, type, default}: decorators are the lines right above each ``param``."""
    lines = TEMPLATE.splitlines()
    found: dict[str, dict[str, object]] = {}
    for number, line in enumerate(lines):
        match = re.match(r"^param (\w+) (\w+)(?: = (.+))?$", line)
        if not match:
            continue
        decorators = []
        above = number - 1
        while above >= 0 and lines[above].startswith("@"):
            decorators.append(lines[above])
            above -= 1
        found[match.group(1)] = {"decorators": decorators, "type": match.group(2), "default": match.group(3)}
    return found


def resources() -> dict[str, tuple[str, str]]:
    """symbolic name -> (type, body up to the next top-level declaration)."""
    found = {}
    pattern = re.compile(r"^resource (\w+) '([^@']+)@[^']+'(?: existing)? = (?:if \([^)]*\) )?\{", re.M)
    matches = list(pattern.finditer(TEMPLATE))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(TEMPLATE)
        found[match.group(1)] = (match.group(2), TEMPLATE[match.end() : end])
    return found


def test_every_resource_the_deployment_needs():
    types = {kind for kind, _ in resources().values()}
    assert {
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.KeyVault/vaults",
        "Microsoft.KeyVault/vaults/secrets",
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.Web/serverfarms",
        "Microsoft.Web/sites",
        "Microsoft.BotService/botServices",
        "Microsoft.BotService/botServices/channels",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Microsoft.DBforPostgreSQL/flexibleServers/databases",
        "Microsoft.ContainerRegistry/registries",
    } <= types


def test_the_bot_signs_in_with_the_managed_identity_and_has_the_teams_channel():
    all_resources = resources()
    _, bot = all_resources["bot"]
    assert "msaAppType: 'UserAssignedMSI'" in bot and "msaAppMSIResourceId: identity.id" in bot
    assert "msaAppId: identity.properties.clientId" in bot
    assert "endpoint: 'https://${site.properties.defaultHostName}/api/messages'" in bot
    _, teams = all_resources["teams"]
    assert "channelName: 'MsTeamsChannel'" in teams and "isEnabled: true" in teams
    assert "{ name: 'MicrosoftAppType', value: 'UserAssignedMSI' }" in TEMPLATE
    assert "{ name: 'MicrosoftAppId', value: identity.properties.clientId }" in TEMPLATE


def test_postgresql_is_optional_and_reached_over_verified_tls():
    body = TEMPLATE
    assert re.search(r"resource postgres '[^']+' = if \(usePostgres\)", body)
    assert "sslmode=verify-full" in body and "{ name: 'PGSSLROOTCERT', value: '/etc/ssl/certs/ca-certificates.crt' }" in body
    assert "sqlite+aiosqlite:////home/data/" in body  # without it: SQLite on App Service's persistent /home


def test_every_parameter_is_described_and_secrets_are_secure():
    found = params()
    assert {"name", "containerImage", "deployPostgres", "postgresAdminPassword", "graphClientSecret"} <= found.keys()
    for name, info in found.items():
        decorators = info["decorators"]
        assert any(d.startswith("@description(") for d in decorators), f"{name} has no @description"
        if SECRET_NAME.search(name):
            assert "@secure()" in decorators, f"{name} holds a secret but is not @secure()"


def test_no_secret_in_plain_text():
    secure = [name for name, info in params().items() if "@secure()" in info["decorators"]]
    # Secure parameters go only into Key Vault secrets (and PostgreSQL's own admin password).
    for name in secure:
        uses = [line.strip() for line in TEMPLATE.splitlines() if re.search(rf"\b{name}\b", line) and not line.startswith(("param ", "@"))]
        for use in uses:
            assert use.startswith(("value:", "properties: { value:", "administratorLoginPassword:", "var use")), use
    # App settings that carry secrets are Key Vault references.
    for setting in ("GRAPH_CLIENT_SECRET", "DATABASE_URL"):
        [line] = [line for line in TEMPLATE.split("\n  {") if f"name: '{setting}'" in line]
        assert "@Microsoft.KeyVault(SecretUri=" in line, setting
    assert "keyVaultReferenceIdentity: identity.id" in TEMPLATE
    outputs = [line for line in TEMPLATE.splitlines() if line.startswith("output ")]
    assert outputs and not any(SECRET_NAME.search(line) or any(s in line for s in secure) for line in outputs)
    assert not re.search(r"(?i)(password|secret)\"?\s*:\s*\{\s*\"value\"", json.dumps(PARAMETERS))
    assert "adminUserEnabled: false" in TEMPLATE and "httpsOnly: true" in TEMPLATE


def test_the_parameters_file_fits_the_template():
    found = params()
    given = PARAMETERS["parameters"]
    assert set(given) <= found.keys()
    required = {n for n, info in found.items() if info["default"] is None}
    assert required <= set(given), required - set(given)


def test_app_settings_are_settings_the_bot_reads():
    example = (PROJECT / ".env.example").read_text(encoding="utf-8")
    names = re.findall(r"\{ name: '(\w+)', value", TEMPLATE) + re.findall(r"name: '(\w+)'\n\s+value:", TEMPLATE)
    platform = {"WEBSITES_PORT", "WEBSITES_ENABLE_APP_SERVICE_STORAGE", "AllowAzureServices", "PGSSLROOTCERT"}
    settings = {n for n in names if n.isupper() or n.startswith("Microsoft")} - platform
    assert settings and all(f"{n}=" in example for n in settings), settings
    assert "healthCheckPath: '/readyz'" in TEMPLATE


def test_the_readme_documents_every_parameter_and_the_steps():
    section = README[README.index("## Deploy to Azure") :]
    for name in params():
        assert f"`{name}`" in section, name
    steps = re.findall(r"^(\d+)\. ", section.split("\n## ")[0], re.M)
    assert [int(s) for s in steps] == list(range(1, len(steps) + 1)) and len(steps) >= 8
    for command in ("az deployment group create", "az acr build", "python -m bot setup", "python -m bot.package"):
        assert command in section, command
