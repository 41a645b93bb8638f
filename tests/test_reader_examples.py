"""mnist_demo.reader_examples: training digits scanned small, as the app sees them."""

import numpy as np

from mnist_demo.reader_examples import enlarged_ink, pen_and_pressure, scanned_digits, small_scan


def test_scanned_digits_keep_their_labels_and_come_back_in_mnist_format(mnist_test):
    images, labels = mnist_test[0][:300], mnist_test[1][:300]
    scans, scan_labels = scanned_digits(images, labels, 12, seed=2)
    assert scans.shape == (12, 28, 28) and scans.dtype == np.uint8 and len(scan_labels) == 12
    assert set(scan_labels.tolist()) <= set(labels.tolist())
    assert (scans.reshape(12, -1).max(1) == 255).all()  # MNIST's full-white core
    assert scanned_digits(images, labels, 0)[0].shape == (0, 28, 28)
    again, _ = scanned_digits(images, labels, 12, seed=2)
    assert np.array_equal(again, scans)  # seeded


def test_small_scans_come_in_grey_and_in_colour(mnist_test):
    rng = np.random.default_rng(0)
    modes = [small_scan(mnist_test[0][i], rng).mode for i in range(30)]
    assert set(modes) == {"L", "RGB"}


def test_another_pen_is_thinner_or_pressed_unevenly_but_never_loses_the_digit(mnist_test):
    ink = enlarged_ink(mnist_test[0][0])
    rng = np.random.default_rng(1)
    redrawn = [pen_and_pressure(ink, rng) for _ in range(40)]
    assert all(r.shape == ink.shape and r.dtype == np.float32 and r.min() >= 0 and r.max() <= 1 for r in redrawn)
    shares = [float(r.sum() / ink.sum()) for r in redrawn]
    assert min(shares) < 0.6  # some pens leave far less ink than MNIST's ...
    assert min(float((r > 0.05).sum()) for r in redrawn) > 0.2 * float((ink > 0.25).sum())  # ... none erases it
