"""Held-out digits as mouse paths: MNIST *test* images, thinned to their centre lines and traced into strokes.

    python benchmarks/traced_digits.py --data-dir ../shared/data    # each digit's strokes, and what the Draw
                                                                     # tab's reading says of them in-process

Nobody drew these for the project: each is the first test image of its class, its ink (upsampled
2x, thresholded) thinned to one-pixel lines (Zhang and Suen's thinning), then walked from line end
to line end into strokes, in fractions of the picture. benchmarks/stroke_latency.py draws them with
the mouse in Chromium; the strokes hold no pixel of the original, only its path.
"""

import argparse

import common  # noqa: F401  (puts the repository root on sys.path)
import numpy as np

UPSAMPLE = 2  # thinning a 56x56 picture gives smoother centre lines than 28x28
INK = 0.35  # of 255: what counts as ink before thinning
MIN_STROKE = 3  # pixels: shorter traces are thinning's spurs
# 8-neighbours in Zhang-Suen's order: P2 (north) clockwise to P9 (north-west).
RING = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]


def held_out(data_dir: str, per_class: int = 1) -> list[tuple[str, np.ndarray]]:
    """(label, uint8 [28, 28]) for the first `per_class` MNIST test images of each digit, in digit order."""
    from mnist_demo.data import load_mnist

    images, labels = load_mnist(data_dir, train=False)
    images, labels = images.numpy(), labels.numpy()
    return [(str(d), images[i]) for d in range(10) for i in np.flatnonzero(labels == d)[:per_class]]


def thinned(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean image: its centre lines, one pixel wide."""
    image = np.pad(mask.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            around = [np.roll(image, (-dy, -dx), axis=(0, 1)) for dy, dx in RING]
            count = sum(around)
            transitions = sum((around[k] == 0) & (around[(k + 1) % 8] == 1) for k in range(8))
            p2, p4, p6, p8 = around[0], around[2], around[4], around[6]
            first = p2 * p4 * p6 if step == 0 else p2 * p4 * p8
            second = p4 * p6 * p8 if step == 0 else p2 * p6 * p8
            remove = (image == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & (first == 0) & (second == 0)
            if remove.any():
                image[remove] = 0
                changed = True
    return image[1:-1, 1:-1].astype(bool)


def traced(line: np.ndarray) -> list[list[tuple[int, int]]]:
    """One-pixel lines -> strokes of (y, x): each walk starts at a line end (or anywhere on a loop) and goes on
    to unvisited neighbours, straight ones first, until none is left."""
    left = {(int(y), int(x)) for y, x in zip(*np.nonzero(line))}

    def neighbours(p):
        return [(p[0] + dy, p[1] + dx) for dy, dx in RING if (p[0] + dy, p[1] + dx) in left]

    strokes = []
    while left:
        ends = [p for p in left if len(neighbours(p)) == 1]
        point = min(ends or left)  # top-most line end first, as people start writing
        stroke = [point]
        left.discard(point)
        while near := neighbours(point):
            point = min(near, key=lambda q: abs(q[0] - point[0]) + abs(q[1] - point[1]))
            stroke.append(point)
            left.discard(point)
        if len(stroke) >= MIN_STROKE:
            strokes.append(stroke)
    return strokes


def digit_strokes(image: np.ndarray) -> list[list[tuple[float, float]]]:
    """An MNIST image -> its strokes as (x, y) fractions of the picture, every other pixel of the trace."""
    from PIL import Image

    side = 28 * UPSAMPLE
    big = np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BILINEAR)) / 255
    strokes = traced(thinned(big > INK))
    return [[(x / side, y / side) for y, x in stroke[::2] + stroke[-1:]] for stroke in strokes]


def draw_tab_reading(classifier, strokes) -> str:
    """What the Draw tab's probabilities say for these strokes (in the pad's pixels): a digit, a whole number,
    "Not a digit", ..."""
    from mnist_demo.draw_view import answer_drawing
    from mnist_demo.strokes import stroke_picture

    said = answer_drawing(classifier, stroke_picture({"strokes": strokes}), "No digit").label_value
    return max(said, key=said.get) if isinstance(said, dict) else said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="a folder holding MNIST/raw")
    args = parser.parse_args()
    from mnist_demo import Classifier
    from mnist_demo.strokes import CANVAS_SIDE

    classifier = Classifier.from_pretrained()
    for label, image in held_out(args.data_dir):
        strokes = digit_strokes(image)
        read = draw_tab_reading(classifier, [[[x * CANVAS_SIDE, y * CANVAS_SIDE] for x, y in s] for s in strokes])
        print(f"{label}: {len(strokes)} stroke(s), {sum(map(len, strokes))} points, read as {read!r}")


if __name__ == "__main__":
    main()
