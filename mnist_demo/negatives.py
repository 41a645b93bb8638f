"""Pictures that are not digits (letters, signs, sharp and smooth scribbles, shapes, things), in MNIST's format.

They teach the model to say "not a digit" (outlier exposure, Hendrycks et al., 2019):
during training they are pushed toward a uniform prediction, so at inference a low top
probability means "this is not one of the ten digits". Each is drawn on a canvas and then
goes through the very same preprocessing as a user's drawing.

    python -m mnist_demo.negatives   # prints a few as text
"""

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .picture import ImageError
from .preprocess import ascii_art, to_mnist

CANVAS = 96
# Letters and signs that do not look like a digit: no O o D Q (0), I l i j | ! ( ) / (1), Z z (2),
# S s (5), b G (6), T J (7), B (8), g q a (9), A h y (4).
LETTERS = "CEFHKLMNPRUVWXcefkmnprtuvwx"
SIGNS = "+=#@%&*$?~<>{}÷×πΣΩλ€£¥§¶✓♥★→←"
# Text fonts bundled with matplotlib (a dependency): the same few dozen faces on every machine,
# so the negatives, and the weights trained on them, do not depend on the fonts a system has.
BUNDLED_FONTS = ("DejaVuSans*.ttf", "DejaVuSerif*.ttf", "STIXGeneral*.ttf")


def available_fonts() -> list[str]:
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return sorted(str(path) for pattern in BUNDLED_FONTS for path in folder.glob(pattern))


def load_font(fonts: list[str], rng: np.random.Generator, size: int):
    if fonts:
        try:
            return ImageFont.truetype(fonts[rng.integers(len(fonts))], size)
        except OSError:
            pass
    return ImageFont.load_default(size)


def draw_character(draw: ImageDraw.ImageDraw, rng, fonts) -> None:
    text = rng.choice(list(LETTERS + SIGNS))
    font = load_font(fonts, rng, int(rng.integers(40, 70)))
    draw.text((CANVAS / 2, CANVAS / 2), text, font=font, fill=0, anchor="mm")


def draw_scribble(draw, rng, fonts) -> None:
    """A random tangle: many sharp turns, as a person scribbling."""
    points = rng.uniform(10, CANVAS - 10, size=(int(rng.integers(6, 14)), 2))
    draw.line([tuple(p) for p in points], fill=0, width=int(rng.integers(3, 9)), joint="curve")


def draw_smooth_scribble(draw, rng, fonts) -> None:
    """A tangle of round loops and swings: random points smoothed by Chaikin's corner cutting."""
    points = rng.uniform(12, CANVAS - 12, size=(int(rng.integers(8, 16)), 2))
    for _ in range(4):  # each pass replaces every corner by two points a quarter of the way along its sides
        points = np.concatenate(
            [
                [points[0]],
                *([0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b] for a, b in zip(points, points[1:])),
                [points[-1]],
            ]
        )
    draw.line([tuple(p) for p in points], fill=0, width=int(rng.integers(3, 9)), joint="curve")


def draw_shape(draw, rng, fonts) -> None:
    """A square, triangle, star, spiral, zigzag, hatching, grid, dots or a filled blob."""
    width = int(rng.integers(3, 8))
    c, r = CANVAS / 2, rng.uniform(25, 40)
    kind = rng.integers(9)
    if kind == 0:
        draw.rectangle([c - r, c - r * rng.uniform(0.6, 1), c + r, c + r * rng.uniform(0.6, 1)], outline=0, width=width)
    elif kind in (1, 2):
        corners = 3 if kind == 1 else 10
        angles = np.linspace(0, 2 * math.pi, corners, endpoint=False) + rng.uniform(0, math.pi)
        radii = np.full(corners, r) if kind == 1 else np.where(np.arange(corners) % 2, r * 0.4, r)
        points = [(c + q * math.cos(a), c + q * math.sin(a)) for q, a in zip(radii, angles)]
        draw.polygon(points, outline=0, width=width)
    elif kind == 3:
        t = np.linspace(0, rng.uniform(4, 7) * math.pi, 80)
        draw.line([(c + r * s / t[-1] * math.cos(s), c + r * s / t[-1] * math.sin(s)) for s in t], fill=0, width=width)
    elif kind == 4:
        xs = np.linspace(c - r, c + r, int(rng.integers(5, 9)))
        draw.line([(x, c + (r / 2) * (1 if i % 2 else -1)) for i, x in enumerate(xs)], fill=0, width=width)
    elif kind == 5:
        for offset in np.linspace(-r, r, int(rng.integers(3, 6))):
            draw.line([(c - r, c + offset - r / 2), (c + r, c + offset + r / 2)], fill=0, width=width)
    elif kind == 6:
        for offset in np.linspace(-r, r, 3):
            draw.line([(c - r, c + offset), (c + r, c + offset)], fill=0, width=width)
            draw.line([(c + offset, c - r), (c + offset, c + r)], fill=0, width=width)
    elif kind == 7:
        for x, y in rng.uniform(15, CANVAS - 15, size=(int(rng.integers(4, 12)), 2)):
            draw.ellipse([x - width, y - width, x + width, y + width], fill=0)
    else:
        angles = np.sort(rng.uniform(0, 2 * math.pi, 7))
        draw.polygon(
            [(c + r * rng.uniform(0.5, 1) * math.cos(a), c + r * rng.uniform(0.5, 1) * math.sin(a)) for a in angles],
            fill=0,
        )


def draw_thing(draw, rng, fonts) -> None:
    """Clothes, shoes, bags and things as Fashion-MNIST shows them: filled shapes in a shade of grey, from
    PIL's rectangles, ellipses, chords and polygons, with a few darker seams or stripes."""
    shade, dark = int(rng.integers(0, 170)), int(rng.integers(0, 60))
    c, r = CANVAS / 2, rng.uniform(30, 44)
    w, h = r * rng.uniform(0.5, 1.0), r * rng.uniform(0.6, 1.0)
    kind = THINGS[rng.integers(len(THINGS))]
    if kind == "top":  # a shirt or a jumper: a body and two sleeves
        sleeve = rng.uniform(0.3, 1.0) * h
        draw.rectangle([c - w * 0.6, c - h, c + w * 0.6, c + h], fill=shade)
        for side in (-1, 1):
            shoulder, cuff = c + side * w * 0.6, c + side * w * rng.uniform(0.9, 1.3)
            draw.polygon(
                [
                    (shoulder, c - h),
                    (cuff, c - h + sleeve),
                    (cuff - side * w * 0.3, c - h + sleeve + 8),
                    (shoulder, c - h + 15),
                ],
                fill=shade,
            )
        draw.polygon([(c - w * 0.2, c - h), (c, c - h + rng.uniform(5, 15)), (c + w * 0.2, c - h)], fill=255)
    elif kind == "trousers":
        draw.rectangle([c - w * 0.5, c - h, c + w * 0.5, c - h * 0.7], fill=shade)
        for side in (-1, 1):
            draw.polygon(
                [
                    (c + side * w * 0.5, c - h * 0.7),
                    (c + side * w * 0.03, c - h * 0.7),
                    (c + side * w * 0.1, c + h),
                    (c + side * w * 0.55, c + h),
                ],
                fill=shade,
            )
    elif kind == "skirt":
        draw.polygon([(c - w * 0.35, c - h), (c + w * 0.35, c - h), (c + w, c + h), (c - w, c + h)], fill=shade)
    elif kind == "shoe":  # a sole and an upper; a boot's shaft now and then
        draw.chord([c - r, c - h * 0.5, c + r, c + h * 0.9], 180, 360, fill=shade)
        draw.rectangle([c - r, c + h * 0.15, c + r, c + h * 0.4], fill=dark)
        if rng.random() < 0.4:
            draw.rectangle([c - r, c - h, c - r * 0.2, c + h * 0.2], fill=shade)
    elif kind == "bag":
        draw.rounded_rectangle([c - w, c - h * 0.3, c + w, c + h], radius=int(rng.integers(2, 15)), fill=shade)
        draw.arc([c - w * 0.6, c - h, c + w * 0.6, c + h * 0.2], 180, 360, fill=shade, width=int(rng.integers(4, 9)))
    elif kind == "hat":
        draw.ellipse([c - r, c + h * 0.2, c + r, c + h * 0.6], fill=shade)
        draw.rectangle([c - w * 0.6, c - h * 0.6, c + w * 0.6, c + h * 0.4], fill=shade)
    elif kind == "cup":
        draw.rectangle([c - w * 0.6, c - h, c + w * 0.5, c + h], fill=shade)
        draw.arc(
            [c + w * 0.2, c - h * 0.5, c + w * 1.1, c + h * 0.4], 270, 90, fill=shade, width=int(rng.integers(5, 10))
        )
    elif kind == "car":
        draw.rounded_rectangle([c - r, c - h * 0.2, c + r, c + h * 0.5], radius=8, fill=shade)
        draw.rectangle([c - r * 0.5, c - h * 0.7, c + r * 0.4, c - h * 0.2], fill=shade)
        for x in (c - r * 0.55, c + r * 0.55):
            draw.ellipse([x - 10, c + h * 0.3, x + 10, c + h * 0.3 + 20], fill=dark)
    else:  # a lamp, a table or a chair: a top and legs
        draw.rectangle([c - r, c - h, c + r, c - h + rng.uniform(6, 20)], fill=shade)
        for x in np.linspace(c - r * 0.9, c + r * 0.9, int(rng.integers(2, 5))):
            draw.line([(x, c - h), (x + rng.uniform(-8, 8), c + h)], fill=shade, width=int(rng.integers(3, 8)))
    for _ in range(int(rng.integers(0, 5))):  # seams, stripes, a print
        y = c + rng.uniform(-h, h)
        draw.line([(c - w, y), (c + w, y + rng.uniform(-5, 5))], fill=dark, width=int(rng.integers(1, 4)))


THINGS = ("top", "trousers", "skirt", "shoe", "bag", "hat", "cup", "car", "furniture")
DRAWERS = (draw_character, draw_character, draw_scribble, draw_smooth_scribble, draw_shape, draw_thing)


def make_negatives(count: int, seed: int = 0) -> np.ndarray:
    """`count` non-digits as uint8 [count, 28, 28], white on black, preprocessed like a drawing."""
    rng = np.random.default_rng(seed)
    fonts = available_fonts()
    images = []
    while len(images) < count:
        try:
            images.append(to_mnist(non_digit_drawing(rng, fonts)))
        except ImageError:  # a glyph the font lacks renders blank: draw another
            continue
    return np.stack(images)


def non_digit_drawing(rng: np.random.Generator, fonts: list[str]) -> Image.Image:
    """One non-digit (a DRAWERS' drawing, turned up to 20 degrees), dark on a white CANVAS x CANVAS canvas."""
    canvas = Image.new("L", (CANVAS, CANVAS), 255)
    DRAWERS[rng.integers(len(DRAWERS))](ImageDraw.Draw(canvas), rng, fonts)
    return canvas.rotate(rng.uniform(-20, 20), fillcolor=255)


def main():
    for image in make_negatives(6, seed=1):
        print(ascii_art(image[2:26]))
        print("-" * 28)


if __name__ == "__main__":
    main()
