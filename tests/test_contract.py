import numpy as np
import pytest

from demo.contract import INPUT_SHAPE, PAD, to_model_input


def test_uint8_digits_are_scaled_and_padded(sample):
    x = to_model_input(sample["x_test"][:5])
    assert x.shape == (5, *INPUT_SHAPE) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.array_equal(x[:, PAD:-PAD, PAD:-PAD, 0], sample["x_test"][:5] / np.float32(255))
    assert not x[:, :PAD].any() and not x[:, -PAD:].any() and not x[:, :, :PAD].any() and not x[:, :, -PAD:].any()


def test_float_digits_keep_their_scale_and_single_digit_gets_a_batch_axis():
    d = np.full((28, 28), 0.5, np.float32)
    x = to_model_input(d)
    assert x.shape == (1, *INPUT_SHAPE) and x.max() == 0.5


def test_wrong_shape_is_refused_with_the_expected_shape_named():
    with pytest.raises(ValueError, match=r"\[N, 28, 28\]"):
        to_model_input(np.zeros((3, 32, 32)))
