"""The model's input/output contract, defined once.

Training, export, evaluation, the app and the command line all import it from
here, so the geometry and scaling the model was trained on cannot drift from
what it is served. Pure numpy: no TensorFlow.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
MNIST_SIZE = 28  # an MNIST digit: 20x20 box centred by mass in 28x28
DIGIT_BOX = 20
PAD = 2  # zero border that makes 28x28 into the 32x32 ResNet input
SIZE = MNIST_SIZE + 2 * PAD
CHANNELS = 1
INPUT_SHAPE = (SIZE, SIZE, CHANNELS)
NUM_CLASSES = 10
LABELS = [str(d) for d in range(NUM_CLASSES)]
OPSET = 17

DESCRIPTION = (
    f"input '{INPUT_NAME}': float32 [N, {SIZE}, {SIZE}, {CHANNELS}], values in [0, 1], "
    f"white digit on black, MNIST geometry (a {MNIST_SIZE}x{MNIST_SIZE} digit zero-padded "
    f"by {PAD} pixels per side); output '{OUTPUT_NAME}': float32 [N, {NUM_CLASSES}], "
    "softmax, index = digit"
)


def to_model_input(digits: np.ndarray) -> np.ndarray:
    """MNIST-geometry digits [N, 28, 28] (uint8 0..255 or float 0..1) -> float32 [N, 32, 32, 1]."""
    digits = np.asarray(digits)
    if digits.ndim == 2:
        digits = digits[None]
    if digits.ndim != 3 or digits.shape[1:] != (MNIST_SIZE, MNIST_SIZE):
        raise ValueError(f"expected digits of shape [N, {MNIST_SIZE}, {MNIST_SIZE}], got {list(digits.shape)}")
    x = digits.astype(np.float32)
    if digits.dtype == np.uint8:
        x /= 255.0
    x = np.clip(x, 0.0, 1.0)
    x = np.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD)))
    return x[..., None]


@dataclass
class Pending:
    """A reading waiting for its one model call: `inputs` [N, 32, 32, 1] for the model, then `finish` with the
    model's calibrated probabilities [N, 10] gives the answer. Readings from many visitors can so share one
    onnxruntime call (demo.serving.fair), which costs less per digit than one call each."""

    inputs: np.ndarray
    finish: Callable[[np.ndarray], Any]
