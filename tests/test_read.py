"""Classifier.read: whole numbers, "not a digit" for letters, signs and scribbles, and honest confidences."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFont
from test_segment import compose, well_read_examples

from mnist_demo.calibration import expected_calibration_error
from mnist_demo.picture import BlankImageError, ImageError


def sketch(draw_strokes, side=800) -> Image.Image:
    """Black strokes on a transparent canvas, as the Sketchpad sends them."""
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw_strokes(ImageDraw.Draw(image), dict(fill=(0, 0, 0, 255), width=side // 14, joint="curve"))
    return image


def printed(text: str, side=400) -> Image.Image:
    """`text` printed in DejaVu Sans, the font matplotlib ships: the same glyphs on every machine."""
    import matplotlib

    font = ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), side // 2)
    image = Image.new("L", (side, side), 255)
    ImageDraw.Draw(image).text((side / 2, side / 2), text, font=font, fill=0, anchor="mm")
    return image


def scribble(seed: int) -> Image.Image:
    """A tangle of random strokes, as someone testing the pen."""
    rng = np.random.default_rng(seed)
    points = [tuple(p) for p in rng.uniform(150, 650, size=(12, 2))]
    return sketch(lambda draw, pen: draw.line(points, **pen))


def test_read_answers_json_ready_numbers_digits_and_boxes(classifier, mnist_test):
    image, placed = compose(well_read_examples(classifier, mnist_test, "2026"), [120, 100, 130, 110], [40, 25, 55])
    result = classifier.read(image)
    assert json.loads(json.dumps(result)) == result
    assert result["number"] == "2026" and result["not_a_digit"] is False
    assert [d["digit"] for d in result["digits"]] == list("2026")
    for digit, box in zip(result["digits"], placed):
        assert set(digit) == {"digit", "confidence", "box", "not_a_digit"}
        assert 0.5 < digit["confidence"] <= 1 and digit["not_a_digit"] is False
        x0, y0, x1, y1 = digit["box"]
        assert all(isinstance(v, int) for v in digit["box"])
        assert abs(x0 - box[0]) < 8 and abs(x1 - box[2]) < 8 and abs(y0 - box[1]) < 8 and abs(y1 - box[3]) < 8


def test_one_drawn_digit_reads_as_classify_says(classifier):
    seven = sketch(lambda draw, pen: draw.line([(250, 150), (550, 150), (330, 650)], **pen))
    result, probabilities = classifier.read(seven), classifier.classify(seven)
    assert result["number"] == max(probabilities, key=probabilities.get) == "7"
    assert abs(result["digits"][0]["confidence"] - probabilities["7"]) < 0.02


@pytest.mark.parametrize("text", ["H", "K", "M", "R", "#", "@", "?", "€", "λ", "★"])
def test_printed_letters_and_signs_are_not_digits(classifier, text):
    result = classifier.read(printed(text))
    assert result["not_a_digit"] is True and any(d["not_a_digit"] for d in result["digits"])


@pytest.mark.parametrize("seed", range(3))
def test_scribbles_are_not_digits(classifier, seed):
    assert classifier.read(scribble(seed))["not_a_digit"] is True


@pytest.mark.parametrize("stroke", [[(620, 200), (180, 620)], [(600, 180), (200, 620)]])
def test_a_wide_slanted_1_is_one_digit(classifier, stroke):
    """Wider than tall, so it is tried cut; but whole it reads better than its slices (once read as 11 and 111)."""
    result = classifier.read(sketch(lambda draw, pen: draw.line(stroke, **pen)))
    assert result["number"] == "1" and result["not_a_digit"] is False


def test_a_5_whose_top_bar_runs_far_right_is_one_digit(classifier):
    """The bar, drawn apart and mostly beyond the belly, is too short to be digits of its own (once read as 51)."""

    def five(draw, pen):
        draw.line([(250, 220), (235, 400)], **pen)
        draw.arc((200, 330, 480, 650), -110, 150, fill=pen["fill"], width=pen["width"])
        draw.line([(290, 170), (700, 160)], **pen)

    result = classifier.read(sketch(five))
    assert result["number"] == "5" and result["not_a_digit"] is False


def test_a_w_of_straight_strokes_is_not_read_as_ones(classifier):
    """One stroke whose legs each look like a 1 (read 111 before the reader doubted it). A V drawn so still reads
    as 11: a known limit of the number reader (docs/photos.md)."""
    w = sketch(lambda draw, pen: draw.line([(50, 200), (200, 600), (400, 300), (600, 600), (750, 200)], **pen))
    assert classifier.read(w)["not_a_digit"] is True


def test_real_digits_are_rarely_flagged(classifier, mnist_test):
    """MNIST test digits pasted at random sizes and places on a canvas: at most 5% called not a digit."""
    images, labels = mnist_test
    rng = np.random.default_rng(0)
    flagged = 0
    for index in rng.choice(len(images), 40, replace=False):
        height = int(rng.integers(60, 300))
        image, _ = compose(
            [images[index]],
            [height],
            [],
            side=(700, 500),
            top=int(rng.integers(0, 500 - height)),
            left=int(rng.integers(0, 400)),
        )
        flagged += classifier.read(image)["not_a_digit"]
    assert flagged <= 2


def test_a_blank_or_broken_picture_is_an_error_for_a_person(classifier):
    with pytest.raises(BlankImageError, match="blank|empty"):
        classifier.read(Image.new("RGBA", (300, 300), (0, 0, 0, 0)))
    with pytest.raises(ImageError, match="could not be read"):
        classifier.read(b"not an image")


@pytest.mark.slow
def test_calibration_lowers_the_expected_calibration_error_on_the_test_set(classifier, mnist_test):
    images, labels = mnist_test
    with torch.inference_mode():  # one pass over the 10,000 images; the two softmaxes share its logits
        batches = torch.from_numpy(images).split(2000)
        logits = torch.cat([classifier.model(batch.unsqueeze(1).float() / 255) for batch in batches])
    raw = torch.softmax(logits, 1).numpy()
    calibrated = torch.softmax(logits / classifier.model.temperature, 1).numpy()
    assert np.allclose(classifier.predict_mnist(images[:500]), calibrated[:500], atol=1e-5)  # what the app shows
    assert expected_calibration_error(calibrated, labels) <= expected_calibration_error(raw, labels)
