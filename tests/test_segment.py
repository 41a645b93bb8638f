"""mnist_demo.segment: a drawing of a whole number -> its digits, left to right, with their boxes."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_demo.number_reader import MARGIN, Mark, load_reader
from mnist_demo.picture import BlankImageError, TooMuchInkError
from mnist_demo.segment import column_owners, components, least_ink_column, read_digits


@pytest.fixture(scope="module")
def reader():
    return load_reader()


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


def digits_read(reader, image) -> str:
    return "".join(str(int(d.probabilities.argmax())) for d in read_digits(image, reader))


def test_a_number_of_mnist_test_digits_is_read_left_to_right_with_boxes(reader, classifier, mnist_test):
    image, placed = compose(well_read_examples(classifier, mnist_test, "2026"), [120, 100, 130, 110], [40, 25, 55])
    digits = read_digits(image, reader)
    assert "".join(str(int(d.probabilities.argmax())) for d in digits) == "2026"
    for digit, box in zip(digits, placed):
        assert iou(digit.box, box) > 0.8, (digit.box, box)
        assert digit.mnist.shape == (28, 28) and digit.mnist.dtype == np.uint8 and not digit.not_a_digit
        assert abs(float(digit.probabilities.sum()) - 1) < 1e-4


def test_each_digit_image_is_that_digit_alone(reader, classifier, mnist_test):
    image, _ = compose(well_read_examples(classifier, mnist_test, "2026"), [120, 100, 130, 110], [40, 25, 55])
    digits = read_digits(image, reader)
    read = classifier.predict_mnist(np.stack([d.mnist for d in digits])).argmax(1)
    assert "".join(map(str, read)) == "2026"  # the classifier reads each digit's own image as that digit


def test_boxes_are_in_the_input_images_pixels_even_when_it_is_reduced(reader, classifier, mnist_test):
    digits = well_read_examples(classifier, mnist_test, "47")
    image, placed = compose(digits, [500, 480], [150], side=(1900, 900), top=200)
    digits = read_digits(image, reader)  # a 1900 px canvas is worked on at a quarter of that
    assert len(digits) == 2
    for digit, box in zip(digits, placed):
        assert iou(digit.box, box) > 0.85, (digit.box, box)


@pytest.mark.parametrize("wanted", ["38", "21", "41", "14"])
def test_touching_digits_are_read_each(reader, classifier, mnist_test, wanted):
    digits = well_read_examples(classifier, mnist_test, wanted)
    for overlap in range(2, 40, 2):  # slide the right digit over the left one until their strokes just touch
        image, _ = compose(digits, [150, 150], [-overlap])
        if components(np.asarray(image)[..., 3] / 255).max() == 1:
            break
    assert components(np.asarray(image)[..., 3] / 255).max() == 1, "the test needs the two digits to touch"
    assert digits_read(reader, image) == wanted


def test_the_strokes_of_one_digit_stay_together(reader):
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
    assert components(1 - np.asarray(image) / 255).max() == 6, "the test needs the strokes apart"
    digits = read_digits(image, reader)
    assert "".join(str(int(d.probabilities.argmax())) for d in digits) == "547"
    assert [d.box[0] < 200 for d in digits] == [True, False, False]  # the 5's box holds its top bar ...
    assert digits[0].box[2] >= 190 and digits[1].box[2] >= 380  # ... and the 4's its stem


def test_a_row_of_letters_is_not_a_number(reader):
    image = Image.new("L", (700, 260), 255)
    draw = ImageDraw.Draw(image)
    pen = dict(fill=0, width=14, joint="curve")
    draw.line([(60, 60), (60, 200), (150, 60), (150, 200)], **pen)  # N
    draw.line([(260, 60), (260, 200), (350, 200)], **pen)  # L
    draw.line([(450, 60), (500, 200), (550, 60)], **pen)  # V
    assert any(d.not_a_digit for d in read_digits(image, reader))


def test_one_digit_is_no_number_and_left_to_the_classifier(reader):
    image = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(image).line([(120, 100), (280, 100), (180, 320)], fill=0, width=24, joint="curve")  # a 7
    assert read_digits(image, reader) == []


def test_a_blank_drawing_raises_blank_image_error(reader):
    with pytest.raises(BlankImageError):
        read_digits(Image.new("RGBA", (400, 400), (0, 0, 0, 0)), reader)


def test_noise_is_too_much_ink_to_read_as_a_number(reader):
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (800, 800), dtype=np.uint8))
    with pytest.raises(TooMuchInkError, match="Too much ink"):
        read_digits(noise, reader)


def test_a_row_longer_than_a_dozen_digits_is_refused_with_a_message(reader):
    image = Image.new("L", (3000, 60), 255)
    ImageDraw.Draw(image).line([(20, 30), (2980, 30)], fill=0, width=8)
    with pytest.raises(TooMuchInkError, match="Too long to read as one number"):
        read_digits(image, reader)


def mark(first: int, last: int) -> Mark:
    return Mark(1, first, last, np.full(10, 0.1, dtype=np.float32))


def test_two_marks_are_parted_in_the_middle_of_the_gap_between_them():
    strip = np.zeros((28, 60), dtype=np.float32)
    strip[4:24, 6:20] = strip[4:24, 40:52] = 1  # ink in columns 6-19 and 40-51
    assert least_ink_column(strip, mark(8, 11), mark(44, 47)) == 30  # the gap is 20-39
    strip[14, 20:40] = 0.2  # a thin joint: still the least ink
    assert 20 <= least_ink_column(strip, mark(8, 11), mark(44, 47)) <= 40


def test_a_stroke_mostly_on_one_side_goes_whole_to_it_and_a_shared_one_is_cut():
    labels = np.zeros((10, 40), dtype=np.int32)
    labels[2, 0:18] = 1  # a bar reaching 3 px past the parting at 15: goes whole to the left
    labels[5, 10:20] = 2  # half and half: cut at the parting
    owners = column_owners(labels, [15])
    assert (owners[2, 0:18] == 0).all()
    assert (owners[5, 10:15] == 0).all() and (owners[5, 15:20] == 1).all()
    assert (owners[labels == 0] == -1).all() and MARGIN == 4
