"""What breaks at the end-of-December-2026 default-disable: posture combined with observed Basic auth.

Exchange decides per mailbox: an explicit ``SmtpClientAuthenticationDisabled`` on the mailbox wins
over the organisation's setting, and security defaults block Basic auth for everyone. So a sender
that still signs in with Basic auth

* and follows the organisation default while the organisation has SMTP AUTH enabled **breaks** when
  Microsoft turns the default off at the end of December 2026;
* and has SMTP AUTH explicitly enabled on its mailbox keeps working until the final removal
  (date to be announced in the second half of 2027): it is **on borrowed time**;
* and is already blocked (mailbox disabled, organisation disabled, or security defaults) is
  **already blocked** today: it fails now, not at the cutoff.

Devices that sign in with OAuth, or that an admin marked migrated, verified or retired, are **not
affected**. When the posture or the device's authentication is unknown, so is the verdict; the
cards say so instead of guessing. Authentication policies are not assigned per mailbox in what we
read, so they are reported as a posture note, not per sender.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable

from bot.devices.model import Device, ObservedAuth
from bot.tenant.posture import Posture


class Verdict(StrEnum):
    BREAKS = "breaks"
    BORROWED_TIME = "borrowed_time"
    ALREADY_BLOCKED = "already_blocked"
    NOT_AFFECTED = "not_affected"
    UNKNOWN = "unknown"


def mailbox_verdict(posture: Posture | None, upn: str) -> Verdict:
    """What the default-disable does to Basic-auth SMTP AUTH for this mailbox, ignoring its devices."""
    if posture is None:
        return Verdict.UNKNOWN
    if posture.security_defaults:
        return Verdict.ALREADY_BLOCKED
    setting = posture.mailbox_setting(upn)
    if setting == "enabled":
        return Verdict.BORROWED_TIME
    if setting == "disabled":
        return Verdict.ALREADY_BLOCKED
    if posture.org_smtp_auth_disabled is None:
        return Verdict.UNKNOWN
    return Verdict.ALREADY_BLOCKED if posture.org_smtp_auth_disabled else Verdict.BREAKS


def device_verdict(device: Device, posture: Posture | None) -> Verdict:
    """The mailbox's verdict, applied only to devices that still use Basic auth (or may)."""
    if device.done or device.observed_auth is ObservedAuth.OAUTH:
        return Verdict.NOT_AFFECTED
    verdict = mailbox_verdict(posture, device.sender)
    if device.observed_auth is ObservedAuth.UNKNOWN and verdict in (Verdict.BREAKS, Verdict.BORROWED_TIME):
        return Verdict.UNKNOWN  # could be Basic: listed to check, not counted as breaking
    return verdict


@dataclass(frozen=True)
class CutoffReport:
    """Devices grouped by verdict, and the senders behind the two lists admins act on."""

    by_verdict: dict[Verdict, list[Device]]

    def devices(self, verdict: Verdict) -> list[Device]:
        return self.by_verdict.get(verdict, [])

    def senders(self, verdict: Verdict) -> list[str]:
        return sorted({d.sender for d in self.devices(verdict)})

    @property
    def breaking_senders(self) -> int:
        return len(self.senders(Verdict.BREAKS))

    @property
    def basic_senders(self) -> int:
        """Senders with at least one device still on Basic auth and not yet migrated."""
        return len({d.sender for group in self.by_verdict.values() for d in group
                    if d.observed_auth is ObservedAuth.BASIC and not d.done})


def cutoff_report(devices: Iterable[Device], posture: Posture | None) -> CutoffReport:
    grouped: dict[Verdict, list[Device]] = defaultdict(list)
    for device in devices:
        grouped[device_verdict(device, posture)].append(device)
    return CutoffReport(dict(grouped))
