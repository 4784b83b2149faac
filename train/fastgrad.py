"""A faster, exact input gradient for stride-1 convolutions on the CPU.

At a 32x32 input ResNet50V2's last stages run on 2x2 and 1x1 feature maps, and there TensorFlow's CPU
`Conv2DBackpropInput` for a 3x3 kernel is pathologically slow: over half a second per call where the
forward convolution of the same size takes milliseconds, most of a training step (BENCHMARKS.md,
"Training throughput"). For stride 1 the input gradient *is* a forward convolution: of the output
gradient with the kernel flipped in space and its channels swapped (padded by k-1 first for VALID).
`install()` routes Conv2D's gradient through that and leaves every other case to TensorFlow; the
weight gradient is TensorFlow's own. Training only: the exported graph never holds a gradient.

Not every CPU has the slow case: where TensorFlow's own input gradient is as fast as a forward convolution
(BENCHMARKS.md), routing it through ours costs time instead. `install_if_faster()` times both on the
shape that is slow where it is slow and installs ours only if it wins, and says which it chose.
"""

from __future__ import annotations

import time

import tensorflow as tf
from tensorflow.python.framework import ops

_original = None


def input_gradient(grad: tf.Tensor, kernel: tf.Tensor, padding: str) -> tf.Tensor:
    """d(loss)/d(input) of a stride-1, undilated NHWC conv2d with odd kernel sides, as a forward conv."""
    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])
    if padding == "VALID":
        grad = tf.pad(grad, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]])
    return tf.nn.conv2d(grad, flipped, 1, padding)


def handled(op) -> str | None:
    """The padding of a Conv2D whose input gradient `input_gradient` computes exactly, else None."""
    padding = op.get_attr("padding").decode()
    kernel = op.inputs[1].shape
    plain = (
        op.get_attr("data_format") == b"NHWC"
        and list(op.get_attr("strides")) == [1, 1, 1, 1]
        and list(op.get_attr("dilations")) == [1, 1, 1, 1]
        and padding in ("SAME", "VALID")
    )
    if not plain or kernel.rank != 4 or None in kernel[:2]:
        return None
    if padding == "SAME" and (kernel[0] % 2 == 0 or kernel[1] % 2 == 0):  # SAME pads unevenly for even sides
        return None
    return padding


def _conv2d_grad(op, grad):
    padding = handled(op)
    if padding is None:
        return _original(op, grad)
    dx = input_gradient(grad, op.inputs[1], padding)
    dw = tf.raw_ops.Conv2DBackpropFilter(
        input=op.inputs[0],
        filter_sizes=tf.shape(op.inputs[1]),
        out_backprop=grad,
        strides=[1, 1, 1, 1],
        padding=padding,
        data_format="NHWC",
    )
    return [dx, dw]


def install() -> None:
    """Use the fast input gradient for every Conv2D traced from now on (idempotent)."""
    global _original
    entry = ops._gradient_registry._registry["Conv2D"]
    if _original is None:
        _original = entry["type"]
    entry["type"] = _conv2d_grad


def probe(batch: int = 32, repeats: int = 3) -> tuple[float, float]:
    """Seconds per call of (TensorFlow's input gradient, ours) for ResNet50V2's 3x3 convolution on
    a 1x1 map of 512 channels at a 32x32 input (VALID over a zero-padded 3x3), the best of `repeats`."""
    x = tf.random.normal((batch, 3, 3, 512))
    w = tf.random.normal((3, 3, 512, 512))
    g = tf.random.normal((batch, 1, 1, 512))
    sizes = tf.constant(x.shape)

    def theirs():
        return tf.raw_ops.Conv2DBackpropInput(
            input_sizes=sizes, filter=w, out_backprop=g, strides=[1, 1, 1, 1], padding="VALID"
        )

    def best(f):
        f().numpy()  # the first call pays for setup
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            f().numpy()
            times.append(time.perf_counter() - t)
        return min(times)

    return best(theirs), best(lambda: input_gradient(g, w, "VALID"))


def install_if_faster() -> bool:
    """Install the fast input gradient if it beats TensorFlow's own on this machine; print which."""
    theirs, ours = probe()
    faster = ours < theirs / 2  # a clear win only: the two are the same maths
    (install if faster else uninstall)()
    print(
        f"conv input gradient: {'train.fastgrad' if faster else 'TensorFlow'}'s "
        f"(TensorFlow {theirs * 1000:.1f} ms, train.fastgrad {ours * 1000:.1f} ms on the slowest shape)"
    )
    return faster


def uninstall() -> None:
    if _original is not None:
        ops._gradient_registry._registry["Conv2D"]["type"] = _original
