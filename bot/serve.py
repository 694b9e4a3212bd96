"""Running the server process: the port taken before anything starts, start-up failures as one line.

The admin deploying the bot reads the first lines of a container log. So the listening socket is
bound before the database is opened or the scheduler started (a port in use is then one line, not a
cancelled start-up's traceback), a database that cannot be opened is one line naming DATABASE_URL
and what to do, both with exit code 2 like any other bad setting, and once the bot answers it says
where, once.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Iterator

from aiohttp import web
from sqlalchemy.engine import make_url

from bot.logs import ProbeQuietAccessLogger
from bot.settings import Settings, SettingsError

log = logging.getLogger("smtp_auth_readiness")


class StartupError(SettingsError):
    """The bot could not start because of a setting's value; ``str()`` is the one line to show."""


def bind(host: str, port: int) -> list[socket.socket]:
    """Bound (not yet listening) sockets for every address ``host`` resolves to, as aiohttp would make.

    Raises StartupError naming PORT or HOST; the sockets are closed again on failure.
    """
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise StartupError("HOST", f"'{host}' is not an address or name this machine can resolve ({error.strerror})") from None
    sockets: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.setblocking(False)
    except OSError as error:
        for sock in sockets:
            sock.close()
        raise _bind_error(host, port, error) from None
    return sockets


def _bind_error(host: str, port: int, error: OSError) -> StartupError:
    if error.errno == errno.EADDRINUSE:
        return StartupError(
            "PORT", f"{port} is already in use on {host} (another process listens there; stop it or choose another PORT)"
        )
    if error.errno == errno.EACCES:
        return StartupError("PORT", f"{port} needs extra privileges on this machine; use 1024 or above")
    if error.errno == errno.EADDRNOTAVAIL:
        return StartupError("HOST", f"{host} is not an address of this machine (use 0.0.0.0 for all of them)")
    return StartupError("PORT", f"cannot listen on {host}:{port} ({error.strerror or error})")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, the driver errors SQLAlchemy wraps (``.orig``), and their causes."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend([getattr(current, "orig", None), current.__cause__, current.__context__])


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def describe_database_error(error: BaseException, url: str) -> str:
    """What went wrong opening the database, in one line an admin can act on."""
    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    for cause in _chain(error):
        name = type(cause).__name__
        if name == "InvalidCatalogNameError":
            return f"{_first_line(cause)} on {where}; create it (CREATE DATABASE {parsed.database}) or fix the name"
        if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
            return f"{_first_line(cause)} on {where}; check the user name and password in the URL"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"the certificate of {where} is not trusted ({cause.verify_message}); set PGSSLROOTCERT to the CA "
                "file (e.g. /etc/ssl/certs/ca-certificates.crt) or use sslmode=require"
            )
        if name == "ClientConfigurationError":
            return f"{_first_line(cause)}"
        if isinstance(cause, ConnectionRefusedError):
            return f"nothing accepts connections on {where}; is PostgreSQL running and the host and port right?"
        if isinstance(cause, socket.gaierror):
            return f"the host '{parsed.host}' cannot be resolved"
        if isinstance(cause, (asyncio.TimeoutError, TimeoutError)):
            return f"{where} did not answer in time"
        if isinstance(cause, ConnectionError) and "ssl" in str(cause).lower():
            return f"{where} does not accept TLS ({_first_line(cause)}); use sslmode=disable or enable TLS on the server"
        if parsed.get_backend_name() == "sqlite" and (isinstance(cause, OSError) or name == "OperationalError"):
            reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else _first_line(cause)
            return f"cannot create or open the SQLite file {parsed.database} ({reason})"
    return _first_line(next(c for c in _chain(error) if getattr(c, "orig", None) is None))


def run(app: web.Application, settings: Settings) -> None:
    """Serve until stopped (SIGINT/SIGTERM); StartupError for a port or database that cannot be used."""
    sockets = bind(settings.host, settings.port)

    def listening(_: str) -> None:
        log.info("listening on http://%s:%d/api/messages", settings.host, settings.port)

    try:
        web.run_app(app, sock=sockets, print=listening, access_log_class=ProbeQuietAccessLogger)
    finally:
        for sock in sockets:
            sock.close()
