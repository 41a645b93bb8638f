"""Held-out digits as mouse paths: MNIST *test* images, thinned to their centre lines and traced into strokes.

    python benchmarks/traced_digits.py --data-dir ../shared/data    # each digit's strokes, how many of its ink's
                                                                     # loops they keep, and what the Draw tab's
                                                                     # reading says of them in-process

Nobody drew these for the project: each is the first test image of its class, its ink (upsampled
2x, bicubic, thresholded) thinned to one-pixel lines (scikit-image's `skeletonize`), then walked
into strokes that together pass every pixel of those lines, loops included (but specks and spurs
under SPUR pixels), in fractions of the picture.
benchmarks/stroke_latency.py draws them with the mouse in Chromium; the strokes hold no pixel of the
original, only its path.
"""

import argparse

import common  # noqa: F401  (puts the repository root on sys.path)
import numpy as np
from PIL import Image
from skimage import measure
from skimage.morphology import skeletonize

UPSAMPLE = 2  # thinning a 56x56 picture gives smoother centre lines than 28x28
INK = 0.35  # of 255: what counts as ink before thinning
SPUR = 4  # pixels (of the 2x picture): a walk shorter than this is a bump of the ink's edge or a speck
# 8-neighbours, the straight ones first: a walk steps straight where it can, so it takes no diagonal shortcut.
NEIGHBOURS = [(-1, 0), (0, 1), (1, 0), (0, -1), (-1, 1), (1, 1), (1, -1), (-1, -1)]


def held_out(data_dir: str, per_class: int = 1) -> list[tuple[str, np.ndarray]]:
    """(label, uint8 [28, 28]) for the first `per_class` MNIST test images of each digit, in digit order."""
    from mnist_demo.data import load_mnist

    images, labels = load_mnist(data_dir, train=False)
    images, labels = images.numpy(), labels.numpy()
    return [(str(d), images[i]) for d in range(10) for i in np.flatnonzero(labels == d)[:per_class]]


def centre_lines(image: np.ndarray) -> np.ndarray:
    """An MNIST image (uint8 [28, 28]) -> its ink's centre lines, one pixel wide, UPSAMPLE times its size."""
    side = 28 * UPSAMPLE
    # Bicubic, not bilinear: bilinear blurs shut the one-pixel hole of a tight loop (the first test 5's
    # bottom curl, one of the 8's), and thinning a loop with no hole leaves a stub, not the loop.
    big = np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BICUBIC)) / 255
    return skeletonize(big > INK)


def traced(line: np.ndarray) -> list[list[tuple[int, int]]]:
    """One-pixel lines -> strokes of (y, x) passing every pixel of them, but for walks shorter than SPUR.

    Each walk starts at the top-most line end left (a loop's top-most pixel when no end is left), as
    people start writing, and ends on the traced pixel it runs into: branches join the line they leave,
    loops close."""
    left = {(int(y), int(x)) for y, x in zip(*np.nonzero(line))}
    kept = set()
    strokes = []
    while left:
        ends = [p for p in left if len(around(p, left)) <= 1]
        stroke = walk(min(ends or left), left)
        if len(stroke) >= SPUR:
            start = around(stroke[0], kept)[:1]
            end = around(stroke[-1], kept | set(stroke[:-3]))[:1]  # not the pixels it just stepped through
            strokes.append(start + stroke + end)
            kept.update(stroke)
    return strokes


def walk(point: tuple[int, int], left: set) -> list[tuple[int, int]]:
    """From `point` on to a neighbour in `left` until none is left there, taking each pixel out of `left`."""
    stroke = [point]
    left.discard(point)
    while near := around(point, left):
        point = near[0]
        stroke.append(point)
        left.discard(point)
    return stroke


def around(point: tuple[int, int], pixels: set) -> list[tuple[int, int]]:
    """The 8-neighbours of `point` that are in `pixels`, the straight ones first."""
    return [(point[0] + dy, point[1] + dx) for dy, dx in NEIGHBOURS if (point[0] + dy, point[1] + dx) in pixels]


def digit_strokes(image: np.ndarray) -> list[list[tuple[float, float]]]:
    """An MNIST image -> its strokes as (x, y) fractions of the picture, every other pixel of the trace."""
    side = 28 * UPSAMPLE
    return [[(x / side, y / side) for y, x in stroke[::2] + stroke[-1:]] for stroke in traced(centre_lines(image))]


def loops(mask: np.ndarray) -> int:
    """How many holes a boolean picture has: its pieces (8-connected) less its Euler number."""
    return int(measure.label(mask, connectivity=2).max() - measure.euler_number(mask, connectivity=2))


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
        kept = f"{loops(centre_lines(image))}/{loops(image / 255 > INK)}"
        print(
            f"{label}: {len(strokes)} stroke(s), {sum(map(len, strokes))} points, loops kept {kept}, read as {read!r}"
        )


if __name__ == "__main__":
    main()
