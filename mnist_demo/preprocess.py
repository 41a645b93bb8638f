"""Find a picture's ink once, and turn a digit's ink into the 28x28 image MNIST itself would have made of it.

MNIST's recipe (LeCun et al.): the digit's bounding box is scaled, keeping its aspect
ratio and anti-aliased, so its longest side is 20 px, then placed in a 28x28 field so
its centre of mass sits at the centre. We follow it, and add what a drawing on a
canvas needs first: ink from any image mode and either polarity, blank detection,
early downscaling of huge images, and stroke-width normalisation (a 2 px pen on an
800 px canvas would otherwise vanish when shrunk 40 times). `locate_ink` does the
first part once per picture; its `Ink` is what every answer (`to_mnist`, the number
reading of `mnist_demo.segment`, the Draw tab's boxes and panels) reads.

    python -m mnist_demo.preprocess digit.png   # prints the 28x28 result as text
"""

import math
import sys
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .photo import looks_like_photo, paper_ink
from .picture import (
    INK_FLOOR,
    BlankImageError,
    ImageError,
    border_of,
    opaque_grey,
    open_picture,
    picture_argument,
)

MNIST_SIZE = 28
DIGIT_BOX = 20  # MNIST scales the longest side of a digit to 20 px
MNIST_CENTER = 14.0  # where MNIST puts the centre of mass (row and column: 14.00 on average over its training set)
WORK_SIDE = 400  # huge images are box-reduced to about this first: bounded work
DETAIL_SCALE = 4  # stroke widths are measured and fixed at 4x the final size (80 px)
# A big JPEG is decoded at a DCT scale no smaller than this (its longest side): a digit a tenth of that side
# or taller keeps every pixel the reading uses (DIGIT_BOX * DETAIL_SCALE), and the decode costs a third of a full one.
DRAFT_SIDE = 2 * WORK_SIDE
# MNIST's stroke widths, measured by stroke_width() at the 80 px detail scale on its test set:
# 15th percentile, median, 99th percentile. Strokes thinner than most of MNIST's, or thicker
# than nearly all, are brought to its median; the rest are left as drawn.
MNIST_STROKE_WIDTH = {"thinnest": 8.0, "median": 10.8, "thickest": 22.0}
BLANK_PIXELS = 3  # fewer clearly inked pixels than this is a blank image ...
BLANK_CONTRAST = 0.08  # ... or ink this faint everywhere (0.15 lost 4% of dev scans, pale pencil, as blank)


@dataclass(frozen=True)
class Ink:
    """A picture's ink, located once (`locate_ink`): what the digit answer, the number reading and the panels read.

    Ink pixel (x, y) is input pixel (left + x * scale, top + y * scale), where (left, top) is `origin`.
    """

    map: np.ndarray  # float32 [H, W] in 0..1, 1 where there is ink: of the whole picture or a small drawing's region
    scale: float
    origin: tuple[float, float]
    size: tuple[int, int]  # the input's (width, height): boxes are given in its pixels
    picture: Image.Image  # as decoded, in a standard mode (a big JPEG smaller than `size`): what the panels show
    photo: bool  # read as a photo of paper (`photo.paper_ink`): `map` is the whole frame's, paper taken out


def locate_ink(picture) -> Ink:
    """The picture's ink, with detail enough for each of its digits (one digit or a whole number). An Ink is its own.

    The picture is decoded once, no finer than DRAFT_SIDE needs; its ink is found on a copy
    reduced to about WORK_SIDE (bounded work): a photo's ink is separated from its paper
    (`photo.paper_ink`); for a drawing, when that leaves the digits small (a digit or a number
    written small on a big canvas), the inked region is read again from the decoded pixels.
    Raises ImageError for unusable input and BlankImageError when there is no ink.
    """
    if isinstance(picture, Ink):
        return picture
    image, size = open_picture(picture, DRAFT_SIDE)
    ink, photo = working_ink(image, size)
    top, bottom, left, right = ink_box(ink)
    scale, to_input = image.width / ink.shape[1], size[0] / image.width
    if photo or scale == 1 or bottom - top >= DIGIT_BOX * DETAIL_SCALE:
        return Ink(ink, scale * to_input, (0, 0), size, image, photo)
    margin = 2  # reduced pixels of background around the ink: the border that tells paper from ink
    region = (
        max(0, int((left - margin) * scale)),
        max(0, int((top - margin) * scale)),
        min(image.width, math.ceil((right + margin) * scale)),
        min(image.height, math.ceil((bottom + margin) * scale)),
    )
    factor = max(1, int((bottom - top) * scale) // (DIGIT_BOX * DETAIL_SCALE))
    crop = image.crop(region)
    detail = ink_map(crop.reduce(factor) if factor > 1 else crop)
    return Ink(detail, factor * to_input, (region[0] * to_input, region[1] * to_input), size, image, False)


def working_ink(image: Image.Image, size: tuple[int, int]) -> tuple[np.ndarray, bool]:
    """The ink map of the `working_copy`, and whether it is a photo's (`paper_ink`'s).

    A transparent canvas's ink is its alpha; an opaque picture whose background varies is a
    photo of paper; any other is a drawing or a clean scan, read against one paper level.
    """
    if image.mode in ("RGBA", "LA"):
        alpha = np.asarray(working_copy(image.getchannel("A"), size))
        if alpha.min() < 250:  # transparent: only the alpha is reduced (Pillow premultiplies RGBA to reduce it)
            return ALPHA_TO_INK.take(alpha), False  # take: twice as fast as indexing
    grey = opaque_grey(working_copy(image, size))
    if looks_like_photo(grey):
        return paper_ink(grey), True
    return ink_from_grey(grey), False


def working_copy(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Box-reduced by a whole factor of the input's `size` so the longest side is near WORK_SIDE: bounded, cheap
    work. A JPEG decoded smaller than `size` is box-resized to the same size."""
    factor = max(size) // WORK_SIDE
    if factor < 2:
        return image
    if image.size == size:
        return image.reduce(factor)
    return image.resize((-(-size[0] // factor), -(-size[1] // factor)), Image.Resampling.BOX)


def ink_map(image: Image.Image) -> np.ndarray:
    """Float32 [H, W] in 0..1, 1 where there is ink, whatever the mode and polarity (the canvas path)."""
    grey = opaque_grey(image)
    if grey is None:  # a transparent background: the ink is whatever is opaque
        return clean(np.asarray(image.getchannel("A"), dtype=np.float32) / 255)
    return ink_from_grey(grey)


def ink_from_grey(grey: np.ndarray) -> np.ndarray:
    """Ink from a grey image: the background is the border's median, the ink whatever differs from it."""
    background = float(np.median(border_of(grey)))
    if background > 0.5:  # dark ink on light paper
        ink = (background - grey) / max(background, 1e-6)
    else:  # light ink on a dark ground, as MNIST itself
        ink = (grey - background) / max(1 - background, 1e-6)
    return clean(ink)


def clean(ink: np.ndarray) -> np.ndarray:
    return np.clip((ink - INK_FLOOR) / (1 - INK_FLOOR), 0, 1).astype(np.float32)


ALPHA_TO_INK = clean(np.arange(256, dtype=np.float32) / 255)  # clean() of every alpha value: one lookup per pixel


def clear_ink(ink: np.ndarray) -> np.ndarray:
    """bool mask of the clearly inked pixels: above a quarter of the darkest ink (or of 0.2, for faint ink)."""
    return ink > 0.25 * max(float(ink.max(initial=0)), 0.2)


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), exclusive ends, of the clearly inked pixels; BlankImageError if none."""
    mask = clear_ink(ink)
    if ink.max(initial=0) < BLANK_CONTRAST or mask.sum() < min(BLANK_PIXELS, mask.size):
        raise BlankImageError("No digit found: the image is blank.")
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The bounding box of the clearly inked pixels; BlankImageError when there are none."""
    top, bottom, left, right = ink_box(ink)
    return ink[top:bottom, left:right]


def resize(ink: np.ndarray, factor: float) -> np.ndarray:
    """Scaled by `factor`, anti-aliased: box-averaged to shrink, bilinear to enlarge."""
    h, w = ink.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    method = Image.Resampling.BOX if factor < 1 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(ink, mode="F").resize(size, method), dtype=np.float32)


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: ink area over half the outline length."""
    mask = (ink > 0.5).astype(np.uint8)
    inner = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)))  # beyond the border counts as ink
    return 2 * float(ink.sum()) / max(np.count_nonzero(mask) - np.count_nonzero(inner), 1)


def normalize_stroke_width(ink: np.ndarray) -> np.ndarray:
    """Thicken hair-thin strokes and thin marker-thick ones toward MNIST's width (at DETAIL_SCALE)."""
    ink = ink / max(float(ink.max()), 1e-6)
    target = MNIST_STROKE_WIDTH["median"]
    width = stroke_width(ink)
    if width < MNIST_STROKE_WIDTH["thinnest"]:
        # A hair-thin line arrives faint and uneven after shrinking: make it solid, then widen it.
        level = float(np.percentile(ink[ink > INK_FLOOR], 90)) if np.any(ink > INK_FLOOR) else 1.0
        ink = np.clip(ink / max(0.5 * level, 1e-6), 0, 1)
        size = int(round(target - stroke_width(ink))) | 1
        return max_filter(ink, size) if size > 1 else ink
    if width > MNIST_STROKE_WIDTH["thickest"]:
        thinner = -max_filter(-ink, min(int(round((width - target) / 2)) | 1, 9))
        return thinner if thinner.max() > 0.5 else ink
    return ink


def max_filter(ink: np.ndarray, size: int) -> np.ndarray:
    """Grey dilation with a size x size square (beyond the border counts as no ink).

    OpenCV's, which also takes images narrower than the square (PIL's MaxFilter crashes the process on them).
    """
    return cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))


def center_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place a digit (at most 28x28) in a 28x28 field with its centre of mass at the centre."""
    h, w = digit.shape
    total = float(digit.sum()) or 1.0
    cy = float((digit.sum(axis=1) * np.arange(h)).sum()) / total
    cx = float((digit.sum(axis=0) * np.arange(w)).sum()) / total
    top = int(np.clip(round(MNIST_CENTER - cy), 0, MNIST_SIZE - h))
    left = int(np.clip(round(MNIST_CENTER - cx), 0, MNIST_SIZE - w))
    field = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    field[top : top + h, left : left + w] = digit
    return field


def at_mnist_scale(ink: np.ndarray, length: int) -> np.ndarray:
    """Cropped ink scaled so that `length` px (a digit's longest side, a number's height) become DIGIT_BOX, as
    MNIST scaled its digits: float32 in 0..1, strokes of MNIST's width (fixed at DETAIL_SCALE times that size),
    the darkest ink full white as MNIST's cores. What the classifier and the number reader both read."""
    detailed = normalize_stroke_width(resize(ink, DIGIT_BOX * DETAIL_SCALE / length))
    scaled = resize(detailed, 1 / DETAIL_SCALE)
    return np.clip(scaled / max(float(scaled.max()), 1e-6), 0, 1)


def ink_to_mnist(ink: np.ndarray) -> np.ndarray:
    """A cropped ink map -> uint8 [28, 28], white digit on black, as MNIST."""
    return np.round(center_by_mass(at_mnist_scale(ink, max(ink.shape))) * 255).astype(np.uint8)


def to_mnist(picture) -> np.ndarray:
    """Any picture of one digit (or its `Ink`) -> uint8 [28, 28] as MNIST. Raises ImageError, BlankImageError."""
    return ink_to_mnist(crop_to_ink(locate_ink(picture).map))


def ascii_art(image: np.ndarray) -> str:
    """A uint8 image (rows of an MNIST-style digit) as text, one character per pixel, for the module commands."""
    return "\n".join("".join(" .:-=+*#%@"[min(9, v // 26)] for v in row) for row in image)


def main():
    try:
        mnist = to_mnist(picture_argument("preprocess"))
    except ImageError as error:
        sys.exit(str(error))
    print(ascii_art(mnist))


if __name__ == "__main__":
    main()
