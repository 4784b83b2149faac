"""train.redrawn: training digits redrawn on the pad come back in MNIST geometry with their labels, differ
from the scans they came from, and are digits the shipped model still reads."""

import numpy as np

from demo.contract import to_model_input
from train.redrawn import redraw, with_redrawn


def test_redrawn_copies_join_the_training_digits_with_their_labels(sample):
    x, y = sample["x_train"][:200], sample["y_train"][:200]
    rx, ry = with_redrawn(x, y, 0.25, seed=0)
    assert (rx[:200] == x).all() and (ry[:200] == y).all()  # the originals first, untouched
    copies, labels = rx[200:], ry[200:]
    assert 45 <= len(copies) <= 50 and copies.dtype == np.uint8 and copies.shape[1:] == (28, 28)
    assert set(labels) <= set(y) and len(set(labels)) > 5
    assert with_redrawn(x, y, 0.0, seed=0)[0] is x


def test_a_redrawn_digit_is_a_pen_drawing_in_mnist_geometry(sample):
    rng = np.random.default_rng(1)
    for d in sample["x_train"][:20]:
        r = redraw(d, rng)
        rows, cols = np.flatnonzero(r.max(1) > 25), np.flatnonzero(r.max(0) > 25)
        assert rows[-1] - rows[0] < 22 and cols[-1] - cols[0] < 22  # MNIST's 20 px box
        assert np.abs(r.astype(int) - d.astype(int)).mean() > 3  # redrawn, not the scan


def test_the_shipped_model_reads_redrawn_digits(sample, classifier):
    x, y = sample["x_test"][:200], sample["y_test"][:200]
    rng = np.random.default_rng(2)
    drawn = np.stack([redraw(d, rng) for d in x])
    read = classifier.predict_batch(to_model_input(drawn)).argmax(1)
    assert (read == y).mean() > 0.9
