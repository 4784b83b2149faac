"""--zero-init-residual at the contract's 32x32. Zeroing every branch would leave ResNet50V2 reading only
the input's top-left 6x6 pixels, blank on MNIST, so it would answer every digit alike until the branches
learn; `zero_residual_branches` spares the three stride-2 blocks, whose branches carry the digit past the
shortcut (README, "Time to accuracy")."""

import numpy as np
import pytest

pytestmark = pytest.mark.train


@pytest.fixture(scope="module")
def digits(sample):
    from demo.contract import to_model_input

    digits = to_model_input(sample["x_test"][:16])
    assert np.abs(digits[:, :6, :6]).max() == 0  # the corner is blank on real digits
    return digits


def fresh_model():
    import keras

    from train.model import build_model

    keras.utils.set_random_seed(0)
    return build_model(dropout=0.0)


def feature_spread(model, digits) -> float:
    """How much the backbone's output varies across the digits (mean std per feature), read through the
    model's own graph (its scaling and grey-to-RGB); at 32x32 the backbone's map is 1x1, so pooling keeps it."""
    import keras

    features = keras.Model(model.input, model.get_layer("gap").output)(digits, training=False)
    return float(np.asarray(features).std(axis=0).mean())


def test_every_branch_zeroed_reads_only_the_top_left_corner(digits):
    from train.model import zero_residual_branches

    model = fresh_model()
    fresh = np.asarray(model(digits, training=False))
    assert np.ptp(fresh, axis=0).max() > 1e-3  # unzeroed, different digits get different answers

    assert zero_residual_branches(model, spare_strided=False) == 16
    zeroed = np.asarray(model(digits, training=False))
    assert np.ptp(zeroed, axis=0).max() < 1e-6  # every digit gets the same answer
    assert feature_spread(model, digits) < 1e-5
    marked = digits.copy()
    marked[:8, :6, :6] = 1.0  # ink in the corner is all it can see
    answers = np.asarray(model(marked, training=False))
    assert np.abs(answers[:8] - answers[8:]).max() > 1e-3


def test_zero_init_spares_the_strided_blocks_so_the_network_still_sees_the_digit(digits):
    from train.model import zero_residual_branches

    model = fresh_model()
    assert zero_residual_branches(model) == 13  # 16 blocks, 3 of them stride 2
    backbone = model.get_layer("resnet50v2")
    for name in ("conv2_block3", "conv3_block4", "conv4_block6"):
        assert np.abs(backbone.get_layer(f"{name}_3_conv").get_weights()[0]).max() > 0
    for name in ("conv2_block1", "conv4_block5", "conv5_block3"):
        assert np.abs(backbone.get_layer(f"{name}_3_conv").get_weights()[0]).max() == 0
    answers = np.asarray(model(digits, training=False))
    assert np.ptp(answers, axis=0).max() > 1e-4  # different digits, different answers
    assert feature_spread(model, digits) > 1e-4  # the last stage's output varies with the digit
