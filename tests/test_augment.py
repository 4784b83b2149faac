"""Training augmentation on real digits: it moves ink the way it claims and never invents any."""

import numpy as np
import pytest

from demo.contract import to_model_input
from tests.conftest import FIXTURE
from train.augment import Augment, augment_batch, stroke_batch


@pytest.fixture(scope="module")
def digits():
    with np.load(FIXTURE) as f:
        return to_model_input(f["x_train"][:64])


def ink(x):
    return (np.asarray(x) > 0.5).sum(axis=(1, 2, 3))


def test_stroke_widens_and_narrows_each_digit_by_its_own_amount(digits):
    fat = stroke_batch(digits, 1.0, seed=1).numpy()
    assert fat.shape == digits.shape and 0.0 <= fat.min() and fat.max() <= 1.0
    grew, shrank = ink(fat) > ink(digits), ink(fat) < ink(digits)
    assert grew.sum() >= 10 and shrank.sum() >= 10  # both pens, drawn per image
    full = stroke_batch(digits, 1e-6, seed=1).numpy()  # strength ~0: the digit itself
    np.testing.assert_allclose(full, digits, atol=1e-5)


def test_no_augmentation_is_the_identity(digits):
    out = augment_batch(digits, Augment(0, 0, 0, 0, 0)).numpy()
    np.testing.assert_allclose(out, digits, atol=1e-5)


def test_geometry_keeps_the_digit_on_the_canvas(digits):
    out = augment_batch(digits, Augment(10, 0.1, 0.1, 0, 0.5), seed=3).numpy()
    assert out.shape == digits.shape and not np.isnan(out).any()
    assert np.abs(out - digits).mean() > 0.01  # it changed something
    ratio = out.sum(axis=(1, 2, 3)) / digits.sum(axis=(1, 2, 3))
    assert ratio.min() > 0.4 and ratio.max() < 2.5  # the digit is moved and reshaped, not lost
