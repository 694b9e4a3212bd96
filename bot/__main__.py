"""``python -m bot <area> ...``: the operator's command line (alerts, devices, setup).

Each area owns its own ``cli.main(argv) -> int``; this only picks the area, so an area's imports
(and its mistakes) never slow down or break another's.
"""

from __future__ import annotations

import importlib
import sys

AREAS = {
    "alerts": ("bot.alerts.cli", "rehearse or run proactive alerts"),
    "devices": ("bot.devices.cli", "import the EAC report, export the inventory"),
    "setup": ("bot.setup", "admin-consent link; check the Graph and Exchange permissions"),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in AREAS:
        print("usage: python -m bot {" + ",".join(AREAS) + "} ...", file=sys.stderr)
        for name, (_, summary) in AREAS.items():
            print(f"  {name:<8} {summary}", file=sys.stderr)
        return 2
    module = importlib.import_module(AREAS[argv[0]][0])
    return int(module.main(argv[1:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
