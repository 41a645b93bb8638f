"""What the app answers for one picture: the ten probabilities, the 28x28 image the model saw, a headline.

The `/predict` and `/classify` endpoints go through `predict_digit`, and the Draw tab's answer
for one digit through the `digit_prediction` it ends in: a blank picture gets a "No digit" (or
"Draw a digit") answer, never an invented digit; a picture the calibrated model is too unsure
about (`Classifier.not_a_digit`) is "Not a digit"; an unreadable file raises `ImageError` with a
message meant for a person.

    python -m mnist_demo.prediction digit.png
"""

import sys
from dataclasses import dataclass

import numpy as np

from .classifier import Classifier, probabilities_by_label
from .picture import BlankImageError, ImageError, TooMuchInkError, picture_argument
from .preprocess import locate_ink
from .segment import Digit

NO_DIGIT = "No digit"
DRAW_PROMPT = "Draw a digit"
NOT_A_DIGIT = "Not a digit"
NOT_AN_IMAGE = "Not an image"


@dataclass(frozen=True)
class Prediction:
    headline: str  # Markdown: the digit and how sure, or why there is none
    label: str  # the digit ("7"), NO_DIGIT, DRAW_PROMPT, NOT_A_DIGIT or NOT_AN_IMAGE
    probabilities: dict[str, float] | None = None  # {"0": p0, ..., "9": p9}; None when there was no ink
    model_input: np.ndarray | None = None  # uint8 [28, 28], what the network was given

    @property
    def label_value(self) -> dict[str, float] | str:
        """For a gr.Label: the ten probabilities as bars, or just the text when there is no digit to show."""
        return self.probabilities if self.probabilities is not None and self.label != NOT_A_DIGIT else self.label


def predict_digit(classifier, picture, blank_label: str = NO_DIGIT) -> Prediction:
    """Read one picture (anything `to_mnist` takes, its `Ink` too; None is blank). Raises ImageError when it is
    not usable."""
    try:
        one = classifier.one_digit(locate_ink(picture))
    except BlankImageError as blank:
        return blank_prediction(blank_label, str(blank))
    return digit_prediction(one)


def digit_prediction(one: Digit) -> Prediction:
    """The answer for one digit the classifier read (`Classifier.one_digit`): its 28x28 image, its ten
    calibrated probabilities, and whether `Classifier.not_a_digit` flagged them."""
    mnist, probabilities = one.mnist, one.probabilities
    by_label = probabilities_by_label(probabilities)
    digit, confidence = int(probabilities.argmax()), float(probabilities.max())
    if one.not_a_digit:
        headline = (
            f"## {NOT_A_DIGIT}\nThis does not look like a handwritten digit to the model: "
            f"its best guess, a {digit}, has only {percent(confidence)}."
        )
        return Prediction(headline, NOT_A_DIGIT, by_label, mnist)
    return Prediction(f"## {digit}\n{percent(confidence)} sure", str(digit), by_label, mnist)


def blank_prediction(label: str = DRAW_PROMPT, reason: str = "") -> Prediction:
    """The answer for an empty canvas or a blank picture."""
    detail = "The prediction appears as you draw." if label == DRAW_PROMPT else reason
    return Prediction(f"## {label}\n{detail}", label)


def unreadable_prediction(error: Exception) -> Prediction:
    """What the app shows for a picture it cannot read: why, in the error's own words. A picture that
    opens but holds far too much ink (a texture, noise) is "Not a digit", anything else "Not an image"."""
    label = refusal_title(error)
    return Prediction(f"## {label}\n{error}", label)


def refusal_title(error: Exception) -> str:
    """The one-line title of an ImageError for people: NOT_A_DIGIT for too much ink, else NOT_AN_IMAGE."""
    return NOT_A_DIGIT if isinstance(error, TooMuchInkError) else NOT_AN_IMAGE


def percent(probability: float) -> str:
    """98%, 99.7%, or 'more than 99.9%': never a rounded-up '100%'."""
    if probability > 0.999:
        return "more than 99.9%"
    return f"{probability:.1%}" if probability > 0.99 else f"{probability:.0%}"


def main():
    picture = picture_argument("prediction")
    try:
        prediction = predict_digit(Classifier.from_pretrained(), picture)
    except ImageError as error:
        sys.exit(str(error))
    print(prediction.headline)
    if prediction.probabilities:
        for label, p in sorted(prediction.probabilities.items(), key=lambda item: -item[1]):
            print(f"{label}: {p:.4f}")


if __name__ == "__main__":
    main()
