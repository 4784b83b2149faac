"""train.fastgrad's gradients equal TensorFlow's own on the convolutions ResNet50V2 has, small maps and
large, and a whole training step of the real model gives the same gradients."""

import numpy as np
import pytest

pytestmark = pytest.mark.train


def tensorflows_and_ours(grads, *args, traced=True):
    """`grads(*args)` with TensorFlow's Conv2D gradient, then with train.fastgrad's: traced into a graph as
    training runs it, or eagerly (the same gradient function, called op by op)."""
    import tensorflow as tf

    from train import fastgrad

    run = tf.function(grads) if traced else grads
    try:
        fastgrad.uninstall()
        theirs = run(*args)
        fastgrad.install()
        ours = run(*args)
    finally:
        fastgrad.install()
    return theirs, ours


@pytest.mark.parametrize(
    "padding,kernel,side",
    [
        ("SAME", 3, 1),  # small maps: matrix products
        ("SAME", 3, 2),
        ("VALID", 3, 3),
        ("VALID", 3, 4),
        ("VALID", 1, 2),
        ("SAME", 1, 1),
        ("SAME", 3, 4),  # larger: the flipped convolution
        ("SAME", 1, 4),
        ("VALID", 3, 5),
        ("SAME", 7, 6),
    ],
)
def test_fast_gradients_are_tensorflows(padding, kernel, side):
    import tensorflow as tf

    rng = np.random.default_rng(kernel * 10 + side)
    x = tf.constant(rng.normal(size=(4, side, side, 8)), tf.float32)
    w = tf.constant(rng.normal(size=(kernel, kernel, 8, 5)), tf.float32)

    def grads(x, w):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.nn.conv2d(x, w, 1, padding)
            loss = tf.reduce_sum(y * tf.cos(y))
        return tape.gradient(loss, [x, w])

    theirs, ours = tensorflows_and_ours(grads, x, w)
    for a, b in zip(theirs, ours):
        scale = float(tf.reduce_max(tf.abs(a))) + 1e-6
        assert float(tf.reduce_max(tf.abs(a - b))) <= 1e-5 * scale


def test_a_training_step_of_the_model_gets_the_same_gradients(sample, monkeypatch):
    import keras
    import tensorflow as tf

    from demo.contract import to_model_input
    from train import fastgrad
    from train.model import build_model

    calls = []
    for name in ("input_gradient", "matmul_gradients"):
        original = getattr(fastgrad, name)
        monkeypatch.setattr(fastgrad, name, lambda *a, f=original, n=name: calls.append(n) or f(*a))

    keras.utils.set_random_seed(0)
    model = build_model(dropout=0.0)  # a random dropout mask would differ between the two steps
    x = tf.constant(to_model_input(sample["x_train"][:16]))
    y = tf.one_hot(sample["y_train"][:16], 10)

    def grads(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.categorical_crossentropy(y, model(x, training=True)))
        return tape.gradient(loss, model.trainable_variables)

    # Eager: tracing the model's step twice would cost four times the step itself, and every kind of
    # convolution it holds is traced above.
    theirs, ours = tensorflows_and_ours(grads, x, y, traced=False)
    # A bias feeding a training-mode BatchNorm has a zero gradient in exact arithmetic (rounding noise
    # here), so each difference is measured against the larger of its own gradient and a thousandth of
    # the largest one.
    floor = 1e-3 * max(float(tf.reduce_max(tf.abs(a))) for a in theirs)
    worst = max(
        float(tf.reduce_max(tf.abs(a - b))) / max(float(tf.reduce_max(tf.abs(a))), floor) for a, b in zip(theirs, ours)
    )
    assert worst < 1e-3, worst
    # ours really ran: the 1x1 and 2x2 maps of the last two stages as matrix products, the rest flipped
    assert calls.count("matmul_gradients") >= 25 and calls.count("input_gradient") >= 15, calls


def test_installed_only_where_it_beats_tensorflows_own(monkeypatch, capsys):
    from tensorflow.python.framework import ops

    from train import fastgrad

    entry = ops._gradient_registry._registry["Conv2D"]
    try:
        chosen = fastgrad.install_if_faster()  # this machine, measured
        assert chosen == fastgrad._use and (entry["type"] is fastgrad._conv2d_grad) == any(chosen.values())
        # the AVX2 CPU of an earlier round, where TensorFlow's input gradient took half a second
        slow = dict(tensorflow_input=0.54, tensorflow_both=0.55, flipped_input=0.01, small_maps=0.004)
        monkeypatch.setattr(fastgrad, "probe", lambda **_: slow)
        assert fastgrad.install_if_faster() == dict(small_maps=True, flipped_input=True)
        assert entry["type"] is fastgrad._conv2d_grad
        # one where TensorFlow's own are as fast as ours
        fast = dict(tensorflow_input=0.005, tensorflow_both=0.011, flipped_input=0.011, small_maps=0.010)
        monkeypatch.setattr(fastgrad, "probe", lambda **_: fast)
        assert fastgrad.install_if_faster() == dict(small_maps=False, flipped_input=False)
        assert entry["type"] is fastgrad._original
        out = capsys.readouterr().out
        assert "small maps: TensorFlow (TensorFlow 11.0 ms, matrix products 10.0 ms)" in out, out
    finally:
        fastgrad.install()


def test_the_pinned_tensorflow_has_the_entry_fastgrad_swaps_and_without_it_training_keeps_its_own(monkeypatch, capsys):
    """fastgrad swaps an entry of TensorFlow's private gradient registry: requirements-train.txt pins the
    minor version this is checked on, and a TensorFlow that moved it trains with its own gradients."""
    import re

    import tensorflow as tf

    from tests.conftest import ROOT
    from train import fastgrad

    pinned = re.search(r"tensorflow-cpu==(\d+\.\d+)\.\*", (ROOT / "requirements-train.txt").read_text()).group(1)
    assert tf.__version__.startswith(pinned + ".")
    assert fastgrad.registry_entry() is not None
    monkeypatch.setattr(fastgrad, "registry_entry", lambda: None)
    assert fastgrad.install_if_faster() == {"small_maps": False, "flipped_input": False}
    assert "TensorFlow's own" in capsys.readouterr().out
