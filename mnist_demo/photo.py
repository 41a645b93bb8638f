"""The ink of a photo or scan of writing on paper: its light, shadows, ruled lines, noise and specks taken out.

A photo of paper has a background of varying grey (light, texture, sensor noise), where a
drawing has one paper level and a thumbnail scaled up too little detail to tell (`looks_like_photo`).
Its ink is each pixel's contrast with its own paper, less the paper's lines, noise and specks
(`paper_ink`); a photo of things on a table, not of writing, is refused (`refuse_objects`).
`mnist_demo.preprocess` takes this path for photos; `python -m mnist_demo.draw_view photo.jpg`
saves the ink it keeps beside the photo.
"""

import math

import cv2
import numpy as np

from .picture import INK_FLOOR, ObjectPhotoError, TooMuchInkError, border_of

# Photos of paper (`paper_ink`). Set on photos made from MNIST *validation* digits, not the held-out sets.
UNIFORM_LEVELS = 3  # a drawing's background: border pixels within this many grey levels of its median ...
UNIFORM_SHARE = 0.6  # ... at least this share of them; fewer is a photo or scan of paper
THUMBNAIL_SIDE = 48  # thumbnails scaled up are read as drawings: shrunk to this side and enlarged back, they
THUMBNAIL_LOSS = 0.0065  # change by under this share of their contrast on average (`detail_lost`). A scan's digit
# fills its frame, so the paper window would take its blurred strokes for paper. On 600 dev scans
# (`heldout_sets.form_scans`, seed 1104): read right 83.3% -> 87.8%, flagged 14.0% -> 10.0%; measured on the
# thumbnail's own pixels (`unrepeated`), 89.8% and 8.5%. 600 dev photos (seeds 1003, 1103: the least loss 0.0076)
# and 600 photos of objects (seeds 1005, 1105: 7 taken for thumbnails, flagged still) read as before.
PHOTO_SIDE = 320  # photos are read at about this size: their digit is 15-60% of it, their ruled lines faint
PAPER_WINDOW = 0.25  # the closing that estimates the paper's light: this share of the short side, wider than strokes
LINE_LENGTH = 0.85  # a straight run longer than this share of the side is a ruled line (no stroke is that long)
LINE_TILTS = (-9, -6, -3, 0, 3, 6, 9)  # degrees: lines are looked for at these tilts ...
LINE_DRIFT = 0.04  # ... and this much (share of the side) across them
STROKE_OVER_LINE = 1.5  # contrast this many times a line's, where the line runs, is a stroke crossing it
LEVELS = 65535  # lines are looked for in 16-bit levels of contrast (`straight_runs`)
NOISE_SIGMAS = 4.0  # the contrast this many noise deviations above the paper's is ink ...
FAINT_SIGMAS = 2.0  # ... and this many, where it joins such ink (`joined_ink`)
MIN_PHOTO_CONTRAST = 0.03  # less contrast than this above the ink's floor is plain paper (0.1: 11% of dev scans blank)
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


def looks_like_photo(grey: np.ndarray) -> bool:
    """True for a photo or scan of paper: a background of varying grey (light, texture, sensor noise).

    A canvas drawing, a digital image or a clean scan has a uniform background: most of its
    border is within a few grey levels of one value; a thumbnail scaled up has too little detail
    for light and shadows across its paper. Only photos take the slower paper path.
    """
    border = border_of(grey)
    uniform = np.abs(border - np.median(border)) <= UNIFORM_LEVELS / 255
    if float(uniform.mean()) >= UNIFORM_SHARE:
        return False
    return detail_lost(unrepeated(grey), THUMBNAIL_SIDE) > THUMBNAIL_LOSS


def unrepeated(grey: np.ndarray) -> np.ndarray:
    """`grey` less each row and column that repeats the one before it exactly: a thumbnail enlarged by repeating
    its pixels (nearest neighbour) back at its own pixels, whose blocks' edges are no detail; a photo, whose grain
    differs from row to row, as it is."""
    rows = np.concatenate([[True], np.any(grey[1:] != grey[:-1], axis=1)])
    columns = np.concatenate([[True], np.any(grey[:, 1:] != grey[:, :-1], axis=0)])
    return grey[rows][:, columns]


def detail_lost(grey: np.ndarray, side: int) -> float:
    """How much `grey` changes when shrunk to `side` (its longest side) and enlarged back: the mean change as a
    share of its contrast. About 0 for a thumbnail scaled up (no detail finer than `side`), and 0 for a picture no
    bigger than `side`; a photo loses its grain, edges and strokes."""
    small = fit_within(grey, side)
    if small.shape == grey.shape:
        return 0.0  # no bigger than `side`: nothing to lose
    back = cv2.resize(small, grey.shape[::-1], interpolation=cv2.INTER_CUBIC)
    return float(np.abs(grey - back).mean()) / max(float(small.max() - small.min()), 1e-3)


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
    refuse_objects(grey, light, without_specks(ink_above(contrast, floor, peak)))
    return without_specks(joined_ink(contrast, floor, noise + FAINT_SIGMAS * spread, peak))


def ink_above(contrast: np.ndarray, zero, peak: float) -> np.ndarray:
    """Ink in 0..1: contrast above `zero` (a level, or one per pixel), solid from STROKE_CORE of the way to `peak`."""
    return np.clip((contrast - zero) / (STROKE_CORE * (peak - zero)), 0, 1).astype(np.float32)


def joined_ink(contrast: np.ndarray, floor: float, faint: float, peak: float) -> np.ndarray:
    """Ink in 0..1: contrast above `floor`, and above `faint` where it joins such ink (hysteresis, as Canny's edges),
    so the pale part of a stroke pressed unevenly or blurred by a scanner stays with its darker part; not in a mark
    the frame cuts (a shadow's edge is pale and wide). On the development sets (600 scans; 600 photos, 600 of
    objects), against no joining: scans read right 87.8% vs 84.7% (the scans `looks_like_photo` sends here), photos
    and objects unchanged (98.3% / 97.3% read right, 99.5% flagged); without the frame rule, photos 97.5% / 96.2%
    and objects 99.0%. (A rule that pale ink be 3 px thick, once here, no longer changed any of these.)"""
    strong = contrast > floor
    count, marks, stats, _ = cv2.connectedComponentsWithStats((contrast > faint).astype(np.uint8), connectivity=8)
    # A mark the frame cuts is a shadow's corner, whose soft edge is no stroke.
    joined = (np.bincount(marks[strong], minlength=count) > 0) & ~cut_by_frame(stats, contrast.shape)
    joined[0] = False  # the paper
    return ink_above(contrast, np.where(joined[marks], faint, floor), peak)


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
    """The level of rows-long runs of contrast at `slope` (dy/dx): shear them level, open, shear back.

    The opening runs on 16-bit levels, twice as fast as on floats: min and max commute with
    rounding, so it is the float one rounded, to 1/65535."""
    height, width = image.shape
    shear = np.float32([[1, 0, 0], [-slope, 1, slope * width / 2]])
    level = cv2.warpAffine(image, shear, (width, height), flags=cv2.INTER_LINEAR) if slope else image
    level = (level * LEVELS + 0.5).astype(np.uint16)
    level = cv2.dilate(level, cv2.getStructuringElement(cv2.MORPH_RECT, (1, odd(LINE_DRIFT * height))))
    level = cv2.morphologyEx(
        level, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (odd(LINE_LENGTH * width), 1))
    )
    level = level.astype(np.float32) / LEVELS
    if not slope:  # level already: no shear to undo
        return level
    return cv2.warpAffine(level, shear, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)


def without_specks(ink: np.ndarray) -> np.ndarray:
    """The ink less its specks (marks with less than SPECK_SHARE of the largest mark's area) and less what
    the frame's edge cuts (a shadow's corner, the page's edge) unless it is bigger than any mark within."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((ink > 0.25).astype(np.uint8), connectivity=8)
    if count == 1:
        return ink
    areas, at_edge = stats[1:, cv2.CC_STAT_AREA], cut_by_frame(stats[1:], ink.shape)
    marks = areas >= SPECK_SHARE * areas.max()
    largest_within = areas[marks & ~at_edge].max(initial=0)
    # With nothing within, a big mark the edge cuts is a digit written too near it; a small one a shadow's corner.
    keep = marks & (~at_edge | (areas > max(largest_within, EDGE_DIGIT_SHARE * ink.size)))
    kept = cv2.dilate(np.concatenate([[0], keep]).astype(np.uint8)[labels], np.ones((5, 5), np.uint8)) > 0
    return np.where(kept, ink, 0).astype(np.float32)


def cut_by_frame(stats: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Which marks (rows of OpenCV's component stats) come within EDGE_MARGIN of the frame's edge."""
    x, y, w, h = (stats[:, k] for k in range(4))
    near = EDGE_MARGIN * max(shape)
    return (x <= near) | (y <= near) | (x + w >= shape[1] - near) | (y + h >= shape[0] - near)


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
