"""Process settings: read once from the environment (and an optional ``.env``), validated up front.

A bad setting must stop the process at start with one line that names it, because an admin
deploying a bot reads a log line, not a traceback.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv.parser import parse_stream

if TYPE_CHECKING:
    from bot.m365.settings import M365Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_DIR / "data"
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'smtp-auth-readiness.db'}"
LANGUAGES = ("en", "ja")
APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class SettingsError(ValueError):
    """A setting is missing or wrong; ``str()`` is the one line shown to the operator."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


@dataclass(frozen=True)
class Settings:
    """Everything the process is configured with. Secrets are kept out of ``repr``."""

    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    host: str = "0.0.0.0"
    port: int = 3978
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    allowed_tenant_ids: frozenset[str] = frozenset()
    admin_user_ids: frozenset[str] = frozenset()
    default_language: str = "en"
    default_timezone: str = "UTC"
    max_body_bytes: int = 256 * 1024
    typing_delay_seconds: float = 0.7
    m365: M365Settings | None = field(default=None, repr=False)
    mc_poll_minutes: int = 60
    mc_watchlist: frozenset[str] = frozenset()
    clock_at: datetime | None = None  # CLOCK_AT: a rehearsal clock starts here (None: the real time)
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def local_mode(self) -> bool:
        """No app id: Bot Framework authentication is off (Agents Playground, tests)."""
        return not self.app_id

    def tenant_allowed(self, tenant_id: str | None) -> bool:
        if not self.allowed_tenant_ids:
            return True
        return bool(tenant_id) and tenant_id.lower() in self.allowed_tenant_ids


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines as python-dotenv reads them; a missing file is simply no settings.

    python-dotenv follows the shell: ``KEY=abc  # prod`` is ``abc`` (a ``#`` after a space starts a
    comment), quotes keep everything inside them, ``export`` is allowed. Values are taken literally
    (no ``${VAR}`` expansion), so a secret containing ``$`` arrives as written. A line it cannot read
    stops the bot naming the line, where python-dotenv on its own would skip it with a warning.
    """
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    with path.open(encoding="utf-8-sig") as stream:  # Notepad's BOM is not part of the first name
        for binding in parse_stream(stream):
            if binding.error or (binding.key is not None and binding.value is None):
                raise SettingsError(f"{path.name} line {binding.original.line}", "expected KEY=VALUE")
            if binding.key is not None and binding.value is not None:
                values[binding.key] = binding.value
    return values


def _split_ids(name: str, raw: str) -> frozenset[str]:
    ids = [part.strip().lower() for part in raw.split(",") if part.strip()]
    for value in ids:
        if not _GUID.match(value):
            raise SettingsError(name, f"'{value}' is not a GUID (expected a comma list of Entra ids)")
    return frozenset(ids)


SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# libpq takes these in the connection string; asyncpg reads them only from the environment.
_SSL_FILES = {"sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "sslcrl": "PGSSLCRL"}


def _asyncpg_query(query: str) -> str:
    """libpq's ``sslmode=`` (what Azure Database for PostgreSQL and most guides give) as asyncpg's ``ssl=``.

    SQLAlchemy hands every query parameter to ``asyncpg.connect()``, which has no ``sslmode``
    argument and would fail at the first connection with a TypeError. The modes mean the same in
    both (``require`` encrypts, ``verify-full`` also checks the certificate and host name against
    PGSSLROOTCERT); certificate files must come from the environment, so naming them here is an
    error that says which variable to set instead.
    """
    pairs = parse_qsl(query, keep_blank_values=True)
    names = [name for name, _ in pairs]
    if "sslmode" in names and "ssl" in names:
        raise SettingsError("DATABASE_URL", "give either sslmode= or ssl=, not both")
    out: list[tuple[str, str]] = []
    for name, value in pairs:
        if name in _SSL_FILES:
            raise SettingsError(
                "DATABASE_URL",
                f"asyncpg does not read {name}= from the URL; set {_SSL_FILES[name]} in the environment instead",
            )
        if name in ("sslmode", "ssl"):
            mode = value.strip().lower()
            if mode not in SSL_MODES:
                raise SettingsError("DATABASE_URL", f"{name}='{value}' must be one of {', '.join(SSL_MODES)}")
            out.append(("ssl", mode))
        else:
            out.append((name, value))
    return urlencode(out, safe="/:")


def _normalise_database_url(raw: str) -> str:
    url = raw.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith("sqlite+aiosqlite:///"):
        return url
    if url.startswith("postgresql+asyncpg://"):
        parts = urlsplit(url)
        return urlunsplit(parts._replace(query=_asyncpg_query(parts.query))) if parts.query else url
    raise SettingsError(
        "DATABASE_URL", "use sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host/db"
    )


def _int_setting(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"'{raw}' is not a whole number") from None
    if not low <= value <= high:
        raise SettingsError(name, f"{value} is outside {low}..{high}")
    return value


def int_from_env(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole-number setting of a feature: its default when unset, a named error when wrong."""
    raw = (env.get(name) or "").strip()
    return _int_setting(name, raw, low, high) if raw else default


def check_timezone(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(name, f"'{raw}' is not an IANA time zone (e.g. Asia/Tokyo)") from None
    return raw


def _clock_at(raw: str) -> datetime | None:
    from bot.clock import parse_moment

    if not raw:
        return None
    try:
        return parse_moment(raw)
    except ValueError as error:
        raise SettingsError("CLOCK_AT", str(error)) from None


def _m365_settings(merged: Mapping[str, str]) -> M365Settings | None:
    """Graph/Exchange credentials; None means the built-in demo tenant."""
    from bot.m365.settings import from_env

    try:
        return from_env(merged)
    except ValueError as error:
        message = str(error)
        name, _, rest = message.partition(" ")
        if re.fullmatch(r"[A-Za-z_]+", name):
            raise SettingsError(name, rest.strip() or message) from None
        raise SettingsError("GRAPH_*", message) from None


def load_settings(env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
    """Build settings from ``env`` (default ``os.environ``) over an optional ``.env`` file."""
    merged: dict[str, str] = {}
    merged.update(read_dotenv(dotenv if dotenv is not None else PROJECT_DIR / ".env"))
    merged.update(os.environ if env is None else env)

    def get(name: str, default: str = "") -> str:
        return merged.get(name, default).strip()

    app_id = get("MicrosoftAppId")
    app_password = get("MicrosoftAppPassword")
    app_type_raw = get("MicrosoftAppType", "MultiTenant") or "MultiTenant"
    app_type = APP_TYPES.get(app_type_raw.lower())
    if app_type is None:
        raise SettingsError("MicrosoftAppType", f"'{app_type_raw}' must be MultiTenant, SingleTenant or UserAssignedMSI")
    app_tenant_id = get("MicrosoftAppTenantId")
    if app_id:
        if not _GUID.match(app_id):
            raise SettingsError("MicrosoftAppId", f"'{app_id}' is not a GUID")
        if app_type != "UserAssignedMSI" and not app_password:
            raise SettingsError("MicrosoftAppPassword", "is required when MicrosoftAppId is set")
        if app_type in ("SingleTenant", "UserAssignedMSI") and not app_tenant_id:
            raise SettingsError("MicrosoftAppTenantId", f"is required when MicrosoftAppType is {app_type}")
    m365 = _m365_settings(merged)
    watchlist = frozenset(
        part.strip().upper() for part in re.split(r"[,\s]+", get("MC_WATCHLIST")) if part.strip()
    )
    for post_id in watchlist:
        if not re.fullmatch(r"MC\d{4,8}", post_id):
            raise SettingsError("MC_WATCHLIST", f"'{post_id}' is not a Message Center id like MC786329")
    language = (get("DEFAULT_LANGUAGE", "en") or "en").lower()
    if language not in LANGUAGES:
        raise SettingsError("DEFAULT_LANGUAGE", f"'{language}' must be en or ja")
    return Settings(
        app_id=app_id,
        app_password=app_password,
        app_type=app_type,
        app_tenant_id=app_tenant_id,
        host=get("HOST", "0.0.0.0") or "0.0.0.0",
        port=_int_setting("PORT", get("PORT", "3978") or "3978", 1, 65535),
        database_url=_normalise_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
        allowed_tenant_ids=_split_ids("ALLOWED_TENANT_IDS", get("ALLOWED_TENANT_IDS")),
        admin_user_ids=_split_ids("ADMIN_USER_IDS", get("ADMIN_USER_IDS")),
        default_language=language,
        default_timezone=check_timezone("DEFAULT_TIMEZONE", get("DEFAULT_TIMEZONE", "UTC") or "UTC"),
        m365=m365,
        mc_poll_minutes=_int_setting("MC_POLL_MINUTES", get("MC_POLL_MINUTES", "60") or "60", 5, 24 * 60),
        mc_watchlist=watchlist,
        clock_at=_clock_at(get("CLOCK_AT")),
        env=dict(merged),
    )
