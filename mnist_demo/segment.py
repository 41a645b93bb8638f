"""Split a drawing of a whole number (a postcode, a cheque amount) into its digits, left to right.

The trained number reader (`number_reader.NumberReader`) reads the whole row of ink at once
and says where it read each mark: a digit, or a mark that is not a digit. No cuts or costs are
set by hand; on the development sets it reads whole numbers exactly far more often than the
segmentation-by-recognition it replaced (`benchmarks/heldout_eval.py --dev`, see CHANGELOG).
What stays here is where each digit's ink is, for its box and for the 28x28 image its saliency
map explains: between two marks the ink is parted at the column of least ink, and a connected
stroke lying mostly on one side of a parting (the top bar of a 5 reaching over its neighbour)
goes whole to that side; one that two digits share (touching digits) is cut there.

    python -m mnist_demo.segment number.png   # prints each digit's box and its 28x28 image
"""

import math
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .picture import ImageError, TooMuchInkError, picture_argument
from .preprocess import DIGIT_BOX, Ink, clear_ink, crop_to_ink, ink_box, ink_to_mnist, locate_ink

if TYPE_CHECKING:
    from .number_reader import Mark, NumberReader

MAX_COMPONENTS = 200  # more separate marks than this (noise, a texture) is too much ink to read: bounded work
WHOLE_STROKE = 0.75  # a stroke with this share of its ink on one side of a parting goes whole to that side


@dataclass
class Digit:
    """One digit of a number as read: its box in the input image's pixels, its 28x28 image and its probabilities."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1, right and bottom exclusive (PIL's crop box)
    mnist: np.ndarray  # uint8 [28, 28], its ink as MNIST shows a digit
    probabilities: np.ndarray  # float32 [10]: the reader's, where it read this mark
    not_a_digit: bool = False  # the reader read a mark that is not a digit here (the probabilities: its best guess)


def read_digits(picture, reader: "NumberReader") -> list[Digit]:
    """The digits of a drawing of a whole number (any picture, or its located `Ink`), left to right, as `reader`
    reads them; [] when it reads fewer than two marks (one digit is the classifier's to read,
    `Classifier.one_digit`), so a single digit costs no boxes or images that are thrown away.

    Raises ImageError for unreadable input (TooMuchInkError: noise, or a row longer than
    about a dozen digits) and BlankImageError when there is no ink.
    """
    from .number_reader import MARGIN, MAX_STRIP_WIDTH, strip_of  # torch: not imported with this module

    ink = locate_ink(picture)
    top, bottom, left, right = ink_box(ink.map)
    cropped = ink.map[top:bottom, left:right]
    strip = strip_of(cropped)
    if strip.shape[1] > MAX_STRIP_WIDTH:
        raise TooMuchInkError(
            "Too long to read as one number: at most about a dozen digits are read at a time. "
            "Is it a picture of a number?"
        )
    marks = reader.read(strip)
    if len(marks) < 2:
        return []
    labels = components(cropped)
    scale = (bottom - top) / DIGIT_BOX  # cropped ink pixels per strip pixel
    partings = [round((least_ink_column(strip, a, b) - MARGIN) * scale) for a, b in zip(marks, marks[1:])]
    owners = column_owners(labels, partings)
    digits = []
    for k, mark in enumerate(marks):
        mine = owners == k
        rows, cols = np.flatnonzero(mine.any(axis=1)), np.flatnonzero(mine.any(axis=0))
        if len(rows) == 0:  # the reader read a mark where the ink is another's: box it where it was read
            x = left + round((mark.first - MARGIN) * scale)
            box = (x, top, max(x + 1, left + round((mark.last + 1 - MARGIN) * scale)), bottom)
            image = np.zeros((28, 28), dtype=np.uint8)
        else:
            box = (left + cols[0], top + rows[0], left + cols[-1] + 1, top + rows[-1] + 1)
            image = digit_image(cropped, mine, labels > 0)
        digits.append(Digit(input_box(box, ink), image, mark.probabilities, not_a_digit=mark.digit < 0))
    return digits


def components(ink: np.ndarray) -> np.ndarray:
    """8-connected components of the clear ink: int32 labels [H, W], 0 for paper. TooMuchInkError for too many."""
    mask = clear_ink(ink).astype(np.uint8)
    count, labels = cv2.connectedComponents(mask, connectivity=8, ltype=cv2.CV_32S)
    if count - 1 > MAX_COMPONENTS:
        raise TooMuchInkError(
            f"Too much ink to read as digits: the picture has {count - 1:,} separate marks "
            f"(at most {MAX_COMPONENTS} are read). Is it a picture of a number?"
        )
    return labels


def least_ink_column(strip: np.ndarray, left: "Mark", right: "Mark") -> float:
    """Where to part two neighbouring marks: the strip column of least ink between where each was read (the
    middle of the emptiest run, so a gap between two digits is parted in its middle)."""
    start, end = left.last + 1, right.first
    if end <= start:
        return float(start)
    profile = strip[:, start:end].sum(axis=0)
    emptiest = np.flatnonzero(profile <= profile.min() + 1e-3)
    return start + (emptiest[0] + emptiest[-1]) / 2 + 0.5 if len(emptiest) else (start + end) / 2


def column_owners(labels: np.ndarray, partings: list[int]) -> np.ndarray:
    """Which mark each clear ink pixel belongs to (int [H, W], -1 for paper): the one whose columns hold it, but a
    stroke with WHOLE_STROKE of its ink on one side goes whole to that side."""
    by_column = np.searchsorted(np.asarray(partings), np.arange(labels.shape[1]), side="right")
    owners = np.where(labels > 0, by_column[None, :], -1)
    for label in range(1, int(labels.max()) + 1):
        stroke = labels == label
        sides = np.bincount(owners[stroke], minlength=len(partings) + 1)
        if sides.max() >= WHOLE_STROKE * stroke.sum():
            owners[stroke] = int(sides.argmax())
    return owners


def digit_image(ink: np.ndarray, mine: np.ndarray, inked: np.ndarray) -> np.ndarray:
    """The MNIST-style 28x28 image of one digit's ink (its own pixels and their anti-aliased rim, not its
    neighbours'), `mine` and every digit's pixels (`inked`) being bool masks of `ink`."""
    near = cv2.dilate(mine.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    others = cv2.dilate((inked & ~mine).astype(np.uint8), np.ones((3, 3)))
    digit = np.where(near & ~(others > 0) | mine, ink, 0).astype(np.float32)
    try:
        return ink_to_mnist(crop_to_ink(digit))
    except ImageError:  # a sliver too faint to count as ink: a blank image
        return np.zeros((28, 28), dtype=np.uint8)


def input_box(box: tuple[int, int, int, int], ink: Ink) -> tuple[int, int, int, int]:
    """A box in the ink map's pixels -> in the input image's pixels (the ink map may be of a reduced copy or a
    crop)."""
    x0, y0, x1, y1 = box
    (left, top), scale = ink.origin, ink.scale
    return (
        int(left + x0 * scale),
        int(top + y0 * scale),
        min(ink.size[0], math.ceil(left + x1 * scale)),
        min(ink.size[1], math.ceil(top + y1 * scale)),
    )


def main():
    from .number_reader import load_reader
    from .preprocess import ascii_art

    picture = picture_argument("segment")
    try:
        digits = read_digits(picture, load_reader())
    except ImageError as error:
        sys.exit(str(error))
    if not digits:
        print("one mark, not a number: python -m mnist_demo.prediction reads a single digit")
    for digit in digits:
        name = "not a digit" if digit.not_a_digit else str(int(digit.probabilities.argmax()))
        print(f"{name}  p={digit.probabilities.max():.3f}  box={digit.box}")
        print(ascii_art(digit.mnist[2:26]))


if __name__ == "__main__":
    main()
