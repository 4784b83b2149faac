"""--zero-init-residual at the contract's 32x32: with every branch zeroed ResNet50V2 sees only the input's
top-left 6x6 pixels, blank on MNIST, so it answers every digit alike until the branches learn (why
`--recipe quick` no longer zeroes them; README, "Time to accuracy")."""

import numpy as np
import pytest

pytestmark = pytest.mark.train


def test_the_zeroed_network_reads_only_the_top_left_corner(sample):
    import keras

    from demo.contract import to_model_input
    from train.model import build_model, zero_residual_branches

    keras.utils.set_random_seed(0)
    model = build_model(dropout=0.0)
    digits = to_model_input(sample["x_test"][:16])
    assert np.abs(digits[:, :6, :6]).max() == 0  # the corner is blank on real digits
    fresh = np.asarray(model(digits, training=False))
    assert np.ptp(fresh, axis=0).max() > 1e-3  # unzeroed, different digits get different answers

    assert zero_residual_branches(model) == 16
    zeroed = np.asarray(model(digits, training=False))
    assert np.ptp(zeroed, axis=0).max() < 1e-6  # zeroed, every digit gets the same answer
    marked = digits.copy()
    marked[:8, :6, :6] = 1.0  # ink in the corner is all it can see
    answers = np.asarray(model(marked, training=False))
    assert np.abs(answers[:8] - answers[8:]).max() > 1e-3
