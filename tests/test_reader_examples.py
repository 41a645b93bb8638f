"""mnist_demo.reader_examples: digits scanned small and the groupings of composed numbers, as the reader sees them."""

import numpy as np
import pytest

from mnist_demo import reader_examples
from mnist_demo.reader_examples import (
    non_digit_pieces,
    number_pieces,
    scanned_digits,
    what_group,
    written_number,
)


@pytest.fixture(scope="module")
def some_digits(mnist_test):
    images, labels = mnist_test
    return images[:300], labels[:300]


def test_what_group_tells_a_whole_digit_from_fragments_and_pairs():
    owner = np.full((10, 30), -1)
    owner[2:8, 2:8], owner[2:8, 12:18] = 0, 1  # two digits of 36 pixels each
    whole = owner == 0
    assert what_group(whole, owner, 2) == 0
    assert what_group(owner == 1, owner, 2) == 1
    assert what_group(owner >= 0, owner, 2) == -1  # both digits: a pair
    fragment = np.zeros_like(whole)
    fragment[2:8, 2:4] = True  # a third of digit 0
    assert what_group(fragment, owner, 2) == -1
    most = np.zeros_like(whole)
    most[2:8, 2:7] = True  # five sixths of digit 0: neither whole nor a fragment, kept out
    assert what_group(most, owner, 2) is None
    assert what_group(np.zeros_like(whole), owner, 2) is None  # no digit's ink at all


def test_written_numbers_say_which_digit_owns_each_pixel(some_digits):
    images, labels = some_digits
    rng = np.random.default_rng(0)
    for _ in range(5):
        picture, owner, digits = written_number(images, labels, rng)
        ink = np.asarray(picture) < 178  # darker than 30% ink: what `written_number` gives an owner
        assert owner.shape == ink.shape and 2 <= len(digits) <= 5
        assert set(np.unique(owner)) - {-1} == set(range(len(digits)))  # every digit is there
        assert (owner[ink] >= 0).mean() > 0.95  # the ink is the digits' ...
        assert ink[owner >= 0].mean() > 0.95  # ... and the digits are ink


def test_number_pieces_are_labelled_digits_and_non_digits_in_mnist_format(some_digits):
    images, labels = some_digits
    (wholes, whole_labels), others = number_pieces(images, labels, 60, seed=1)
    assert len(wholes) + len(others) >= 60 and len(wholes) > 0 and len(others) > 0
    assert wholes.dtype == others.dtype == np.uint8 and wholes.shape[1:] == others.shape[1:] == (28, 28)
    assert len(whole_labels) == len(wholes) and set(whole_labels.tolist()) <= set(range(10))
    again = number_pieces(images, labels, 60, seed=1)
    assert np.array_equal(again[0][0], wholes) and np.array_equal(again[1], others)  # seeded


def test_non_digit_pieces_are_every_grouping_of_rows_of_non_digits():
    pieces = non_digit_pieces(30, seed=1)
    assert len(pieces) >= 30 and pieces.dtype == np.uint8 and pieces.shape[1:] == (28, 28)
    assert (pieces.reshape(len(pieces), -1).max(1) > 0).mean() > 0.9  # ink, in MNIST's format
    assert np.array_equal(non_digit_pieces(30, seed=1), pieces)


def test_scanned_digits_keep_their_labels_and_come_back_in_mnist_format(some_digits):
    images, labels = some_digits
    scans, scan_labels = scanned_digits(images, labels, 12, seed=2)
    assert scans.shape == (12, 28, 28) and scans.dtype == np.uint8 and len(scan_labels) == 12
    assert set(scan_labels.tolist()) <= set(labels.tolist())
    assert (scans.reshape(12, -1).max(1) == 255).all()  # MNIST's full-white core
    assert scanned_digits(images, labels, 0)[0].shape == (0, 28, 28)


@pytest.mark.slow
def test_number_pieces_of_real_mnist_read_as_their_digits(mnist_test, classifier):
    images, labels = mnist_test
    (wholes, whole_labels), others = number_pieces(images[:2000], labels[:2000], 300, seed=3)
    read = classifier.predict_mnist(wholes).argmax(1)
    assert (read == whole_labels).mean() > 0.9  # a whole digit cut out of a number is still that digit
    assert reader_examples.WHOLE > reader_examples.FRAGMENT
