"""Settings validation, and the process refusing bad settings with one line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings

PROJECT = Path(__file__).resolve().parent.parent
GUID = "3f9b2c1e-1111-4222-8333-944455556666"


def settings(env, tmp_path):
    return load_settings(env, dotenv=tmp_path / "none.env")


def test_defaults_need_nothing(tmp_path):
    s = settings({}, tmp_path)
    assert s.port == 3978
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.database_url.startswith("sqlite+aiosqlite:///") and "/data/" in s.database_url
    assert s.local_mode
    assert s.default_language == "en" and s.default_timezone == "UTC"
    assert s.tenant_allowed("anything")


@pytest.mark.parametrize(
    "env, name",
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"ALLOWED_TENANT_IDS": "contoso.com"}, "ALLOWED_TENANT_IDS"),
        ({"ADMIN_USER_IDS": f"{GUID},bob"}, "ADMIN_USER_IDS"),
        ({"DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE"),
        ({"DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE"),
        ({"MicrosoftAppId": "not-a-guid", "MicrosoftAppPassword": "x"}, "MicrosoftAppId"),
        ({"MicrosoftAppId": GUID}, "MicrosoftAppPassword"),
        ({"MicrosoftAppType": "Sometimes"}, "MicrosoftAppType"),
        ({"MicrosoftAppId": GUID, "MicrosoftAppPassword": "x", "MicrosoftAppType": "SingleTenant"}, "MicrosoftAppTenantId"),
    ],
)
def test_each_bad_setting_is_named(tmp_path, env, name):
    with pytest.raises(SettingsError) as raised:
        settings(env, tmp_path)
    assert raised.value.name == name
    assert str(raised.value).startswith(f"{name}: ")


def test_lists_postgres_urls_and_case(tmp_path):
    s = settings(
        {
            "ALLOWED_TENANT_IDS": f" {GUID.upper()} , ",
            "ADMIN_USER_IDS": GUID,
            "DATABASE_URL": "postgresql://postgres@127.0.0.1/test",
            "MicrosoftAppType": "singletenant",
            "MicrosoftAppId": GUID,
            "MicrosoftAppPassword": "secret-value",
            "MicrosoftAppTenantId": GUID,
        },
        tmp_path,
    )
    assert s.allowed_tenant_ids == {GUID}
    assert s.tenant_allowed(GUID.upper()) and not s.tenant_allowed("other") and not s.tenant_allowed(None)
    assert s.database_url == "postgresql+asyncpg://postgres@127.0.0.1/test"
    assert s.app_type == "SingleTenant"
    assert "secret-value" not in repr(s)


def test_dotenv_is_read_and_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nexport PORT=4000\nDEFAULT_LANGUAGE="ja"\n', encoding="utf-8")
    s = load_settings({"PORT": "5000"}, dotenv=dotenv)
    assert s.port == 5000 and s.default_language == "ja"


def test_bad_dotenv_line_is_named(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT 4000\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\.env line 1"):
        load_settings({}, dotenv=dotenv)


def test_process_exits_2_with_one_line_on_bad_settings(tmp_path):
    env = {**os.environ, "DEFAULT_TIMEZONE": "Mars/Olympus"}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["configuration error: DEFAULT_TIMEZONE: 'Mars/Olympus' is not an IANA time zone (e.g. Asia/Tokyo)"]
    assert "Traceback" not in result.stderr + result.stdout


def test_importing_app_runs_nothing():
    result = subprocess.run(
        [sys.executable, "-c", "import app, sys; print(sorted(m for m in sys.modules if m.startswith('botbuilder')))"],
        cwd=PROJECT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == "[]"


def test_dotenv_comments_quotes_and_export_follow_python_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "\ufeffMicrosoftAppPassword=abc  # prod\n"
        "MicrosoftAppId=3f9b2c1e-1111-4222-8333-944455556666 # the bot\n"
        "GRAPH_CLIENT_SECRET='p#ss $HOME ${USER}'\n"
        "export DEFAULT_LANGUAGE=ja\n"
        "MC_WATCHLIST=MC1234567#not-a-comment-without-a-space\n",
        encoding="utf-8",
    )
    from bot.settings import read_dotenv

    values = read_dotenv(dotenv)
    assert values["MicrosoftAppPassword"] == "abc"
    assert values["MicrosoftAppId"] == GUID
    assert values["GRAPH_CLIENT_SECRET"] == "p#ss $HOME ${USER}"
    assert values["DEFAULT_LANGUAGE"] == "ja"
    assert values["MC_WATCHLIST"] == "MC1234567#not-a-comment-without-a-space"
    s = load_settings({"GRAPH_CLIENT_SECRET": "", "MC_WATCHLIST": ""}, dotenv=dotenv)
    assert s.app_password == "abc" and s.default_language == "ja"


def test_a_name_without_a_value_is_named_too(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=4000\n\n# fine\nDATABASE_URL\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"^\.env line 4: expected KEY=VALUE$"):
        load_settings({}, dotenv=dotenv)


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
def test_libpq_sslmode_becomes_asyncpg_ssl(tmp_path, mode):
    s = settings({"DATABASE_URL": f"postgresql://bot:p%40ss@db.example.com:5432/smtpbot?sslmode={mode}"}, tmp_path)
    assert s.database_url == f"postgresql+asyncpg://bot:p%40ss@db.example.com:5432/smtpbot?ssl={mode}"


def test_other_query_parameters_are_kept(tmp_path):
    s = settings(
        {"DATABASE_URL": "postgres://bot@h/db?prepared_statement_cache_size=0&sslmode=REQUIRE"}, tmp_path
    )
    assert s.database_url == "postgresql+asyncpg://bot@h/db?prepared_statement_cache_size=0&ssl=require"


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("sslmode=on", "sslmode='on' must be one of disable, allow, prefer, require, verify-ca, verify-full"),
        ("sslmode=require&ssl=require", "either sslmode= or ssl="),
        ("sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem", "set PGSSLROOTCERT in the environment instead"),
        ("sslkey=/k.pem", "set PGSSLKEY"),
    ],
)
def test_ssl_mistakes_are_one_line_naming_database_url(tmp_path, query, says):
    with pytest.raises(SettingsError) as raised:
        settings({"DATABASE_URL": f"postgresql://bot@h/db?{query}"}, tmp_path)
    assert raised.value.name == "DATABASE_URL" and says in str(raised.value)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set")
@pytest.mark.parametrize("mode", ["disable", "prefer"])
async def test_sslmode_urls_connect_to_postgresql(tmp_path, mode):
    """The form that crashed with ``connect() got an unexpected keyword argument 'sslmode'``."""
    from sqlalchemy.engine import make_url

    from bot.storage.db import Database

    base = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql")
    url = base.render_as_string(hide_password=False) + f"?sslmode={mode}"
    database = Database(settings({"DATABASE_URL": url}, tmp_path).database_url)
    await database.open()
    try:
        assert await database.healthy()
    finally:
        await database.close()
