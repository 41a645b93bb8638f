"""What the Draw tab shows for one drawing, and what the `/read` endpoint answers.

For a single digit: the prediction `/predict` gives (calibrated probabilities, the 28x28
image the model saw) plus why (`mnist_demo.explain`'s attributions as a heat map). When the
drawing holds several digits (`mnist_demo.segment` splits it), the whole number instead:
the digits left to right with their confidences, the drawing with a box around each,
and each digit's 28x28 image and saliency side by side. A part that does not look like a
digit makes the whole drawing "Not a digit", never a confident wrong number. For a photo of
paper, also the cleaned ink the model read (`cleaned_ink_view`): the photo beside the ink
`photo.paper_ink` kept of it, without the paper's light, shadow, lines and specks.

The answer comes in two parts, so the Draw tab shows the first while the second is made:
`answer_drawing` (the headline and the probabilities, a few milliseconds) and `with_pictures`
(the 28x28 images, the saliency maps, the boxes and a photo's ink, several times slower).
`view_drawing` is both. The picture is decoded and its ink located once (`preprocess.locate_ink`):
that one `Ink` feeds the digit, the number, the boxes and the photo's panel.

    python -m mnist_demo.draw_view number.png   # prints the headline and saves number-boxes.png
    python -m mnist_demo.draw_view photo.jpg    # ... and, for a photo of paper, photo-ink.png
"""

import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .artifacts import atomic_write
from .picture import BlankImageError, ImageError, opaque_grey, picture_argument
from .prediction import NOT_A_DIGIT, Prediction, blank_prediction, digit_prediction, percent
from .preprocess import Ink, ink_box, locate_ink
from .segment import Digit

SALIENCY_SCALE = 6  # 28x28 maps shown as 168x168, like "what the model sees"
GAP = 4  # pixels between the digits of a strip ...
GAP_SHADE = 128  # ... in mid grey, to tell black backgrounds apart
BOXES_SIDE = 800  # the boxed drawing is shown at most this big: a 5000 px upload need not travel back whole
OK_COLOUR = (22, 163, 74)  # green box: a digit
DOUBT_COLOUR = (220, 38, 38)  # red box: a part that is not a digit
CLEANED_PANEL = 390  # a photo and its cleaned ink, each at most this big: side by side under 800 px wide
CLEANED_MARGIN = 0.75  # around the ink, this share of its longer side: enough paper to see lines and shadow go
FOR = np.array([220, 30, 30], dtype=np.float32)  # heat map, red: evidence for the digit
AGAINST = np.array([30, 90, 230], dtype=np.float32)  # blue: evidence against it


@dataclass(frozen=True)
class DrawAnswer:
    """The answer to a drawing, before its pictures: what people wait for."""

    headline: str  # Markdown
    label_value: dict[str, float] | str  # for the gr.Label: ten probabilities, the number, or a message
    model_input: np.ndarray | None = None  # one digit: the uint8 [28, 28] image the model saw
    digits: tuple[Digit, ...] = ()  # a whole number: its digits, left to right, ...
    number: dict | None = None  # ... and Classifier.read's answer
    ink: Ink | None = None  # the picture's ink, located once; None for a blank or unreadable picture


@dataclass(frozen=True)
class DrawView:
    """Everything the Draw tab shows for one drawing."""

    headline: str  # Markdown
    label_value: dict[str, float] | str  # for the gr.Label: ten probabilities, the number, or a message
    model_input: np.ndarray | None  # uint8 [28, 28], or the digits' images side by side
    saliency: np.ndarray | None  # RGB uint8 overlay(s), same layout as model_input
    boxes: Image.Image | None = None  # the drawing with a box per digit; only for several digits
    number: dict | None = None  # Classifier.read's answer; only for several digits
    cleaned_ink: Image.Image | None = None  # an uploaded photo beside the ink the model read of it


def view_drawing(classifier, picture, blank_label: str) -> DrawView:
    """The Draw tab's answer for `picture` (a Sketchpad value, a path, an image). Raises ImageError."""
    return with_pictures(classifier, answer_drawing(classifier, picture, blank_label))


def answer_drawing(classifier, picture, blank_label: str) -> DrawAnswer:
    """The headline and probabilities for `picture`: one digit, a whole number, or none. Raises ImageError."""
    try:
        ink = locate_ink(picture)
        digits, number = classifier.read_ink(ink)
    except BlankImageError as blank:  # no ink, or ink too faint to read once located
        return plain_answer(blank_prediction(blank_label, str(blank)))
    if len(digits) < 2:  # one digit, read by the classifier inside read_ink
        (digit,) = digits
        return replace(plain_answer(digit_prediction(digit)), ink=ink)
    return DrawAnswer(
        number_headline(number),
        NOT_A_DIGIT if number["not_a_digit"] else number["number"],
        digits=tuple(digits),
        number=number,
        ink=ink,
    )


def plain_answer(prediction: Prediction) -> DrawAnswer:
    """A single-digit (or blank, or unreadable) answer."""
    return DrawAnswer(prediction.headline, prediction.label_value, prediction.model_input)


def with_pictures(classifier, answer: DrawAnswer) -> DrawView:
    """The answer with what the model saw and why: the saliency maps, a whole number's boxes, a photo's ink."""
    cleaned = None if answer.ink is None else cleaned_ink_view(answer.ink)
    if answer.digits:
        return DrawView(
            answer.headline,
            answer.label_value,
            model_input=strip([d.mnist for d in answer.digits]),
            saliency=strip([saliency_overlay(classifier, d.mnist) for d in answer.digits]),
            boxes=draw_boxes(answer.ink, answer.number),
            number=answer.number,
            cleaned_ink=cleaned,
        )
    saliency = None if answer.model_input is None else saliency_overlay(classifier, answer.model_input)
    return DrawView(answer.headline, answer.label_value, answer.model_input, saliency, cleaned_ink=cleaned)


def plain_view(prediction: Prediction) -> DrawView:
    """A blank or unreadable answer as the Draw tab shows it: nothing to picture."""
    return DrawView(prediction.headline, prediction.label_value, prediction.model_input, None)


def read_number(classifier, picture) -> dict:
    """`Classifier.read`'s JSON-ready answer, with an empty answer (no digits) for a blank picture."""
    try:
        return classifier.read(picture)
    except BlankImageError:
        return empty_number()


def empty_number() -> dict:
    """What `/read` answers for a blank picture: no digits, no number."""
    return {"number": "", "digits": [], "not_a_digit": False}


def saliency_overlay(classifier, mnist: np.ndarray) -> np.ndarray:
    """Red where the pixels speak for the predicted digit, blue against, as an RGB uint8 image."""
    return overlay(mnist, classifier.explain(mnist))


def overlay(mnist: np.ndarray, attributions: np.ndarray, scale: int = SALIENCY_SCALE) -> np.ndarray:
    """An RGB uint8 [28*scale, 28*scale, 3] heat map: the digit in grey, red where it counts for, blue against.

    Shown averaged over 3x3 pixels and on the ink only: one pixel's share flickers from
    red to blue along a stroke (ReLUs and max-pools switch on and off along the path),
    while a stroke's share, the thing worth seeing, is steady.
    """
    attributions = box_blur(np.asarray(attributions, dtype=np.float32)) * (np.asarray(mnist) > 0)
    strength = np.abs(attributions)
    top = float(np.percentile(strength, 99.5)) or float(strength.max()) or 1.0
    weight = np.clip(strength / top, 0, 1)[..., None]
    colour = np.where(attributions[..., None] >= 0, FOR, AGAINST)
    grey = (40 + 0.45 * np.asarray(mnist, dtype=np.float32))[..., None].repeat(3, axis=2)
    image = grey * (1 - weight) + colour * weight
    image = np.round(image).astype(np.uint8)
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


def box_blur(image: np.ndarray) -> np.ndarray:
    """The mean over each pixel's 3x3 neighbourhood (zeros beyond the border)."""
    padded = np.pad(image, 1)
    h, w = image.shape
    return sum(padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)) / 9


def number_headline(answer: dict) -> str:
    """Markdown: the number and each digit's confidence, or which part is not a digit."""
    parts = answer["digits"]
    if answer["not_a_digit"]:
        doubtful = [
            f"part {k} (best guess {p['digit']}, only {percent(p['confidence'])})"
            for k, p in enumerate(parts, 1)
            if p["not_a_digit"]
        ]
        return (
            f"## {NOT_A_DIGIT}\nNot all of this looks like handwritten digits to the model: "
            f"{', '.join(doubtful)} of {len(parts)}. Its best reading, {answer['number']}, is only a guess."
        )
    listed = ", ".join(f"{p['digit']} ({percent(p['confidence'])})" for p in parts)
    return f"## {answer['number']}\nRead as {len(parts)} digits, left to right: {listed}."


def strip(images: list[np.ndarray]) -> np.ndarray:
    """Images of one height side by side, GAP grey columns apart."""
    gap = np.full((images[0].shape[0], GAP, *images[0].shape[2:]), GAP_SHADE, dtype=images[0].dtype)
    pieces = [piece for image in images for piece in (gap, image)][1:]
    return np.concatenate(pieces, axis=1)


def draw_boxes(ink: Ink, answer: dict) -> Image.Image:
    """The drawing on white paper, each digit boxed and labelled: green a digit, red "?" for a part that is not one."""
    scale = min(1.0, BOXES_SIDE / max(ink.size))
    shown = (max(1, round(ink.size[0] * scale)), max(1, round(ink.size[1] * scale)))
    picture = on_white(ink.picture).resize(shown)
    pen = ImageDraw.Draw(picture)
    size = max(12, picture.height // 16)
    font = ImageFont.load_default(size)
    pad = max(2, size // 6)  # the box around the ink, not on it
    for part in answer["digits"]:
        x0, y0, x1, y1 = (round(v * scale) for v in part["box"])
        colour = DOUBT_COLOUR if part["not_a_digit"] else OK_COLOUR
        pen.rectangle((x0 - pad, y0 - pad, x1 - 1 + pad, y1 - 1 + pad), outline=colour, width=max(2, size // 8))
        pen.text(
            (x0 - pad, max(0, y0 - pad - size - 2)),
            "?" if part["not_a_digit"] else part["digit"],
            fill=colour,
            font=font,
        )
    return picture


def cleaned_ink_view(ink: Ink) -> Image.Image | None:
    """A photo of paper beside the ink the model read of it, dark on white, both cropped to the ink with
    CLEANED_MARGIN of paper around it: an RGB image of the two, each at most CLEANED_PANEL, GAP apart and
    framed by GAP (a big JPEG's photo in grey: it was decoded so). None for a drawing (not the photo path)."""
    if not ink.photo:
        return None
    top, bottom, left, right = ink_box(ink.map)
    margin = CLEANED_MARGIN * max(bottom - top, right - left)
    height, width = ink.map.shape
    box = (max(0, left - margin), max(0, top - margin), min(width, right + margin), min(height, bottom + margin))
    x_scale, y_scale = ink.picture.width / width, ink.picture.height / height
    size = panel_size(box[2] - box[0], box[3] - box[1])
    # Resized straight from the region of the decoded picture: no copy of a 12 MP crop first.
    region = (box[0] * x_scale, box[1] * y_scale, box[2] * x_scale, box[3] * y_scale)
    photo = on_white(ink.picture.resize(size, Image.Resampling.LANCZOS, box=region, reducing_gap=2.0))
    kept = Image.fromarray(np.round(255 * (1 - ink.map)).astype(np.uint8))
    pair = Image.new("RGB", (2 * size[0] + 3 * GAP, size[1] + 2 * GAP), (GAP_SHADE,) * 3)  # framed: white on white
    pair.paste(photo, (GAP, GAP))
    pair.paste(kept.resize(size, Image.Resampling.BILINEAR, box=box).convert("RGB"), (size[0] + 2 * GAP, GAP))
    return pair


def panel_size(width: float, height: float) -> tuple[int, int]:
    """`width` x `height` scaled, up or down, to fit CLEANED_PANEL x CLEANED_PANEL."""
    scale = CLEANED_PANEL / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def on_white(image: Image.Image) -> Image.Image:
    """The picture in RGB, what is transparent on white paper, 16-bit or float greys at their own scale."""
    if image.mode in ("I", "F"):  # PIL's own conversion clips 16-bit levels: nearly all white
        return Image.fromarray(np.round(255 * opaque_grey(image)).astype(np.uint8)).convert("RGB")
    if image.mode in ("RGBA", "LA"):
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    return image.convert("RGB")


def main():
    from .classifier import Classifier

    picture = picture_argument("draw_view")
    try:
        view = view_drawing(Classifier.from_pretrained(), picture, "No digit")
    except ImageError as error:
        sys.exit(str(error))
    print(view.headline)
    for name, image in (("boxes", view.boxes), ("ink", view.cleaned_ink)):
        if image is not None:
            out = Path(picture).with_name(f"{Path(picture).stem}-{name}.png")
            atomic_write(out, lambda path, image=image: image.save(path, format="PNG"))
            print(f"{name}: {out}")


if __name__ == "__main__":
    main()
