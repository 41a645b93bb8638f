"""Held-out drawings the model never trained on: whole numbers, non-digits, and digits in many renderings.

Made with other generators than training's (`mnist_demo/negatives.py` renders system-font
letters and signs and draws straight-segment scribbles and shapes): here letters, signs and
digits are drawn as pen strokes from templates, warped and slanted; scribbles are smooth
curves with momentum; coils are rows of loops; printed glyphs come from fonts kept out of
the system font folders that training reads (see HELD_OUT_FONTS); MNIST digits come from
its *test* set only. Every set is deterministic given its seed.

For tuning there is a development twin of every set (`dev_digits`, DEV_SEED_OFFSET): the same
generators fed MNIST's 5,000 *validation* images (held out of training, never the test set)
and other seeds, so rules and constants are set without looking at the held-out labels.

Not run by itself: `benchmarks/heldout_eval.py` builds and scores these sets.
"""

import glob
import io
import math
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Fonts training never saw: negatives.py globs the system font folders, so these are unpacked
# elsewhere, without installing them:
#   apt-get download fonts-comic-neue fonts-humor-sans fonts-cantarell fonts-open-sans
#   for deb in fonts-*.deb; do dpkg -x "$deb" unpacked; done
#   mkdir -p ~/.cache/mnist-demo/heldout-fonts
#   find unpacked -name '*.[ot]tf' -exec cp {} ~/.cache/mnist-demo/heldout-fonts/ \;
HELD_OUT_FONTS = os.environ.get("HELD_OUT_FONTS", os.path.expanduser("~/.cache/mnist-demo/heldout-fonts"))
HANDWRITING_LIKE = ("ComicNeue", "Humor-Sans", "Italic")
DEV_SEED_OFFSET = 1000  # the development sets' seeds: far from the held-out ones (seed .. seed + 5)


@dataclass
class Drawing:
    image: Image.Image
    kind: str  # the generator: "mnist", "strokes", "font:<name>", "scribble", ...
    truth: str  # the digits drawn ("2026"), or "" for a non-digit


def dev_digits(data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's validation images and labels (uint8 [5000, 28, 28], int [5000]): the digits of the development sets."""
    from mnist_demo.data import load_mnist, split_train_val

    _, (images, labels) = split_train_val(*load_mnist(data_dir, train=True))
    return images.numpy(), labels.numpy()


# --- pen strokes -------------------------------------------------------------------------------


def arc(cx, cy, rx, ry, start, end, steps=24):
    """Points of an elliptic arc; angles in degrees, 0 = right, 90 = down (image coordinates)."""
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
        for a in np.linspace(start, end, steps)
    ]


# Each digit: styles, each a list of strokes, each a list of (x, y) in a unit box (y down).
DIGIT_STROKES = {
    "0": [[arc(0.5, 0.5, 0.45, 0.5, -90, 275)], [arc(0.5, 0.5, 0.42, 0.5, -60, 300)]],
    "1": [
        [[(0.5, 0), (0.5, 1)]],
        [[(0.2, 0.22), (0.55, 0), (0.55, 1)]],
        [[(0.25, 0.2), (0.55, 0), (0.55, 1)], [(0.25, 1), (0.85, 1)]],
    ],
    "2": [
        [arc(0.5, 0.3, 0.42, 0.3, 190, 385) + [(0.05, 1), (0.95, 1)]],
        [arc(0.5, 0.28, 0.4, 0.28, 200, 400) + [(0.1, 0.95), (0.3, 0.85), (0.95, 1)]],
    ],
    "3": [
        [arc(0.5, 0.25, 0.4, 0.25, 200, 450) + arc(0.5, 0.73, 0.45, 0.27, -90, 150)],
        [[(0.1, 0), (0.85, 0), (0.4, 0.42)] + arc(0.5, 0.72, 0.42, 0.28, -90, 150)],
    ],
    "4": [
        [[(0.62, 0), (0, 0.65), (1, 0.65)], [(0.68, 0.15), (0.68, 1)]],
        [[(0.1, 0), (0.05, 0.55), (0.95, 0.55)], [(0.75, 0), (0.75, 1)]],
    ],
    "5": [
        [[(0.85, 0), (0.2, 0), (0.17, 0.45)] + arc(0.5, 0.68, 0.4, 0.32, -135, 150)],
        [[(0.2, 0.02), (0.17, 0.45)] + arc(0.5, 0.68, 0.4, 0.32, -135, 150), [(0.24, 0), (0.9, -0.02)]],
    ],
    "6": [
        [[(0.75, 0), (0.38, 0.25), (0.16, 0.62)] + arc(0.5, 0.72, 0.36, 0.28, 180, 530)],
        [arc(0.9, 0.6, 0.8, 0.6, 250, 180) + arc(0.5, 0.74, 0.36, 0.26, 180, 530)],
    ],
    "7": [
        [[(0.05, 0), (0.95, 0), (0.4, 1)]],
        [[(0.05, 0), (0.95, 0), (0.45, 1)], [(0.35, 0.5), (0.85, 0.5)]],
        [[(0.05, 0.15), (0.1, 0), (0.95, 0), (0.55, 1)]],
    ],
    "8": [
        [arc(0.5, 0.25, 0.32, 0.25, 90, 450) + arc(0.5, 0.73, 0.4, 0.27, -90, 270)],
        [arc(0.5, 0.26, 0.3, 0.26, 150, 500) + arc(0.5, 0.74, 0.38, 0.26, -60, 300)],
    ],
    "9": [
        [arc(0.45, 0.28, 0.4, 0.28, 0, 360) + [(0.85, 0.28), (0.78, 1)]],
        [arc(0.45, 0.3, 0.4, 0.3, 10, 370), [(0.85, 0.15), (0.85, 1)]],
    ],
}

# Letters and signs that do not look like a digit (no O, I, l, S, Z, B, G, b, g, q, T, J).
SYMBOL_STROKES = {
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.22, 0.6), (0.78, 0.6)]],
    "C": [arc(0.55, 0.5, 0.45, 0.5, -45, -315)],
    "E": [[(0.9, 0), (0.1, 0), (0.1, 1), (0.9, 1)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.9, 0), (0.1, 0), (0.1, 1)], [(0.1, 0.5), (0.7, 0.5)]],
    "H": [[(0, 0), (0, 1)], [(1, 0), (1, 1)], [(0, 0.5), (1, 0.5)]],
    "K": [[(0, 0), (0, 1)], [(1, 0), (0, 0.55), (1, 1)]],
    "L": [[(0, 0), (0, 1), (0.8, 1)]],
    "M": [[(0, 1), (0, 0), (0.5, 0.6), (1, 0), (1, 1)]],
    "N": [[(0, 1), (0, 0), (1, 1), (1, 0)]],
    "P": [[(0.1, 1), (0.1, 0)] + arc(0.1, 0.27, 0.7, 0.27, -90, 90)],
    "R": [[(0.1, 1), (0.1, 0)] + arc(0.1, 0.27, 0.7, 0.27, -90, 90) + [(0.9, 1)]],
    "U": [[(0, 0), (0, 0.6)] + arc(0.5, 0.6, 0.5, 0.4, 180, 0) + [(1, 0)]],
    "V": [[(0, 0), (0.5, 1), (1, 0)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.3), (0.75, 1), (1, 0)]],
    "X": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "Y": [[(0, 0), (0.5, 0.5), (1, 0)], [(0.5, 0.5), (0.5, 1)]],
    "e": [[(0.1, 0.5), (0.9, 0.5)] + arc(0.5, 0.5, 0.42, 0.45, 0, -315)],
    "k": [[(0, 0), (0, 1)], [(0.8, 0.35), (0, 0.7), (0.8, 1)]],
    "m": [
        [(0, 1), (0, 0.3)] + arc(0.25, 0.45, 0.25, 0.2, 180, 360) + [(0.5, 1)],
        arc(0.75, 0.45, 0.25, 0.2, 180, 360) + [(1, 1)],
    ],
    "+": [[(0.5, 0), (0.5, 1)], [(0, 0.5), (1, 0.5)]],
    "=": [[(0, 0.35), (1, 0.35)], [(0, 0.65), (1, 0.65)]],
    "#": [[(0.35, 0), (0.25, 1)], [(0.75, 0), (0.65, 1)], [(0, 0.33), (1, 0.33)], [(0, 0.67), (1, 0.67)]],
    "*": [[(0.5, 0), (0.5, 1)], [(0.07, 0.25), (0.93, 0.75)], [(0.93, 0.25), (0.07, 0.75)]],
    "x": [[(0.1, 0.1), (0.9, 0.9)], [(0.9, 0.1), (0.1, 0.9)]],
    "arrow": [[(0, 0.5), (1, 0.5)], [(0.65, 0.2), (1, 0.5), (0.65, 0.8)]],
    "star": [
        [(0.5 + 0.5 * math.sin(math.radians(a)), 0.52 - 0.5 * math.cos(math.radians(a))) for a in range(0, 721, 144)]
    ],
    "heart": [arc(0.28, 0.3, 0.25, 0.22, 140, 360) + [(0.5, 1)], arc(0.72, 0.3, 0.25, 0.22, 40, -180) + [(0.5, 1)]],
    "check": [[(0, 0.6), (0.35, 1), (1, 0)]],
    "triangle": [[(0.5, 0), (1, 1), (0, 1), (0.5, 0)]],
    "square": [[(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]],
    "smiley": [
        arc(0.5, 0.5, 0.5, 0.5, 0, 360),
        [(0.32, 0.3), (0.34, 0.38)],
        [(0.66, 0.3), (0.68, 0.38)],
        arc(0.5, 0.55, 0.27, 0.22, 20, 160),
    ],
    "%": [arc(0.2, 0.2, 0.18, 0.18, 0, 360), [(0.9, 0), (0.1, 1)], arc(0.8, 0.8, 0.18, 0.18, 0, 360)],
    "&": [
        arc(0.4, 0.22, 0.22, 0.22, 60, 300) + [(0.9, 1)],
        [(0.85, 0.55), (0.5, 1)] + arc(0.35, 0.75, 0.25, 0.25, 60, 250),
    ],
    "pi": [[(0, 0.1), (1, 0.1)], [(0.3, 0.1), (0.25, 1)], [(0.72, 0.1), (0.8, 1)]],
    "sigma": [[(0.9, 0), (0.05, 0), (0.5, 0.5), (0.05, 1), (0.9, 1)]],
    "omega": [[(0.05, 1), (0.35, 1)] + arc(0.5, 0.45, 0.45, 0.45, 125, -125) + [(0.65, 1), (0.95, 1)]],
    "euro": [arc(0.6, 0.5, 0.45, 0.5, -50, -310), [(0, 0.4), (0.6, 0.4)], [(0, 0.6), (0.6, 0.6)]],
}


def render_strokes(strokes, rng: np.random.Generator, height: int, aspect: float, pen: float) -> Image.Image:
    """Strokes warped like a hand's (slant, rotation, a smooth wobble), drawn with a round pen on white."""
    margin = int(pen * 2 + 4)
    width = max(int(height * aspect), int(pen * 2))
    size = (width + 2 * margin, height + 2 * margin)
    slant, angle = rng.uniform(-0.3, 0.3), math.radians(rng.uniform(-10, 10))
    wobble = rng.uniform(0, 0.06, size=2)
    phase = rng.uniform(0, 2 * math.pi, size=2)
    frequency = rng.uniform(0.4, 1.2, size=2)
    canvas = Image.new("L", size, 255)
    draw = ImageDraw.Draw(canvas)
    for stroke in strokes:
        points = []
        for x, y in stroke:
            x += wobble[0] * math.sin(frequency[0] * 2 * math.pi * y + phase[0])
            y += wobble[1] * math.sin(frequency[1] * 2 * math.pi * x + phase[1])
            x, y = x - 0.5 + slant * (0.5 - y), y - 0.5
            x, y = x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle)
            points.append((margin + (x + 0.5) * width, margin + (y + 0.5) * height))
        draw.line(points, fill=0, width=max(1, round(pen)), joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=0)
    return canvas


def stroke_digit(digit: str, rng, height: int) -> Image.Image:
    styles = DIGIT_STROKES[digit]
    aspect = rng.uniform(0.15, 0.35) if digit == "1" and len(styles[0]) == 1 else rng.uniform(0.5, 0.8)
    return render_strokes(styles[rng.integers(len(styles))], rng, height, aspect, pen_width(rng, height))


def stroke_symbol(rng, height: int) -> tuple[str, Image.Image]:
    name = list(SYMBOL_STROKES)[rng.integers(len(SYMBOL_STROKES))]
    return name, render_strokes(SYMBOL_STROKES[name], rng, height, rng.uniform(0.6, 1.0), pen_width(rng, height))


def pen_width(rng, height: int) -> float:
    return height * rng.uniform(0.04, 0.14)


def scribble(rng, height: int) -> Image.Image:
    """A hand's scribble: a smooth curve whose heading turns at a slowly varying rate, crossing itself."""
    steps = int(rng.integers(60, 220))
    turn = np.cumsum(rng.normal(0, 0.08, steps)) + rng.normal(0, 0.15)
    heading = np.cumsum(turn) + rng.uniform(0, 2 * math.pi)
    speed = height / 40
    xs, ys = np.cumsum(speed * np.cos(heading)), np.cumsum(speed * np.sin(heading))
    xs, ys = xs - xs.min(), ys - ys.min()
    fit = height / max(xs.max(), ys.max(), 1)
    pen = pen_width(rng, height)
    margin = int(pen + 4)
    canvas = Image.new("L", (int(xs.max() * fit) + 2 * margin, int(ys.max() * fit) + 2 * margin), 255)
    ImageDraw.Draw(canvas).line(
        [(margin + x * fit, margin + y * fit) for x, y in zip(xs, ys)], fill=0, width=max(1, round(pen)), joint="curve"
    )
    return canvas


def coil(rng, height: int) -> Image.Image:
    """A row of loops, as one crossing something out or testing a pen."""
    loops = rng.integers(3, 7)
    t = np.linspace(0, 2 * math.pi * loops, 60 * loops)
    radius = height * rng.uniform(0.3, 0.5)
    xs = radius * (rng.uniform(0.5, 1.0) * t / math.pi + np.cos(t))
    ys = radius * np.sin(t) * rng.uniform(0.8, 1.2)
    pen = pen_width(rng, height)
    margin = int(pen + 4)
    xs, ys = xs - xs.min() + margin, ys - ys.min() + margin
    canvas = Image.new("L", (int(xs.max()) + margin, int(ys.max()) + margin), 255)
    ImageDraw.Draw(canvas).line(list(zip(xs, ys)), fill=0, width=max(1, round(pen)), joint="curve")
    return canvas


# --- printed glyphs and MNIST digits -----------------------------------------------------------


def held_out_fonts(handwriting_like_only: bool = False) -> list[str]:
    fonts = sorted(glob.glob(os.path.join(HELD_OUT_FONTS, "*.[ot]tf")))
    if handwriting_like_only:
        fonts = [f for f in fonts if any(style in f for style in HANDWRITING_LIKE)]
    return fonts


def font_glyph(text: str, font_path: str, height: int) -> Image.Image | None:
    """`text` printed black on white, cropped with a margin; None when the font lacks the glyph."""
    font = ImageFont.truetype(font_path, height)
    canvas = Image.new("L", (height * 3, height * 2), 255)
    ImageDraw.Draw(canvas).text((height * 1.5, height), text, font=font, fill=0, anchor="mm")
    ink = np.asarray(canvas) < 128
    if ink.sum() < 10:
        return None
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    margin = height // 6
    return canvas.crop((cols[0] - margin, rows[0] - margin, cols[-1] + margin, rows[-1] + margin))


def mnist_glyph(image28: np.ndarray, height: int) -> Image.Image:
    """An MNIST digit (white on black) as dark ink on white paper, its ink box scaled to `height`."""
    ink = image28.astype(np.float32) / 255
    rows, cols = np.flatnonzero(ink.max(1) > 0.1), np.flatnonzero(ink.max(0) > 0.1)
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = height / ink.shape[0]
    size = (max(1, round(ink.shape[1] * scale)), height)
    big = np.asarray(Image.fromarray(ink, mode="F").resize(size, Image.Resampling.BICUBIC))
    margin = max(2, height // 10)
    big = np.pad(np.clip(big, 0, 1), margin)
    return Image.fromarray(np.round(255 * (1 - big)).astype(np.uint8))


# --- canvases as the app receives them ----------------------------------------------------------


def present(glyph: Image.Image, rng, canvas_side: int | None = None) -> Image.Image:
    """Place black-on-white ink at a random spot of a canvas, in one of the looks the app gets:
    a transparent Sketchpad (RGBA), white paper (RGB), or white ink on black (L)."""
    ink = 255 - np.asarray(glyph.convert("L"))
    h, w = ink.shape
    side = canvas_side or int(max(h, w) * rng.uniform(1.1, 2.5))
    height, width = max(side, h + 2), max(int(side * rng.uniform(0.8, 1.4)), w + 2)
    top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
    canvas = np.zeros((height, width), dtype=np.uint8)
    canvas[top : top + h, left : left + w] = ink
    look = rng.integers(3)
    if look == 0:
        rgba = np.zeros((height, width, 4), dtype=np.uint8)
        rgba[..., 3] = canvas
        return Image.fromarray(rgba, mode="RGBA")
    if look == 1:
        return Image.fromarray(np.repeat((255 - canvas)[..., None], 3, axis=2), mode="RGB")
    return Image.fromarray(canvas, mode="L")


def compose(
    glyphs: list[Image.Image],
    rng,
    height: int,
    gap: tuple[float, float] = (-0.1, 0.45),
    sizes: tuple[float, float] = (0.85, 1.15),
    max_overlap: float = 0.2,
) -> Image.Image:
    """Glyphs (black on white) written left to right at about one height (each `sizes` times it), with random
    gaps (`gap`, shares of the height; below 0 a neighbour's overlap, at most `max_overlap` of the narrower
    one's width), and a gentle baseline drift."""
    inks = []
    for glyph in glyphs:
        ink = 255 - np.asarray(glyph.convert("L"))
        rows, cols = np.flatnonzero(ink.max(1) > 25), np.flatnonzero(ink.max(0) > 25)
        ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        scale = height * rng.uniform(*sizes) / ink.shape[0]
        size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
        inks.append(np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BILINEAR)))
    gaps = [
        int(max(height * rng.uniform(*gap), -max_overlap * min(a.shape[1], b.shape[1]))) for a, b in zip(inks, inks[1:])
    ]
    margin = height // 2
    width = sum(i.shape[1] for i in inks) + sum(gaps) + 2 * margin
    canvas = np.zeros((int(height * 1.6) + 2 * margin, max(width, height)), dtype=np.uint8)
    x, drift = margin, rng.uniform(-0.08, 0.08)
    for k, ink in enumerate(inks):
        y = margin + int(height * (0.3 + rng.uniform(-0.06, 0.06)) + drift * k * height)
        y = int(np.clip(y, 0, canvas.shape[0] - ink.shape[0]))
        region = canvas[y : y + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(region, ink[: region.shape[0], : region.shape[1]], out=region)
        x += ink.shape[1] + (gaps[k] if k < len(gaps) else 0)
    return Image.fromarray(255 - canvas, mode="L")


# --- the sets --------------------------------------------------------------------------------------


def numbers(count: int, seed: int, mnist_images: np.ndarray, mnist_labels: np.ndarray) -> list[Drawing]:
    """Whole numbers of 2-5 digits: half from MNIST test digits, half drawn as pen strokes."""
    rng = np.random.default_rng(seed)
    drawings = []
    for k in range(count):
        length = int(rng.integers(2, 6))
        height = int(rng.integers(40, 160))
        if k % 2 == 0:
            index = rng.integers(len(mnist_images), size=length)
            glyphs = [mnist_glyph(mnist_images[i], 120) for i in index]
            truth, kind = "".join(str(int(mnist_labels[i])) for i in index), "mnist"
        else:
            truth = "".join(str(d) for d in rng.integers(10, size=length))
            glyphs = [stroke_digit(d, rng, 120) for d in truth]
            kind = "strokes"
        drawings.append(Drawing(present(compose(glyphs, rng, height), rng, None), kind, truth))
    return drawings


def non_digits(count: int, seed: int) -> list[Drawing]:
    """Letters and signs drawn as pen strokes or printed in held-out fonts, scribbles, coils."""
    rng = np.random.default_rng(seed)
    fonts = held_out_fonts()
    printable = "ACEFHKLMNPRUVWXYacefhkmnprtuvwxy+=#*%&@?<>{}÷×πΣΩλ€£¥§¶→←♥★✓"
    kinds = ("strokes", "strokes", "font", "scribble", "coil") if fonts else ("strokes", "strokes", "scribble", "coil")
    drawings = []
    while len(drawings) < count:  # a kind per drawing in turn: without held-out fonts, none is printed
        height = int(rng.integers(40, 300))
        kind = kinds[len(drawings) % len(kinds)]
        if kind == "strokes":
            name, glyph = stroke_symbol(rng, height)
            kind = f"strokes:{name}"
        elif kind == "font":
            font, text = fonts[rng.integers(len(fonts))], printable[rng.integers(len(printable))]
            glyph = font_glyph(text, font, height)
            if glyph is None:
                continue
            kind = f"font:{text}"
        else:
            glyph = scribble(rng, height) if kind == "scribble" else coil(rng, height)
        drawings.append(Drawing(present(glyph, rng), kind, ""))
    return drawings


def real_digits(count: int, seed: int, mnist_images: np.ndarray, mnist_labels: np.ndarray) -> list[Drawing]:
    """Single digits: MNIST test digits pasted at any size and place, pen-stroke digits, handwriting-like fonts."""
    rng = np.random.default_rng(seed)
    fonts = held_out_fonts(handwriting_like_only=True)
    kinds = ("mnist", "mnist", "strokes", "font") if fonts else ("mnist", "mnist", "strokes")
    drawings = []
    while len(drawings) < count:  # a kind per drawing in turn: without held-out fonts, none is printed
        height = int(rng.integers(30, 400))
        kind = kinds[len(drawings) % len(kinds)]
        if kind == "mnist":
            i = rng.integers(len(mnist_images))
            truth, glyph = str(int(mnist_labels[i])), mnist_glyph(mnist_images[i], height)
        elif kind == "strokes":
            truth = str(rng.integers(10))
            glyph = stroke_digit(truth, rng, height)
        else:
            font, truth = fonts[rng.integers(len(fonts))], str(rng.integers(10))
            glyph = font_glyph(truth, font, height)
            kind = "font:" + font.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        drawings.append(Drawing(present(glyph, rng), kind, truth))
    return drawings


# --- photos of handwriting on paper, and small blurry scans --------------------------------------

PHOTO_SIZES = ((480, 640), (768, 1024), (1200, 1600), (3000, 4000))  # (short, long) side; the last is 12 MP
SCENE_SIDE = 1024  # photos are composed at most this big, then scaled up: 12 MP costs little more to make
INKS = {"blue pen": ((25, 45, 150), 1.0), "black pen": ((20, 20, 28), 1.0), "grey pencil": ((85, 85, 92), 0.7)}


def ruled_paper(rng, height: int, width: int) -> np.ndarray:
    """Float RGB [H, W, 3] in 0..1: off-white paper with a fine texture, plain, ruled or squared."""
    tint = rng.uniform(0.86, 0.98) - np.array([0.0, rng.uniform(0, 0.03), rng.uniform(0, 0.07)])
    grain = rng.normal(0, 1, (height // 4 + 1, width // 4 + 1)).astype(np.float32)
    texture = np.asarray(Image.fromarray(grain, mode="F").resize((width, height), Image.Resampling.BILINEAR))
    paper = np.clip(tint[None, None] + rng.uniform(0.004, 0.015) * texture[..., None], 0, 1)
    kind = ("plain", "ruled", "squared")[rng.integers(3)]
    if kind != "plain":
        spacing = height * rng.uniform(0.03, 0.08)
        colour = np.array((0.55, 0.7, 0.9) if rng.random() < 0.6 else (0.6, 0.6, 0.6))
        strength, thickness = rng.uniform(0.3, 0.8), max(1, round(height * rng.uniform(0.001, 0.003)))
        line = np.zeros((height, width), dtype=np.float32)
        offset = rng.uniform(0, spacing)
        for y in np.arange(offset, height, spacing):
            line[int(y) : int(y) + thickness] = 1
        if kind == "squared":
            for x in np.arange(rng.uniform(0, spacing), width, spacing):
                line[:, int(x) : int(x) + thickness] = 1
        line *= strength
        paper = paper * (1 - line[..., None]) + colour * line[..., None]
    if rng.random() < 0.25:  # a red margin line
        x = int(width * rng.uniform(0.05, 0.15))
        paper[:, x : x + max(1, height // 400)] = (0.85, 0.35, 0.35)
    return paper.astype(np.float32)


def written(image28: np.ndarray, rng, height: int) -> np.ndarray:
    """An MNIST digit's ink (0..1) scaled to `height` px, smooth-edged as a pen or pencil line."""
    ink = image28.astype(np.float32) / 255
    rows, cols = np.flatnonzero(ink.max(1) > 0), np.flatnonzero(ink.max(0) > 0)  # all the ink: no cut-off edges
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = height / ink.shape[0]
    big = Image.fromarray(ink, mode="F").resize((max(1, round(ink.shape[1] * scale)), height), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(big), 0, 1) ** rng.uniform(0.6, 1.2)


def lighting(rng, height: int, width: int) -> np.ndarray:
    """Float [H, W]: uneven light (a gradient and a vignette) and sometimes a soft-edged shadow across the page."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ys, xs = ys / height - 0.5, xs / width - 0.5
    angle = rng.uniform(0, 2 * math.pi)
    light = 1 - rng.uniform(0, 0.35) * (0.5 + xs * math.cos(angle) + ys * math.sin(angle))
    light *= 1 - rng.uniform(0, 0.5) * (xs**2 + ys**2)
    if rng.random() < 0.4:
        angle = rng.uniform(0, 2 * math.pi)
        distance = xs * math.cos(angle) + ys * math.sin(angle) - rng.uniform(0.2, 0.45)  # an edge away from the digit
        softness = rng.uniform(0.01, 0.06)
        light *= 1 - rng.uniform(0.2, 0.5) / (1 + np.exp(np.clip(-distance / softness, -50, 50)))
    return light


def perspective(image: Image.Image, rng) -> Image.Image:
    """The page seen a little from the side and tilted up to 8 degrees, filling the frame: the frame shows a
    quadrilateral inside the page (each corner 12% in, moved by up to 5% of the side, then rotated)."""
    w, h = image.size
    corners = np.array([(0, 0), (w, 0), (w, h), (0, h)], dtype=np.float64)
    centre = np.array([w / 2, h / 2])
    inside = centre + (corners - centre) * 0.76 + rng.uniform(-0.05, 0.05, size=(4, 2)) * (w, h)
    tilt = math.radians(rng.uniform(-8, 8))
    rotation = np.array([[math.cos(tilt), -math.sin(tilt)], [math.sin(tilt), math.cos(tilt)]])
    inside = (inside - centre) @ rotation.T + centre
    # PIL maps output (x, y) to input ((a x + b y + c) / (g x + h y + 1), ...): solve for the 8 coefficients.
    rows = []
    for (x, y), (u, v) in zip(corners, inside):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coefficients = np.linalg.solve(np.array(rows), inside.ravel())
    return image.transform(image.size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR)


def photo(image28: np.ndarray, rng, size: tuple[int, int] | None = None) -> Image.Image:
    """A phone photo of an MNIST digit written on paper: RGB, 480x640 up to 12 MP (or `size`), JPEG-compressed."""
    short, long = size or PHOTO_SIZES[rng.choice(4, p=[0.35, 0.3, 0.2, 0.15])]
    width, height = (short, long) if rng.random() < 0.6 else (long, short)
    fit = min(1.0, SCENE_SIDE / long)
    scene_w, scene_h = round(width * fit), round(height * fit)
    paper = ruled_paper(rng, scene_h, scene_w)
    ink = written(image28, rng, int(scene_h * 0.76 * rng.uniform(0.15, 0.6)))  # 15-60% of the frame
    colour, opacity = INKS[list(INKS)[rng.integers(len(INKS))]]
    alpha = ink * opacity
    if opacity < 1:  # pencil: graphite leaves grain
        alpha *= np.clip(rng.normal(1, 0.25, alpha.shape), 0.3, 1.2)
    h, w = alpha.shape
    # Near the middle, and wholly inside what the frame will show (the page's central 76%, less tilt and jitter):
    # a person photographs the whole digit.
    inner_h, inner_w = 0.2 * scene_h, 0.2 * scene_w
    top = int(
        np.clip(scene_h / 2 - h / 2 + rng.uniform(-0.08, 0.08) * scene_h, inner_h, max(inner_h, scene_h - h - inner_h))
    )
    left = int(
        np.clip(scene_w / 2 - w / 2 + rng.uniform(-0.1, 0.1) * scene_w, inner_w, max(inner_w, scene_w - w - inner_w))
    )
    region = paper[top : top + h, left : left + w]
    a = np.clip(alpha[: region.shape[0], : region.shape[1], None], 0, 1)
    region[:] = region * (1 - a) + (np.array(colour) / 255) * a
    scene = paper * lighting(rng, scene_h, scene_w)[..., None]
    picture = perspective(Image.fromarray(np.round(np.clip(scene, 0, 1) * 255).astype(np.uint8)), rng)
    if (width, height) != picture.size:
        picture = picture.resize((width, height), Image.Resampling.BICUBIC)
    pixels = np.asarray(picture, dtype=np.float32)
    noisy = pixels + rng.normal(0, rng.uniform(1, 8), size=(height, width, 1)).astype(np.float32)
    return jpeg(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)), int(rng.integers(50, 92)))


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def small_scan(image28: np.ndarray, rng) -> Image.Image:
    """A small, low-resolution scan of a digit: 8-16 px tall, grey paper, then scaled up smoothly (blurry)."""
    height = int(rng.integers(8, 17))
    ink = written(image28, rng, 40)
    size = (max(1, round(ink.shape[1] * height / 40)), height)
    small = Image.fromarray(ink, mode="F").resize(size, Image.Resampling.BOX)
    margin = int(rng.integers(2, 8))
    paper = rng.uniform(0.85, 1.0)
    grey = paper * (1 - np.pad(np.asarray(small), margin) * rng.uniform(0.6, 1.0))
    grey += rng.normal(0, 0.01, grey.shape)
    scan = Image.fromarray(np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8))
    factor = rng.uniform(3, 8)
    return scan.resize((round(scan.width * factor), round(scan.height * factor)), Image.Resampling.BICUBIC)


def photos(count: int, seed: int, mnist_images: np.ndarray, mnist_labels: np.ndarray) -> list[Drawing]:
    """Phone photos of single MNIST test digits written on paper (see `photo`)."""
    rng = np.random.default_rng(seed)
    index = rng.integers(len(mnist_images), size=count)
    return [Drawing(photo(mnist_images[i], rng), "photo", str(int(mnist_labels[i]))) for i in index]


def small_scans(count: int, seed: int, mnist_images: np.ndarray, mnist_labels: np.ndarray) -> list[Drawing]:
    """Small blurry scans of single MNIST test digits (see `small_scan`)."""
    rng = np.random.default_rng(seed)
    index = rng.integers(len(mnist_images), size=count)
    return [Drawing(small_scan(mnist_images[i], rng), "scan", str(int(mnist_labels[i]))) for i in index]


def texture_or_object(rng) -> tuple[str, Image.Image]:
    """A photo that is not of writing: a texture (grain, weave, noise at some scale) or objects on a table."""
    width, height = (640, 480) if rng.random() < 0.5 else (480, 640)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    kind = ("grain", "weave", "noise", "objects")[rng.integers(4)]
    if kind == "grain":  # wood: wavy stripes
        period, wobble = rng.uniform(8, 40), rng.uniform(5, 30)
        grey = 0.5 + 0.3 * np.sin(2 * math.pi * (xs + wobble * np.sin(ys / rng.uniform(30, 120))) / period)
    elif kind == "weave":  # fabric: two crossing stripes
        period = rng.uniform(4, 20)
        grey = 0.5 + 0.2 * np.sin(2 * math.pi * xs / period) * np.sin(2 * math.pi * ys / period)
    elif kind == "noise":  # gravel, carpet, foliage: smooth noise at a random scale
        cells = int(rng.integers(4, 80))
        small = rng.random((cells * height // width + 1, cells)).astype(np.float32)
        grey = np.asarray(Image.fromarray(small, mode="F").resize((width, height), Image.Resampling.BICUBIC))
    else:  # a few things on a table
        canvas = Image.new("L", (width, height), int(rng.integers(120, 230)))
        draw = ImageDraw.Draw(canvas)
        for _ in range(int(rng.integers(1, 5))):
            x0, y0 = rng.integers(0, width - 60), rng.integers(0, height - 60)
            box = [x0, y0, x0 + rng.integers(60, width // 2), y0 + rng.integers(60, height // 2)]
            shape = (draw.ellipse, draw.rectangle, draw.rounded_rectangle)[rng.integers(3)]
            shape(box, fill=int(rng.integers(0, 110)))
        grey = np.asarray(canvas, dtype=np.float32) / 255
    colour = rng.uniform(0.5, 1.0, size=3).astype(np.float32)
    rgb = np.clip(grey, 0, 1)[..., None] * colour * lighting(rng, height, width)[..., None]
    rgb += rng.normal(0, rng.uniform(0.004, 0.03), rgb.shape).astype(np.float32)
    picture = Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    return kind, jpeg(picture, int(rng.integers(50, 92)))


def not_writing(count: int, seed: int) -> list[Drawing]:
    """Photos of textures and objects, no writing on them (see `texture_or_object`)."""
    rng = np.random.default_rng(seed)
    return [Drawing(picture, kind, "") for kind, picture in (texture_or_object(rng) for _ in range(count))]


# --- everyone's handwriting: flagged 1s, crossed 7s, 6s with an open or small loop -----------------
# Added to MNIST *test* digits (validation digits for the dev twins) with PIL pen lines on a 160 px
# copy; training adds its flags, bars and gaps with other code (`mnist_demo.data`, 28x28 tensors).

WORK_HEIGHT = 160  # MNIST digits are edited at this height, then scaled to the size asked


def mnist_ink(image28: np.ndarray, height: int) -> np.ndarray:
    """An MNIST digit's ink (float 0..1, 1 = ink) cropped to its box and scaled (bicubic) to `height` px."""
    ink = image28.astype(np.float32) / 255
    rows, cols = np.flatnonzero(ink.max(1) > 0.1), np.flatnonzero(ink.max(0) > 0.1)
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    size = (max(1, round(ink.shape[1] * height / ink.shape[0])), height)
    return np.clip(np.asarray(Image.fromarray(ink, mode="F").resize(size, Image.Resampling.BICUBIC)), 0, 1)


def ink_glyph(ink: np.ndarray, height: int | None = None) -> Image.Image:
    """Ink (float 0..1) as dark ink on white paper with a margin, its box scaled to `height` when given."""
    rows, cols = np.flatnonzero(ink.max(1) > 0.1), np.flatnonzero(ink.max(0) > 0.1)
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    if height is not None and height != ink.shape[0]:
        size = (max(1, round(ink.shape[1] * height / ink.shape[0])), height)
        method = Image.Resampling.BOX if height < ink.shape[0] else Image.Resampling.BICUBIC
        ink = np.asarray(Image.fromarray(ink, mode="F").resize(size, method))
    margin = max(2, ink.shape[0] // 10)
    return Image.fromarray(np.round(255 * (1 - np.pad(np.clip(ink, 0, 1), margin))).astype(np.uint8))


def pen_lines(ink: np.ndarray, lines: list[list[tuple[float, float]]], pen: float) -> np.ndarray:
    """`ink` with polylines drawn over it in full ink by a round pen `pen` px wide, drawn at 4x and box-reduced
    (anti-aliased as the digit); the canvas grows to hold lines that leave it."""
    points = [p for line in lines for p in line]
    pad = int(math.ceil(pen)) + 2
    left = max(0, int(math.ceil(-min(x for x, _ in points))) + pad)
    top = max(0, int(math.ceil(-min(y for _, y in points))) + pad)
    right = max(0, int(math.ceil(max(x for x, _ in points) - ink.shape[1])) + pad)
    bottom = max(0, int(math.ceil(max(y for _, y in points) - ink.shape[0])) + pad)
    height, width = ink.shape[0] + top + bottom, ink.shape[1] + left + right
    big = Image.new("L", (4 * width, 4 * height), 0)
    draw = ImageDraw.Draw(big)
    for line in lines:
        scaled = [(4 * (x + left), 4 * (y + top)) for x, y in line]
        draw.line(scaled, fill=255, width=max(1, round(4 * pen)), joint="curve")
        for x, y in (scaled[0], scaled[-1]):
            draw.ellipse([x - 2 * pen, y - 2 * pen, x + 2 * pen, y + 2 * pen], fill=255)
    drawn = np.asarray(big.reduce(4), dtype=np.float32) / 255
    out = np.pad(ink, ((top, bottom), (left, right)))
    return np.maximum(out, drawn)


def curve(start, end, bow: float, steps: int = 12) -> list[tuple[float, float]]:
    """A quadratic curve from `start` to `end`, bowed sideways by `bow` (share of its length)."""
    (x0, y0), (x1, y1) = start, end
    cx, cy = (x0 + x1) / 2 - bow * (y1 - y0), (y0 + y1) / 2 + bow * (x1 - x0)
    t = np.linspace(0, 1, steps)
    return [
        ((1 - s) ** 2 * x0 + 2 * (1 - s) * s * cx + s**2 * x1, (1 - s) ** 2 * y0 + 2 * (1 - s) * s * cy + s**2 * y1)
        for s in t
    ]


def pen_of(ink: np.ndarray) -> float:
    """The stroke width of a digit's ink in px (ink area over half its outline). The ink is cropped to its box:
    padded, so that its edges on the box count as outline (unpadded, a short thick 1 measured up to twice as wide)."""
    from mnist_demo.preprocess import stroke_width

    return max(2.0, stroke_width(np.pad(ink, 1)))


def ink_row_centre(ink: np.ndarray, y0: int, y1: int) -> float:
    """The mean column of the ink in rows y0..y1."""
    band = ink[max(0, y0) : max(y0 + 1, y1)]
    weights = band.sum(axis=0)
    return float((weights * np.arange(len(weights))).sum() / max(weights.sum(), 1e-6))


def flagged_one(ink: np.ndarray, rng) -> np.ndarray:
    """A 1 as most of Europe and Latin America writes it: a long up-stroke into its top (25-55 degrees off the
    stem, to its left; a quarter to half its height, slightly bowed), and on a third of them a foot."""
    h = ink.shape[0]
    pen = pen_of(ink) * rng.uniform(0.8, 1.1)
    rows = np.flatnonzero(ink.max(1) > 0.5)
    top, bottom = int(rows[0]), int(rows[-1])
    band = max(2, h // 12)
    x_top, x_bottom = ink_row_centre(ink, top, top + band), ink_row_centre(ink, bottom - band, bottom + 1)
    stem = math.atan2(bottom - top, x_bottom - x_top)  # the stem's direction, top to bottom (90 degrees: upright)
    length, flag = h * rng.uniform(0.25, 0.5), stem + math.radians(rng.uniform(25, 55))
    start = (x_top + length * math.cos(flag), top + pen / 2 + length * math.sin(flag))
    lines = [curve(start, (x_top, top + pen / 2), rng.uniform(-0.12, 0.12))]
    if rng.random() < 1 / 3:
        half = h * rng.uniform(0.12, 0.25)
        tilt = h * rng.uniform(-0.03, 0.03)
        lines.append([(x_bottom - half, bottom - pen / 2 - tilt), (x_bottom + half, bottom - pen / 2 + tilt)])
    return pen_lines(ink, lines, pen)


def crossed_seven(ink: np.ndarray, rng) -> np.ndarray:
    """A 7 with a bar across its stem, a little below the middle, level or slightly tilted."""
    h = ink.shape[0]
    pen = pen_of(ink) * rng.uniform(0.8, 1.1)
    y = h * rng.uniform(0.45, 0.62)
    x = ink_row_centre(ink, int(y) - 2, int(y) + 3)
    half, shift, tilt = h * rng.uniform(0.15, 0.28), h * rng.uniform(-0.06, 0.06), h * rng.uniform(-0.04, 0.04)
    return pen_lines(ink, [[(x - half + shift, y + tilt), (x + half + shift, y - tilt)]], pen)


def holes(mask: np.ndarray) -> list[tuple[float, float, float]]:
    """The enclosed holes of a mask (background not reached from the border): (row, column, radius) of each."""
    import cv2

    count, labels, stats, centroids = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)
    border = set(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]).tolist())
    return [
        (float(centroids[k][1]), float(centroids[k][0]), math.sqrt(stats[k, cv2.CC_STAT_AREA] / math.pi))
        for k in range(1, count)
        if k not in border and stats[k, cv2.CC_STAT_AREA] >= 12
    ]


def opened_loop(ink: np.ndarray, rng) -> np.ndarray | None:
    """The loop of a 6 left open at its top, where the pen would have closed it on the stem (None: no loop)."""
    found = holes(ink > 0.4)
    if not found:
        return None
    cy, cx, radius = max(found, key=lambda hole: hole[2])
    ys, xs = np.mgrid[0 : ink.shape[0], 0 : ink.shape[1]].astype(np.float32)
    angle = np.degrees(np.arctan2(ys - cy, xs - cx))  # -90 is straight up
    middle, half = rng.uniform(-140, -50), rng.uniform(18, 35)
    reach = radius + 1.5 * pen_of(ink)
    gap = (np.abs(angle - middle) < half) & (np.hypot(ys - cy, xs - cx) < reach)
    return np.where(gap, 0, ink)


def small_loop(ink: np.ndarray, rng) -> np.ndarray:
    """The digit redrawn with its lower part smaller: a 6 with a small loop under a long stem."""
    import cv2

    h, w = ink.shape
    gamma = rng.uniform(0.5, 0.75)  # output row v (0..1) shows input row v ** (1 / gamma): the bottom is squeezed
    shrink = rng.uniform(0.15, 0.4)  # and narrowed by up to this share, around the bottom's centre
    v = np.linspace(0, 1, h, dtype=np.float32)
    source_rows = (v ** (1 / gamma)) * (h - 1)
    cx = ink_row_centre(ink, int(0.6 * h), h)
    scale = 1 - shrink * v**2
    xs = np.arange(w, dtype=np.float32)
    map_x = (cx + (xs[None, :] - cx) / scale[:, None]).astype(np.float32)
    map_y = np.repeat(source_rows[:, None], w, axis=1).astype(np.float32)
    return cv2.remap(ink, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)


# Pen-stroke 1s with a flag (and a foot), 7s with a bar, 6s with an open or small loop (unit box, y down).
EVERYONES_STROKES = {
    "1": [
        [[(0.0, 0.42), (0.72, 0), (0.7, 1)]],
        [curve((0.05, 0.5), (0.75, 0.0), 0.1) + [(0.72, 1)]],
        [[(0.1, 0.32), (0.65, 0), (0.62, 1)], [(0.3, 1), (0.95, 1)]],
        [[(0.0, 0.55), (0.8, 0), (0.72, 1)]],
    ],
    "7": [
        [[(0.05, 0), (0.95, 0), (0.45, 1)], [(0.3, 0.5), (0.85, 0.5)]],
        [[(0.0, 0.14), (0.08, 0), (0.95, 0), (0.5, 1)], [(0.25, 0.55), (0.8, 0.48)]],
        [[(0.05, 0.02), (0.95, 0)] + curve((0.95, 0), (0.4, 1), -0.1), [(0.4, 0.52), (0.95, 0.5)]],
    ],
    "6": [
        [[(0.75, 0), (0.38, 0.25), (0.16, 0.62)] + arc(0.5, 0.72, 0.36, 0.28, 180, -110)],
        [arc(0.9, 0.6, 0.8, 0.6, 250, 180) + arc(0.5, 0.74, 0.36, 0.26, 180, -95)],
        [[(0.8, 0), (0.35, 0.4), (0.22, 0.8)] + arc(0.45, 0.84, 0.23, 0.16, 180, 530)],
        [arc(1.0, 0.7, 0.85, 0.7, 250, 180) + arc(0.4, 0.86, 0.25, 0.14, 180, 520)],
    ],
}


def everyones_stroke_digit(digit: str, rng, height: int) -> Image.Image:
    """A pen-stroke digit; 1, 7 and 6 in the styles of EVERYONES_STROKES (flag, bar, open or small loop)."""
    if digit not in EVERYONES_STROKES:
        return stroke_digit(digit, rng, height)
    styles = EVERYONES_STROKES[digit]
    aspect = rng.uniform(0.4, 0.65) if digit == "1" else rng.uniform(0.5, 0.8)
    return render_strokes(styles[rng.integers(len(styles))], rng, height, aspect, pen_width(rng, height))


def everyones_mnist_digit(
    image28: np.ndarray, label: int, rng, height: int, edit: str = "176"
) -> tuple[str, Image.Image]:
    """An MNIST digit written as everyone writes it: a 1 flagged, a 7 crossed, a 6's loop opened or made small
    (those of them in `edit`); other digits as they are. Returns the change ("flag", "bar", "open", "small",
    "as is") and the glyph."""
    ink = mnist_ink(image28, WORK_HEIGHT)
    kind = "as is"
    if label == 1 and "1" in edit:
        ink, kind = flagged_one(ink, rng), "flag"
    elif label == 7 and "7" in edit:
        ink, kind = crossed_seven(ink, rng), "bar"
    elif label == 6 and "6" in edit:
        opened = opened_loop(ink, rng) if rng.random() < 0.5 else None
        ink, kind = (opened, "open") if opened is not None else (small_loop(ink, rng), "small")
    return kind, ink_glyph(ink, height)


def of_digits(mnist_labels: np.ndarray, digits: str) -> np.ndarray:
    return np.flatnonzero(np.isin(mnist_labels, [int(d) for d in digits]))


def flagged_ones_and_crossed_sevens(count: int, seed: int, mnist_images, mnist_labels) -> list[Drawing]:
    """Single 1s with a flag (and sometimes a foot) and 7s with a bar: MNIST digits edited, and pen strokes."""
    rng = np.random.default_rng(seed)
    chosen = of_digits(mnist_labels, "17")
    drawings = []
    for k in range(count):
        height = int(rng.integers(30, 400))
        if k % 2 == 0:
            i = chosen[rng.integers(len(chosen))]
            truth = str(int(mnist_labels[i]))
            glyph = everyones_mnist_digit(mnist_images[i], int(truth), rng, height)[1]
            kind = f"mnist-{truth}"
        else:
            truth = "17"[rng.integers(2)]
            glyph, kind = everyones_stroke_digit(truth, rng, height), f"strokes-{truth}"
        drawings.append(Drawing(present(glyph, rng), kind, truth))
    return drawings


def sixes(count: int, seed: int, mnist_images, mnist_labels) -> list[Drawing]:
    """Single 6s with an open loop or a small one: MNIST 6s edited, and pen strokes."""
    rng = np.random.default_rng(seed)
    chosen = of_digits(mnist_labels, "6")
    drawings = []
    for k in range(count):
        height = int(rng.integers(30, 400))
        if k % 2 == 0:
            kind, glyph = everyones_mnist_digit(mnist_images[chosen[rng.integers(len(chosen))]], 6, rng, height)
            kind = f"mnist-{kind}"
        else:
            glyph, kind = everyones_stroke_digit("6", rng, height), "strokes"
        drawings.append(Drawing(present(glyph, rng), kind, "6"))
    return drawings


# --- whole numbers -----------------------------------------------------------------------------------


def pen_numbers(count: int, seed: int) -> list[Drawing]:
    """Whole numbers of 2-5 digits drawn as pen strokes (`stroke_digit`), written as `compose` writes."""
    rng = np.random.default_rng(seed)
    drawings = []
    for _ in range(count):
        truth = "".join(str(d) for d in rng.integers(10, size=int(rng.integers(2, 6))))
        height = int(rng.integers(40, 160))
        glyphs = [stroke_digit(d, rng, 120) for d in truth]
        drawings.append(Drawing(present(compose(glyphs, rng, height), rng, None), "strokes", truth))
    return drawings


def mnist_numbers(count: int, seed: int, mnist_images, mnist_labels) -> list[Drawing]:
    """Whole numbers of 2-5 real MNIST digits, written unevenly: sizes 75-120% of the line's height, gaps from a
    fifth of a digit's overlap (touching, one digit's stroke under the next) to 60% of its height."""
    rng = np.random.default_rng(seed)
    drawings = []
    for _ in range(count):
        index = rng.integers(len(mnist_images), size=int(rng.integers(2, 6)))
        height = int(rng.integers(40, 160))
        glyphs = [mnist_glyph(mnist_images[i], 120) for i in index]
        spacing = rng.choice(["touching", "close", "apart"], p=[0.3, 0.4, 0.3])
        gap = {"touching": (-0.2, 0.0), "close": (0.0, 0.25), "apart": (0.25, 0.6)}[spacing]
        number = compose(glyphs, rng, height, gap=gap, sizes=(0.75, 1.2), max_overlap=0.3)
        truth = "".join(str(int(mnist_labels[i])) for i in index)
        drawings.append(Drawing(present(number, rng, None), str(spacing), truth))
    return drawings


def flagged_numbers(count: int, seed: int, mnist_images, mnist_labels) -> list[Drawing]:
    """Whole numbers of 2-5 digits holding at least one 1 or 7, every 1 flagged and every 7 crossed: half MNIST
    digits edited (`flagged_one`, `crossed_seven`), half pen strokes (EVERYONES_STROKES)."""
    rng = np.random.default_rng(seed)
    weights = np.where(np.isin(np.arange(10), [1, 7]), 3.0, 1.0)
    by_digit = [np.flatnonzero(mnist_labels == d) for d in range(10)]
    drawings = []
    for k in range(count):
        truth = ""
        while not set(truth) & {"1", "7"}:
            truth = "".join(str(d) for d in rng.choice(10, size=int(rng.integers(2, 6)), p=weights / weights.sum()))
        height = int(rng.integers(40, 160))
        if k % 2 == 0:
            picks = [by_digit[int(d)][rng.integers(len(by_digit[int(d)]))] for d in truth]
            glyphs = [
                everyones_mnist_digit(mnist_images[i], int(d), rng, 120, edit="17")[1] for i, d in zip(picks, truth)
            ]
            kind = "mnist"
        else:
            glyphs = [everyones_stroke_digit(d, rng, 120) if d in "17" else stroke_digit(d, rng, 120) for d in truth]
            kind = "strokes"
        drawings.append(Drawing(present(compose(glyphs, rng, height), rng, None), kind, truth))
    return drawings


# --- small scans of forms ----------------------------------------------------------------------------


def form_scan(image28: np.ndarray, rng) -> Image.Image:
    """A thumbnail of a digit written on a form and scanned: a ballpoint's strokes (often thinner than MNIST's)
    pressed unevenly, the scanner's blur, 8-16 px of real detail on grey paper, sensor noise, often JPEG,
    then scaled up 3-12x by any of the usual resamplers (and sometimes saved as JPEG again); grey or colour."""
    import cv2

    detail = int(rng.integers(8, 17))
    ink = mnist_ink(image28, 64)
    thin = int(rng.choice(3, p=[0.4, 0.45, 0.15]))  # MNIST's stroke is about 8 px at 64 px tall: 8, 6 or 4 px
    if thin:
        ink = cv2.erode(ink, np.ones((2 * thin + 1, 2 * thin + 1), np.uint8))
    pressure = rng.random((4, 4)).astype(np.float32)
    pressure = cv2.resize(pressure, ink.shape[::-1], interpolation=cv2.INTER_CUBIC)
    ink = ink * np.clip(0.6 + 0.4 * pressure, 0, 1)
    ink = cv2.GaussianBlur(ink, (0, 0), rng.uniform(0.3, 0.9) * 64 / detail)
    width = max(1, round(ink.shape[1] * detail / 64))
    small = cv2.resize(ink, (width, detail), interpolation=cv2.INTER_AREA)
    top, bottom, left, right = (int(m) for m in rng.integers(1, 5, size=4))
    small = np.pad(small, ((top, bottom), (left, right)))
    paper, darkness = rng.uniform(0.72, 0.97), rng.uniform(0.55, 0.95)
    ramp = np.linspace(0, rng.uniform(-0.05, 0.05), small.shape[1])[None, :]
    grey = (paper + ramp) * (1 - darkness * np.clip(small, 0, 1))
    colour = rng.random() < 0.5
    if colour:  # blue ballpoint on cream paper, the scan in colour
        tint = np.array([rng.uniform(0.15, 0.4), rng.uniform(0.2, 0.45), rng.uniform(0.6, 0.9)])
        ink_share = 1 - grey / (paper + ramp)
        rgb = (paper + ramp)[..., None] * (1 - ink_share[..., None] * (1 - tint))
        rgb = rgb * np.array([1.0, 0.99, 0.95])
    else:
        rgb = grey[..., None]
    rgb = rgb + rng.normal(0, rng.uniform(0.003, 0.015), rgb.shape)
    pixels = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    scan = Image.fromarray(pixels if colour else pixels[..., 0])
    if rng.random() < 0.4:
        scan = jpeg(scan, int(rng.integers(35, 86)))
    factor = rng.uniform(3, 12)
    method = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC, Image.Resampling.LANCZOS)
    scan = scan.resize(
        (round(scan.width * factor), round(scan.height * factor)), method[int(rng.integers(len(method)))]
    )
    return jpeg(scan, int(rng.integers(60, 91))) if rng.random() < 0.3 else scan


def form_scans(count: int, seed: int, mnist_images: np.ndarray, mnist_labels: np.ndarray) -> list[Drawing]:
    """Thumbnails of single MNIST digits written on forms and scanned (see `form_scan`)."""
    rng = np.random.default_rng(seed)
    index = rng.integers(len(mnist_images), size=count)
    return [Drawing(form_scan(mnist_images[i], rng), "scan", str(int(mnist_labels[i]))) for i in index]


# --- pictures that are not digits: clothes, shoes, bags and things, as Fashion-MNIST shows them -----------
# Outlines in a unit box (y down), filled with a shade and a pattern; `mnist_demo.negatives` draws its
# training things with other code (PIL primitives and other outlines).


def jittered(points, rng, amount: float = 0.04) -> list[tuple[float, float]]:
    return [(x + rng.uniform(-amount, amount), y + rng.uniform(-amount, amount)) for x, y in points]


def outline_of(kind: str, rng) -> tuple[list[list[tuple[float, float]]], float]:
    """Polygons (unit box) of one thing, and its width / height."""
    s = rng.uniform(0, 0.12)
    if kind in ("t-shirt", "pullover", "coat", "shirt"):
        cuff = (0.3 + s, 0.42 + s) if kind == "t-shirt" else (0.9, 0.98)
        hem = 1.0 if kind != "coat" else 1.0
        body = [
            (0.38, 0.02),
            (0.5, 0.1 + s / 2),
            (0.62, 0.02),
            (0.86, 0.08),
            (1.0, cuff[0]),
            (0.9, cuff[1]),
            (0.8, 0.32),
            (0.8, hem),
            (0.2, hem),
            (0.2, 0.32),
            (0.1, cuff[1]),
            (0.0, cuff[0]),
            (0.14, 0.08),
        ]
        return [jittered(body, rng, 0.02)], rng.uniform(0.85, 1.05) if kind != "coat" else rng.uniform(0.7, 0.85)
    if kind == "trouser":
        legs = [(0.18, 0), (0.82, 0), (0.9, 1), (0.58, 1), (0.5, 0.3 + s), (0.42, 1), (0.1, 1)]
        return [jittered(legs, rng, 0.02)], rng.uniform(0.38, 0.5)
    if kind == "dress":
        dress = [
            (0.36, 0),
            (0.64, 0),
            (0.66, 0.32),
            (0.6, 0.42),
            (0.95 - s, 1),
            (0.05 + s, 1),
            (0.4, 0.42),
            (0.34, 0.32),
        ]
        return [jittered(dress, rng, 0.02)], rng.uniform(0.5, 0.75)
    if kind == "sneaker":
        upper = [(0.02, 0.75), (0.05, 0.35), (0.3, 0.3 + s), (0.55, 0.05), (0.7, 0.1), (0.75, 0.45), (0.98, 0.6)]
        sole = [(0.0, 0.72), (1.0, 0.62), (1.0, 0.9), (0.0, 1.0)]
        return [jittered(upper, rng, 0.02), jittered(sole, rng, 0.01)], rng.uniform(1.8, 2.4)
    if kind == "ankle boot":
        boot = [(0.08, 0), (0.5, 0), (0.55, 0.45), (0.95, 0.65), (1.0, 0.9), (0.98, 1), (0.05, 1), (0.1, 0.5)]
        return [jittered(boot, rng, 0.02)], rng.uniform(0.95, 1.2)
    if kind == "sandal":
        sole = [(0.0, 0.85), (1.0, 0.75), (1.0, 0.95), (0.0, 1.0)]
        straps = [
            [
                (0.2 + 0.25 * k, 0.82 - 0.02 * k),
                (0.32 + 0.25 * k, 0.35 + s),
                (0.38 + 0.25 * k, 0.78 - 0.02 * k),
                (0.3 + 0.25 * k, 0.45 + s),
            ]
            for k in range(int(rng.integers(2, 4)))
        ]
        return [jittered(sole, rng, 0.01), *(jittered(p, rng, 0.02) for p in straps)], rng.uniform(2.0, 2.6)
    if kind == "bag":
        body = [(0.05, 0.35), (0.95, 0.35), (1.0, 1), (0.0, 1)]
        handle = arc(0.5, 0.4, 0.28 + s, 0.35, 180, 360) + arc(0.5, 0.4, 0.18 + s, 0.25, 360, 180)
        return [jittered(body, rng, 0.03), jittered(handle, rng, 0.01)], rng.uniform(0.9, 1.3)
    if kind == "mug":
        cup = [(0.0, 0.05), (0.72, 0.05), (0.68, 1), (0.04, 1)]
        handle = arc(0.72, 0.5, 0.26, 0.25, -90, 90) + arc(0.72, 0.5, 0.14, 0.13, 90, -90)
        return [jittered(cup, rng, 0.02), handle], rng.uniform(0.9, 1.2)
    if kind == "bottle":
        bottle = [(0.4, 0), (0.6, 0), (0.6, 0.25), (0.9, 0.42), (0.9, 1), (0.1, 1), (0.1, 0.42), (0.4, 0.25)]
        return [jittered(bottle, rng, 0.02)], rng.uniform(0.3, 0.45)
    if kind == "house":
        house = [(0.1, 0.45), (0.5, 0.0), (0.9, 0.45), (0.85, 0.45), (0.85, 1), (0.15, 1), (0.15, 0.45)]
        return [jittered(house, rng, 0.02)], rng.uniform(0.9, 1.2)
    # car
    body = [(0.0, 0.55), (0.2, 0.5), (0.32, 0.15), (0.72, 0.15), (0.85, 0.5), (1.0, 0.55), (1.0, 0.85), (0.0, 0.85)]
    wheels = [arc(x, 0.85, 0.1, 0.15, 0, 360, 16) for x in (0.22, 0.78)]
    return [jittered(body, rng, 0.02), *wheels], rng.uniform(1.8, 2.4)


THINGS = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
    "mug",
    "bottle",
    "house",
    "car",
)


def thing(kind: str, rng, side: int = 112) -> np.ndarray:
    """A thing (THINGS) as brightness on black, float [side, side] in 0..1, as Fashion-MNIST shows clothes:
    a filled shape, a shade and a pattern (stripes, checks, a print), seams and edges a little darker."""
    polygons, aspect = outline_of(kind, rng)
    w, h = (side, round(side / aspect)) if aspect >= 1 else (round(side * aspect), side)
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    x0, y0 = (side - w) / 2, (side - h) / 2
    for polygon in polygons:
        draw.polygon([(x0 + x * w, y0 + y * h) for x, y in polygon], fill=255)
    inside = np.asarray(mask, dtype=np.float32) / 255
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32) / side
    shade = rng.uniform(0.3, 1.0) + rng.uniform(-0.25, 0.25) * (ys - 0.5) + rng.uniform(-0.15, 0.15) * (xs - 0.5)
    pattern = ("plain", "stripes", "checks", "print")[rng.integers(4)]
    period = rng.uniform(0.03, 0.12)
    if pattern == "stripes":
        shade = shade * (1 - rng.uniform(0.2, 0.6) * (np.sin(2 * math.pi * ys / period) > 0))
    elif pattern == "checks":
        shade = shade * (
            1
            - rng.uniform(0.2, 0.5)
            * ((np.sin(2 * math.pi * ys / period) > 0) ^ (np.sin(2 * math.pi * xs / period) > 0))
        )
    elif pattern == "print":
        blobs = Image.new("L", (side, side), 0)
        for _ in range(int(rng.integers(3, 12))):
            cx, cy, r = rng.uniform(0, side, 2).tolist() + [rng.uniform(3, 12)]
            ImageDraw.Draw(blobs).ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        shade = shade * (1 - rng.uniform(0.3, 0.7) * np.asarray(blobs, dtype=np.float32) / 255)
    import cv2

    edge = inside - cv2.erode(inside, np.ones((5, 5), np.uint8))
    shade = shade * (1 - rng.uniform(0, 0.4) * edge)
    grain = rng.normal(0, rng.uniform(0.01, 0.06), inside.shape).astype(np.float32)
    return np.clip(cv2.GaussianBlur(inside, (3, 3), 0) * (shade + grain), 0, 1).astype(np.float32)


def fashion_picture(kind: str, rng) -> Image.Image:
    """A thing as users bring it: Fashion-MNIST's own 28x28 (light on black, as is or scaled up), or a product
    shot (dark or coloured on white, 150-400 px, sometimes JPEG)."""
    bright = thing(kind, rng)
    if rng.random() < 0.5:
        small = np.asarray(Image.fromarray(bright, mode="F").resize((28, 28), Image.Resampling.BOX))
        picture = Image.fromarray(np.round(np.clip(small, 0, 1) * 255).astype(np.uint8))
        if rng.random() < 0.5:
            side = int(rng.integers(56, 400))
            picture = picture.resize(
                (side, side), (Image.Resampling.NEAREST, Image.Resampling.BILINEAR)[rng.integers(2)]
            )
        return picture
    side, margin = int(rng.integers(150, 400)), int(rng.integers(5, 60))
    big = np.asarray(Image.fromarray(bright, mode="F").resize((side, side), Image.Resampling.BILINEAR))
    big = np.pad(big, margin)
    colour = rng.uniform(0.0, 0.8, size=3)
    shape = np.clip(big / max(float(big.max()), 1e-6), 0, 1)[..., None]
    amount = (big > 0.02)[..., None] * np.clip(0.5 + shape, 0, 1)
    rgb = 1 - amount * (1 - colour * shape)
    picture = Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    return jpeg(picture, int(rng.integers(60, 95))) if rng.random() < 0.5 else picture


def fashion(count: int, seed: int) -> list[Drawing]:
    """Clothes, shoes, bags and things drawn as Fashion-MNIST shows them (see `fashion_picture`), one kind in turn."""
    rng = np.random.default_rng(seed)
    return [Drawing(fashion_picture(THINGS[k % len(THINGS)], rng), THINGS[k % len(THINGS)], "") for k in range(count)]
