"""Training digits as the app sees them in a small scan: a picture the 28x28 augmentation cannot make.

`scanned_digits`: training digits written with another pen (thinner or thicker than MNIST's,
pressed unevenly), printed small (7-18 px) in grey or colour, blurred, noisy, JPEG-compressed and
scaled up again, as a thumbnail of a form, then read back through the app's own preprocessing
(`to_mnist`). A one-off, seeded generation step before training (a few ms a picture), like
`negatives.make_negatives`. The held-out scans (`benchmarks/heldout_sets.py`) are made by other code.

    python -m mnist_demo.reader_examples   # prints a few as text
"""

import io

import cv2
import numpy as np
from PIL import Image

from .picture import ImageError
from .preprocess import ascii_art, to_mnist


def scanned_digits(images: np.ndarray, labels: np.ndarray, count: int, seed: int = 0):
    """`count` of the digits (uint8 [N, 28, 28], drawn at random) as small scans read back by `to_mnist`:
    uint8 [count, 28, 28] and their labels."""
    rng = np.random.default_rng(seed)
    out, out_labels = [], []
    while len(out) < count:
        i = int(rng.integers(len(images)))
        try:
            out.append(to_mnist(small_scan(images[i], rng)))
        except ImageError:  # the scan lost the digit (too faint): draw another
            continue
        out_labels.append(int(labels[i]))
    return np.stack(out) if out else np.zeros((0, 28, 28), np.uint8), np.array(out_labels, dtype=np.int64)


def small_scan(image28: np.ndarray, rng) -> Image.Image:
    """A 28x28 digit written on a form and scanned small: dark ink on light paper, 2-14x its real detail.

    The pen is thinner or thicker than MNIST's and pressed unevenly; the digit is 7-18 px tall,
    sometimes blurred, on paper lit unevenly, in grey or in colour (blue or black ink on tinted
    paper); then noise, sometimes JPEG or a few grey levels, and scaled up by a random resampler.
    """
    ink = pen_and_pressure(enlarged_ink(image28), rng)
    height = int(rng.integers(7, 19))
    small = Image.fromarray(ink, mode="F").resize((height + 2, height + 2), Image.Resampling.BOX)
    small = np.asarray(small, dtype=np.float32)
    if rng.random() < 0.5:  # the scanner's blur
        padded = np.pad(small, 1, mode="edge")
        small = 0.5 * small + 0.125 * (padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:])
    ink_share = rng.uniform(0.4, 1.0) * np.clip(small / max(float(small.max()), 1e-6), 0, 1)
    light = rng.uniform(0.6, 1.0) + np.linspace(-1, 1, small.shape[1])[None, :] * rng.uniform(-0.06, 0.06)
    if rng.random() < 0.4:  # in colour: how much of each of red, green and blue the ink and the paper let through
        black, blue = np.full(3, rng.uniform(0.1, 0.4)), rng.uniform((0.1, 0.15, 0.5), (0.4, 0.5, 0.9))
        pen = black if rng.random() < 0.5 else blue
        paper = light[..., None] * rng.uniform((0.95, 0.93, 0.85), (1, 1, 1))
        pixels = paper * (1 - ink_share[..., None] * (1 - pen))
    else:
        pixels = light * (1 - ink_share)
    pixels = pixels + rng.normal(0, rng.uniform(0, 0.03), pixels.shape)
    if rng.random() < 0.2:  # a few grey levels: a cheap scanner or a GIF
        levels = int(rng.integers(4, 17))
        pixels = np.round(pixels * (levels - 1)) / (levels - 1)
    scan = Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8))
    if rng.random() < 0.4:
        buffer = io.BytesIO()
        scan.save(buffer, "JPEG", quality=int(rng.integers(20, 91)))
        scan = Image.open(io.BytesIO(buffer.getvalue()))
    factor = rng.uniform(2, 14)
    resampler = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)
    return scan.resize((round(scan.width * factor), round(scan.height * factor)), resampler[rng.integers(3)])


def enlarged_ink(image28: np.ndarray) -> np.ndarray:
    """A uint8 28x28 digit as float32 ink (0..1) 112 px square, the size `pen_and_pressure` redraws it at."""
    return np.asarray(Image.fromarray(image28).resize((112, 112), Image.Resampling.BILINEAR), np.float32) / 255


def pen_and_pressure(ink: np.ndarray, rng) -> np.ndarray:
    """A 112x112 ink map (0..1) redrawn with another pen: thinner (eroded, or its soft rim faded by a power
    above 1) or thicker, and pressed unevenly (a smooth random field fades parts of the stroke)."""
    thin = int(rng.choice(4, p=[0.4, 0.3, 0.2, 0.1]))  # px at 112: MNIST's strokes are about 12 px wide there
    if thin:
        eroded = cv2.erode(ink, np.ones((2 * thin + 1, 2 * thin + 1), np.uint8))
        ink = eroded if eroded.max() > 0.5 else ink  # a stroke too thin to erode keeps its width
    ink = np.clip(ink, 0, 1) ** rng.uniform(0.7, 2.5)
    if rng.random() < 0.5:
        field = cv2.resize(rng.random((4, 4)).astype(np.float32), (112, 112), interpolation=cv2.INTER_CUBIC)
        ink = ink * np.clip(rng.uniform(0.45, 0.8) + field, 0, 1)
    return ink.astype(np.float32)


def main():
    from .data import load_mnist

    images, labels = (t.numpy() for t in load_mnist(train=True))
    scans, scan_labels = scanned_digits(images[:1000], labels[:1000], 3, seed=1)
    for image, label in zip(scans, scan_labels):
        print(f"scanned {label}\n{ascii_art(image[2:26])}\n" + "-" * 28)


if __name__ == "__main__":
    main()
