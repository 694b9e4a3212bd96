"""The Teams app icons: an envelope with a clock, drawn in code and written as PNG with zlib + struct.

Owns ``color.png`` (192×192, full bleed, for the store and fly-outs) and ``outline.png`` (32×32, white
on transparent, for the app bar). They are generated rather than drawn by hand so anyone can change a
colour or a proportion, rerun ``python manifest/make_icons.py`` and get the same pixels on every
machine, without Pillow or a drawing program. The envelope is the SMTP mail a device sends; the
clock is the deadline it has to move off Basic authentication by.

Shapes are signed distance functions: the distance from a pixel centre to the shape's edge, negative
inside. One evaluation per pixel, turned into coverage with a one-pixel ramp, gives smooth anti-aliased
edges without supersampling.
"""

from __future__ import annotations

import itertools
import math
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLOR_PATH = HERE / "color.png"
OUTLINE_PATH = HERE / "outline.png"

COLOR_SIZE = 192
OUTLINE_SIZE = 32

# accentColor in manifest.template.json is the background below; keep them the same.
BACKGROUND = (0x24, 0x58, 0xA6)
PAPER = (0xFF, 0xFF, 0xFF)
AMBER = (0xF6, 0xB4, 0x0E)
INK = (0x1B, 0x2B, 0x4B)
WHITE = (0xFF, 0xFF, 0xFF)

Point = tuple[float, float]
Rgb = tuple[int, int, int]
Field = Callable[[float, float], float]


def box(cx: float, cy: float, half_w: float, half_h: float, radius: float) -> Field:
    """Rounded rectangle centred on (cx, cy)."""

    def distance(x: float, y: float) -> float:
        qx = abs(x - cx) - half_w + radius
        qy = abs(y - cy) - half_h + radius
        outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
        return outside + min(max(qx, qy), 0.0) - radius

    return distance


def disc(cx: float, cy: float, radius: float) -> Field:
    return lambda x, y: math.hypot(x - cx, y - cy) - radius


def stroke(shape: Field, width: float) -> Field:
    """The outline of ``shape``, ``width`` pixels wide, centred on its edge."""
    return lambda x, y: abs(shape(x, y)) - width / 2


def polyline(points: Sequence[Point], width: float) -> Field:
    """Connected line segments with round caps and joins."""
    segments = list(itertools.pairwise(points))

    def distance(x: float, y: float) -> float:
        best = math.inf
        for (ax, ay), (bx, by) in segments:
            dx, dy = bx - ax, by - ay
            t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
            best = min(best, math.hypot(x - ax - t * dx, y - ay - t * dy))
        return best - width / 2

    return distance


def minus(shape: Field, hole: Field) -> Field:
    """``shape`` with ``hole`` cut out of it."""
    return lambda x, y: max(shape(x, y), -hole(x, y))


def coverage(distance: float) -> float:
    """How much of a pixel a shape covers, from the signed distance at the pixel centre."""
    return max(0.0, min(1.0, 0.5 - distance))


def render(
    size: int, background: Rgb | None, layers: Sequence[tuple[Field, Rgb]]
) -> list[list[tuple[int, ...]]]:
    """Paint ``layers`` in order; RGB rows if there is a background, otherwise RGBA on transparent.

    Transparent pixels are stored as transparent *white*, so a client that scales the icon without
    premultiplying alpha does not pull a dark fringe into the white outline.
    """
    rows: list[list[tuple[int, ...]]] = []
    for py in range(size):
        row: list[tuple[int, ...]] = []
        for px in range(size):
            x, y = px + 0.5, py + 0.5
            red, green, blue = (float(channel) for channel in background or WHITE)
            alpha = 1.0 if background else 0.0
            for field, (r, g, b) in layers:
                a = coverage(field(x, y))
                if a <= 0.0:
                    continue
                out = a + alpha * (1 - a)
                red = (r * a + red * alpha * (1 - a)) / out
                green = (g * a + green * alpha * (1 - a)) / out
                blue = (b * a + blue * alpha * (1 - a)) / out
                alpha = out
            if background:
                row.append((round(red), round(green), round(blue)))
            else:
                row.append((round(red), round(green), round(blue), round(alpha * 255)))
        rows.append(row)
    return rows


def png(rows: Sequence[Sequence[tuple[int, ...]]]) -> bytes:
    """Encode 8-bit RGB or RGBA rows (filter 0) as a PNG file."""
    height, width, channels = len(rows), len(rows[0]), len(rows[0][0])
    colour_type = {3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + bytes(value for pixel in row for value in pixel) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def color_icon() -> bytes:
    """192×192 full bleed: a white envelope and an amber clock inside the 120×120 centre safe area."""
    envelope = box(86, 81, 48, 34, 8)
    flap = polyline([(44, 54), (86, 87), (128, 54)], 7)
    clock_x, clock_y, clock_r = 128, 119, 26
    return png(
        render(
            COLOR_SIZE,
            BACKGROUND,
            [
                (envelope, PAPER),
                (flap, BACKGROUND),
                (disc(clock_x, clock_y, clock_r + 7), BACKGROUND),
                (disc(clock_x, clock_y, clock_r), AMBER),
                (polyline([(clock_x, clock_y - 15), (clock_x, clock_y), (clock_x + 11, clock_y)], 6), INK),
            ],
        )
    )


def outline_icon() -> bytes:
    """32×32 white on transparent: the same envelope and clock drawn as 2-pixel lines."""
    clock_x, clock_y, clock_r = 23.5, 22.5, 6.5
    gap = disc(clock_x, clock_y, clock_r + 3)
    envelope = minus(stroke(box(13, 13, 11, 8, 2), 2), gap)
    flap = minus(polyline([(3.5, 6.5), (13, 14), (22.5, 6.5)], 2), gap)
    clock = stroke(disc(clock_x, clock_y, clock_r), 2)
    hands = polyline([(clock_x, clock_y - 3.5), (clock_x, clock_y), (clock_x + 2.5, clock_y)], 1.75)
    return png(render(OUTLINE_SIZE, None, [(envelope, WHITE), (flap, WHITE), (clock, WHITE), (hands, WHITE)]))


def main() -> int:
    COLOR_PATH.write_bytes(color_icon())
    OUTLINE_PATH.write_bytes(outline_icon())
    print(f"wrote {COLOR_PATH.name} and {OUTLINE_PATH.name} in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
