"""mnist_demo.picture: every kind of picture opened once; a big JPEG decoded small, straight from its DCT."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile

from mnist_demo import picture
from mnist_demo.picture import BlankImageError, ImageError, draft_scale, open_picture


def jpeg(size=(4000, 3000)) -> bytes:
    """A JPEG of a grey bar on white: a phone photo's size, cheap to make."""
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).line([(size[0] // 2, size[1] // 4), (size[0] // 2, 3 * size[1] // 4)], fill=0, width=80)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "size, least, scale", [((4000, 3000), 800, 4), ((4000, 3000), 400, 8), ((1000, 750), 800, 1), ((1700, 900), 800, 2)]
)
def test_the_coarsest_dct_scale_that_keeps_the_side_asked_for(size, least, scale):
    assert draft_scale(size, least) == scale
    assert draft_scale(size, 0) == 1  # nothing asked: the full picture


def test_a_big_jpeg_file_is_decoded_once_at_the_scale_asked_for_and_sized_as_the_file(tmp_path, monkeypatch):
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg())
    decoded, load = [], ImageFile.ImageFile.load

    def decode(image):
        if image.tile:
            decoded.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    for source in (str(path), path.read_bytes()):
        decoded.clear()
        image, size = open_picture(source, 800)
        assert decoded == [(1000, 750)] and image.size == (1000, 750) and size == (4000, 3000)
        assert image.mode == "L"  # what the reading reads: no colour decoded
        full = np.asarray(Image.open(path).convert("L").reduce(4), dtype=float)
        assert np.abs(np.asarray(image.convert("L"), dtype=float) - full).mean() < 2  # the same picture, smaller


def test_a_pil_image_is_used_as_given_never_decoded_smaller():
    lazy = Image.open(io.BytesIO(jpeg()))  # not loaded yet: a draft would change the caller's image
    image, size = open_picture(lazy, 800)
    assert size == (4000, 3000) and image.size == (4000, 3000) and lazy.size == (4000, 3000)


@pytest.mark.parametrize(
    "source",
    [
        np.zeros((30, 40), dtype=np.uint8),
        np.zeros((30, 40, 3), dtype=np.float32),
        np.zeros((30, 40, 2), dtype=np.uint16),
        Image.new("P", (40, 30)),
        Image.new("LA", (40, 30)),
        Image.new("I;16", (40, 30)),
        Image.new("CMYK", (40, 30)),
    ],
)
def test_arrays_and_images_of_every_mode_open_in_a_standard_mode(source):
    image, size = open_picture(source)
    assert image.mode in ("L", "RGB", "RGBA", "I", "F") and size == (40, 30) == image.size


@pytest.mark.parametrize("source", [None, {"background": None, "layers": [], "composite": None}])
def test_nothing_or_an_empty_canvas_is_blank(source):
    with pytest.raises(BlankImageError):
        open_picture(source)


@pytest.mark.parametrize(
    "source, message",
    [
        (b"not an image", "could not be read as an image"),
        ("/no/such/picture.png", "No such image file"),
        (np.zeros((3, 4, 5)), "Expected a 2-D grey or colour image"),
        (3.5, "Expected an image, got float"),
    ],
)
def test_what_is_not_a_picture_says_so_in_words(source, message):
    with pytest.raises(ImageError, match=message):
        open_picture(source)


def test_a_file_too_big_to_decode_quickly_is_refused_in_words_unless_a_jpeg_decodes_it_smaller(monkeypatch):
    monkeypatch.setattr(picture, "MAX_DECODED_PIXELS", 2_000_000)  # a 2000x1500 PNG stands for a 9000x9000 one
    png = io.BytesIO()
    Image.new("L", (2000, 1500), 255).save(png, "PNG")
    with pytest.raises(ImageError, match=r"too big to read quickly \(2000x1500 pixels\)"):
        open_picture(png.getvalue(), 800)
    image, size = open_picture(jpeg((2000, 1500)), 800)  # decoded at half size: 1.5 million pixels
    assert size == (2000, 1500) and image.size == (1000, 750)


def test_a_phone_photo_stored_sideways_is_read_upright():
    """Phones store a portrait photo as the sensor saw it, landscape, and an EXIF tag that says to turn it."""
    upright = Image.new("L", (300, 400), 255)
    ImageDraw.Draw(upright).line([(100, 100), (200, 100), (130, 300)], fill=0, width=20)  # a 7
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to show
    buffer = io.BytesIO()
    sideways.save(buffer, "JPEG", exif=exif, quality=95)
    image, size = open_picture(buffer.getvalue())
    assert size == image.size == (300, 400)
    assert np.abs(np.asarray(image, dtype=float) - np.asarray(upright, dtype=float)).mean() < 3
