"""Every card the bot can send (``cards.gallery``, English and Japanese) through the card renderer.

tools/render/render.mjs renders each card with Microsoft's Adaptive Cards JS renderer and the Teams
host config in headless Chromium, at phone (360 px) and desktop (1024 px) width. The build fails
when a card makes the renderer throw, when it reports a parse or validation warning, when a card
renders empty, or when text is cut off at phone width on a card not listed in KNOWN_CUT_OFF below.

One exception to "no renderer warnings": a Teams chart (``Chart.*``, which Teams renders but the JS
renderer does not know) is accepted when the card gives it a ``fallback``; the fallback is what the
picture shows. The pictures and ``index.html`` stay in the pytest temporary directory for review.
Skipped like tests/test_render_tool.py without Node 20+, Chromium or tools/render/node_modules
(with ``REQUIRE_E2E=1``: failed).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import ROOT, stack

from cards.gallery import gallery, write_gallery

pytestmark = pytest.mark.e2e

RENDER = ROOT / "tools" / "render"
WIDTHS = (360, 1024)

# Cards whose text is cut off at phone width today, with what. Remove an entry once it is fixed.
KNOWN_CUT_OFF: dict[str, str] = {}


def _missing() -> str | None:
    problem = stack.missing_node_or_chromium()
    if problem:
        return problem
    for package in ("adaptivecards", "adaptivecards-designer", "markdown-it", "playwright-core"):
        if not (RENDER / "node_modules" / package / "package.json").is_file():
            return f"tools/render/node_modules/{package} is missing (run `npm ci` in tools/render)"
    return None


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path, Path]]:
    problem = _missing()
    if problem:
        if os.environ.get("REQUIRE_E2E") == "1":
            pytest.fail(f"REQUIRE_E2E=1 but the card renderer cannot run: {problem}", pytrace=False)
        pytest.skip(f"card renderer not runnable: {problem}")
    base = tmp_path_factory.mktemp("gallery")
    cards_dir, out = base / "cards", base / "out"
    write_gallery(cards_dir)
    proc = subprocess.run(
        ["node", str(RENDER / "render.mjs"), "--in", str(cards_dir), "--out", str(out),
         "--widths", ",".join(map(str, WIDTHS))],
        check=False, capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    if proc.returncode not in (0, 1) or not (out / "report.json").is_file():
        pytest.fail(f"render.mjs could not run (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    yield json.loads((out / "report.json").read_text(encoding="utf-8")), cards_dir, out


def _elements(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _elements(value)
    elif isinstance(node, list):
        for item in node:
            yield from _elements(item)


def _accepted(warning: dict[str, Any], card: dict[str, Any]) -> bool:
    """A Teams chart the JS renderer does not know, on a card that gives it a fallback."""
    if warning.get("event") != "UnknownElementType":
        return False
    charts = [el for el in _elements(card) if str(el.get("type", "")).startswith("Chart.")]
    named = [el for el in charts if f'"{el["type"]}"' in warning.get("message", "")]
    return bool(named) and all(el.get("fallback") for el in named)


def test_every_gallery_card_is_rendered(rendered: tuple[dict[str, Any], Path, Path]) -> None:
    report, _, out = rendered
    expected = {f"{item.name}.{item.lang}.json" for item in gallery()}
    assert {card["file"] for card in report["cards"]} == expected
    for card in report["cards"]:
        for width in WIDTHS:
            shot = card["widths"].get(str(width)) or {}
            assert shot.get("png") and (out / shot["png"]).is_file(), f"{card['file']}: no picture at {width}px"


def test_no_card_fails_in_the_renderer(rendered: tuple[dict[str, Any], Path, Path]) -> None:
    report, cards_dir, out = rendered
    failures = []
    for card in report["cards"]:
        source = json.loads((cards_dir / card["file"]).read_text(encoding="utf-8"))["card"]
        warnings = [w for w in card["warnings"] if not _accepted(w, source)]
        if card["errors"] or warnings:
            lines = card["errors"] + [f"{w.get('event')}: {w.get('message')}" for w in warnings]
            failures.append(f"{card['file']}: " + "; ".join(lines))
    assert not failures, f"cards the renderer rejects (pictures in {out}):\n" + "\n".join(failures)


def test_no_text_is_cut_off_at_phone_width(rendered: tuple[dict[str, Any], Path, Path]) -> None:
    report, _, out = rendered
    cut = {}
    for card in report["cards"]:
        name = card["file"].rsplit(".", 2)[0]
        if card["problems"] and name not in KNOWN_CUT_OFF:
            cut[card["file"]] = card["problems"]
    assert not cut, f"text cut off or sticking out (see {out}/index.html): {json.dumps(cut, indent=1, ensure_ascii=False)}"


def test_known_cut_offs_are_still_there(rendered: tuple[dict[str, Any], Path, Path]) -> None:
    """A fixed card must leave KNOWN_CUT_OFF, so the list never hides a new problem."""
    report, _, _ = rendered
    with_problems = {card["file"].rsplit(".", 2)[0] for card in report["cards"] if card["problems"]}
    fixed = sorted(set(KNOWN_CUT_OFF) - with_problems)
    assert not fixed, f"fixed, remove from KNOWN_CUT_OFF in {Path(__file__).name}: {fixed}"
