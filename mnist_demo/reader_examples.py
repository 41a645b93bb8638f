"""Training examples as the app's reader sees them: digits scanned small, and the pieces of written numbers.

Two kinds of picture the 28x28 augmentation cannot make, because what the model gets from them
is what the app's own preprocessing and segmentation make of a picture:
  - `scanned_digits`: training digits printed small (7-18 px), blurred, noisy, JPEG-compressed and
    scaled up again, as a thumbnail of a form; read back through `to_mnist`. Labelled digits.
  - `number_pieces`: numbers composed from training digits (touching, overlapping, apart), cut by
    the reader (`candidate_pieces`) into every grouping it weighs; each group is a whole
    digit (a labelled example, neighbours' ink removed as the reader removes it) or not (a fragment
    of a digit, or parts of two: a non-digit for outlier exposure). Trained to give those low
    confidence, the model itself tells the reader where one digit ends, in place of hand-set costs.
Both are a one-off, seeded generation step before training (a few ms a picture), like
`negatives.make_negatives`. The held-out sets (`benchmarks/heldout_sets.py`) are made by other code.

    python -m mnist_demo.reader_examples   # prints a few of each as text
"""

import io

import numpy as np
from PIL import Image

from . import segment
from .picture import ImageError
from .preprocess import ascii_art, locate_ink, to_mnist

WHOLE = 0.9  # a group holding this share of one digit's ink, and that digit this share of the group's, is that digit
PART_OF_TWO = 0.3  # a group holding this share of each of two digits' ink is parts of two digits
FRAGMENT = 0.6  # a group holding less than this share of any digit's ink is a fragment


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


def number_pieces(images: np.ndarray, labels: np.ndarray, count: int, seed: int = 0):
    """At least `count` groupings the reader weighs in numbers written with these digits: (whole digits, uint8
    [N, 28, 28], their labels [N]) and (fragments and parts of two digits, uint8 [M, 28, 28]), N + M >= count."""
    rng = np.random.default_rng(seed)
    wholes, whole_labels, others = [], [], []
    while len(wholes) + len(others) < count:
        picture, owner, digits = written_number(images, labels, rng)
        try:
            groups = candidate_pieces(picture)
        except ImageError:
            continue
        for mask, image in groups:
            if mask.shape != owner.shape:  # read from a reduced copy: the masks would not line up
                break
            kind = what_group(mask, owner, len(digits))
            if kind is None:
                continue
            if kind >= 0:
                wholes.append(image)
                whole_labels.append(digits[kind])
            else:
                others.append(image)
    empty = np.zeros((0, 28, 28), dtype=np.uint8)
    return (
        (np.stack(wholes) if wholes else empty, np.array(whole_labels, dtype=np.int64)),
        np.stack(others) if others else empty,
    )


def non_digit_pieces(count: int, seed: int = 0) -> np.ndarray:
    """At least `count` groupings the reader weighs in rows of 1-3 non-digits (`negatives.non_digit_drawing`:
    letters, signs, scribbles, shapes, things): whatever part of them it reads is not a digit. uint8 [N, 28, 28]."""
    from .negatives import CANVAS, available_fonts, non_digit_drawing

    rng = np.random.default_rng(seed)
    fonts = available_fonts()
    out: list[np.ndarray] = []
    while len(out) < count:
        drawings = [non_digit_drawing(rng, fonts) for _ in range(int(rng.integers(1, 4)))]
        row = Image.new("L", (CANVAS * len(drawings), CANVAS), 255)
        for k, drawing in enumerate(drawings):
            row.paste(drawing, (k * CANVAS, 0))
        try:
            out += [image for _, image in candidate_pieces(row)]
        except ImageError:
            continue
    return np.stack(out) if out else np.zeros((0, 28, 28), np.uint8)


def candidate_pieces(picture) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every grouping of pieces the reader (`segment.read_digits`) weighs in a picture: its ink (bool, in the ink
    map's pixels: a drawing's own under 800 px) and the 28x28 image the model reads of it."""
    ink = locate_ink(picture).map
    labels, pieces, tallest = segment.ink_pieces(ink)
    groups = []
    for i, j in segment.candidate_digits(pieces, tallest):
        mask = np.zeros(ink.shape, dtype=bool)
        for p in pieces[i:j]:
            window = (slice(p.y0, p.y1), slice(p.x0, p.x1))
            mask[window] |= np.isin(labels[window], p.ids) & p.region(p.y0, p.y1, p.x0, p.x1)
        groups.append((mask, segment.digit_image(ink, labels, pieces[i:j])))
    return groups


def what_group(mask: np.ndarray, owner: np.ndarray, digits: int) -> int | None:
    """A candidate group's ink `mask` against the digits' `owner` map (-1 paper, k the k-th digit): the digit it
    is whole (k), -1 for a fragment or parts of two digits, None for neither (kept out of training)."""
    inside = owner[mask]
    inside = inside[inside >= 0]
    if inside.size == 0:
        return None
    held = np.bincount(inside, minlength=digits)  # each digit's ink in the group
    totals = np.bincount(owner[owner >= 0], minlength=digits)
    covered = held / np.maximum(totals, 1)  # the share of each digit's ink the group holds
    purity = held / inside.size
    best = int(held.argmax())
    if covered[best] >= WHOLE and purity[best] >= WHOLE:
        return best
    if np.sum(covered >= PART_OF_TWO) >= 2 or covered.max() < FRAGMENT:
        return -1
    return None


def written_number(images: np.ndarray, labels: np.ndarray, rng):
    """A number of 2-5 of the digits written side by side on white, as a hand writes them: each 40-110 px tall
    (within 80-120% of the line's height), gaps from a third of a digit's overlap to most of its width.
    Returns the picture, which digit's ink each pixel is (int [H, W], -1 for paper), and the digits."""
    count = int(rng.integers(2, 6))
    chosen = rng.integers(len(images), size=count)
    line = rng.uniform(40, 110)
    inks = []
    for i in chosen:
        ink = images[i].astype(np.float32) / 255
        rows, cols = np.flatnonzero(ink.max(1) > 0.05), np.flatnonzero(ink.max(0) > 0.05)
        ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        height = max(8, round(line * rng.uniform(0.8, 1.2)))
        width = max(2, round(ink.shape[1] * height / ink.shape[0]))
        inks.append(np.asarray(Image.fromarray(ink, mode="F").resize((width, height), Image.Resampling.BILINEAR)))
    gaps = [int(max(line * rng.uniform(-0.25, 0.6), -min(a.shape[1], b.shape[1]) / 3)) for a, b in zip(inks, inks[1:])]
    margin = int(line // 2)
    lefts = margin + np.concatenate([[0], np.cumsum([i.shape[1] + g for i, g in zip(inks, gaps)])]).astype(int)
    width = max(int(lefts[k] + i.shape[1]) for k, i in enumerate(inks)) + margin
    canvas = np.zeros((int(line * 1.5) + 2 * margin, width), dtype=np.float32)
    owner = np.full(canvas.shape, -1, dtype=np.int64)
    for k, ink in enumerate(inks):
        y = margin + int(rng.uniform(0, 0.2) * line)
        region = (slice(y, y + ink.shape[0]), slice(lefts[k], lefts[k] + ink.shape[1]))
        mine = ink > np.maximum(canvas[region], 0.3)
        owner[region][mine] = k
        canvas[region] = np.maximum(canvas[region], ink)
    picture = Image.fromarray(np.round(255 * (1 - np.clip(canvas, 0, 1))).astype(np.uint8))
    return picture, owner, [int(labels[i]) for i in chosen]


def main():
    from .data import load_mnist

    images, labels = (t.numpy() for t in load_mnist(train=True))
    scans, scan_labels = scanned_digits(images[:1000], labels[:1000], 3, seed=1)
    (wholes, whole_labels), others = number_pieces(images[:1000], labels[:1000], 12, seed=1)
    for title, shown in (("scanned", zip(scans, scan_labels)), ("whole", zip(wholes[:3], whole_labels))):
        for image, label in shown:
            print(f"{title} {label}\n{ascii_art(image[2:26])}\n" + "-" * 28)
    for image in others[:3]:
        print(f"not one digit\n{ascii_art(image[2:26])}\n" + "-" * 28)


if __name__ == "__main__":
    main()
