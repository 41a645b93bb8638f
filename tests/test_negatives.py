"""mnist_demo.negatives: generated non-digits, in MNIST's format, that the packaged model refuses."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_demo import negatives
from mnist_demo.preprocess import to_mnist

# Characters a person could read as a digit: 0 (O o D Q), 1 (I l i j | ! /), 2 (Z z), 5 (S s), 6 (b G),
# 7 (T J), 8 (B), 9 (g q a), 4 (A h y), and the digits themselves.
DIGIT_LOOKALIKES = set("0123456789OoDQIlij|!/ZzSsbGTJBgqaAhy")


def center_of_mass(image: np.ndarray) -> np.ndarray:
    weights = image.astype(float)
    rows, cols = np.indices(image.shape)
    return np.array([(rows * weights).sum(), (cols * weights).sum()]) / weights.sum()


def test_negatives_are_mnist_format_and_the_same_for_a_seed():
    first = negatives.make_negatives(12, seed=3)
    assert first.dtype == np.uint8 and first.shape == (12, 28, 28)
    np.testing.assert_array_equal(first, negatives.make_negatives(12, seed=3))
    assert not np.array_equal(first, negatives.make_negatives(12, seed=4))
    assert len({image.tobytes() for image in first}) == 12  # no picture twice


def test_each_negative_is_ink_centred_as_mnist_centres_a_digit():
    """White on black, bright ink, its centre of mass near the middle (MNIST's own centring), rarely anything on
    the rim (1.1% of MNIST's test digits touch it: a lopsided shape is shifted against the edge to centre its mass)."""
    rim = 0
    for image in negatives.make_negatives(40, seed=7):
        assert image.max() >= 200 and (image > 0).mean() < 0.6
        assert np.abs(center_of_mass(image) - 13.5).max() <= 2.0
        rim += bool(image[[0, -1], :].max() or image[:, [0, -1]].max())
    assert rim <= 2


@pytest.mark.parametrize("drawer", sorted(set(negatives.DRAWERS), key=lambda d: d.__name__), ids=lambda d: d.__name__)
def test_every_drawer_leaves_ink_that_reads_as_a_picture(drawer):
    """Nearly always: a glyph a font lacks draws nothing, and make_negatives then draws another."""
    fonts, inked = negatives.available_fonts(), 0
    for seed in range(20):
        canvas = Image.new("L", (negatives.CANVAS, negatives.CANVAS), 255)
        drawer(ImageDraw.Draw(canvas), np.random.default_rng(seed), fonts)
        if (np.asarray(canvas) < 128).any():
            inked += 1
            assert to_mnist(canvas).max() > 0
    assert inked >= 16, f"{drawer.__name__}: {inked} of 20 canvases have ink"


def test_no_character_drawn_looks_like_a_digit():
    assert not DIGIT_LOOKALIKES & set(negatives.LETTERS + negatives.SIGNS)


def test_the_fonts_come_with_matplotlib_and_a_machine_without_them_still_gets_letters(monkeypatch):
    assert len(negatives.available_fonts()) >= 10  # DejaVu and STIX, the same on every machine
    monkeypatch.setattr(negatives, "available_fonts", lambda: [])
    images = negatives.make_negatives(10, seed=0)  # PIL's own font
    assert images.shape == (10, 28, 28) and all(image.max() > 0 for image in images)


def test_the_packaged_model_calls_negatives_it_never_saw_not_a_digit(classifier):
    """Outlier exposure worked: pictures from a seed training never used are flagged (98.9% at the packaged
    weights' calibration), while real digits pass (tests/test_read.py)."""
    unseen = negatives.make_negatives(200, seed=123_456)
    flagged = classifier.not_a_digit(classifier.predict_mnist(unseen)).mean()
    assert flagged >= 0.85, f"{flagged:.1%} of unseen non-digits flagged"
