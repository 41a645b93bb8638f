"""mnist_demo.prediction: what the app answers for a picture, a blank, a non-digit, a broken file."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_demo import ImageError
from mnist_demo.prediction import (
    DRAW_PROMPT,
    NO_DIGIT,
    NOT_A_DIGIT,
    NOT_AN_IMAGE,
    percent,
    predict_digit,
    unreadable_prediction,
)


def one() -> Image.Image:
    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line([(140, 40), (140, 240)], fill=0, width=20)
    return image


def test_a_digit_gets_its_probabilities_and_the_image_the_model_saw(classifier):
    prediction = predict_digit(classifier, one())
    assert prediction.label == "1"
    assert prediction.label_value == prediction.probabilities
    assert list(prediction.probabilities) == [str(d) for d in range(10)]
    assert sum(prediction.probabilities.values()) == pytest.approx(1, abs=1e-5)
    assert prediction.model_input.shape == (28, 28) and prediction.model_input.dtype == np.uint8
    assert prediction.headline.startswith("## 1\n")


@pytest.mark.parametrize(
    "picture",
    [
        None,
        {"background": None, "layers": [], "composite": None},
        Image.new("RGBA", (300, 300), (0, 0, 0, 0)),
        np.full((50, 50), 255, np.uint8),
    ],
)
def test_blank_pictures_get_no_digit(classifier, picture):
    prediction = predict_digit(classifier, picture)
    assert prediction.label_value == NO_DIGIT and prediction.probabilities is None and prediction.model_input is None


def test_an_empty_canvas_asks_for_a_drawing(classifier):
    prediction = predict_digit(
        classifier, {"background": None, "layers": [], "composite": None}, blank_label=DRAW_PROMPT
    )
    assert prediction.label_value == DRAW_PROMPT
    assert prediction.headline.startswith(f"## {DRAW_PROMPT}")


def test_below_the_threshold_is_not_a_digit(classifier):
    saved = classifier.model.ood_threshold.clone()
    try:
        classifier.model.ood_threshold.fill_(1.0)  # nothing is sure enough
        prediction = predict_digit(classifier, one())
    finally:
        classifier.model.ood_threshold.copy_(saved)
    assert prediction.label_value == NOT_A_DIGIT
    assert prediction.probabilities is not None and "best guess, a 1" in prediction.headline


def test_a_broken_file_raises_a_message_for_people(classifier, tmp_path):
    path = tmp_path / "text.png"
    path.write_text("not an image")
    with pytest.raises(ImageError, match="could not be read as an image") as error:
        predict_digit(classifier, str(path))
    shown = unreadable_prediction(error.value)
    assert shown.label_value == NOT_AN_IMAGE and "could not be read as an image" in shown.headline


@pytest.mark.parametrize("p, text", [(0.87, "87%"), (0.994, "99.4%"), (0.9996, "more than 99.9%"), (0.0, "0%")])
def test_percent_never_rounds_up_to_certainty(p, text):
    assert percent(p) == text


def test_model_input_is_what_predict_mnist_scores(classifier):
    prediction = predict_digit(classifier, one())
    direct = classifier.predict_mnist(prediction.model_input)[0]
    assert [prediction.probabilities[str(d)] for d in range(10)] == pytest.approx(direct.tolist())


def test_too_much_ink_is_not_a_digit_and_anything_unreadable_is_not_an_image():
    from mnist_demo.picture import ImageError, TooMuchInkError
    from mnist_demo.prediction import NOT_A_DIGIT, NOT_AN_IMAGE, unreadable_prediction

    texture = unreadable_prediction(TooMuchInkError("Too much ink to read as digits."))
    corrupt = unreadable_prediction(ImageError("This file could not be read as an image."))
    assert (texture.label, texture.probabilities) == (NOT_A_DIGIT, None)
    assert texture.headline == f"## {NOT_A_DIGIT}\nToo much ink to read as digits."
    assert corrupt.label == NOT_AN_IMAGE and corrupt.headline.startswith(f"## {NOT_AN_IMAGE}\n")
