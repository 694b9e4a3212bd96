"""'Authenticated SMTP' sign-ins of the built-in demo tenant (Contoso), shaped like Graph's signIn.

A handful of senders on a fixed daily schedule, so every run over the same window yields the same
events (same ids, same times), newest first as Graph lists them:

* ``scan-to-mail@contoso.com``: an MFP in Osaka and a scanner in Tokyo (two source IPs; the scanner
  sometimes fails with a wrong password). Its mailbox has SMTP AUTH enabled explicitly.
* ``printer-3f@contoso.com``: a printer that follows the organisation default.
* ``erp-notify@contoso.com``: an ERP application on two servers (two IPs), mailbox enabled explicitly.
* ``monitoring@contoso.com`` and ``helpdesk-app@contoso.com``: already on OAuth (the beta
  ``authenticationProtocol`` field says ``oAuth2``); the help desk app started three days ago.
* ``former-fax@contoso.com``: a fax gateway, silent for the last three weeks and failing before that.

The story is written as seen on its story day (``bot.tenant.demo_story``) and told relative to the
day the bot's clock reads: on any date the help desk app is three days old and the fax gateway went
quiet 22 days ago, so the demo reads the same in January 2027 as it did in November 2026.

Addresses are from the documentation ranges (RFC 5737). Nothing here is real.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator

from bot.tenant.demo_story import story_shift
DEMO_APP_ID = "00000002-0000-0ff1-ce00-000000000000"  # Office 365 Exchange Online


@dataclass(frozen=True)
class DemoSender:
    upn: str
    ip: str
    minutes: tuple[int, ...]  # minutes after midnight UTC at which it signs in each active day
    weekdays_only: bool = False
    fail_every: int = 0  # every n-th sign-in of the day fails (0: never)
    oauth: bool = False
    active_from: date | None = None  # as a date of the story (see bot.tenant.demo_story)
    active_until: date | None = None  # last active day, likewise
    city: str = "Tokyo"


def _every(start: int, step: int, end: int = 24 * 60) -> tuple[int, ...]:
    return tuple(range(start, end, step))


SENDERS: tuple[DemoSender, ...] = (
    DemoSender("scan-to-mail@contoso.com", "203.0.113.10", _every(1 * 60 + 5, 47, 10 * 60), weekdays_only=True, city="Osaka"),
    DemoSender("scan-to-mail@contoso.com", "198.51.100.20", _every(0 * 60 + 30, 95, 9 * 60), weekdays_only=True, fail_every=4),
    DemoSender("printer-3f@contoso.com", "203.0.113.11", _every(0 * 60 + 12, 71, 11 * 60), weekdays_only=True),
    DemoSender("erp-notify@contoso.com", "203.0.113.50", _every(7, 60)),
    DemoSender("erp-notify@contoso.com", "203.0.113.51", _every(37, 120)),
    DemoSender("monitoring@contoso.com", "192.0.2.30", _every(3, 180), oauth=True),
    DemoSender("helpdesk-app@contoso.com", "192.0.2.45", _every(20, 240), oauth=True, active_from=date(2026, 11, 20)),
    DemoSender("former-fax@contoso.com", "198.51.100.77", (2 * 60 + 40, 6 * 60 + 10), fail_every=1,
               active_until=date(2026, 11, 1)),
)


def _active(sender: DemoSender, day: date, shift: timedelta) -> bool:
    """Whether ``sender`` signs in on ``day``, with the story moved ``shift`` days forward."""
    if sender.weekdays_only and day.weekday() >= 5:
        return False
    if sender.active_from and day < sender.active_from + shift:
        return False
    return not (sender.active_until and day > sender.active_until + shift)


def _event(sender: DemoSender, moment: datetime, number: int) -> dict[str, Any]:
    failed = bool(sender.fail_every) and number % sender.fail_every == sender.fail_every - 1
    local = sender.upn.partition("@")[0]
    event: dict[str, Any] = {
        "id": f"demo-{local}-{sender.ip.replace('.', '-')}-{moment:%Y%m%d%H%M}",
        "createdDateTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "userPrincipalName": sender.upn,
        "userId": _user_id(sender.upn),
        "appId": DEMO_APP_ID,
        "appDisplayName": "Office 365 Exchange Online",
        "ipAddress": sender.ip,
        "clientAppUsed": "Authenticated SMTP",
        "status": {
            "errorCode": 50126 if failed else 0,
            "failureReason": "Error validating credentials due to invalid username or password." if failed else None,
            "additionalDetails": None,
        },
        "location": {"city": sender.city, "state": sender.city, "countryOrRegion": "JP"},
    }
    if sender.oauth:
        event["authenticationProtocol"] = "oAuth2"
    return event


def _user_id(upn: str) -> str:
    """A stable, obviously fake object id per demo user (no ``hash()``: that changes per process)."""
    digits = sum((i + 1) * ord(ch) for i, ch in enumerate(upn)) % 10**12
    return f"00000000-0000-4000-8000-{digits:012d}"


def _day_events(day: date, shift: timedelta) -> list[dict[str, Any]]:
    events = []
    midnight = datetime.combine(day, time(0, 0), tzinfo=timezone.utc)
    for sender in SENDERS:
        if not _active(sender, day, shift):
            continue
        for number, minute in enumerate(sender.minutes):
            events.append(_event(sender, midnight + timedelta(minutes=minute), number))
    events.sort(key=lambda e: (e["createdDateTime"], e["id"]), reverse=True)
    return events


def demo_sign_ins(since: datetime, until: datetime, today: date) -> Iterator[dict[str, Any]]:
    """Sign-ins with ``since <= createdDateTime <= until`` (both inclusive, like Graph's ge/le), newest first.

    ``today`` (the clock's UTC day) places the story: the senders that started or stopped recently
    did so relative to it, whatever window is asked for (a scan reads its window a day at a time).
    """
    low, high = since.astimezone(timezone.utc), until.astimezone(timezone.utc)
    shift = story_shift(today)
    day = high.date()
    while day >= low.date():
        for event in _day_events(day, shift):
            moment = datetime.strptime(event["createdDateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            if low <= moment <= high:
                yield event
        day -= timedelta(days=1)
