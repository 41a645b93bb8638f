"""benchmarks/traced_digits.py: the held-out digits' mouse paths pass every pixel of the digit's centre lines, and
a tight loop of ink stays a loop.

    python -m pytest tests/test_traced_digits.py
"""

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))  # the benchmarks are scripts
from traced_digits import centre_lines, loops, traced  # noqa: E402


def lines(*draw) -> np.ndarray:
    """One-pixel (8-connected) lines on a 40x40 picture: ("circle", centre, radius) or ("line", start, end)."""
    picture = np.zeros((40, 40), np.uint8)
    for shape, *where in draw:
        getattr(cv2, shape)(picture, *where, 1, thickness=1, lineType=cv2.LINE_8)
    return picture.astype(bool)


RING = ("circle", (20, 15), 8)


def pixels(line: np.ndarray) -> set:
    return {(int(y), int(x)) for y, x in zip(*np.nonzero(line))}


def is_pen_path(stroke) -> bool:
    """Each point next to the one before: the mouse never jumps."""
    return all(max(abs(p[0] - q[0]), abs(p[1] - q[1])) == 1 for p, q in zip(stroke, stroke[1:]))


def test_a_ring_traces_into_one_closed_stroke_over_every_pixel():
    (stroke,) = traced(lines(RING))
    assert set(stroke) == pixels(lines(RING)) and is_pen_path(stroke)
    assert stroke[-1] in stroke[:-3]  # it closes on itself


def test_a_ring_with_a_tail_is_one_stroke_too():
    nine = lines(RING, ("line", (28, 15), (28, 35)))
    (stroke,) = traced(nine)
    assert set(stroke) == pixels(nine) and is_pen_path(stroke)


def test_a_branch_starts_or_ends_on_the_line_it_leaves():
    tee = lines(("line", (5, 10), (35, 10)), ("line", (20, 11), (20, 35)))
    bar, stem = traced(tee)
    assert set(bar) | set(stem) == pixels(tee) and is_pen_path(bar) and is_pen_path(stem)
    assert stem[0] in bar or stem[-1] in bar


def test_a_tight_curl_of_ink_keeps_its_one_pixel_hole():
    """The first MNIST test 5's bottom curl: a blob of ink around one faint pixel, which bilinear upsampling fills."""
    image = np.zeros((28, 28), np.uint8)
    image[10:15, 10:16] = [
        [0, 110, 230, 230, 160, 0],
        [110, 230, 130, 40, 160, 160],
        [40, 230, 230, 180, 230, 130],
        [0, 160, 230, 230, 160, 0],
        [0, 0, 80, 130, 0, 0],
    ]
    assert loops(image / 255 > 0.35) == 1
    assert loops(centre_lines(image)) == 1
