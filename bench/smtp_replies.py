"""The SMTP reply explainer on a megabyte of pasted text: how far it is from one plain pass over it.

    .venv/bin/python bench/smtp_replies.py [--repeat 5] [--json]

An admin can paste anything into the chat: a whole message trace, a log file, binary junk. The
explainer (``looks_like_smtp_reply``, ``find_replies``, ``explain``) must stay linear in the size
of the paste. Earlier versions that re-read a window per code-shaped token took seconds on such
input, which froze every other conversation of the bot.

For each input (1 MB each) this measures the three calls together, best of ``--repeat``, and in the
same run a floor: what any explainer has to do at least, once per call: fold the text to half-width
lower case and find every code-shaped token with the explainer's own pattern. It prints both and their
ratio. A linear explainer stays a small multiple of the floor; a quadratic one is thousands of times it.

Target: every input within ``RATIO_TARGET`` times its floor. Exit code 0 met, 1 missed.
The tests check what the explainer answers on these inputs; how fast it answers is measured here.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from bot.diagnostics.smtp_replies import (  # noqa: E402
    _CODE,
    _NORMALIZE,
    explain,
    find_replies,
    load_table,
    looks_like_smtp_reply,
)

RATIO_TARGET = 50.0
CALLS = 3
MEGABYTE = 1_000_000


def inputs() -> dict[str, str]:
    """The pastes the tests use: prose with one reply at the end, binary junk, code shapes repeated."""
    prose = "The printer on the third floor sends scans to the team. Version 1.2.3 fixed the tray. " * 12_000
    cases = {
        "prose-with-reply": prose + "\nRemote Server returned '550 5.7.30 Basic authentication is not supported "
        "for Client Submission.'",
    }
    raw = random.Random(7).randbytes(1 << 20)
    cases["junk-latin-1"] = raw.decode("latin-1")
    cases["junk-utf-8"] = raw.decode("utf-8", "surrogateescape")
    for unit in ("foo 4.3.2 ", "5.7.139 ", "5.5.5.5.5.5.5.5 ", "Basic Basic client sender ", "SendAsDenied ",
                 "550 5.7.30 Basic authentication is not supported for Client Submission "):
        cases[f"repeated {unit.strip()[:24]!r}"] = unit * (MEGABYTE // len(unit))
    return cases


def best_of(repeat: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(repeat: int) -> list[dict[str, Any]]:
    table = load_table()
    rows = []
    for name, text in inputs().items():

        def explainer() -> None:
            looks_like_smtp_reply(text, table)
            find_replies(text, table)
            explain(text, table)

        def floor() -> None:
            for _ in range(CALLS):
                sum(1 for _ in _CODE.finditer(text.translate(_NORMALIZE).lower()))

        spent, base = best_of(repeat, explainer), best_of(repeat, floor)
        rows.append({"input": name, "chars": len(text), "explainer_s": spent, "floor_s": base,
                     "ratio": spent / base if base else float("inf")})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per input; the best is kept (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    args = parser.parse_args(argv)
    rows = measure(max(1, args.repeat))
    met = all(row["ratio"] <= RATIO_TARGET for row in rows)
    if args.json:
        print(json.dumps({"rows": rows, "ratio_target": RATIO_TARGET, "met": met}, indent=1))
    else:
        print(f"{'input':<40} {'chars':>9} {'explainer':>10} {'floor':>9} {'ratio':>7}")
        for row in rows:
            print(f"{row['input']:<40} {row['chars']:>9,} {row['explainer_s'] * 1000:>8.1f}ms "
                  f"{row['floor_s'] * 1000:>7.1f}ms {row['ratio']:>6.1f}x")
        print(f"target: every ratio <= {RATIO_TARGET:.0f}x: {'MET' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
