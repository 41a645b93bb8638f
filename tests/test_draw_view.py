"""mnist_demo.draw_view: the Draw tab's saliency, whole numbers with boxes, "not a digit", a photo's cleaned ink,
and `/read`'s answer."""

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile

from mnist_demo import ImageError, preprocess
from mnist_demo.draw_view import (
    BOXES_SIDE,
    CLEANED_PANEL,
    DOUBT_COLOUR,
    GAP,
    GAP_SHADE,
    OK_COLOUR,
    SALIENCY_SCALE,
    answer_drawing,
    cleaned_ink_view,
    draw_boxes,
    empty_number,
    number_headline,
    overlay,
    read_number,
    strip,
    view_drawing,
    with_pictures,
)
from mnist_demo.prediction import DRAW_PROMPT, NO_DIGIT, NOT_A_DIGIT, predict_digit
from mnist_demo.preprocess import ink_to_mnist, locate_ink, to_mnist, working_ink

ONE = [(0.2, 0.25), (0.2, 0.75)]
SEVEN = [(0.45, 0.25), (0.8, 0.25), (0.6, 0.75)]


def sketch(*strokes) -> Image.Image:
    """Black strokes (fractions of the side) on a transparent 400x400 canvas, as the Sketchpad sends them."""
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        pen.line([(x * 400, y * 400) for x, y in stroke], fill=(0, 0, 0, 255), width=28, joint="curve")
    return image


@pytest.fixture
def doubting(classifier):
    """The classifier whose number reader calls the first mark of every row not a digit."""
    reader = classifier.reader

    class DoubtingReader:
        def read(self, strip):
            marks = reader.read(strip)
            return [dataclasses.replace(marks[0], digit=-1), *marks[1:]] if marks else marks

    classifier._reader = DoubtingReader()
    yield classifier
    classifier._reader = reader


def test_one_digit_gets_the_prediction_and_a_saliency_map_beside_what_the_model_sees(classifier):
    picture = {"background": None, "layers": [], "composite": sketch(SEVEN)}
    view = view_drawing(classifier, picture, DRAW_PROMPT)
    single = predict_digit(classifier, picture)
    assert view.label_value == single.label_value and view.headline == single.headline
    assert (view.model_input == single.model_input).all()
    assert view.saliency.shape == (28 * SALIENCY_SCALE, 28 * SALIENCY_SCALE, 3) and view.saliency.dtype == np.uint8
    red = (view.saliency[..., 0].astype(int) - view.saliency[..., 2]) > 100
    assert red.any()  # some pixels speak for the 7
    assert view.boxes is None and view.number is None


def test_one_digit_is_classified_once(classifier, monkeypatch):
    """The single digit read_ink finds is the Draw tab's answer: the network is not run a second time on it."""
    runs, predict_mnist = [], classifier.predict_mnist
    monkeypatch.setattr(classifier, "predict_mnist", lambda images: runs.append(images) or predict_mnist(images))
    answer = answer_drawing(classifier, {"background": None, "layers": [], "composite": sketch(SEVEN)}, DRAW_PROMPT)
    assert len(runs) == 1
    assert answer.label_value == predict_digit(classifier, sketch(SEVEN)).label_value


@pytest.mark.parametrize("strokes, label", [([SEVEN], "7"), ([ONE, SEVEN], "17")])
def test_the_answer_needs_no_saliency_and_the_pictures_complete_it(classifier, monkeypatch, strokes, label):
    picture = {"background": None, "layers": [], "composite": sketch(*strokes)}
    view = view_drawing(classifier, picture, DRAW_PROMPT)
    with monkeypatch.context() as patched:
        patched.setattr(classifier, "explain", lambda *args: pytest.fail("the answer waited for a saliency map"))
        answer = answer_drawing(classifier, picture, DRAW_PROMPT)
    assert (answer.headline, answer.label_value) == (view.headline, view.label_value)
    value = answer.label_value
    assert (value if isinstance(value, str) else max(value, key=value.get)) == label
    completed = with_pictures(classifier, answer)
    assert (completed.headline, completed.label_value, completed.number) == (
        view.headline,
        view.label_value,
        view.number,
    )
    assert (completed.model_input == view.model_input).all() and (completed.saliency == view.saliency).all()
    assert (completed.boxes is None) == (len(label) == 1)


def test_a_blank_canvas_has_no_saliency(classifier):
    view = view_drawing(classifier, {"background": None, "layers": [], "composite": None}, DRAW_PROMPT)
    assert view.label_value == DRAW_PROMPT and view.saliency is None and view.model_input is None


def test_two_digits_are_read_as_a_number_with_boxes(classifier):
    drawing = sketch(ONE, SEVEN)
    view = view_drawing(classifier, {"background": None, "layers": [], "composite": drawing}, DRAW_PROMPT)
    assert view.number["number"] == "17" and view.label_value == "17"
    assert view.headline.startswith("## 17\nRead as 2 digits, left to right: 1 (")
    assert view.model_input.shape == (28, 2 * 28 + GAP)
    assert view.saliency.shape == (28 * SALIENCY_SCALE, 2 * 28 * SALIENCY_SCALE + GAP, 3)
    assert view.boxes.size == drawing.size and view.boxes.mode == "RGB"
    boxes = np.asarray(view.boxes)
    assert (boxes == OK_COLOUR).all(axis=2).sum() > 500  # two green frames
    one_box, seven_box = (part["box"] for part in view.number["digits"])
    assert one_box[2] <= seven_box[0]  # left to right, apart


def test_a_number_with_a_part_that_is_not_a_digit_says_so(doubting):
    view = view_drawing(doubting, sketch(ONE, SEVEN), DRAW_PROMPT)
    assert view.label_value == NOT_A_DIGIT and view.number["not_a_digit"]
    assert view.headline.startswith(f"## {NOT_A_DIGIT}\n") and "part 1 (best guess 1" in view.headline
    assert (np.asarray(view.boxes) == DOUBT_COLOUR).all(axis=2).sum() > 500  # red frames


def test_read_number_is_the_classifiers_reading(classifier, tmp_path):
    path = tmp_path / "17.png"
    sketch(ONE, SEVEN).save(path)
    assert read_number(classifier, str(path)) == classifier.read(str(path))


def test_a_blank_reads_as_no_digits(classifier):
    answer = read_number(classifier, Image.new("L", (200, 200), 255))
    assert answer == {"number": "", "digits": [], "not_a_digit": False}
    answer["digits"].append("changed")
    assert empty_number()["digits"] == []  # every blank gets its own answer


def test_an_unreadable_file_raises_a_message_for_people(classifier, tmp_path):
    path = tmp_path / "text.png"
    path.write_text("not an image")
    for call in (lambda: read_number(classifier, str(path)), lambda: view_drawing(classifier, str(path), "No digit")):
        with pytest.raises(ImageError, match="could not be read as an image"):
            call()


def test_headlines_list_the_digits_or_the_doubtful_parts():
    part = {"digit": "4", "confidence": 0.995, "box": [0, 0, 1, 1], "not_a_digit": False}
    doubtful = {"digit": "2", "confidence": 0.41, "box": [2, 0, 3, 1], "not_a_digit": True}
    assert number_headline({"number": "44", "digits": [part, part], "not_a_digit": False}) == (
        "## 44\nRead as 2 digits, left to right: 4 (99.5%), 4 (99.5%)."
    )
    text = number_headline({"number": "42", "digits": [part, doubtful], "not_a_digit": True})
    assert text.startswith(f"## {NOT_A_DIGIT}\n") and "part 2 (best guess 2, only 41%) of 2" in text
    assert "best reading, 42, is only a guess" in text


def test_strip_puts_images_side_by_side():
    images = [np.full((28, 28), v, np.uint8) for v in (10, 20, 30)]
    joined = strip(images)
    assert joined.shape == (28, 3 * 28 + 2 * GAP)
    assert joined[0, 0] == 10 and joined[0, 28] == GAP_SHADE and joined[0, 28 + GAP] == 20 and joined[0, -1] == 30


def test_boxes_are_drawn_on_white_paper_around_the_ink():
    drawing = sketch(ONE)
    answer = {
        "number": "1",
        "not_a_digit": False,
        "digits": [{"digit": "1", "confidence": 0.9, "box": [66, 86, 95, 315], "not_a_digit": False}],
    }
    boxed = np.asarray(draw_boxes(locate_ink(drawing), answer))
    assert (boxed[5, 5] == 255).all()  # transparent canvas -> white paper
    assert (boxed[200, 80] == 0).all()  # the ink stays black inside the box
    green = (boxed == OK_COLOUR).all(axis=2)
    assert green[200, 50:66].any() and green[200, 95:110].any()  # frame sides, just outside the ink


def test_a_huge_picture_is_boxed_at_a_size_worth_sending():
    huge = Image.new("L", (4000, 2000), 255)
    ImageDraw.Draw(huge).line([(1100, 400), (1100, 1600)], fill=0, width=60)
    answer = {
        "number": "1",
        "not_a_digit": False,
        "digits": [{"digit": "1", "confidence": 0.9, "box": [1000, 400, 1200, 1600], "not_a_digit": False}],
    }
    boxed = draw_boxes(locate_ink(huge), answer)
    assert boxed.size == (BOXES_SIDE, BOXES_SIDE // 2)
    green = (np.asarray(boxed) == OK_COLOUR).all(axis=2)
    assert green[200, 190:200].any() and not green[200, 100:180].any()  # the box scaled with the picture


def test_overlay_is_an_rgb_image_red_where_the_ink_counts_for_the_digit():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[5:20, 10:14] = 255
    saliency = np.zeros((28, 28), dtype=np.float32)
    saliency[5:10, 10:14], saliency[15:20, 10:14] = 1.0, -1.0
    heat = overlay(image, saliency)
    assert heat.shape == (28 * SALIENCY_SCALE, 28 * SALIENCY_SCALE, 3) and heat.dtype == np.uint8
    red, blue = heat[7 * SALIENCY_SCALE, 11 * SALIENCY_SCALE], heat[17 * SALIENCY_SCALE, 11 * SALIENCY_SCALE]
    assert red[0] > 2 * red[2] and blue[2] > 2 * blue[0]
    assert heat[0, 0].max() < 60  # the background stays dark


# --- a photo's cleaned ink ---------------------------------------------------------------------------


def photo_of_paper(size=(600, 800), written=True) -> Image.Image:
    """A JPEG phone photo of ruled paper with a shadow over its left third and sensor noise; `written`: a 1 in
    blue pen down the middle (a bar, 38% of the height) and a speck of dirt up right."""
    width, height = size
    drawing = Image.new("L", size, 255)
    if written:
        pen = ImageDraw.Draw(drawing)
        pen.line([(width / 2, height * 0.31), (width / 2, height * 0.69)], fill=0, width=round(width * 0.027))
        pen.ellipse([width * 0.8 - 3, height * 0.19 - 3, width * 0.8 + 3, height * 0.19 + 3], fill=0)
    ink = 1 - np.asarray(drawing, dtype=np.float32) / 255
    paper = np.full((height, width, 3), (0.93, 0.91, 0.86), dtype=np.float32)
    paper[height // 28 :: height // 14] = (0.6, 0.72, 0.9)  # light-blue ruled lines
    rgb = paper * (1 - ink[..., None]) + np.float32((0.1, 0.15, 0.55)) * ink[..., None]
    across = np.arange(width, dtype=np.float32) / width
    light = 1 - 0.4 / (1 + np.exp((across - 0.3) / 0.02))  # 40% darker left of 30% of the width
    rgb = rgb * light[None, :, None] + np.random.default_rng(0).normal(0, 0.02, rgb.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(buffer, "JPEG", quality=70)
    return Image.open(io.BytesIO(buffer.getvalue()))


def panels(view: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """The photo and the cleaned ink of a view, as grey int arrays of one size, without their frame."""
    grey = np.asarray(view.convert("L"), dtype=int)
    width = (view.width - 3 * GAP) // 2
    assert view.width == 2 * width + 3 * GAP
    frame = np.ones_like(grey, dtype=bool)
    frame[GAP:-GAP, GAP : GAP + width] = frame[GAP:-GAP, 2 * GAP + width : -GAP] = False
    assert (grey[frame] == GAP_SHADE).all()
    return grey[GAP:-GAP, GAP : GAP + width], grey[GAP:-GAP, 2 * GAP + width : -GAP]


def test_an_uploaded_photo_shows_its_ink_without_the_shadow_the_lines_and_the_speck(classifier, tmp_path):
    path = tmp_path / "one.jpg"
    photo_of_paper().save(path)
    view = view_drawing(classifier, str(path), NO_DIGIT)
    assert max(view.label_value, key=view.label_value.get) == "1"
    assert view.cleaned_ink.mode == "RGB"
    photo, kept = panels(view.cleaned_ink)
    height, width = photo.shape
    assert height == CLEANED_PANEL and width < height  # cropped to the 1 and its margin, which are tall
    beside = np.r_[0 : int(0.4 * width), int(0.6 * width) : width]  # the paper left and right of the 1
    assert (kept[:, beside] >= 250).all()  # white: no shadow, no line, no speck left
    assert photo[:, : width // 10].mean() < photo[:, -width // 3 :].mean() - 50  # in the photo: the shadow,
    rows = photo[:, -width // 3 :].mean(axis=1)
    assert rows.max() - rows.min() > 20  # the ruled lines,
    assert photo[:, beside].min() < 150  # and the speck
    middle = slice(int(0.45 * width), int(0.55 * width))
    inked_rows = kept[:, middle].min(axis=1) < 80
    assert 0.3 < inked_rows.mean() < 0.5  # the 1, dark, a third of the crop's height
    ends = np.flatnonzero(inked_rows)[[0, -1]]
    assert np.abs(ends - np.flatnonzero(photo[:, middle].min(axis=1) < 80)[[0, -1]]).max() <= 2  # as in the photo


def test_a_canvas_drawing_gets_no_cleaned_ink_and_no_extra_work(classifier, monkeypatch):
    monkeypatch.setattr(preprocess, "paper_ink", lambda *args: pytest.fail("a canvas drawing took the photo path"))
    for strokes in ([SEVEN], [ONE, SEVEN]):
        view = view_drawing(classifier, {"background": None, "layers": [], "composite": sketch(*strokes)}, DRAW_PROMPT)
        assert view.model_input is not None and view.cleaned_ink is None


def test_an_uploaded_drawing_blank_paper_or_a_non_image_gets_no_cleaned_ink(classifier, tmp_path):
    drawing = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(drawing).line([(150, 45), (150, 255)], fill=0, width=22)
    drawing.save(tmp_path / "one.png")
    sketch(SEVEN).save(tmp_path / "transparent.png")
    for name in ("one.png", "transparent.png"):
        view = view_drawing(classifier, str(tmp_path / name), NO_DIGIT)
        assert view.model_input is not None and view.cleaned_ink is None
    blank = view_drawing(classifier, photo_of_paper(written=False), NO_DIGIT)
    assert blank.label_value == NO_DIGIT and blank.cleaned_ink is None


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def cropped_to(darkness: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The darkest part of a panel (0..1), cropped to where it is dark and scaled to `shape`. Dark: above 0.2, not
    crop_to_ink's 0.25, as the panel is a smooth resize of the ink: a one-pixel rim at 0.26 shows a little paler."""
    rows, cols = np.flatnonzero((darkness > 0.2).any(1)), np.flatnonzero((darkness > 0.2).any(0))
    crop = Image.fromarray(darkness[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32), mode="F")
    return np.asarray(crop.resize(shape[::-1], Image.Resampling.BILINEAR))


def test_the_cleaned_ink_is_the_ink_the_model_read(monkeypatch):
    """The panel's right half shows the ink `to_mnist` made the model's 28x28 image of; the photo beside it, its lines
    and shadow in, does not pass for it."""
    photo, read = photo_of_paper(), []
    monkeypatch.setattr(preprocess, "ink_to_mnist", lambda ink: read.append(ink) or ink_to_mnist(ink))
    to_mnist(photo)
    shown, kept = panels(cleaned_ink_view(locate_ink(photo)))
    assert correlation(cropped_to(1 - kept / 255, read[0].shape), read[0]) > 0.95
    darkness = 1 - shown / shown.max()
    assert correlation(cropped_to(darkness / darkness.max(), read[0].shape), read[0]) < 0.8
    assert cleaned_ink_view(locate_ink(sketch(SEVEN))) is None


def test_a_stroke_and_an_upload_are_each_decoded_once_and_their_ink_located_once(classifier, monkeypatch, tmp_path):
    """A stroke as /predict receives it (a Sketchpad value holding a PNG), a 12 MP photo uploaded as a JPEG file: one
    decode each (the photo's at a quarter of its size), one search for the ink, for the answer and its pictures."""
    decoded, located, load = [], [], ImageFile.ImageFile.load

    def decode(image):
        if image.tile:  # pixels still to decode: a real decode, not a look at a loaded image
            decoded.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    monkeypatch.setattr(preprocess, "working_ink", lambda *args: located.append(args) or working_ink(*args))
    sketch(ONE, SEVEN).save(tmp_path / "17.png")
    photo_of_paper().resize((3000, 4000), Image.Resampling.BICUBIC).save(tmp_path / "photo.jpg", quality=90)
    stroke = {"background": None, "layers": [], "composite": str(tmp_path / "17.png")}
    for picture, size in ((stroke, (400, 400)), (str(tmp_path / "photo.jpg"), (750, 1000))):
        decoded.clear()
        located.clear()
        view = view_drawing(classifier, picture, NO_DIGIT)
        assert view.boxes is not None or view.cleaned_ink is not None  # the pictures were made, from that one decode
        assert decoded == [size] and len(located) == 1


def test_a_canvas_the_app_hands_over_is_not_decoded_again_nor_changed(classifier, monkeypatch):
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: pytest.fail("decoded again") if image.tile else None)
    drawing = sketch(ONE, SEVEN)
    before = np.asarray(drawing).copy()
    view = view_drawing(classifier, {"background": None, "layers": [], "composite": drawing}, DRAW_PROMPT)
    assert view.number["number"] == "17" and np.array_equal(np.asarray(drawing), before)


def test_a_big_photo_is_shown_at_a_size_worth_sending():
    big = photo_of_paper().resize((3000, 4000), Image.Resampling.BICUBIC)
    photo, kept = panels(cleaned_ink_view(locate_ink(big)))
    assert photo.shape[0] == CLEANED_PANEL and photo.shape[1] < CLEANED_PANEL
    assert (kept[:, : int(0.4 * kept.shape[1])] >= 250).all() and kept.min() < 80


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK", "I;16"])
def test_a_photo_in_any_image_mode_is_shown_as_in_rgb(mode):
    photo = photo_of_paper()
    if mode == "I;16":  # 16-bit grey levels, which PIL's own conversion to RGB clips to white
        converted = Image.fromarray(np.asarray(photo.convert("L")).astype(np.uint16) * 257)
    else:
        converted = photo.convert(mode)
    shown, kept = panels(cleaned_ink_view(locate_ink(converted)))
    rgb_shown, rgb_kept = panels(cleaned_ink_view(locate_ink(photo)))
    assert abs(shown.mean() - rgb_shown.mean()) < 4 and np.abs(kept - rgb_kept).mean() < 1  # rounding aside
