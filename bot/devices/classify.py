"""A device's migration path: what the inventory knows, handed to ``bot.devices.migration.recommend``.

The inventory stores evidence (observed auth, TLS versions seen) and what the admin said (kind,
recipient scope, OAuth support, static IP, retired). This module turns one device into the
classifier's ``DeviceFacts`` and says which path applies: the admin's choice when there is one,
the recommendation otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.devices.migration import DeviceFacts, MigrationPath, Recommendation, recommend
from bot.devices.model import Device, DeviceStatus

LEGACY_TLS = frozenset({"1.0", "1.1"})


def facts_for(device: Device) -> DeviceFacts:
    """The classifier's view of a device; unknowns stay unknown (``None``) rather than guessed."""
    return DeviceFacts(
        kind=device.kind,
        supports_oauth=device.supports_oauth,
        recipient_scope=device.recipient_scope,
        has_static_ip=device.has_static_ip,
        tls_versions_seen=device.tls_versions,
        still_needed=device.status is not DeviceStatus.RETIRED,
        observed_auth=device.observed_auth,
    )


@dataclass(frozen=True)
class Classified:
    device: Device
    recommendation: Recommendation

    @property
    def path(self) -> MigrationPath:
        """What the device is (or will be) moved to: the admin's choice, else the recommendation."""
        return self.device.path or self.recommendation.path

    @property
    def chosen(self) -> bool:
        return self.device.path is not None

    @property
    def legacy_tls(self) -> bool:
        return bool(self.device.tls_versions & LEGACY_TLS)


def classify(device: Device) -> Classified:
    return Classified(device, recommend(facts_for(device)))
