"""The bot's web server: ``create_app(settings)`` builds it, ``main()`` runs it. Nothing runs at import."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from datetime import datetime
from typing import Any, AsyncIterator

from aiohttp import web

from bot import __version__
from bot.alerts.config import alert_settings
from bot.devices.config import device_settings
from bot.clock import Clock, clock_from, system_clock
from bot.health import Check, graph_check, lease_check, message_center_check, storage_writable, summary
from bot.logs import configure_logging, log_settings
from bot.metrics import exposition, observe_turn, set_lease, set_message_center
from bot.serve import StartupError, describe_database_error
from bot.serve import run as serve
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
STARTED_AT = web.AppKey("started_at", datetime)


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

        try:
            await database.open()
        except Exception as error:  # noqa: BLE001 - any failure here is the database's: one line naming it
            log.debug("opening the database failed", exc_info=True)
            problem = describe_database_error(error, settings.database_url)
            raise StartupError("DATABASE_URL", f"{problem} ({database.describe()})") from None
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
        with observe_turn() as turn:  # activity id and tenant for the logs; counted and timed for /metrics
            response = await request.app[ENDPOINT].handle(request)  # type: ignore[attr-defined]
            turn.status = response.status
            return response

    async def livez(request: web.Request) -> web.Response:
        """The process answers: all a restart can fix. No database, no network."""
        return web.json_response({"status": "ok", "version": __version__})

    async def readyz(request: web.Request) -> web.Response:
        """Every dependency checked now; also served as /healthz, whose keys it keeps."""
        checks = await readiness_checks(request.app)
        status, code = summary(checks)
        storage = next(c for c in checks if c.name == "storage")
        body = {
            "status": status,
            "version": __version__,
            "storage": {"ok": storage.ok, "dialect": database.dialect, "schema_version": database.schema_version},
            "mode": "local" if settings.local_mode else "authenticated",
            "checks": {check.name: check.as_json() for check in checks},
        }
        return web.json_response(body, status=code)

    async def metrics(request: web.Request) -> web.Response:
        await refresh_gauges(request.app)
        body, content_type = exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

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
    app.router.add_get("/healthz", readyz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/metrics", metrics)
    app[STARTED_AT] = clock()
    return app


async def _shared_state(app: web.Application) -> tuple[Any, Any, bool, Any]:
    """The Message Center read and the lease row, as this process sees them in the database."""
    services = app[SERVICES]
    now = services.clock()
    runtime = app.get(ALERTS)
    lease_state = await runtime.ctx.lease.state() if runtime is not None else None
    held = runtime is not None and runtime.ctx.lease.held(now)
    mc = await services.tenant.mc_sync_state()
    return now, lease_state, held, mc


async def readiness_checks(app: web.Application) -> list[Check]:
    services = app[SERVICES]
    settings = services.settings
    checks = [await storage_writable(app[DATABASE].engine)]
    try:
        now, lease_state, _, mc = await _shared_state(app)
    except Exception as error:  # noqa: BLE001 - the storage check above already says why
        return checks + [Check("alerts_lease", False, f"cannot read: {type(error).__name__}"),
                         Check("message_center", False, f"cannot read: {type(error).__name__}")]
    runtime = app.get(ALERTS)
    checks.append(lease_check(
        lease_state.holder if lease_state else None,
        lease_state.expires_at if lease_state else None,
        runtime.ctx.holder if runtime is not None else None,
        now,
        runtime is not None and runtime.scheduler is not None,
    ))
    checks.append(message_center_check(
        mc.fetched_at if mc else None, mc.error if mc and mc.stale else None, now,
        alert_settings(settings).mc_poll_minutes, app[STARTED_AT],
    ))
    checks.append(await graph_check(services.tenant.source))
    return checks


async def refresh_gauges(app: web.Application) -> None:
    """The gauges that describe shared state, read at scrape time."""
    try:
        now, lease_state, held, mc = await _shared_state(app)
    except Exception:  # noqa: BLE001 - the counters still go out; readiness says what is wrong
        log.warning("metrics: could not read the lease or Message Center state", exc_info=True)
        return
    set_message_center(mc.fetched_at if mc else None, bool(mc and mc.stale), now)
    set_lease(held, lease_state.holder if lease_state else None, bool(lease_state and lease_state.expires_at <= now))


def main(argv: list[str] | None = None) -> int:
    try:
        settings = load_settings()
        configure_logging(log_settings(settings.env))
        app = create_app(settings, clock=clock_from(settings.clock_at))
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    try:
        serve(app, settings)
    except StartupError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 2
    except (OSError, asyncio.TimeoutError) as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
