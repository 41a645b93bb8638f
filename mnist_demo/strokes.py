"""A drawing sent as strokes (the Draw tab's pad, or a script): checked, then drawn into the picture the Sketchpad sent.

The value is JSON, a few KB:

    {"width": 400, "height": 400, "strokes": [[[x, y], [x, y], ...], ...]}

points in the canvas's pixels (0,0 top left). The pad adds "drawing": true while the pen is
still down, and "sent", its count of values (ignored here). `stroke_picture` draws the strokes
black on white with the round pen the Sketchpad's brush had (BRUSH_RADIUS on a CANVAS_SIDE
canvas, scaled with the canvas), so the reading pipeline reads them as it read the Sketchpad's
picture. Anything malformed (not
that shape, NaN, negative sizes, millions of points) is a `StrokesError` saying what is wrong, before
any work is done; the work is bounded by MAX_STROKES and MAX_POINTS.

    python -m mnist_demo.strokes drawing.json out.png
"""

import json
import math
import sys

from PIL import Image, ImageDraw

from .artifacts import atomic_write
from .picture import ImageError

CANVAS_SIDE = 400  # the pad's canvas (and the Sketchpad's before it): preprocessing works at ~400 px anyway
BRUSH_RADIUS = 14  # a ~28 px round pen on a digit drawn ~250 px tall: MNIST's pen, relative to the digit
MAX_SIDE = 4000  # a canvas bigger than this would cost more to draw than any digit needs
MAX_STROKES = 200  # a whole number is a few strokes a digit
MAX_POINTS = 20_000  # all strokes together: minutes of drawing at the pad's sampling
MAX_TEXT = 1_000_000  # characters of a strokes value sent as JSON text


class StrokesError(ImageError):
    """A strokes value that is not one; the message is meant for a person."""


def is_strokes(value) -> bool:
    """Whether `value` is meant as strokes (a dict with "strokes", or JSON text of one), not a picture."""
    if isinstance(value, str):
        return value.lstrip().startswith("{")
    return isinstance(value, dict) and "strokes" in value


def checked_strokes(value) -> tuple[tuple[int, int], list[list[tuple[float, float]]]]:
    """(width, height) and the strokes as lists of (x, y), or a StrokesError saying what is wrong."""
    value = parsed(value)
    if not isinstance(value, dict):
        raise StrokesError(f"A strokes value is a JSON object, not {type(value).__name__}.")
    size = (side(value, "width"), side(value, "height"))
    strokes = value.get("strokes")
    if not isinstance(strokes, list):
        raise StrokesError('"strokes" must be a list of strokes, each a list of [x, y] points.')
    if len(strokes) > MAX_STROKES:
        raise StrokesError(f"Too many strokes ({len(strokes)}): at most {MAX_STROKES}.")
    total = sum(len(stroke) if isinstance(stroke, list) else 0 for stroke in strokes)
    if total > MAX_POINTS:
        raise StrokesError(f"Too many points ({total}): at most {MAX_POINTS} in all strokes together.")
    return size, [checked_stroke(stroke, k) for k, stroke in enumerate(strokes, 1)]


def parsed(value):
    """A strokes value as Python objects: JSON text is parsed (no more than MAX_TEXT characters)."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_TEXT:
        raise StrokesError(f"This strokes value is too long ({len(value)} characters): at most {MAX_TEXT}.")
    try:
        return json.loads(value)
    except ValueError as error:
        raise StrokesError(f"This strokes value is not valid JSON: {error}.") from None


def side(value: dict, name: str) -> int:
    """The canvas's width or height: a whole number of pixels, 1 to MAX_SIDE."""
    size = value.get(name, CANVAS_SIDE)
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not math.isfinite(size) or size != int(size):
        raise StrokesError(f'"{name}" must be a whole number of pixels, not {size!r}.')
    if not 1 <= size <= MAX_SIDE:
        raise StrokesError(f'"{name}" must be 1 to {MAX_SIDE} pixels, not {size}.')
    return int(size)


def checked_stroke(stroke, number: int) -> list[tuple[float, float]]:
    """One stroke's points as (x, y) floats: finite numbers, two to a point."""
    if not isinstance(stroke, list):
        raise StrokesError(f"Stroke {number} must be a list of [x, y] points, not {type(stroke).__name__}.")
    points = []
    for point in stroke:
        if not (isinstance(point, (list, tuple)) and len(point) == 2 and all(map(is_coordinate, point))):
            raise StrokesError(f"Stroke {number} has a point that is not [x, y] with finite numbers: {point!r:.60}.")
        points.append((float(point[0]), float(point[1])))
    return points


def is_coordinate(number) -> bool:
    return isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number)


def stroke_picture(value) -> Image.Image | None:
    """The strokes drawn black on white at the canvas's size with the pad's round pen; None when there are none
    (a blank canvas). Raises StrokesError for a malformed value."""
    size, strokes = checked_strokes(value)
    strokes = [stroke for stroke in strokes if stroke]
    if not strokes:
        return None
    radius = BRUSH_RADIUS * max(size) / CANVAS_SIDE
    picture = Image.new("L", size, 255)
    pen = ImageDraw.Draw(picture)
    for stroke in strokes:
        stroke = [on_canvas(point, size, radius) for point in stroke]
        if len(stroke) > 1:
            pen.line(stroke, fill=0, width=round(2 * radius) + 1, joint="curve")  # as wide as the ellipses
        for x, y in (stroke[0], stroke[-1]):  # round ends, as the browser's lineCap "round"
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    return picture


def on_canvas(point: tuple[float, float], size: tuple[int, int], margin: float) -> tuple[float, float]:
    """The point moved to within `margin` of the canvas: what lies further out never shows, and huge
    coordinates would only cost the drawing time."""
    return tuple(min(max(v, -margin), limit + margin) for v, limit in zip(point, size))


def pad_picture(value):
    """What a Draw-tab or /predict value shows: strokes drawn (None when blank); a Sketchpad value's
    composite or an uploaded file's path as it is, for the reading to open."""
    if value is None or is_strokes(value):
        return None if value is None else stroke_picture(value)
    if isinstance(value, dict) and "composite" in value:
        value = value["composite"]
    return value.get("path") if isinstance(value, dict) else value


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: python -m mnist_demo.strokes drawing.json out.png")
    try:
        with open(sys.argv[1]) as file:
            picture = stroke_picture(file.read(MAX_TEXT + 1))
    except OSError as error:
        sys.exit(f"Cannot read {sys.argv[1]}: {error.strerror}.")
    except StrokesError as error:
        sys.exit(str(error))
    if picture is None:
        sys.exit("No strokes: a blank canvas.")
    atomic_write(sys.argv[2], lambda path: picture.save(path, format="PNG"))
    print(sys.argv[2])


if __name__ == "__main__":
    main()
