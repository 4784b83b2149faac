"""Faster, exact convolution gradients for ResNet50V2's small feature maps on the CPU.

At a 32x32 input ResNet50V2's last stages run on 2x2 and 1x1 feature maps, where TensorFlow's CPU
convolution gradients are far slower than the arithmetic they do (BENCHMARKS.md, "Training
throughput"). Two exact rewrites, each installed only where it wins on this machine:

- small maps: when a stride-1 convolution's output has at most `SMALL_MAP` positions, both of its
  gradients are plain matrix products: the weight gradient is the input's patches (a concat of k*k
  slices) times the output gradient, and the input gradient is the output gradient times the kernel,
  scattered back one output position at a time.
- flipped input gradient: for stride 1 the input gradient *is* a forward convolution of the output
  gradient with the kernel flipped in space and its channels swapped (padded by k-1 first for VALID).
  On some CPUs (one with AVX2 only, of an earlier round) TensorFlow's own took half a second on the 1x1 map.

`install_if_faster()` times TensorFlow's gradients and ours on the slowest shape when training starts
and says what it chose. Every other convolution keeps TensorFlow's gradient. Training only: the exported
graph never holds a gradient.
"""

from __future__ import annotations

import time

import keras
import tensorflow as tf
from tensorflow.python.framework import ops

SMALL_MAP = 4  # output positions: the 2x2 and 1x1 maps; from 4x4 up TensorFlow's kernels are as fast (op by op)
_original = None
_use = {"small_maps": False, "flipped_input": False}


def input_gradient(grad: tf.Tensor, kernel: tf.Tensor, padding: str) -> tf.Tensor:
    """d(loss)/d(input) of a stride-1, undilated NHWC conv2d with odd kernel sides, as a forward conv."""
    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])
    if padding == "VALID":
        grad = tf.pad(grad, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]])
    return tf.nn.conv2d(grad, flipped, 1, padding)


def matmul_gradients(x: tf.Tensor, kernel: tf.Tensor, grad: tf.Tensor, padding: str) -> tuple[tf.Tensor, tf.Tensor]:
    """(d input, d kernel) of a stride-1, undilated NHWC conv2d as matrix products; for small maps."""
    kh, kw, ci, co = (int(d) for d in kernel.shape)
    ho, wo = int(grad.shape[1]), int(grad.shape[2])
    top, left = ((kh - 1) // 2, (kw - 1) // 2) if padding == "SAME" else (0, 0)
    if padding == "SAME":
        x = tf.pad(x, [[0, 0], [top, kh - 1 - top], [left, kw - 1 - left], [0, 0]])
    h, w = ho + kh - 1, wo + kw - 1  # the (padded) input's sides
    patches = tf.concat([x[:, i : i + ho, j : j + wo, :] for i in range(kh) for j in range(kw)], axis=-1)
    g = tf.reshape(grad, [-1, co])
    dw = tf.reshape(tf.matmul(tf.reshape(patches, [-1, kh * kw * ci]), g, transpose_a=True), kernel.shape)
    flat = tf.reshape(kernel, [kh * kw * ci, co])
    if kh == kw == 1:
        dx = tf.reshape(tf.matmul(g, flat, transpose_b=True), tf.shape(x))
    else:
        dx = tf.add_n(
            [
                tf.pad(
                    tf.reshape(tf.matmul(grad[:, i, j, :], flat, transpose_b=True), [-1, kh, kw, ci]),
                    [[0, 0], [i, h - kh - i], [j, w - kw - j], [0, 0]],
                )
                for i in range(ho)
                for j in range(wo)
            ]
        )
    return (dx[:, top : top + ho, left : left + wo, :] if padding == "SAME" else dx), dw


def handled(op) -> str | None:
    """The padding of a Conv2D whose gradients this module computes exactly, else None."""
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


def small(grad: tf.Tensor) -> bool:
    """Whether a Conv2D's output (its gradient's shape: the tape keeps no outputs) has a known size of
    at most SMALL_MAP positions."""
    out = grad.shape
    return out.rank == 4 and None not in out[1:] and out[1] * out[2] <= SMALL_MAP


def _conv2d_grad(op, grad):
    padding = handled(op)
    if padding is not None and _use["small_maps"] and small(grad):
        return list(matmul_gradients(op.inputs[0], op.inputs[1], grad, padding))
    if padding is None or not _use["flipped_input"]:
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


def registry_entry() -> dict | None:
    """TensorFlow's own gradient entry for Conv2D, which `install` swaps: a private registry
    (tensorflow.python.framework.ops), so requirements-train.txt pins TensorFlow's minor version and
    tests/test_fastgrad.py checks it is there. None if a TensorFlow has moved it: training then keeps
    TensorFlow's own gradients and says so."""
    try:
        entry = ops._gradient_registry._registry["Conv2D"]
    except (AttributeError, KeyError, TypeError):
        return None
    return entry if isinstance(entry, dict) and callable(entry.get("type")) else None


def install(small_maps: bool = True, flipped_input: bool = True) -> None:
    """Route every Conv2D traced from now on through the chosen rewrites (TensorFlow's where none applies)."""
    global _original
    entry = registry_entry()
    if entry is None:
        raise RuntimeError(f"TensorFlow {tf.__version__} keeps no Conv2D gradient where train.fastgrad looks")
    if _original is None:
        _original = entry["type"]
    _use.update(small_maps=small_maps, flipped_input=flipped_input)
    entry["type"] = _conv2d_grad if small_maps or flipped_input else _original


def uninstall() -> None:
    install(False, False)


def probe(batch: int = 32, repeats: int = 3, dtype: str = "float32") -> dict[str, float]:
    """Seconds per call of each way to get the gradients of ResNet50V2's 3x3 convolution on a 1x1 map of
    512 channels at a 32x32 input (VALID over a zero-padded 3x3), the best of `repeats`."""
    x, w, g = (tf.cast(tf.random.normal(s), dtype) for s in [(batch, 3, 3, 512), (3, 3, 512, 512), (batch, 1, 1, 512)])
    conv = dict(strides=[1, 1, 1, 1], padding="VALID")

    def best(f):
        def done():
            return tf.nest.map_structure(lambda t: t.numpy(), f())  # every output computed

        done()  # the first call pays for tracing and setup
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            done()
            times.append(time.perf_counter() - t)
        return min(times)

    input_only = lambda: tf.raw_ops.Conv2DBackpropInput(input_sizes=x.shape, filter=w, out_backprop=g, **conv)
    ways = {
        "tensorflow_input": input_only,
        "tensorflow_both": lambda: (
            input_only(),
            tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=w.shape, out_backprop=g, **conv),
        ),
        "flipped_input": lambda: input_gradient(g, w, "VALID"),
        "small_maps": lambda: matmul_gradients(x, w, g, "VALID"),
    }
    return {name: best(tf.function(way)) for name, way in ways.items()}  # traced, as training runs them


def install_if_faster() -> dict[str, bool]:
    """Install each rewrite that clearly beats TensorFlow's own gradients on this machine, timed in the
    precision training computes in (set the Keras policy first); print which."""
    if registry_entry() is None:
        print(f"conv gradients: TensorFlow's own (TensorFlow {tf.__version__} moved the registry fastgrad uses)")
        return {"small_maps": False, "flipped_input": False}
    dtype = keras.mixed_precision.global_policy().compute_dtype
    t = probe(dtype=dtype)
    chosen = {
        "small_maps": t["small_maps"] < t["tensorflow_both"] / 1.5,
        "flipped_input": t["flipped_input"] < t["tensorflow_input"] / 2,
    }
    install(**chosen)
    ms = {k: f"{v * 1000:.1f} ms" for k, v in t.items()}
    print(
        f"conv gradients on small maps: {'matrix products' if chosen['small_maps'] else 'TensorFlow'} "
        f"(TensorFlow {ms['tensorflow_both']}, matrix products {ms['small_maps']}); "
        f"input gradient elsewhere: {'flipped convolution' if chosen['flipped_input'] else 'TensorFlow'} "
        f"(TensorFlow {ms['tensorflow_input']}, flipped {ms['flipped_input']}); {dtype}, on the slowest shape"
    )
    return chosen
