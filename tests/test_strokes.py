"""mnist_demo.strokes: the pad's strokes, checked and drawn into the picture the Sketchpad sent.

The check that matters: the same strokes drawn as a browser's Sketchpad drew them (its round brush
stamped along the path on a transparent canvas, Gradio's composite) and as strokes give the model
the same 28x28 image, so answers cannot drift when the pad replaced the Sketchpad.

    python -m pytest tests/test_strokes.py -q
"""

import json
import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_demo.preprocess import to_mnist
from mnist_demo.strokes import (
    BRUSH_RADIUS,
    CANVAS_SIDE,
    MAX_POINTS,
    MAX_STROKES,
    StrokesError,
    checked_strokes,
    pad_picture,
    stroke_picture,
)

# Digits as strokes, in the canvas's pixels: a 7, a 4 in two strokes, a 0 as one closed curve, a 1 and a 7.
SEVEN = [[[110, 90], [290, 90]], [[290, 90], [240, 200], [180, 330]]]
FOUR = [[[230, 70], [120, 240], [290, 240]], [[240, 150], [240, 340]]]
ZERO = [[[200 + 80 * math.sin(t / 20 * math.tau), 200 - 120 * math.cos(t / 20 * math.tau)] for t in range(21)]]
SEVENTEEN = [[[90, 100], [90, 300]], [[170, 100], [320, 100], [230, 300]]]


def value(strokes, side: int = CANVAS_SIDE, **more) -> dict:
    return {"width": side, "height": side, "strokes": strokes, **more}


def as_the_sketchpad_drew(strokes) -> dict:
    """The Sketchpad value a browser sent for these strokes: its round brush (radius BRUSH_RADIUS) stamped every
    pixel along each stroke, black on a transparent 400x400 canvas."""
    canvas = Image.new("RGBA", (CANVAS_SIDE, CANVAS_SIDE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(canvas)
    for stroke in strokes:
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:] or stroke):
            steps = max(1, round(math.hypot(x1 - x0, y1 - y0)))
            for k in range(steps + 1):
                x, y = x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps
                pen.ellipse((x - BRUSH_RADIUS, y - BRUSH_RADIUS, x + BRUSH_RADIUS, y + BRUSH_RADIUS), fill="black")
    return {"background": None, "layers": [], "composite": canvas}


@pytest.mark.parametrize("strokes", [SEVEN, FOUR, ZERO, SEVENTEEN], ids=["7", "4", "0", "17"])
def test_strokes_give_the_model_the_image_the_sketchpad_gave_it(strokes):
    from_sketchpad = to_mnist(as_the_sketchpad_drew(strokes)).astype(int)
    from_strokes = to_mnist(stroke_picture(value(strokes))).astype(int)
    # Centred by mass, the two can land a pixel apart (a brush's edge pixel more or less); beyond that, equal.
    difference = min(
        np.abs(np.roll(from_sketchpad, (dy, dx), axis=(0, 1)) - from_strokes).mean()
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )
    assert difference <= 3  # of 255: the same strokes, the same width
    assert abs(int(from_sketchpad.sum()) - int(from_strokes.sum())) <= 0.05 * from_sketchpad.sum()


def test_strokes_are_read_as_the_sketchpad_was(classifier):
    for strokes, digit in ((SEVEN, "7"), (FOUR, "4"), (ZERO, "0")):
        by_strokes = classifier.classify(stroke_picture(value(strokes)))
        by_sketchpad = classifier.classify(as_the_sketchpad_drew(strokes))
        assert max(by_strokes, key=by_strokes.get) == max(by_sketchpad, key=by_sketchpad.get) == digit
    assert classifier.read(stroke_picture(value(SEVENTEEN)))["number"] == "17"


def test_the_pen_is_round_and_as_wide_as_the_sketchpads_brush():
    picture = np.asarray(stroke_picture(value([[[200, 100], [200, 300]]])))
    row = picture[200] < 128
    assert row.sum() in range(2 * BRUSH_RADIUS - 1, 2 * BRUSH_RADIUS + 2)
    column = picture[:, 200] < 128
    assert column.sum() in range(200 + 2 * BRUSH_RADIUS - 1, 200 + 2 * BRUSH_RADIUS + 2)  # round ends
    dot = np.asarray(stroke_picture(value([[[50, 50]]]))) < 128  # a tap is a dot
    assert dot[50, 50] and dot.sum() == pytest.approx(math.pi * BRUSH_RADIUS**2, rel=0.1)


def test_a_bigger_canvas_scales_the_pen_with_it():
    picture = np.asarray(stroke_picture(value([[[400, 200], [400, 600]]], side=800)))
    assert (picture[400] < 128).sum() in range(4 * BRUSH_RADIUS - 1, 4 * BRUSH_RADIUS + 2)


def test_json_text_is_read_like_the_object():
    from_text, from_object = stroke_picture(json.dumps(value(SEVEN))), stroke_picture(value(SEVEN))
    assert np.array_equal(np.asarray(from_text), np.asarray(from_object))


@pytest.mark.parametrize("blank", [value([]), value([[], []]), {"strokes": []}])
def test_no_strokes_is_a_blank_canvas(blank):
    assert stroke_picture(blank) is None and pad_picture(blank) is None


def test_points_far_off_the_canvas_cost_nothing():
    picture = stroke_picture(value([[[-1e300, 200], [1e300, 200]]]))
    assert (np.asarray(picture)[200] < 128).all()


@pytest.mark.parametrize(
    "bad, message",
    [
        ([1, 2], "JSON object"),
        ("{not json", "not valid JSON"),
        ('"' + "x" * 1_000_001 + '"', "too long"),
        ({"width": 400, "height": 400}, '"strokes" must be a list'),
        (value("7"), '"strokes" must be a list'),
        (value([[[1, 2], [3]]]), "Stroke 1 has a point"),
        (value([[[1, 2]], [[float("nan"), 2]]]), "Stroke 2 has a point"),
        (value([[[1, float("inf")]]]), "finite numbers"),
        (value([[["1", 2]]]), "Stroke 1 has a point"),
        (value([[[True, 2]]]), "Stroke 1 has a point"),
        (value([{"x": 1}]), "Stroke 1 must be a list"),
        (value([[[1, 2]]], side=-400), '"width" must be 1 to'),
        (value([[[1, 2]]], side=0), '"width" must be 1 to'),
        (value([[[1, 2]]], side=10**9), '"width" must be 1 to'),
        ({"width": 400.5, "height": 400, "strokes": []}, "whole number"),
        ({"width": float("nan"), "height": 400, "strokes": []}, "whole number"),
        ({"width": "400", "height": 400, "strokes": []}, "whole number"),
        (value([[[1, 2]]] * (MAX_STROKES + 1)), "Too many strokes"),
        (value([[[1, 2]] * (MAX_POINTS + 1)]), "Too many points"),
    ],
)
def test_a_malformed_value_says_what_is_wrong(bad, message):
    with pytest.raises(StrokesError, match=message):
        stroke_picture(bad)


def test_millions_of_points_are_refused_before_any_is_looked_at():
    huge = value([[[0, 0]] * 2_000_000])
    with pytest.raises(StrokesError, match="Too many points"):
        checked_strokes(huge)


def test_pad_picture_passes_pictures_through():
    image = Image.new("L", (10, 10))
    assert pad_picture({"background": None, "layers": [], "composite": image}) is image
    assert pad_picture({"composite": {"path": "/tmp/x.png"}}) == "/tmp/x.png"
    assert pad_picture({"composite": None}) is None
    assert pad_picture("digit.png") == "digit.png"
    assert pad_picture(None) is None
