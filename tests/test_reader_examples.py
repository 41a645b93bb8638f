"""mnist_demo.reader_examples: training digits scanned small, as the app sees them."""

import numpy as np

from mnist_demo.reader_examples import scanned_digits


def test_scanned_digits_keep_their_labels_and_come_back_in_mnist_format(mnist_test):
    images, labels = mnist_test[0][:300], mnist_test[1][:300]
    scans, scan_labels = scanned_digits(images, labels, 12, seed=2)
    assert scans.shape == (12, 28, 28) and scans.dtype == np.uint8 and len(scan_labels) == 12
    assert set(scan_labels.tolist()) <= set(labels.tolist())
    assert (scans.reshape(12, -1).max(1) == 255).all()  # MNIST's full-white core
    assert scanned_digits(images, labels, 0)[0].shape == (0, 28, 28)
    again, _ = scanned_digits(images, labels, 12, seed=2)
    assert np.array_equal(again, scans)  # seeded
