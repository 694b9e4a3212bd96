"""What the request being handled is about: its activity id, tenant and command, for logs and metrics.

The web edge opens a fresh ``TurnLabels`` per request (``open_turn``); the Teams endpoint fills in
the activity id and tenant once it has read them, the dispatcher the command. Log lines written
meanwhile carry the activity id and tenant (``bot.logs``), and when the request ends the metrics
count it by command and outcome (``bot.metrics``). A context variable, because aiohttp may handle
several requests of one keep-alive connection in one task, and each must start clean.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

ACTIVITY_TYPES = frozenset({"message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "event"})


@dataclass
class TurnLabels:
    activity_id: str = ""
    tenant: str = ""
    command: str = "none"  # what the turn was: a command name, "action:<verb>", or the activity type
    outcome: str = ""  # set when something decided it ("refused", "error"); otherwise from the HTTP status
    status: int = 200  # the HTTP status answered


_current: ContextVar[TurnLabels | None] = ContextVar("smtp_auth_turn", default=None)


def open_turn() -> tuple[TurnLabels, object]:
    """A fresh record for this request and the token that ``close_turn`` needs."""
    labels = TurnLabels()
    return labels, _current.set(labels)


def close_turn(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def current_turn() -> TurnLabels | None:
    return _current.get()


def label_turn(*, activity_id: str | None, tenant: str | None, activity_type: str | None) -> None:
    """Called by the Teams endpoint once the activity is read (and authenticated)."""
    labels = _current.get()
    if labels is None:
        return
    labels.activity_id = activity_id or ""
    labels.tenant = tenant or ""
    labels.command = activity_type if activity_type in ACTIVITY_TYPES else "other"


def note_command(command: str) -> None:
    """The dispatcher says which command (or card action) the turn ran."""
    labels = _current.get()
    if labels is not None:
        labels.command = command


def note_outcome(outcome: str) -> None:
    """Something other than the HTTP status decided how the turn went (refused, failed)."""
    labels = _current.get()
    if labels is not None:
        labels.outcome = outcome
