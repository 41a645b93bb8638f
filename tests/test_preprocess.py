"""mnist_demo.preprocess: any picture of a digit -> what MNIST would have made of it."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from mnist_demo.picture import BlankImageError, ImageError
from mnist_demo.preprocess import center_by_mass, stroke_width, to_mnist


def draw_seven(size=(800, 800), box=(250, 150, 550, 650), width=24, ink=0, paper=255, mode="L") -> Image.Image:
    """A '7' drawn as two strokes inside `box` on a canvas."""
    image = Image.new(mode, size, paper)
    x0, y0, x1, y1 = box
    draw = ImageDraw.Draw(image)
    draw.line([(x0, y0), (x1, y0), (x0 + (x1 - x0) // 3, y1)], fill=ink, width=width, joint="curve")
    return image


def paste_mnist(
    digit: np.ndarray, scale: int, top_left: tuple[int, int], canvas=(800, 800), dark_ink=True
) -> Image.Image:
    """An MNIST digit upscaled `scale` times and pasted at `top_left` on a large canvas."""
    big = Image.fromarray(digit).resize((28 * scale, 28 * scale), Image.Resampling.BILINEAR)
    image = Image.new("L", canvas, 0)
    image.paste(big, top_left)
    return Image.fromarray(255 - np.asarray(image)) if dark_ink else image


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def blurred_correlation(a: np.ndarray, b: np.ndarray, radius: float = 1.5) -> float:
    """Correlation that forgives a one-pixel shift or a thinner stroke: both images blurred first."""
    blur = lambda x: np.asarray(Image.fromarray(x).filter(ImageFilter.GaussianBlur(radius)))  # noqa: E731
    return correlation(blur(a), blur(b))


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def test_output_is_mnist_format():
    out = to_mnist(draw_seven())
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert out.max() == 255 and out[0].max() == 0 and out[:, 0].max() == 0  # white on black, margins empty


def test_digit_fits_20px_box_centred_by_mass():
    out = to_mnist(draw_seven())
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) in (20, 21)  # 20 px plus anti-aliasing
    cy, cx = center_of_mass(out)
    assert abs(cy - 14) < 1 and abs(cx - 14) < 1


def test_both_polarities_give_the_same_digit():
    dark_on_light = to_mnist(draw_seven(ink=0, paper=255))
    light_on_dark = to_mnist(draw_seven(ink=255, paper=0))
    assert np.abs(dark_on_light.astype(int) - light_on_dark).max() <= 2


def test_transparent_rgba_sketch_is_not_all_black():
    """Gradio's Sketchpad: black ink on a fully transparent background."""
    sketch = draw_seven(mode="RGBA", ink=(0, 0, 0, 255), paper=(0, 0, 0, 0))
    out = to_mnist({"background": None, "layers": [], "composite": np.asarray(sketch)})
    assert correlation(out, to_mnist(draw_seven())) > 0.98


def test_position_on_the_canvas_does_not_matter():
    centred = to_mnist(draw_seven(box=(250, 150, 550, 650)))
    corner = to_mnist(draw_seven(box=(20, 20, 200, 320), width=15))
    assert correlation(centred, corner) > 0.95


def test_tiny_and_huge_drawings_come_out_alike(classifier):
    normal = to_mnist(draw_seven())
    tiny = to_mnist(draw_seven(box=(400, 400, 418, 430), width=3))  # 18x30 px on an 800 px canvas
    huge = to_mnist(draw_seven(size=(5000, 5000), box=(1500, 300, 4200, 4800), width=216))  # the same 7, 9x
    assert blurred_correlation(normal, tiny) > 0.7  # a 3 px pen at that size is coarse, and its mass sits higher
    assert blurred_correlation(normal, huge) > 0.95
    assert [classifier.predict_mnist(x).argmax() for x in (normal, tiny, huge)] == [7, 7, 7]


def test_non_square_canvas_keeps_the_aspect_ratio():
    wide = to_mnist(draw_seven(size=(1600, 400), box=(1000, 50, 1150, 350), width=14))
    cols = np.flatnonzero(wide.any(axis=0))
    assert 8 <= cols[-1] - cols[0] + 1 <= 14  # a 150x300 seven is about half as wide as tall


def test_hair_thin_strokes_survive_shrinking():
    thin = to_mnist(draw_seven(width=1))
    assert thin.max() == 255
    assert 1.5 < stroke_width(thin.astype(np.float32) / 255) < 4.5  # MNIST's own strokes are ~2-3 px


@pytest.mark.parametrize(
    "make",
    [
        lambda: Image.new("L", (800, 800), 255),
        lambda: Image.new("RGBA", (800, 800), (0, 0, 0, 0)),
        lambda: Image.new("RGB", (1, 1), (10, 10, 10)),
        lambda: np.zeros((280, 280, 4), dtype=np.uint8),
        lambda: {"background": None, "layers": [], "composite": None},
    ],
)
def test_blank_inputs_raise_blank_image_error(make):
    with pytest.raises(BlankImageError):
        to_mnist(make())


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "LA"])
def test_every_image_mode_reads_the_same_digit(mode):
    reference = to_mnist(draw_seven())
    seven = draw_seven()
    converted = seven.convert(mode) if mode not in ("I;16", "I", "F") else seven.convert("I").convert(mode)
    assert correlation(to_mnist(converted), reference) > 0.97


def test_sixteen_bit_array_and_float_array():
    grey = np.asarray(draw_seven(), dtype=np.float32) / 255
    reference = to_mnist(draw_seven())
    assert correlation(to_mnist((grey * 65535).astype(np.uint16)), reference) > 0.98
    assert correlation(to_mnist(grey), reference) > 0.98


def test_animated_gif_uses_the_first_frame():
    frames = [draw_seven(), Image.new("L", (800, 800), 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    assert correlation(to_mnist(buffer.getvalue()), to_mnist(draw_seven())) > 0.97


@pytest.mark.parametrize("payload", [b"this is not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, b""])
def test_unreadable_files_raise_a_human_message(tmp_path, payload):
    path = tmp_path / "digit.png"
    path.write_bytes(payload)
    with pytest.raises(ImageError, match="could not be read as an image"):
        to_mnist(str(path))


def test_truncated_png_raises_a_human_message(tmp_path):
    buffer = io.BytesIO()
    draw_seven().save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError):
        to_mnist(str(path))


def test_center_by_mass_puts_the_mass_at_the_centre():
    digit = np.zeros((12, 10), dtype=np.float32)
    digit[:3] = 1  # all the mass at the top: the box moves down
    cy, cx = center_of_mass(center_by_mass(digit))
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_center_by_mass_keeps_a_full_size_digit_inside_the_field():
    digit = np.zeros((20, 20), dtype=np.float32)
    digit[:2] = 1
    field = center_by_mass(digit)
    assert field.sum() == digit.sum()


def test_mnist_digit_pasted_large_and_off_centre_comes_back(mnist_test, classifier):
    """The independent truth: MNIST's own 28x28 images. Re-preprocessing a pasted one gives it back."""
    images, labels = mnist_test
    rng = np.random.default_rng(0)
    scores, agree = [], 0
    for i in rng.choice(len(images), 40, replace=False):
        scale = int(rng.integers(6, 20))
        x, y = (int(v) for v in rng.integers(0, 800 - 28 * scale, 2))
        recovered = to_mnist(paste_mnist(images[i], scale, (x, y), dark_ink=bool(i % 2)))
        scores.append(correlation(recovered, images[i]))
        agree += classifier.classify(paste_mnist(images[i], scale, (x, y))).__getitem__(str(labels[i])) > 0.5
    assert np.median(scores) > 0.9
    assert agree >= 38


@pytest.mark.parametrize("height", [300, 1500])
def test_a_big_jpeg_decoded_at_its_dct_scale_reads_as_decoded_in_full(tmp_path, height):
    """A 12 MP JPEG of a 7 a tenth of its height, or half: decoded at a quarter of its size (`picture.open_picture`),
    the 28x28 image is the one a full decode gives, to a pixel's shift of its centre of mass."""
    width = height * 2 // 5
    seven = draw_seven(size=(4000, 3000), box=(1900, 1500 - height // 2, 1900 + width, 1500 + height // 2), width=30)
    seven.save(tmp_path / "seven.jpg", quality=90)
    in_full = to_mnist(Image.open(tmp_path / "seven.jpg").convert("L"))
    assert blurred_correlation(to_mnist(str(tmp_path / "seven.jpg")), in_full) > 0.98
