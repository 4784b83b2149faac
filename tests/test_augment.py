"""Training augmentation on real digits: it moves ink the way it claims and never invents any; the input
pipeline that applies it serves whole batches with no autotuner thread to wait for."""

import numpy as np
import pytest

from demo.contract import to_model_input
from tests.conftest import FIXTURE
from train.augment import Augment, augment_batch, stroke_batch
from train.train import make_dataset


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


def test_the_training_pipeline_serves_whole_shuffled_augmented_batches_without_an_autotuner(digits):
    labels = np.arange(len(digits)) % 10
    train = make_dataset(digits, labels, 24, seed=5, augment=Augment())
    batches = list(train)
    assert [len(x) for x, _ in batches] == [24, 24]  # the last partial batch is dropped
    x, y = batches[0]
    assert x.shape[1:] == digits.shape[1:] and y.shape == (24, 10)
    assert list(np.argmax(y.numpy(), axis=1)) != list(labels[:24])  # shuffled
    nearest = np.abs(x.numpy()[:, None] - digits[None]).mean(axis=(2, 3, 4)).min(axis=1)
    assert nearest.min() > 1e-3  # and every digit warped: none is served as it was drawn
    val = make_dataset(digits, labels, 24, seed=5)
    assert [len(x) for x, _ in val] == [24, 24, 16]  # validation: every digit, in order
    np.testing.assert_array_equal(np.concatenate([x for x, _ in val]), digits)
    for ds in (train, val):  # its sleeping thread once held an epoch's end for up to a minute (README)
        assert ds.options().autotune.enabled is False
