"""mnist_demo.photo: the ink of a photo of writing on paper, without the paper; photos of things refused."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw
from test_preprocess import blurred_correlation, draw_seven, paste_mnist

from mnist_demo.photo import joined_ink, looks_like_photo, unrepeated, without_lines
from mnist_demo.picture import BlankImageError, ObjectPhotoError, TooMuchInkError, opaque_grey
from mnist_demo.prediction import NOT_A_DIGIT, refusal_title
from mnist_demo.preprocess import to_mnist


def photo_of(drawing: Image.Image, seed: int = 0, lines: str = "ruled", shadow: bool = True) -> Image.Image:
    """`drawing` (dark ink on white, L) as a phone photo of paper: off-white, unevenly lit, a soft shadow
    over one side, light-blue ruled or squared lines, sensor noise, JPEG."""
    rng = np.random.default_rng(seed)
    ink = 1 - np.asarray(drawing, dtype=np.float32) / 255
    height, width = ink.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) / max(height, width)
    paper = np.full((height, width, 3), (0.93, 0.91, 0.86), dtype=np.float32)
    line = np.zeros((height, width), dtype=bool)
    spacing = height // 14
    line[spacing // 2 :: spacing] = True
    if lines == "squared":
        line[:, spacing // 2 :: spacing] = True
    paper[line] = (0.6, 0.72, 0.9)
    colour = np.array((0.1, 0.15, 0.55), dtype=np.float32)  # blue pen
    rgb = paper * (1 - ink[..., None]) + colour * ink[..., None]
    light = 1.0 - 0.35 * xs - 0.15 * ys
    if shadow:
        light *= 1 - 0.4 / (1 + np.exp(-(ys + xs - 1.35) / 0.03))
    rgb = rgb * light[..., None] + rng.normal(0, 0.02, rgb.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(buffer, "JPEG", quality=70)
    return Image.open(io.BytesIO(buffer.getvalue()))


@pytest.mark.parametrize("lines", ["ruled", "squared"])
def test_a_photo_of_a_digit_on_paper_reads_as_the_clean_drawing(classifier, lines):
    drawing = draw_seven(size=(600, 800), box=(220, 250, 400, 550), width=14)
    photographed = to_mnist(photo_of(drawing, lines=lines))
    assert blurred_correlation(photographed, to_mnist(drawing)) > 0.9
    assert classifier.predict_mnist(photographed).argmax() == 7


def test_mnist_test_digits_photographed_on_paper_read_right(classifier, mnist_test):
    images, labels = mnist_test
    right = 0
    for seed, k in enumerate(range(0, 200, 10)):
        drawing = paste_mnist(images[k], 8, (150, 250), canvas=(600, 800))
        right += classifier.predict_mnist(to_mnist(photo_of(drawing, seed))).argmax() == labels[k]
    assert right >= 19


def test_drawings_take_the_canvas_path_and_photos_the_paper_path():
    grey = lambda image: opaque_grey(image)  # noqa: E731
    assert not looks_like_photo(grey(draw_seven()))
    assert not looks_like_photo(grey(draw_seven(ink=255, paper=0)))
    assert looks_like_photo(grey(photo_of(draw_seven(size=(600, 800), box=(220, 250, 400, 550)))))


@pytest.mark.parametrize("resampler", [Image.Resampling.BICUBIC, Image.Resampling.NEAREST])
def test_a_thumbnail_scaled_up_takes_the_canvas_path(resampler):
    # Its digit fills the frame: no paper around the strokes to find the light of, and no detail for shadows.
    scan = faint_scan(pressure_left=1.0, contrast=0.6, resampler=resampler)
    assert not looks_like_photo(opaque_grey(scan))
    grain = np.random.default_rng(0).normal(0, 5, (scan.height, scan.width))  # a photo's: finer than the thumbnail
    photographed = Image.fromarray(np.clip(np.asarray(scan) + grain, 0, 255).astype(np.uint8))
    assert looks_like_photo(opaque_grey(photographed))


def test_unrepeated_undoes_an_enlargement_by_repeated_pixels_and_leaves_a_photo_as_it_is():
    thumbnail = np.random.default_rng(1).random((14, 11)).astype(np.float32)
    enlarged = np.repeat(np.repeat(thumbnail, [3, 4] * 7, axis=0), [5, 4, 6, 5, 4, 5, 6, 4, 5, 5, 4], axis=1)
    np.testing.assert_array_equal(unrepeated(enlarged), thumbnail)
    photo = np.random.default_rng(2).random((60, 80)).astype(np.float32)
    np.testing.assert_array_equal(unrepeated(photo), photo)


def test_a_photo_of_blank_ruled_paper_has_no_digit():
    with pytest.raises(BlankImageError):
        to_mnist(photo_of(Image.new("L", (600, 800), 255), lines="squared"))


def test_a_photo_of_a_striped_pattern_is_too_much_ink():
    stripes = Image.fromarray(np.where((np.arange(640) // 12) % 2 == 0, 40, 230).astype(np.uint8)[None].repeat(480, 0))
    with pytest.raises(TooMuchInkError):
        to_mnist(photo_of(stripes, lines="none", shadow=False))


@pytest.mark.parametrize(
    "shape, box, lines",
    [
        ("ellipse", (230, 330, 370, 470), "none"),  # a puck: kept whole as ink, as thick as it is wide
        ("rectangle", (230, 330, 370, 470), "ruled"),
        ("ellipse", (200, 300, 400, 500), "none"),  # wider than the paper's window: its edges are left as ink
    ],
)
def test_a_photo_of_a_filled_shape_is_refused_as_objects(shape, box, lines):
    drawing = Image.new("L", (600, 800), 255)
    getattr(ImageDraw.Draw(drawing), shape)(box, fill=0)
    with pytest.raises(ObjectPhotoError, match="photo of objects, not of handwriting") as refused:
        to_mnist(photo_of(drawing, lines=lines, shadow=False))
    assert refusal_title(refused.value) == NOT_A_DIGIT


def test_thick_marker_digits_photographed_are_read_not_refused(classifier, mnist_test):
    images, labels = mnist_test
    right = 0
    for seed, k in enumerate(range(5, 205, 10)):
        marker = cv2.dilate(images[k], np.ones((5, 5), np.uint8))  # 2 px wider on each side: data.py's marker
        drawing = paste_mnist(marker, 8, (150, 250), canvas=(600, 800))
        right += classifier.predict_mnist(to_mnist(photo_of(drawing, seed))).argmax() == labels[k]
    assert right >= 17


def test_a_canvas_digit_drawn_with_a_fat_brush_is_read(classifier):
    # The shape check runs on photos only: on a canvas, a fat brush's digit is as filled as a shape.
    assert classifier.predict_mnist(to_mnist(draw_seven(width=110))).argmax() == 7


def test_ruled_lines_are_taken_out_even_tilted_but_strokes_stay():
    contrast = np.zeros((240, 320), dtype=np.float32)
    for y in range(20, 240, 30):  # lines tilted by 2 degrees
        for x in range(320):
            contrast[min(239, int(y + x * 0.035)), x] = 0.3
    contrast[60:180, 150:158] = 0.9  # a stroke of a digit
    cleaned = without_lines(contrast)
    assert cleaned[:, :140].max() < 0.1
    assert cleaned[70:170, 150:158].min() > 0.5


def faint_scan(pressure_left: float, contrast: float, seed: int = 0, resampler=Image.Resampling.BICUBIC) -> Image.Image:
    """A thumbnail of a '0' scanned on grey paper (20 px of detail, sensor noise), pressed harder on its right than its
    left, and scaled up 6x (smoothly by default): the ring's pale half is far nearer the paper than its dark half."""
    rng = np.random.default_rng(seed)
    ring = np.zeros((120, 100), np.float32)
    cv2.ellipse(ring, (50, 60), (32, 45), 0, 0, 360, 1.0, 9, cv2.LINE_AA)
    ring *= np.linspace(pressure_left, 1.0, 100, dtype=np.float32)[None, :]
    small = cv2.resize(cv2.GaussianBlur(ring, (0, 0), 4), (17, 20), interpolation=cv2.INTER_AREA)
    grey = np.pad(0.8 * (1 - contrast * small), 3, constant_values=0.8)
    grey += rng.normal(0, 0.02, grey.shape)  # the sensor's noise: a paper background, not a canvas's
    scan = Image.fromarray(np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8))
    return scan.resize((scan.width * 6, scan.height * 6), resampler)


def test_a_faint_scan_keeps_the_pale_half_of_its_stroke(classifier):
    mnist = to_mnist(faint_scan(pressure_left=0.35, contrast=0.6))
    left, right = mnist[:, :14], mnist[:, 14:]
    assert np.count_nonzero(left > 64) > 0.5 * np.count_nonzero(right > 64)  # the ring whole, not a ')'
    assert classifier.predict_mnist(mnist).argmax() == 0


def test_pale_ink_is_kept_where_it_joins_clear_ink_and_only_there():
    contrast = np.zeros((200, 200), np.float32)
    cv2.ellipse(contrast, (80, 100), (40, 60), 0, 90, 270, 0.15, 8)  # a ring's pale half, pressed lightly ...
    cv2.ellipse(contrast, (80, 100), (40, 60), 0, -90, 90, 0.6, 8)  # ... and its dark half
    cv2.circle(contrast, (170, 30), 8, 0.15, -1)  # as pale, on its own: a stain in the paper
    ink = joined_ink(contrast, floor=0.3, faint=0.1, peak=0.6)
    assert ink[100, 40] > 0.1 and ink[100, 120] == 1
    assert ink[30, 170] == 0


def test_a_scan_in_pale_pencil_is_not_blank():
    assert to_mnist(faint_scan(pressure_left=1.0, contrast=0.15)).max() == 255
