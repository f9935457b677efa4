"""Draw IA_V3's icons with Pillow into assets/: the app icon and white glyphs the UI tints with theme colors.

Run `python tools/make_icons.py` in a source checkout (or `--out DIR` anywhere); the PNGs are committed, so the
app never needs this at run time. Shapes are drawn at 4x and downsampled for smooth edges.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = ["GLYPHS", "main", "make_app_icon", "make_glyph"]

ASSETS = Path(__file__).resolve().parent.parent / "assets"  # the checkout's assets/
SCALE = 4
GLYPH_SIZE = 48
WHITE = (255, 255, 255, 255)

Draw = Callable[[ImageDraw.ImageDraw, int], None]


def _w(s: int) -> int:
    """Stroke width for a canvas of side s (about 1/12 of the side)."""
    return max(2, round(s / 12))


def _plus(d: ImageDraw.ImageDraw, s: int) -> None:
    w, m = _w(s), s * 0.22
    d.line([(s / 2, m), (s / 2, s - m)], fill=WHITE, width=w)
    d.line([(m, s / 2), (s - m, s / 2)], fill=WHITE, width=w)


def _search(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    r = s * 0.24
    cx, cy = s * 0.42, s * 0.42
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=WHITE, width=w)
    k = r * math.cos(math.pi / 4)
    d.line([(cx + k, cy + k), (s * 0.8, s * 0.8)], fill=WHITE, width=round(w * 1.3))


def _close(d: ImageDraw.ImageDraw, s: int) -> None:
    w, m = _w(s), s * 0.27
    d.line([(m, m), (s - m, s - m)], fill=WHITE, width=w)
    d.line([(m, s - m), (s - m, m)], fill=WHITE, width=w)


def _trash(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    d.line([(s * 0.2, s * 0.28), (s * 0.8, s * 0.28)], fill=WHITE, width=w)
    d.rectangle([s * 0.4, s * 0.17, s * 0.6, s * 0.28], outline=WHITE, width=w)
    d.polygon(
        [(s * 0.27, s * 0.34), (s * 0.73, s * 0.34), (s * 0.68, s * 0.83), (s * 0.32, s * 0.83)],
        outline=WHITE,
        width=w,
    )
    for x in (0.43, 0.57):
        d.line([(s * x, s * 0.44), (s * x, s * 0.73)], fill=WHITE, width=max(1, w // 2))


def _pencil(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    a, b = (s * 0.25, s * 0.75), (s * 0.72, s * 0.28)
    d.line([a, b], fill=WHITE, width=round(w * 2.2))
    d.polygon([(s * 0.18, s * 0.82), (s * 0.2, s * 0.68), (s * 0.32, s * 0.8)], fill=WHITE)


def _sun(d: ImageDraw.ImageDraw, s: int) -> None:
    w, c, r = _w(s), s / 2, s * 0.16
    d.ellipse([c - r, c - r, c + r, c + r], fill=WHITE)
    for i in range(8):
        a = i * math.pi / 4
        d.line(
            [
                (c + math.cos(a) * s * 0.27, c + math.sin(a) * s * 0.27),
                (c + math.cos(a) * s * 0.38, c + math.sin(a) * s * 0.38),
            ],
            fill=WHITE,
            width=w,
        )


def _moon(d: ImageDraw.ImageDraw, s: int) -> None:
    r = s * 0.32
    d.ellipse([s / 2 - r, s / 2 - r, s / 2 + r, s / 2 + r], fill=WHITE)
    d.ellipse([s / 2 - r * 0.35, s / 2 - r * 1.25, s / 2 + r * 1.55, s / 2 + r * 0.6], fill=(0, 0, 0, 0))


def _chart(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    d.line([(s * 0.18, s * 0.18), (s * 0.18, s * 0.82), (s * 0.84, s * 0.82)], fill=WHITE, width=w)
    for x, top in ((0.32, 0.55), (0.5, 0.35), (0.68, 0.48)):
        d.rectangle([s * x - s * 0.06, s * top, s * x + s * 0.06, s * 0.76], fill=WHITE)


def _panel(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    for y, knob in ((0.3, 0.35), (0.5, 0.65), (0.7, 0.45)):
        d.line([(s * 0.18, s * y), (s * 0.82, s * y)], fill=WHITE, width=max(1, w // 2 + 1))
        r = s * 0.08
        d.ellipse([s * knob - r, s * y - r, s * knob + r, s * y + r], fill=WHITE)


def _sidebar(d: ImageDraw.ImageDraw, s: int) -> None:
    """A window with a list column on its left: shows or hides the conversation list."""
    w = _w(s)
    d.rounded_rectangle([s * 0.14, s * 0.2, s * 0.86, s * 0.8], radius=s * 0.08, outline=WHITE, width=w)
    d.rectangle([s * 0.14, s * 0.2, s * 0.4, s * 0.8], fill=WHITE)


def _refresh(d: ImageDraw.ImageDraw, s: int) -> None:
    w, m = _w(s), s * 0.22
    d.arc([m, m, s - m, s - m], start=40, end=330, fill=WHITE, width=w)
    tip = (
        s / 2 + (s / 2 - m) * math.cos(math.radians(330)),
        s / 2 + (s / 2 - m) * math.sin(math.radians(330)),
    )
    d.polygon(
        [
            (tip[0] - s * 0.14, tip[1] - s * 0.04),
            (tip[0] + s * 0.1, tip[1] - s * 0.1),
            (tip[0] + s * 0.03, tip[1] + s * 0.13),
        ],
        fill=WHITE,
    )


def _chat(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    d.rounded_rectangle([s * 0.14, s * 0.2, s * 0.86, s * 0.68], radius=s * 0.12, outline=WHITE, width=w)
    d.polygon([(s * 0.3, s * 0.66), (s * 0.3, s * 0.84), (s * 0.48, s * 0.66)], fill=WHITE)


def _warning(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    d.polygon([(s / 2, s * 0.14), (s * 0.88, s * 0.82), (s * 0.12, s * 0.82)], outline=WHITE, width=w)
    d.line([(s / 2, s * 0.38), (s / 2, s * 0.6)], fill=WHITE, width=w)
    r = w * 0.7
    d.ellipse([s / 2 - r, s * 0.7 - r, s / 2 + r, s * 0.7 + r], fill=WHITE)


def _download(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    d.line([(s / 2, s * 0.15), (s / 2, s * 0.62)], fill=WHITE, width=w)
    d.line([(s * 0.3, s * 0.44), (s / 2, s * 0.64), (s * 0.7, s * 0.44)], fill=WHITE, width=w, joint="curve")
    d.line([(s * 0.18, s * 0.82), (s * 0.82, s * 0.82)], fill=WHITE, width=w)


def _back(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    d.line([(s * 0.78, s / 2), (s * 0.24, s / 2)], fill=WHITE, width=w)
    d.line(
        [(s * 0.46, s * 0.27), (s * 0.23, s / 2), (s * 0.46, s * 0.73)], fill=WHITE, width=w, joint="curve"
    )


def _eject(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    d.polygon([(s / 2, s * 0.2), (s * 0.8, s * 0.56), (s * 0.2, s * 0.56)], fill=WHITE)
    d.rectangle([s * 0.2, s * 0.68, s * 0.8, s * 0.68 + w * 1.4], fill=WHITE)


def _tray(d: ImageDraw.ImageDraw, s: int) -> None:
    w = _w(s)
    d.line([(s * 0.18, s * 0.58), (s * 0.18, s * 0.84), (s * 0.82, s * 0.84), (s * 0.82, s * 0.58)],
           fill=WHITE, width=w, joint="curve")  # fmt: skip


def _export(d: ImageDraw.ImageDraw, s: int) -> None:
    """An arrow leaving a tray: a conversation written out to a file."""
    w = _w(s)
    _tray(d, s)
    d.line([(s / 2, s * 0.66), (s / 2, s * 0.16)], fill=WHITE, width=w)
    d.line(
        [(s * 0.31, s * 0.35), (s / 2, s * 0.15), (s * 0.69, s * 0.35)], fill=WHITE, width=w, joint="curve"
    )


def _import(d: ImageDraw.ImageDraw, s: int) -> None:
    """An arrow entering a tray: conversations read in from a file."""
    w = _w(s)
    _tray(d, s)
    d.line([(s / 2, s * 0.12), (s / 2, s * 0.64)], fill=WHITE, width=w)
    d.line(
        [(s * 0.31, s * 0.45), (s / 2, s * 0.65), (s * 0.69, s * 0.45)], fill=WHITE, width=w, joint="curve"
    )


GLYPHS: dict[str, Draw] = {
    "plus": _plus,
    "search": _search,
    "close": _close,
    "trash": _trash,
    "pencil": _pencil,
    "sun": _sun,
    "moon": _moon,
    "chart": _chart,
    "panel": _panel,
    "sidebar": _sidebar,
    "refresh": _refresh,
    "chat": _chat,
    "warning": _warning,
    "download": _download,
    "export": _export,
    "import": _import,
    "back": _back,
    "eject": _eject,
}


def make_glyph(draw: Draw, size: int = GLYPH_SIZE) -> Image.Image:
    """One white glyph on a transparent square, antialiased by drawing large and downsampling."""
    big = size * SCALE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw(ImageDraw.Draw(img), big)
    return img.resize((size, size), Image.LANCZOS)


def make_app_icon(size: int) -> Image.Image:
    """The app icon: a white speech bubble reading 'IA' on an indigo-to-teal rounded square."""
    big = size * SCALE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    grad = Image.new("RGBA", (big, big))
    top, bottom = (79, 70, 229), (13, 148, 136)
    gd = ImageDraw.Draw(grad)
    for y in range(big):
        t = y / (big - 1)
        gd.line(
            [(0, y), (big, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)) + (255,),
        )
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, big - 1, big - 1], radius=big * 0.22, fill=255)
    img.paste(grad, (0, 0), mask)
    d = ImageDraw.Draw(img)
    # speech bubble
    x0, y0, x1, y1 = big * 0.2, big * 0.22, big * 0.8, big * 0.68
    d.rounded_rectangle([x0, y0, x1, y1], radius=big * 0.1, fill=WHITE)
    d.polygon([(big * 0.32, y1 - 2), (big * 0.3, big * 0.84), (big * 0.48, y1 - 2)], fill=WHITE)
    ink = (49, 46, 129, 255)
    # the letters "IA" drawn as strokes (no font dependency)
    w = big * 0.055
    cy0, cy1 = big * 0.33, big * 0.57
    d.rectangle([big * 0.33 - w / 2, cy0, big * 0.33 + w / 2, cy1], fill=ink)
    ax, aw = big * 0.56, big * 0.12
    d.line([(ax - aw, cy1), (ax, cy0), (ax + aw, cy1)], fill=ink, width=round(w), joint="curve")
    d.line([(ax - aw * 0.55, big * 0.49), (ax + aw * 0.55, big * 0.49)], fill=ink, width=round(w * 0.8))
    return img.resize((size, size), Image.LANCZOS)


def main(argv: Sequence[str] | None = None) -> int:
    """Write icon.png (256), icon-64.png, icon-32.png and icons/<name>.png into the checkout's assets/ (or
    --out); an installed copy of IA_V3 is never rewritten."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder to write into (default: the checkout's assets/)")
    args = parser.parse_args(argv)
    if args.out is None and not (ASSETS.parent / "pyproject.toml").is_file():
        print(
            "This is an installed copy of IA_V3, whose files are not rewritten: give --out DIR.",
            file=sys.stderr,
        )
        return 2
    out = args.out or ASSETS
    (out / "icons").mkdir(parents=True, exist_ok=True)
    make_app_icon(256).save(out / "icon.png")
    for size in (64, 32):
        make_app_icon(size).save(out / f"icon-{size}.png")
    for name, draw in GLYPHS.items():
        make_glyph(draw).save(out / "icons" / f"{name}.png")
    print(f"wrote {len(GLYPHS)} glyphs and the app icon into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
