"""The bot's web server: ``create_app(settings)`` builds it, ``main()`` runs it. Nothing runs at import."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from typing import AsyncIterator

from aiohttp import web

from bot import __version__
from bot.alerts.config import alert_settings
from bot.devices.config import device_settings
from bot.logs import configure_logging
from bot.clock import Clock, clock_from, system_clock
from bot.services import Services
from bot.settings import Settings, SettingsError, load_settings
from bot.storage.conversations import ConversationStore
from bot.storage.db import Database
from bot.tenant.connect import tenant_data
from bot.timeline import load_timeline

log = logging.getLogger("smtp_auth_readiness")

SERVICES = web.AppKey("services", Services)
DATABASE = web.AppKey("database", Database)
ENDPOINT = web.AppKey("endpoint", object)
ADAPTER = web.AppKey("adapter", object)  # the CloudAdapter, also used for proactive alerts
ALERTS = web.AppKey("alerts", object)  # bot.alerts.scheduler.AlertRuntime
DEVICES = web.AppKey("devices", object)  # bot.devices.runtime.DevicesRuntime


def create_app(settings: Settings, *, clock: Clock = system_clock) -> web.Application:
    """The aiohttp application; resources open and close with it in ``cleanup_ctx``."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    alert_settings(settings)  # a bad ALERTS_*/MC_POLL_MINUTES setting stops the bot here, naming it
    device_settings(settings)  # likewise DEVICES_*
    database = Database(settings.database_url)
    app[DATABASE] = database

    async def resources(app: web.Application) -> AsyncIterator[None]:
        # Imported here so importing app.py stays cheap and free of the Bot Framework SDK.
        from bot.teams.adapter import build_adapter, build_auth
        from bot.teams.endpoint import Endpoint
        from bot.teams.files import ReadinessBotWithFiles

        await database.open()
        async with tenant_data(settings, database.engine, clock) as tenant:
            services = Services(
                settings=settings,
                db=database,
                conversations=ConversationStore(database.engine),
                timeline=load_timeline(),
                tenant=tenant,
                clock=clock,
            )
            app[SERVICES] = services
            auth = build_auth(settings)
            endpoint = Endpoint(settings, auth, build_adapter(settings, auth), ReadinessBotWithFiles(services))
            app[ENDPOINT] = endpoint
            app[ADAPTER] = endpoint.adapter
            if settings.local_mode:
                log.warning("local mode: no MicrosoftAppId set, requests are not authenticated (Agents Playground/tests only)")
            log.info("storage: %s", database.describe())
            log.info("tenant data: %s", "built-in demo tenant" if tenant.demo else "live (Microsoft Graph and Exchange Online)")
            # Everything built so far lives as long as the process: keep it out of the collector's full
            # passes, which otherwise stall every request in flight for tens of milliseconds.
            gc.collect()
            gc.freeze()
            yield
            await endpoint.close()
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

    async def alerts(app: web.Application) -> AsyncIterator[None]:
        """Proactive alerts: the job scheduler starts after, and stops before, the resources it uses."""
        from bot.alerts.scheduler import start_alerts
        from bot.teams.proactive import ProactiveSender

        runtime = await start_alerts(app[SERVICES], ProactiveSender(app[ADAPTER], settings.app_id))  # type: ignore[arg-type]
        app[ALERTS] = runtime
        yield
        await runtime.stop()

    async def devices(app: web.Application) -> AsyncIterator[None]:
        """Device readiness: scans started from chat run in the background and report through the connector."""
        from bot.devices.runtime import build_runtime
        from bot.teams.outbox import TeamsOutbox

        services = app[SERVICES]
        runtime = build_runtime(services, TeamsOutbox(app[ADAPTER], settings.app_id, services.conversations))  # type: ignore[arg-type]
        services.devices = runtime
        app[DEVICES] = runtime
        yield
        await runtime.close()

    app.cleanup_ctx.append(resources)
    app.cleanup_ctx.append(devices)
    app.cleanup_ctx.append(alerts)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    try:
        settings = load_settings()
        app = create_app(settings, clock=clock_from(settings.clock_at))
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None)
    except (OSError, asyncio.TimeoutError) as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
