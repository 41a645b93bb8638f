"""mnist_demo.segment: a drawing of a whole number -> its digits, left to right, with their boxes."""

import math
from collections import deque

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_demo.picture import BlankImageError, TooMuchInkError
from mnist_demo.segment import (
    MAX_CANDIDATES,
    MAX_CUTS,
    REDUNDANT_COST,
    Piece,
    cut_columns,
    cut_wide,
    join_subordinates,
    label_components,
    misfits,
    read_digits,
    unexplained_ink_costs,
)


def flood_fill_labels(mask: np.ndarray) -> np.ndarray:
    """The obvious 8-connected labelling, pixel by pixel: the oracle for the run-based one."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    count = 0
    for start in zip(*np.nonzero(mask)):
        if labels[start]:
            continue
        count += 1
        labels[start] = count
        queue = deque([start])
        while queue:
            y, x = queue.popleft()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not labels[ny, nx]:
                        labels[ny, nx] = count
                        queue.append((ny, nx))
    return labels


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Two labellings that differ only in the numbers given to the components."""
    pairs = {(int(x), int(y)) for x, y in zip(a.ravel(), b.ravel())}
    return len(pairs) == len({x for x, _ in pairs}) == len({y for _, y in pairs})


@pytest.mark.parametrize("seed", range(5))
def test_components_match_a_flood_fill(seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((40, 60)) < rng.uniform(0.2, 0.6)  # many components, diagonal contacts, one-pixel runs
    labels, boxes = label_components(mask)
    assert same_partition(labels, flood_fill_labels(mask))
    assert (labels > 0).sum() == mask.sum() and len(boxes) == labels.max()
    for k, (x0, y0, x1, y1) in enumerate(boxes, start=1):
        rows, cols = np.nonzero(labels == k)
        assert (x0, y0, x1, y1) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)


def compose(digits: list[np.ndarray], heights: list[int], gaps: list[int], side=(900, 320), top=80, left=60):
    """MNIST digits (white on black) scaled and written left to right as black ink on a transparent
    canvas, the Sketchpad's look; returns the image and where each digit's ink went (x0, y0, x1, y1)."""
    alpha = np.zeros((side[1], side[0]), dtype=np.uint8)
    boxes, x = [], left
    for digit, height, gap in zip(digits, heights, gaps + [0]):
        rows, cols = np.flatnonzero(digit.max(1) > 40), np.flatnonzero(digit.max(0) > 40)
        ink = Image.fromarray(digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
        scale = height / ink.height
        ink = np.asarray(ink.resize((round(ink.width * scale), height), Image.Resampling.BILINEAR))
        region = alpha[top : top + height, x : x + ink.shape[1]]
        np.maximum(region, ink, out=region)
        boxes.append((x, top, x + ink.shape[1], top + height))
        x += ink.shape[1] + gap
    rgba = np.zeros((side[1], side[0], 4), dtype=np.uint8)
    rgba[..., 3] = alpha
    return Image.fromarray(rgba, mode="RGBA"), boxes


def well_read_examples(classifier, mnist_test, wanted: str) -> list[np.ndarray]:
    """For each wanted digit, the first MNIST test image of it the model reads right on its own, surely:
    the tests below are about finding the digits, not about the model's few mistakes."""
    images, labels = mnist_test
    chosen = []
    for digit in wanted:
        candidates = np.flatnonzero(labels == int(digit))[:50]
        probabilities = classifier.predict_mnist(images[candidates])
        sure = candidates[(probabilities.argmax(1) == int(digit)) & (probabilities.max(1) > 0.95)]
        chosen.append(images[sure[len(chosen) % len(sure)]])
    return chosen


def iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union


def digits_read(classifier, image) -> str:
    return "".join(str(int(d.probabilities.argmax())) for d in read_digits(image, classifier.predict_mnist))


def test_a_number_of_mnist_test_digits_is_read_left_to_right_with_boxes(classifier, mnist_test):
    image, placed = compose(well_read_examples(classifier, mnist_test, "2026"), [120, 100, 130, 110], [40, 25, 55])
    digits = read_digits(image, classifier.predict_mnist)
    assert "".join(str(int(d.probabilities.argmax())) for d in digits) == "2026"
    for digit, box in zip(digits, placed):
        assert iou(digit.box, box) > 0.8, (digit.box, box)
        assert digit.mnist.shape == (28, 28) and digit.mnist.dtype == np.uint8


def test_boxes_are_in_the_input_images_pixels_even_when_it_is_reduced(classifier, mnist_test):
    digits = well_read_examples(classifier, mnist_test, "47")
    image, placed = compose(digits, [500, 480], [150], side=(1900, 900), top=200)
    digits = read_digits(image, classifier.predict_mnist)  # a 1900 px canvas is worked on at a quarter of that
    assert len(digits) == 2
    for digit, box in zip(digits, placed):
        assert iou(digit.box, box) > 0.85, (digit.box, box)


def test_touching_digits_are_split(classifier, mnist_test):
    digits = well_read_examples(classifier, mnist_test, "38")
    for overlap in range(4, 40, 4):  # slide the 8 over the 3 until their strokes just touch
        image, _ = compose(digits, [150, 150], [-overlap])
        if label_components(np.asarray(image)[..., 3] > 64)[0].max() == 1:
            break
    assert label_components(np.asarray(image)[..., 3] > 64)[0].max() == 1, "the test needs the two digits to touch"
    assert digits_read(classifier, image) == "38"


def test_the_strokes_of_one_digit_stay_together(classifier):
    """A 5 with its top bar lifted off, a 4 drawn in two strokes that do not meet, a 7 with a crossbar."""
    image = Image.new("L", (900, 300), 255)
    draw = ImageDraw.Draw(image)
    pen = dict(fill=0, width=14, joint="curve")
    draw.line([(95, 60), (85, 140)], **pen)  # 5: the stem...
    draw.arc((60, 110, 190, 250), start=-100, end=150, fill=0, width=14)  # ...and the belly
    draw.line([(110, 52), (190, 48)], **pen)  # ...and its top bar, lifted off
    draw.line([(330, 50), (290, 170), (362, 170)], **pen)  # 4: the angle...
    draw.line([(380, 60), (378, 250)], **pen)  # ...and the stem, apart
    draw.line([(520, 60), (640, 60), (560, 250)], **pen)  # 7
    draw.line([(540, 150), (630, 150)], **pen)  # ...its crossbar
    assert label_components(np.asarray(image) < 128)[0].max() == 6, "the test needs the strokes apart"
    assert digits_read(classifier, image) == "547"


def test_a_dust_speck_is_not_a_digit(classifier, mnist_test):
    image, _ = compose(well_read_examples(classifier, mnist_test, "61"), [120, 120], [60])
    alpha = np.asarray(image).copy()
    alpha[30:33, 700:703, 3] = 255  # a 3-pixel speck far from the digits
    assert digits_read(classifier, Image.fromarray(alpha, mode="RGBA")) == "61"


def test_a_blank_drawing_raises_blank_image_error(classifier):
    with pytest.raises(BlankImageError):
        read_digits(Image.new("RGBA", (400, 400), (0, 0, 0, 0)), classifier.predict_mnist)


def test_cut_candidates_stay_inside_a_long_flat_stroke():
    """A stroke far wider than tall once asked for a cut past its last column (IndexError)."""
    for width, height in ((40, 1), (3000, 40), (7, 3), (2, 1)):
        cuts = cut_columns(np.ones(width), height)
        assert all(0 < c < width for c in cuts) and len(cuts) <= MAX_CUTS


def test_many_strokes_cost_at_most_max_candidates_model_reads(classifier):
    """Forty bars in a row: every way of grouping them would be hundreds of forward passes."""
    image = Image.new("L", (2000, 300), 255)
    draw = ImageDraw.Draw(image)
    for k in range(40):
        draw.line([(48 * k + 30, 90), (48 * k + 40, 210)], fill=0, width=12)
    seen = []
    digits = read_digits(image, lambda images: seen.append(len(images)) or classifier.predict_mnist(images))
    assert sum(seen) <= MAX_CANDIDATES and len(digits) >= 1


def test_noise_is_too_much_ink_to_read_as_a_number(classifier):
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (800, 800), dtype=np.uint8))
    with pytest.raises(TooMuchInkError, match="Too much ink"):
        read_digits(noise, classifier.predict_mnist)


def test_the_slices_of_a_cut_component_hold_its_ink_once_and_one_cut_goes_through_the_neck():
    mask = np.zeros((60, 120), dtype=bool)
    mask[:, :50] = mask[:, 70:] = True  # two blobs ...
    mask[28:33, 50:70] = True  # ... joined by a thin neck
    labels, boxes = label_components(mask)
    pieces = cut_wide(labels, join_subordinates(boxes), tallest=60)
    covered = sum(p.region(0, 60, 0, 120).astype(int) for p in pieces)
    assert len(pieces) >= 2 and (covered[mask] == 1).all()
    assert any(50 <= p.cut[1] <= 70 for p in pieces[:-1])


def slice_of(component: int, x0: int, x1: int, y0: int, y1: int) -> Piece:
    return Piece(ids=(component + 1,), x0=x0, x1=x1, y0=y0, y1=y1, component=component)


def whole(component: int, x0: int, x1: int, y0: int, y1: int) -> Piece:
    return Piece(ids=(component + 1,), x0=x0, x1=x1, y0=y0, y1=y1, component=-1)


def test_a_number_written_on_one_line_at_one_size_fits():
    pieces = [whole(0, 0, 60, 0, 100), slice_of(1, 80, 110, 5, 100), slice_of(1, 110, 170, 0, 95)]  # a 1 leans on a 5
    assert misfits(pieces, [(0, 1), (1, 2), (2, 3)], [2, 1, 5]) == [False, False, False]


def test_a_stroke_cut_into_three_digits_or_two_ones_does_not_fit_a_number():
    coil = [slice_of(0, 60 * k, 60 * (k + 1), 0, 100) for k in range(3)]  # a row of loops, read as 000
    assert misfits(coil, [(0, 1), (1, 2), (2, 3)], [0, 0, 0]) == [True, True, True]
    u = [slice_of(0, 0, 30, 0, 100), slice_of(0, 30, 60, 0, 100)]  # the legs of a U, read as 11
    assert misfits(u, [(0, 1), (1, 2)], [1, 1]) == [True, True]
    assert misfits(u, [(0, 1), (1, 2)], [1, 7]) == [False, False]  # a 1 touching a 7 is a number


def test_a_digit_far_smaller_does_not_fit_a_number():
    small = [whole(0, 0, 60, 0, 100), whole(1, 80, 100, 60, 100)]  # a scribble's tail beside its loop
    assert misfits(small, [(0, 1), (1, 2)], [6, 1]) == [False, True]


@pytest.mark.parametrize("wanted", ["21", "41", "14"])
def test_a_1_touching_its_neighbour_is_read_not_swallowed(classifier, mnist_test, wanted):
    """Sure of the 2, the model reads "21" touching as a sure 2 too: the split explains all the ink (once read 2)."""
    digits = well_read_examples(classifier, mnist_test, wanted)
    for overlap in range(2, 40, 2):  # slide the right digit over the left one until their strokes just touch
        image, _ = compose(digits, [150, 150], [-overlap])
        if label_components(np.asarray(image)[..., 3] > 64)[0].max() == 1:
            break
    assert label_components(np.asarray(image)[..., 3] > 64)[0].max() == 1, "the test needs the two digits to touch"
    assert digits_read(classifier, image) == wanted


def test_a_group_that_reads_as_one_of_its_parts_costs_more_only_when_the_other_part_is_a_sure_digit_apart():
    apart = [Piece((1,), 0, 60, 0, 100, component=-1), Piece((2,), 55, 80, 0, 100, component=-1)]
    sure, unsure = math.log(0.99), math.log(0.5)
    scores = {(0, 1): sure, (1, 2): sure, (0, 2): sure}
    assert unexplained_ink_costs(apart, scores, {(0, 1): 2, (1, 2): 1, (0, 2): 2})[0, 2] == sure - REDUNDANT_COST
    assert unexplained_ink_costs(apart, scores, {(0, 1): 4, (1, 2): 1, (0, 2): 7}) == scores  # a third digit
    assert unexplained_ink_costs(apart, scores, {(0, 1): 1, (1, 2): 1, (0, 2): 1}) == scores  # a slanted 1's slices
    unsure_part = {**scores, (1, 2): unsure}
    assert unexplained_ink_costs(apart, unsure_part, {(0, 1): 2, (1, 2): 1, (0, 2): 2}) == unsure_part


def test_of_two_slices_of_one_stroke_only_a_full_height_1_is_a_digit_of_its_own():
    sure = math.log(0.99)
    scores = {(0, 1): sure, (1, 2): sure, (0, 2): sure}
    one = [Piece((1,), 0, 60, 0, 100, component=0), Piece((1,), 60, 80, 5, 100, component=0)]
    tail = [Piece((1,), 0, 60, 0, 100, component=0), Piece((1,), 60, 80, 50, 100, component=0)]
    assert unexplained_ink_costs(one, scores, {(0, 1): 2, (1, 2): 1, (0, 2): 2})[0, 2] == sure - REDUNDANT_COST
    assert unexplained_ink_costs(one, scores, {(0, 1): 6, (1, 2): 7, (0, 2): 6}) == scores  # a 6 and its tail
    assert unexplained_ink_costs(tail, scores, {(0, 1): 2, (1, 2): 1, (0, 2): 2}) == scores  # a short slice
