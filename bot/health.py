"""Is the bot alive, and is it ready: the checks behind ``/livez``, ``/readyz`` and ``/healthz``.

Liveness is the process answering HTTP at all: nothing else, so an orchestrator only restarts a
process that restarting can help. Readiness is each thing the bot depends on, checked now:

* ``storage``: the database accepts a write (a DELETE that matches nothing, so a read-only or
  locked database fails). Critical: without it the bot cannot answer, so it is not ready (503).
* ``alerts_lease``: some live process holds the alerts scheduler lease, else no alert goes out.
* ``message_center``: the last successful Message Center read is recent (three poll intervals).
* ``graph_credentials``: the app can get a token for Microsoft Graph (demo tenant: nothing to check).

The last three are warnings: the bot still answers (from the last good copy), so it stays ready
and the body says what is wrong; ``/metrics`` carries the same facts for alerting.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    critical: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, "critical": self.critical}


def _forget(task: asyncio.Future[None]) -> None:
    """Collect a late probe's outcome so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


# A probe that outlived its timeout, per engine: the next check waits for it instead of starting
# another, so a database locked for an hour holds one stuck connection, not one per health check.
_late_probes: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Future[None]] = weakref.WeakKeyDictionary()


async def storage_writable(engine: AsyncEngine, timeout: float = PROBE_TIMEOUT) -> Check:
    """A write transaction that changes nothing: fails on a read-only, locked or unreachable database."""

    async def probe() -> None:
        async with engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM schema_version WHERE version < 0"))

    started = time.perf_counter()
    late = _late_probes.get(engine)
    if late is not None and not late.done():
        await asyncio.wait({late}, timeout=timeout)
        if not late.done():
            return Check("storage", False, "an earlier write is still waiting (locked or unreachable)", True)
    # Not wait_for: cancelling a write stuck in the database driver's thread waits for the driver's own
    # busy timeout (30 s for SQLite), and the health check would hang that long. A late probe is left to
    # finish on its own.
    task = asyncio.ensure_future(probe())
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        task.add_done_callback(_forget)
        _late_probes[engine] = task
        return Check("storage", False, f"no write possible within {timeout:g} s (locked or unreachable)", True)
    try:
        task.result()
    except Exception as error:  # noqa: BLE001 - a probe reports, it never raises
        text = str(getattr(error, "orig", None) or error).strip().splitlines()
        return Check("storage", False, f"{type(error).__name__}: {text[0] if text else ''}", True)
    return Check("storage", True, f"writable ({(time.perf_counter() - started) * 1000:.0f} ms)", True)


def lease_check(holder: str | None, expires_at: datetime | None, this_process: str | None, now: datetime,
                scheduler_on: bool) -> Check:
    """Whether alert jobs run somewhere: a lease that has not expired."""
    where = "this process" if holder is not None and holder == this_process else f"process {holder}"
    if holder is None or expires_at is None:
        return Check("alerts_lease", False, "no process has taken the alerts lease yet; alerts are not sent")
    if expires_at <= now:
        suffix = "" if scheduler_on else " (ALERTS_SCHEDULER=off here)"
        return Check("alerts_lease", False, f"the lease of {where} expired at {expires_at.isoformat()}; "
                     f"no process sends alerts{suffix}")
    return Check("alerts_lease", True, f"held by {where} until {expires_at.isoformat()}")


def message_center_check(last_read: datetime | None, error: str | None, now: datetime, poll_minutes: int,
                         started_at: datetime) -> Check:
    """Fresh enough: read within three poll intervals (a read may fail twice in a row without alarm)."""
    limit = timedelta(minutes=3 * poll_minutes)
    if last_read is None:
        if now - started_at < limit:
            return Check("message_center", True, "not read yet (the first read runs shortly after start)")
        return Check("message_center", False, f"never read successfully{': ' + error if error else ''}")
    age = now - last_read
    minutes = int(age.total_seconds() // 60)
    if age > limit:
        return Check("message_center", False, f"last read {minutes} min ago (more than {3 * poll_minutes} min)"
                     f"{': ' + error if error else ''}")
    return Check("message_center", True, f"last read {minutes} min ago")


async def graph_check(tenant_source: Any, timeout: float = PROBE_TIMEOUT) -> Check:
    """A token for Graph from the configured credentials (msal caches it, so this is cheap when it works)."""
    client = getattr(tenant_source, "client", None)
    if client is None:
        return Check("graph_credentials", True, "built-in demo tenant: no Graph credentials configured")
    try:
        await asyncio.wait_for(client.tokens.token(client.settings.graph_scope), timeout)
    except (asyncio.TimeoutError, TimeoutError):
        return Check("graph_credentials", False, f"no token within {timeout:g} s")
    except Exception as error:  # noqa: BLE001 - reported, never raised
        message = getattr(error, "message", None)
        return Check("graph_credentials", False, message("en") if callable(message) else type(error).__name__)
    return Check("graph_credentials", True, f"token for app {client.settings.client_id} in {client.settings.tenant_id}")


def summary(checks: list[Check]) -> tuple[str, int]:
    """``ok`` (200), ``warning`` (200: the bot answers, something it relies on does not work) or
    ``degraded`` (503: a critical check failed, as /healthz always answered when storage failed)."""
    if any(not c.ok and c.critical for c in checks):
        return "degraded", 503
    if any(not c.ok for c in checks):
        return "warning", 200
    return "ok", 200
