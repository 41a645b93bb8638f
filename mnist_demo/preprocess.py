"""Turn any picture of a digit into the 28x28 image MNIST itself would have made of it.

MNIST's recipe (LeCun et al.): the digit's bounding box is scaled, keeping its aspect
ratio and anti-aliased, so its longest side is 20 px, then placed in a 28x28 field so
its centre of mass sits at the centre. We follow it, and add what a drawing on a
canvas needs first: ink from any image mode and either polarity, blank detection,
early downscaling of huge images, and stroke-width normalisation (a 2 px pen on an
800 px canvas would otherwise vanish when shrunk 40 times).

    python -m mnist_demo.preprocess digit.png   # prints the 28x28 result as text
"""

import io
import math
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

MNIST_SIZE = 28
DIGIT_BOX = 20  # MNIST scales the longest side of a digit to 20 px
MNIST_CENTER = 14.0  # where MNIST puts the centre of mass (row and column: 14.00 on average over its training set)
WORK_SIDE = 400  # huge images are box-reduced to about this first: bounded work
DETAIL_SCALE = 4  # stroke widths are measured and fixed at 4x the final size (80 px)
# MNIST's stroke widths, measured by stroke_width() at the 80 px detail scale on its test set:
# 15th percentile, median, 99th percentile. Strokes thinner than most of MNIST's, or thicker
# than nearly all, are brought to its median; the rest are left as drawn.
MNIST_STROKE_WIDTH = {"thinnest": 8.0, "median": 10.8, "thickest": 22.0}
INK_FLOOR = 0.06  # ink below this is paper texture or compression noise
BLANK_PIXELS = 3  # fewer clearly inked pixels than this is a blank image
# Photos of paper (`paper_ink`). Set on photos made from MNIST *validation* digits, not the held-out sets.
UNIFORM_LEVELS = 3  # a drawing's background: border pixels within this many grey levels of its median ...
UNIFORM_SHARE = 0.6  # ... at least this share of them; fewer is a photo or scan of paper
PHOTO_MIN_SIDE = 24  # smaller pictures are read as drawings
PHOTO_SIDE = 320  # photos are read at about this size: their digit is 15-60% of it, their ruled lines faint
PAPER_WINDOW = 0.25  # the closing that estimates the paper's light: this share of the short side, wider than strokes
LINE_LENGTH = 0.85  # a straight run longer than this share of the side is a ruled line (no stroke is that long)
LINE_TILTS = (-9, -6, -3, 0, 3, 6, 9)  # degrees: lines are looked for at these tilts ...
LINE_DRIFT = 0.04  # ... and this much (share of the side) across them
STROKE_OVER_LINE = 1.5  # contrast this many times a line's, where the line runs, is a stroke crossing it
NOISE_SIGMAS = 4.0  # the contrast this many noise deviations above the paper's is ink
MIN_PHOTO_CONTRAST = 0.1  # less contrast than this anywhere is plain paper
STROKE_CORE = 0.8  # strokes reaching this share of the peak contrast are solid, as MNIST's cores
SPECK_SHARE = 0.08  # marks smaller than this share of the largest one are specks
EDGE_MARGIN = 0.01  # marks this close to the frame's edge (share of the side) are cut by it
EDGE_DIGIT_SHARE = 0.02  # a mark cut by the edge, and alone, is a digit when it covers this share of the frame
MAX_PHOTO_INK = 0.2  # digits 60% of the frame's height ink under a tenth of it; more is a pattern (wood, cloth)
# Photos of objects (`refuse_objects`), set on development sets only (objects from `heldout_sets.not_writing` seeds
# 1005 and 2005; photos of validation digits, also dilated twice and three times as a thick marker's).
MAX_HALF_WIDTH = 0.44  # thickest half-width of ink over its longest side: a filled disc 0.5, marker digits <= 0.42
FLANK_GAP, FLANK_REACH = 4, 8  # px at PHOTO_SIDE: the band around ink (past its soft edge) that a stroke leaves paper
MAX_DARK_FLANK = 0.2  # share of that band half as dark as ink: along an object's edge up to 0.5, marker digits <= 0.17


class ImageError(ValueError):
    """An input that is not a usable image; the message is meant for a person."""


class BlankImageError(ImageError):
    """An image with no ink on it."""


class TooMuchInkError(ImageError):
    """A picture with far more separate marks than any number has (noise, a texture, a page of text)."""


class ObjectPhotoError(TooMuchInkError):
    """A photo whose ink is filled shapes or the edges of dark things, not strokes of writing."""


def open_image(source) -> Image.Image:
    """A PIL image from a path, bytes, numpy array, PIL image or Gradio Sketchpad value."""
    if isinstance(source, dict):  # gr.Sketchpad / gr.ImageEditor value
        source = source.get("composite")
        if source is None:
            raise BlankImageError("The canvas is empty: draw a digit.")
    if isinstance(source, Image.Image):
        return first_frame(source)
    if isinstance(source, np.ndarray):
        return array_to_image(source)
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    elif not isinstance(source, (str, Path)):
        raise ImageError(f"Expected an image, got {type(source).__name__}.")
    try:
        image = Image.open(source)
        image = first_frame(image)
        image.load()
    except FileNotFoundError:
        raise ImageError(f"No such image file: {source}.") from None
    except Image.DecompressionBombError:
        raise ImageError("This image has too many pixels to process safely.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageError(
            "This file could not be read as an image: it may be truncated, corrupt or not an image at all."
        ) from None
    return image


def first_frame(image: Image.Image) -> Image.Image:
    """The first frame of an animated image (GIF, APNG, WebP); the image itself otherwise."""
    if getattr(image, "n_frames", 1) > 1:
        image = next(ImageSequence.Iterator(image)).copy()
    return image


def array_to_image(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (2, 3, 4)) or 0 in array.shape:
        raise ImageError(f"Expected a 2-D grey or colour image, got an array of shape {array.shape}.")
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype == np.uint16:
        array = (array // 257).astype(np.uint8)
    elif array.dtype.kind == "f":
        array = np.nan_to_num(array.astype(np.float32))
        scale = 255.0 if array.max(initial=0) <= 1.0 else 1.0
        array = np.clip(array * scale, 0, 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 2:
        array = np.concatenate([np.repeat(array[:, :, :1], 3, axis=2), array[:, :, 1:]], axis=2)
    return Image.fromarray(np.ascontiguousarray(array))


def standard_mode(image: Image.Image) -> Image.Image:
    """One of L, RGB, RGBA, I, F: the modes every later step (and PIL's reduce) handles."""
    if image.mode in ("L", "RGB", "RGBA", "I", "F"):
        return image
    if image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    if image.mode.startswith("I;16"):
        return image.convert("I")
    return image.convert("L" if image.mode == "1" else "RGB")


def reduce_huge(image: Image.Image) -> Image.Image:
    """Box-reduce by a whole factor so the longest side is near WORK_SIDE: bounded, cheap work."""
    factor = max(image.size) // WORK_SIDE
    return image.reduce(factor) if factor >= 2 else image


def ink_map(image: Image.Image) -> np.ndarray:
    """Float32 [H, W] in 0..1, 1 where there is ink, whatever the mode and polarity (the canvas path)."""
    image = standard_mode(image)
    grey = opaque_grey(image)
    if grey is None:  # a transparent background: the ink is whatever is opaque
        return clean(np.asarray(image.getchannel("A"), dtype=np.float32) / 255)
    return ink_from_grey(grey)


def opaque_grey(image: Image.Image) -> np.ndarray | None:
    """Float32 [H, W] grey levels in 0..1, or None for an image with a transparent background."""
    image = standard_mode(image)
    if image.mode in ("I", "F"):
        grey = np.asarray(image.convert("F") if image.mode != "F" else image, dtype=np.float32)
        top = grey.max(initial=0)
        grey = grey / (65535.0 if top > 255 else 255.0) if top > 1 else grey
        return np.clip(grey, 0, 1)
    if image.mode == "RGBA":
        if np.asarray(image.getchannel("A")).min() < 250:
            return None
        image = image.convert("RGB")
    return np.asarray(image.convert("L"), dtype=np.float32) / 255


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


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), exclusive ends, of the clearly inked pixels; BlankImageError if none."""
    mask = ink > 0.25 * max(float(ink.max(initial=0)), 0.2)
    if ink.max(initial=0) < 0.15 or mask.sum() < min(BLANK_PIXELS, mask.size):
        raise BlankImageError("No digit found: the image is blank.")
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The bounding box of the clearly inked pixels; BlankImageError when there are none."""
    top, bottom, left, right = ink_box(ink)
    return ink[top:bottom, left:right]


def reduced_ink(image: Image.Image) -> tuple[np.ndarray, bool]:
    """The ink map of a reduced copy of the picture, and whether it is a photo's (`paper_ink`'s).

    A transparent canvas's ink is its alpha; an opaque picture whose background varies is a
    photo of paper; any other is a drawing or a clean scan, read against one paper level.
    """
    ink = transparent_ink(image)
    if ink is not None:
        return ink, False
    grey = opaque_grey(reduce_huge(image))
    if looks_like_photo(grey):
        return paper_ink(grey), True
    return ink_from_grey(grey), False


def located_ink(image: Image.Image) -> tuple[np.ndarray, float, tuple[int, int]]:
    """The ink map of the drawing, with detail enough for each of its digits (one digit or a whole number).

    Returns (ink, scale, (left, top)): ink pixel (x, y) is input pixel (left + x * scale,
    top + y * scale). The ink is found on a reduced copy of a huge image (bounded work);
    a photo's ink is separated from its paper (`paper_ink`); for a drawing, when that leaves
    the digits small (a digit or a number written small on a big canvas), the inked region
    is read again from the full-resolution pixels. Raises BlankImageError when there is no ink.
    """
    ink, photo = reduced_ink(image)
    if photo:
        ink_box(ink)  # BlankImageError for a photo of empty paper
        return ink, image.width / ink.shape[1], (0, 0)
    top, bottom, left, right = ink_box(ink)
    scale = image.width / ink.shape[1]
    if scale == 1 or bottom - top >= DIGIT_BOX * DETAIL_SCALE:
        return ink, scale, (0, 0)
    margin = 2  # reduced pixels of background around the ink: the border that tells paper from ink
    region = (
        max(0, int((left - margin) * scale)),
        max(0, int((top - margin) * scale)),
        min(image.width, math.ceil((right + margin) * scale)),
        min(image.height, math.ceil((bottom + margin) * scale)),
    )
    factor = max(1, int((bottom - top) * scale) // (DIGIT_BOX * DETAIL_SCALE))
    crop = image.crop(region)
    return ink_map(crop.reduce(factor) if factor > 1 else crop), factor, region[:2]


# --- photos and scans of paper ---------------------------------------------------------------------


def border_of(grey: np.ndarray) -> np.ndarray:
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


def looks_like_photo(grey: np.ndarray) -> bool:
    """True for a photo or scan of paper: a background of varying grey (light, texture, sensor noise).

    A canvas drawing, a digital image or a clean scan has a uniform background: most of its
    border is within a few grey levels of one value. Only photos take the slower paper path.
    """
    border = border_of(grey)
    uniform = np.abs(border - np.median(border)) <= UNIFORM_LEVELS / 255
    return min(grey.shape) >= PHOTO_MIN_SIDE and float(uniform.mean()) < UNIFORM_SHARE


def paper_ink(grey: np.ndarray) -> np.ndarray:
    """The ink of a photo of writing on paper, float32 [H, W] in 0..1, at about PHOTO_SIDE px.

    The paper's light (uneven, with shadows) is estimated by a morphological closing, which
    removes strokes narrower than its window but keeps the step of a shadow's edge, and divided
    out: what is left is each pixel's contrast with its own paper. Ruled or squared lines are
    the long straight parts of that contrast and are subtracted; the sensor's noise level is
    measured and cut off; specks far smaller than the writing are dropped. Raises TooMuchInkError for a
    pattern, and ObjectPhotoError when what is left is things on a table, not writing (`refuse_objects`).
    """
    grey = fit_within(grey, PHOTO_SIDE)
    if np.median(border_of(grey)) < 0.5:  # light writing on a dark ground (chalk on a board)
        grey = 1 - grey
    light = paper_light(grey)
    contrast = np.clip(1 - grey / np.maximum(light, 0.02), 0, 1)
    if np.count_nonzero(contrast > 0.5 * contrast.max()) > MAX_PHOTO_INK * contrast.size:
        raise TooMuchInkError(
            "Too much ink to read as digits: this looks like a photo of a pattern or of things, "
            "not of digits written on paper."
        )
    contrast = without_lines(contrast)
    sample = contrast[::3, ::3]  # the paper's noise level from a ninth of the pixels: as good, and cheaper
    noise = float(np.median(sample))
    spread = 1.4826 * float(np.median(np.abs(sample - noise)))
    floor = noise + NOISE_SIGMAS * spread + INK_FLOOR
    peak = float(cv2.blur(contrast, (3, 3)).max())
    if peak - floor < MIN_PHOTO_CONTRAST:
        return np.zeros_like(contrast)  # plain paper
    ink = without_specks(np.clip((contrast - floor) / (STROKE_CORE * (peak - floor)), 0, 1))
    refuse_objects(grey, light, ink)
    return ink


def fit_within(grey: np.ndarray, side: int) -> np.ndarray:
    """Shrunk by area averaging so its longest side is at most `side`."""
    scale = side / max(grey.shape)
    if scale >= 1:
        return grey
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def paper_light(grey: np.ndarray) -> np.ndarray:
    """The paper's brightness under every pixel: a closing wider than any stroke, on a half-size copy."""
    small = fit_within(grey, max(grey.shape) // 2)
    window = odd(PAPER_WINDOW * min(small.shape))
    # Mirrored beyond the frame: a shadow over a corner stays as wide as the window there, so the closing keeps it.
    closed = cv2.morphologyEx(
        small,
        cv2.MORPH_CLOSE,
        cv2.getStructuringElement(cv2.MORPH_RECT, (window, window)),
        borderType=cv2.BORDER_REFLECT,
    )
    return cv2.resize(closed, grey.shape[::-1], interpolation=cv2.INTER_LINEAR)


def without_lines(contrast: np.ndarray) -> np.ndarray:
    """Contrast less the paper's ruled or squared lines: straight runs across most of the frame (LINE_LENGTH).

    A line's level is the opening of the contrast by a long thin window (the least contrast
    along it), on copies sheared by each of LINE_TILTS so that a tilted line runs along the
    window, and widened across it by a few pixels. Where a stroke crosses a line it is far
    darker than the line, and kept as it is.
    """
    lines = np.zeros_like(contrast)
    for transposed in (False, True):  # ruled lines, then the squares' other lines
        image = contrast.T if transposed else contrast
        found = np.zeros_like(image)
        for tilt in LINE_TILTS:
            found = np.maximum(found, straight_runs(image, math.tan(math.radians(tilt))))
        lines = np.maximum(lines, found.T if transposed else found)
    return np.where(contrast > STROKE_OVER_LINE * lines, contrast, np.clip(contrast - lines, 0, 1))


def straight_runs(image: np.ndarray, slope: float) -> np.ndarray:
    """The level of rows-long runs of contrast at `slope` (dy/dx): shear them level, open, shear back."""
    height, width = image.shape
    shear = np.float32([[1, 0, 0], [-slope, 1, slope * width / 2]])
    level = cv2.warpAffine(image, shear, (width, height), flags=cv2.INTER_LINEAR)
    level = cv2.dilate(level, cv2.getStructuringElement(cv2.MORPH_RECT, (1, odd(LINE_DRIFT * height))))
    level = cv2.morphologyEx(
        level, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (odd(LINE_LENGTH * width), 1))
    )
    return cv2.warpAffine(level, shear, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


def without_specks(ink: np.ndarray) -> np.ndarray:
    """The ink less its specks (marks with less than SPECK_SHARE of the largest mark's area) and less what
    the frame's edge cuts (a shadow's corner, the page's edge) unless it is bigger than any mark within."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((ink > 0.25).astype(np.uint8), connectivity=8)
    if count == 1:
        return ink
    x, y, w, h, areas = (stats[1:, k] for k in range(5))
    near = EDGE_MARGIN * max(ink.shape)
    at_edge = (x <= near) | (y <= near) | (x + w >= ink.shape[1] - near) | (y + h >= ink.shape[0] - near)
    marks = areas >= SPECK_SHARE * areas.max()
    largest_within = areas[marks & ~at_edge].max(initial=0)
    # With nothing within, a big mark the edge cuts is a digit written too near it; a small one a shadow's corner.
    keep = marks & (~at_edge | (areas > max(largest_within, EDGE_DIGIT_SHARE * ink.size)))
    kept = cv2.dilate(np.concatenate([[0], keep]).astype(np.uint8)[labels], np.ones((5, 5), np.uint8)) > 0
    return np.where(kept, ink, 0).astype(np.float32)


def refuse_objects(grey: np.ndarray, light: np.ndarray, ink: np.ndarray) -> None:
    """ObjectPhotoError when a photo's ink is not strokes of writing but things on a table.

    The closing that finds the paper takes a dark thing wider than its window for paper: what
    is left as ink is the thing itself, filled (far thicker for its size than any stroke, even
    a marker's: MAX_HALF_WIDTH), or a line along its edge, a crescent at its end (dark on one
    side, where a stroke has paper on both: MAX_DARK_FLANK).
    """
    mask = (ink > 0.25).astype(np.uint8)
    if not mask.any():
        return
    _, _, width, height = cv2.boundingRect(mask)
    filled = float(cv2.distanceTransform(mask, cv2.DIST_L2, 5).max()) > MAX_HALF_WIDTH * max(width, height)
    if filled or dark_flank(grey, light, ink) > MAX_DARK_FLANK:
        raise ObjectPhotoError(
            "Too much ink to read as digits: this looks like a photo of objects, not of handwriting "
            "(filled shapes, or the edges of things, rather than pen strokes)."
        )


def dark_flank(grey: np.ndarray, light: np.ndarray, ink: np.ndarray) -> float:
    """The share of the band around the ink (FLANK_GAP to FLANK_REACH px out) at least half as dark as the ink,
    both against the paper the nearby ink was measured on (`light`): about 0 beside strokes, which have paper on
    both sides; up to 0.5 along the edge of a dark thing, whose inside the closing took for paper."""
    core = ink > 0.5
    marked = (ink > 0.05).astype(np.uint8)
    band = (cv2.dilate(marked, np.ones((2 * FLANK_REACH + 1,) * 2, np.uint8)) > 0) & ~(
        cv2.dilate(marked, np.ones((2 * FLANK_GAP + 1,) * 2, np.uint8)) > 0
    )
    if not core.any() or not band.any():
        return 0.0
    ink_darkness = float(np.median(1 - grey[core] / np.maximum(light[core], 0.02)))
    # The paper under the nearest ink: where a stroke crosses a shadow's edge, each side keeps its own paper.
    paper = cv2.dilate(np.where(core, light, 0).astype(np.float32), np.ones((2 * FLANK_REACH + 1,) * 2, np.uint8))
    darkness = 1 - grey[band] / np.maximum(paper[band], 0.02)
    return float(np.mean(darkness > 0.5 * ink_darkness))


def odd(size: float) -> int:
    return max(1, int(round(size)) // 2 * 2 + 1)


def digit_ink(image: Image.Image) -> np.ndarray:
    """The ink map of a drawing of one digit, cropped to it, read at no less detail than the final steps need."""
    return crop_to_ink(located_ink(image)[0])


def resize(ink: np.ndarray, longest_side: int) -> np.ndarray:
    """Scale so the longest side is `longest_side`, keeping the aspect ratio, anti-aliased."""
    h, w = ink.shape
    scale = longest_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(ink, mode="F").resize(size, method), dtype=np.float32)


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: ink area over half the outline length."""
    mask = ink > 0.5
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    outline = np.count_nonzero(mask & ~inner)
    return 2 * float(ink.sum()) / max(outline, 1)


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


def ink_to_mnist(ink: np.ndarray) -> np.ndarray:
    """A cropped ink map -> uint8 [28, 28], white digit on black, as MNIST."""
    detailed = normalize_stroke_width(resize(ink, DIGIT_BOX * DETAIL_SCALE))
    digit = resize(detailed, DIGIT_BOX)
    digit = np.clip(digit / max(float(digit.max()), 1e-6), 0, 1)  # MNIST's strokes have a full-white core
    return np.round(center_by_mass(digit) * 255).astype(np.uint8)


def to_mnist(source) -> np.ndarray:
    """Any picture of one digit -> uint8 [28, 28] in MNIST's format. Raises ImageError / BlankImageError."""
    return ink_to_mnist(digit_ink(standard_mode(open_image(source))))


def transparent_ink(image: Image.Image) -> np.ndarray | None:
    """The ink of a drawing on a transparent background (a Sketchpad's), or None when the image is opaque.

    The same ink as `ink_map(reduce_huge(image))`, but only the alpha channel is reduced:
    Pillow premultiplies all four channels to reduce RGBA, which is most of the
    preprocessing time of an 800x800 canvas.
    """
    if image.mode not in ("RGBA", "LA"):
        return None
    alpha = np.asarray(reduce_huge(image.getchannel("A")))
    return ALPHA_TO_INK.take(alpha) if alpha.min() < 250 else None  # take: twice as fast as indexing


def picture_argument(module: str) -> str:
    """The image path of a `python -m mnist_demo.<module> IMAGE` command; a usage line (and exit 2) without one."""
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        print(f"usage: python -m mnist_demo.{module} IMAGE", file=sys.stderr)
        sys.exit(2)
    return sys.argv[1]


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
