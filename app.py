"""The bot's web server: ``create_app(settings)`` builds it, ``main()`` runs it. Nothing runs at import."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import AsyncIterator

from aiohttp import web

from bot import __version__
from bot.services import Clock, Services, system_clock
from bot.settings import Settings, SettingsError, load_settings
from bot.storage.conversations import ConversationStore
from bot.storage.db import Database
from bot.timeline import load_timeline

log = logging.getLogger("smtp_auth_readiness")

SERVICES = web.AppKey("services", Services)
DATABASE = web.AppKey("database", Database)
ENDPOINT = web.AppKey("endpoint", object)


def create_app(settings: Settings, *, clock: Clock = system_clock) -> web.Application:
    """The aiohttp application; resources open and close with it in ``cleanup_ctx``."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    database = Database(settings.database_url)
    app[DATABASE] = database

    async def resources(app: web.Application) -> AsyncIterator[None]:
        # Imported here so importing app.py stays cheap and free of the Bot Framework SDK.
        from bot.teams.adapter import build_adapter, build_auth
        from bot.teams.endpoint import Endpoint
        from bot.teams.handler import ReadinessBot

        await database.open()
        services = Services(
            settings=settings,
            db=database,
            conversations=ConversationStore(database.engine),
            timeline=load_timeline(),
            clock=clock,
        )
        app[SERVICES] = services
        auth = build_auth(settings)
        endpoint = Endpoint(settings, auth, build_adapter(settings, auth), ReadinessBot(services))
        app[ENDPOINT] = endpoint
        if settings.local_mode:
            log.warning("local mode: no MicrosoftAppId set, requests are not authenticated (Agents Playground/tests only)")
        log.info("storage: %s", database.describe())
        yield
        await database.close()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await request.app[ENDPOINT].handle(request)  # type: ignore[attr-defined]

    async def healthz(request: web.Request) -> web.Response:
        ok = await database.healthy()
        body = {
            "status": "ok" if ok else "degraded",
            "version": __version__,
            "storage": {"ok": ok, "dialect": database.dialect, "schema_version": database.schema_version},
            "mode": "local" if settings.local_mode else "authenticated",
        }
        return web.json_response(body, status=200 if ok else 503)

    app.cleanup_ctx.append(resources)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # These libraries can log request details (headers with tokens) at DEBUG; keep them quiet.
    for noisy in ("msrest", "msal", "urllib3", "botframework", "azure"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    try:
        web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
    except (OSError, asyncio.TimeoutError) as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
