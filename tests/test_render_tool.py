"""The card gallery renderer, tools/render/render.mjs (Adaptive Cards JS renderer in headless Chromium).

Skipped, with the reason, on a machine without Node 20+, /usr/bin/chromium or tools/render/node_modules;
CI installs them (see tools/render/README.md).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RENDER_DIR = ROOT / "tools" / "render"
SAMPLES = RENDER_DIR / "sample-cards"
BROKEN = RENDER_DIR / "sample-cards-broken"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _missing_prerequisite() -> str | None:
    node = shutil.which("node")
    if node is None:
        return "node is not installed (Node 20+ is needed to run tools/render/render.mjs)"
    try:
        run = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
        version = run.stdout.strip()
        major = int(version.lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return "could not run `node --version`"
    if major < 20:
        return f"node {version} is too old for tools/render (needs Node 20+)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk fonts-liberation)"
    for package in ("adaptivecards", "adaptivecards-designer", "markdown-it", "playwright-core"):
        if not (RENDER_DIR / "node_modules" / package / "package.json").is_file():
            return f"tools/render/node_modules/{package} is missing (run `npm ci` in tools/render)"
    return None


MISSING = _missing_prerequisite()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"card renderer not runnable: {MISSING}")


def _render(in_dir: Path, out_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(RENDER_DIR / "render.mjs"), "--in", str(in_dir), "--out", str(out_dir), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "CHROMIUM_PATH": CHROMIUM},
    )


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _report(out_dir: Path) -> dict[str, Any]:
    return json.loads((out_dir / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("gallery")
    return _render(SAMPLES, out), out


def test_sample_cards_render_cleanly(sample_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = sample_run
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    report = _report(out)
    samples = sorted(SAMPLES.glob("*.json"))
    assert len(samples) >= 3
    assert report["widths"] == [360, 1024]
    assert report["renderer"]["adaptivecards"] == "3.0.6"
    assert report["summary"]["cards"] == len(samples)
    assert report["summary"]["failed"] == 0 and report["summary"]["withProblems"] == 0
    by_file = {card["file"]: card for card in report["cards"]}
    assert set(by_file) == {p.name for p in samples}
    for card in report["cards"]:
        assert card["ok"] and not card["errors"] and not card["warnings"], card
        # Nothing cut off or sticking out, at phone width or on desktop.
        assert not card["problems"], card["problems"]
        for width in (360, 1024):
            shot = card["widths"][str(width)]
            png = out / shot["png"]
            assert png.name == f"{Path(card['file']).stem}.{width}.png"
            png_width, png_height = _png_size(png)
            assert png_width == width
            assert png_height == shot["heightPx"] > 80
        # Text wraps, so the phone rendering is at least as tall as the desktop one.
        assert card["widths"]["360"]["heightPx"] >= card["widths"]["1024"]["heightPx"]


def test_sample_gallery_index_and_extras(sample_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = sample_run
    report = _report(out)
    by_file = {card["file"]: card for card in report["cards"]}
    japanese = by_file["japanese-notice.json"]
    assert japanese["lang"] == "ja" and japanese["name"] == "通知（日本語）"
    # Action.ShowCard: one extra picture per width with the card expanded.
    summary = by_file["readiness-summary.json"]
    show = summary["widths"]["360"]["showCards"]
    assert [s["title"] for s in show] == ["Add a note"]
    assert _png_size(out / show[0]["png"])[1] > summary["widths"]["360"]["heightPx"]
    index = (out / "index.html").read_text(encoding="utf-8")
    for card in report["cards"]:
        assert card["name"] in index
        assert card["widths"]["360"]["png"] in index and card["widths"]["1024"]["png"] in index


def test_broken_cards_fail_the_run(tmp_path: Path) -> None:
    proc = _render(BROKEN, tmp_path)
    assert proc.returncode == 1, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    # Each failing card is named, with what the renderer said.
    assert "FAIL broken-card.json" in proc.stderr
    assert 'Unknown element type "TextBlok"' in proc.stderr
    assert 'Unknown action type "Action.Excute"' in proc.stderr
    assert 'Invalid value "huge" for property "size"' in proc.stderr
    assert "FAIL renderer-throws.json" in proc.stderr
    assert "AdaptiveCard.parse threw" in proc.stderr
    report = _report(tmp_path)
    assert report["summary"]["failed"] == 2
    assert not any(card["ok"] for card in report["cards"])


def test_cut_off_text_at_phone_width_is_reported(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    long_line = "This status line does not wrap, so a phone cuts it off with an ellipsis halfway"
    long_title = "Acknowledge and move every mailbox to OAuth 2.0 now"
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": long_line}],
        "actions": [{"type": "Action.Execute", "title": long_title, "verb": "ack"}],
    }
    (cards / "cut-off.json").write_text(json.dumps(card), encoding="utf-8")

    proc = _render(cards, tmp_path / "out", "--widths", "360,1024")
    assert proc.returncode == 0, proc.stderr  # reported, not failing, by default
    result = _report(tmp_path / "out")["cards"][0]
    assert result["ok"]
    overflow = result["widths"]["360"]["overflow"]
    texts = {item["text"] for item in overflow}
    assert long_line in texts
    assert long_title in texts
    assert all(r["kind"] == "content-wider-than-box" for item in overflow for r in item["reasons"])
    assert result["widths"]["1024"]["overflow"] == []
    assert all(p.startswith("at 360px") for p in result["problems"])

    strict = _render(cards, tmp_path / "strict", "--widths", "360", "--fail-on-overflow")
    assert strict.returncode == 1
    assert "FAIL cut-off.json" in strict.stderr and "content-wider-than-box" in strict.stderr


def test_bad_input_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-card.json").write_text('{"type": "Message", "text": "hi"}', encoding="utf-8")
    (tmp_path / "invalid.json").write_text("{nope", encoding="utf-8")
    proc = _render(tmp_path, tmp_path / "out", "--widths", "360")
    assert proc.returncode == 1
    assert "FAIL invalid.json" in proc.stderr and "invalid JSON" in proc.stderr
    assert "FAIL not-a-card.json" in proc.stderr and "not an Adaptive Card" in proc.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    assert _render(empty, tmp_path / "out2").returncode == 1  # no cards at all is a failure too
    assert _render(tmp_path, tmp_path / "out3", "--widths", "abc").returncode == 2
