"""Training digits as the app sees them in a small scan: a picture the 28x28 augmentation cannot make.

`scanned_digits`: training digits printed small (7-18 px), blurred, noisy, JPEG-compressed and
scaled up again, as a thumbnail of a form, then read back through the app's own preprocessing
(`to_mnist`). A one-off, seeded generation step before training (a few ms a picture), like
`negatives.make_negatives`. The held-out scans (`benchmarks/heldout_sets.py`) are made by other code.

    python -m mnist_demo.reader_examples   # prints a few as text
"""

import io

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
    """A 28x28 digit printed 7-18 px tall, thin or thick, faint or dark, blurred, with noise and sometimes JPEG
    or a few grey levels, then scaled up 2-14x by a random resampler: dark ink on light paper."""
    ink = Image.fromarray(image28).resize((112, 112), Image.Resampling.BILINEAR)
    ink = np.asarray(ink, dtype=np.float32) / 255
    ink = np.clip(ink, 0, 1) ** rng.uniform(0.7, 2.5)  # above 1 the soft rim fades: a thinner pen
    height = int(rng.integers(7, 19))
    small = Image.fromarray(ink, mode="F").resize((height + 2, height + 2), Image.Resampling.BOX)
    small = np.asarray(small, dtype=np.float32)
    if rng.random() < 0.5:  # the scanner's blur
        padded = np.pad(small, 1, mode="edge")
        small = 0.5 * small + 0.125 * (padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:])
    paper, darkness = rng.uniform(0.6, 1.0), rng.uniform(0.4, 1.0)
    grey = paper * (1 - darkness * np.clip(small / max(float(small.max()), 1e-6), 0, 1))
    grey = grey + rng.normal(0, rng.uniform(0, 0.03), grey.shape)
    if rng.random() < 0.2:  # a few grey levels: a cheap scanner or a GIF
        levels = int(rng.integers(4, 17))
        grey = np.round(grey * (levels - 1)) / (levels - 1)
    scan = Image.fromarray(np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8))
    if rng.random() < 0.4:
        buffer = io.BytesIO()
        scan.save(buffer, "JPEG", quality=int(rng.integers(20, 91)))
        scan = Image.open(io.BytesIO(buffer.getvalue()))
    factor = rng.uniform(2, 14)
    resampler = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)
    return scan.resize((round(scan.width * factor), round(scan.height * factor)), resampler[rng.integers(3)])


def main():
    from .data import load_mnist

    images, labels = (t.numpy() for t in load_mnist(train=True))
    scans, scan_labels = scanned_digits(images[:1000], labels[:1000], 3, seed=1)
    for image, label in zip(scans, scan_labels):
        print(f"scanned {label}\n{ascii_art(image[2:26])}\n" + "-" * 28)


if __name__ == "__main__":
    main()
