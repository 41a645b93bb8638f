"""Open a picture once: a path, bytes, a numpy array, a PIL image or a Gradio Sketchpad value, decoded once.

A big JPEG file is decoded straight at 1/2, 1/4 or 1/8 of its size, in grey, by its own DCT
(Pillow's draft mode), no finer than the reading asks for: the reading reads grey levels, and a
12 MP phone photo costs a third of a full decode. A PIL image someone hands over is used as it
is, never changed. Whatever goes wrong is an `ImageError` whose message is meant for a person.
"""

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

INK_FLOOR = 0.06  # ink below this is paper texture or compression noise
# Pixels a file may decode to: a 5000x5000 PNG decodes in about 0.3 s. More (a PNG cannot be decoded smaller, as a
# JPEG can) would make a few-MB upload cost seconds: benchmarks/worst_case.py.
MAX_DECODED_PIXELS = 25_000_000


class ImageError(ValueError):
    """An input that is not a usable image; the message is meant for a person."""


class BlankImageError(ImageError):
    """An image with no ink on it."""


class TooMuchInkError(ImageError):
    """A picture with far more separate marks than any number has (noise, a texture, a page of text)."""


class ObjectPhotoError(TooMuchInkError):
    """A photo whose ink is filled shapes or the edges of dark things, not strokes of writing."""


def open_picture(source, least_side: int = 0) -> tuple[Image.Image, tuple[int, int]]:
    """The picture decoded, in a `standard_mode`, and its size in pixels (width, height).

    `source`: a path, bytes, numpy array, PIL image or Gradio Sketchpad value (its composite);
    None or an empty canvas is blank. A JPEG file whose longest side is at least twice
    `least_side` is decoded in grey at the coarsest DCT scale that keeps that side: the
    image is then smaller than the size returned, which is the file's. A file is turned
    upright as its EXIF orientation says (a phone's portrait photo), as people see it.
    """
    if isinstance(source, dict) and drawing_of(source) is None:
        raise BlankImageError("The canvas is empty: draw a digit.")
    source = drawing_of(source)
    if source is None:
        raise BlankImageError("No image was given.")
    if isinstance(source, Image.Image):
        return standard_mode(first_frame(source)), source.size
    if isinstance(source, np.ndarray):
        image = array_to_image(source)
        return standard_mode(image), image.size
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    elif not isinstance(source, (str, Path)):
        raise ImageError(f"Expected an image, got {type(source).__name__}.")
    try:
        image = Image.open(source)
        size = image.size
        scale = draft_scale(size, least_side)
        if scale > 1:
            image.draft("L", (size[0] // scale, size[1] // scale))  # a no-op for other formats than JPEG
        if image.width * image.height > MAX_DECODED_PIXELS:
            raise ImageError(
                f"This picture is too big to read quickly ({size[0]}x{size[1]} pixels): save it smaller "
                f"(at most {MAX_DECODED_PIXELS // 1_000_000} million pixels) or as a JPEG."
            )
        image = first_frame(image)
        image.load()
        stored = image.size
        ImageOps.exif_transpose(image, in_place=True)
        size = size if image.size == stored else size[::-1]
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"No such image file: {source}.") from None
    except Image.DecompressionBombError:
        raise ImageError("This image has too many pixels to process safely.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageError(
            "This file could not be read as an image: it may be truncated, corrupt or not an image at all."
        ) from None
    return standard_mode(image), size


def drawing_of(source):
    """A Gradio Sketchpad (or ImageEditor) value's composite, None for an empty canvas; any other picture itself."""
    return source.get("composite") if isinstance(source, dict) else source


def draft_scale(size: tuple[int, int], least_side: int) -> int:
    """The coarsest of JPEG's DCT scales (1, 2, 4, 8) whose longest side is still at least `least_side`."""
    return max((s for s in (2, 4, 8) if least_side and -(-max(size) // s) >= least_side), default=1)


def first_frame(image: Image.Image) -> Image.Image:
    """The first frame of an animated image (GIF, APNG, WebP); the image itself otherwise."""
    if getattr(image, "n_frames", 1) > 1:
        image = next(ImageSequence.Iterator(image)).copy()
    return image


def array_to_image(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (2, 3, 4)) or 0 in array.shape:
        raise ImageError(f"Expected a 2-D grey or colour image, got an array of shape {array.shape}.")
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype == np.uint16:
        array = (array // 257).astype(np.uint8)
    elif array.dtype.kind == "f":
        array = np.nan_to_num(array.astype(np.float32))
        scale = 255.0 if array.max(initial=0) <= 1.0 else 1.0
        array = np.clip(array * scale, 0, 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 2:
        array = np.concatenate([np.repeat(array[:, :, :1], 3, axis=2), array[:, :, 1:]], axis=2)
    return Image.fromarray(np.ascontiguousarray(array))


def standard_mode(image: Image.Image) -> Image.Image:
    """One of L, RGB, RGBA, I, F: the modes every later step (and PIL's reduce) handles."""
    if image.mode in ("L", "RGB", "RGBA", "I", "F"):
        return image
    if image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    if image.mode.startswith("I;16"):
        return image.convert("I")
    return image.convert("L" if image.mode == "1" else "RGB")


def opaque_grey(image: Image.Image) -> np.ndarray | None:
    """Float32 [H, W] grey levels in 0..1, or None for an image with a transparent background."""
    image = standard_mode(image)
    if image.mode in ("I", "F"):
        grey = np.asarray(image.convert("F") if image.mode != "F" else image, dtype=np.float32)
        top = grey.max(initial=0)
        grey = grey / (65535.0 if top > 255 else 255.0) if top > 1 else grey
        return np.clip(grey, 0, 1)
    if image.mode == "RGBA":
        if np.asarray(image.getchannel("A")).min() < 250:
            return None
        image = image.convert("RGB")
    return np.asarray(image.convert("L"), dtype=np.float32) / 255


def border_of(grey: np.ndarray) -> np.ndarray:
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


def picture_argument(module: str) -> str:
    """The image path of a `python -m mnist_demo.<module> IMAGE` command; a usage line (and exit 2) without one."""
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        print(f"usage: python -m mnist_demo.{module} IMAGE", file=sys.stderr)
        sys.exit(2)
    return sys.argv[1]
