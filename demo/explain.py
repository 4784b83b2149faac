"""Why the model read what it read: occlusion sensitivity over the 28x28 digit it saw.

At a 32x32 input ResNet50V2's last feature map is 1x1, so Grad-CAM has nothing to show. Occlusion
needs no gradients and no TensorFlow: grey out one patch at a time, run all the masked copies in one
onnxruntime call, and see how the score of the top digit against the runner-up moves. A patch whose
removal lowers that margin pushed towards the top digit; one whose removal raises it, towards the
runner-up.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import numpy as np
from PIL import Image

from demo.contract import MNIST_SIZE, to_model_input

PATCH = 8  # px of the 28x28 digit hidden at once: about one stroke's width and a bit of its length
STRIDE = 4  # patches overlap; each pixel's score is the mean over the patches that hid it


@dataclass
class Explanation:
    top: int  # the digit read
    runner_up: int
    evidence: np.ndarray  # [28, 28]: > 0 pushed towards `top`, < 0 towards `runner_up`


def patches() -> list[tuple[int, int]]:
    starts = list(range(0, MNIST_SIZE - PATCH + 1, STRIDE))
    if starts[-1] != MNIST_SIZE - PATCH:
        starts.append(MNIST_SIZE - PATCH)
    return [(y, x) for y in starts for x in starts]


def occlusion(digit: np.ndarray, predict: Callable[[np.ndarray], np.ndarray]) -> Explanation:
    """digit: the 28x28 the model saw; predict: model input [N, 32, 32, 1] -> probabilities [N, 10]."""
    spots = patches()
    copies = np.repeat(digit[None].astype(np.float32), len(spots) + 1, axis=0)
    for k, (y, x) in enumerate(spots, start=1):
        copies[k, y : y + PATCH, x : x + PATCH] = 0.0
    logp = np.log(np.clip(predict(to_model_input(copies)), 1e-7, 1.0))
    top, runner_up = (int(i) for i in np.argsort(logp[0])[::-1][:2])
    margin = logp[:, top] - logp[:, runner_up]
    drop = margin[0] - margin[1:]  # > 0: hiding this patch hurt the top digit's case
    total, count = np.zeros((MNIST_SIZE, MNIST_SIZE)), np.zeros((MNIST_SIZE, MNIST_SIZE))
    for d, (y, x) in zip(drop, spots):
        total[y : y + PATCH, x : x + PATCH] += d
        count[y : y + PATCH, x : x + PATCH] += 1
    evidence = total / count * (digit > 0.05)  # only ink can be evidence; background patches only carry it
    return Explanation(top, runner_up, evidence.astype(np.float32))


def inline_png(pixels: np.ndarray) -> str:
    """uint8 pixels as a data: URL, so a picture on the page is never written to disk."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def evidence_image(digit: np.ndarray, ex: Explanation, labels: list[str], side: int = 168) -> str:
    """The digit in grey with its ink coloured: orange towards the answer, blue towards the runner-up;
    an inline PNG with a one-line key."""
    scale = float(np.abs(ex.evidence).max()) or 1.0
    e = np.clip(ex.evidence / scale, -1, 1)
    towards, against = np.clip(e, 0, 1)[..., None], np.clip(-e, 0, 1)[..., None]
    orange, blue = np.array([1.0, 0.55, 0.0]), np.array([0.35, 0.35, 1.0])
    rgb = (0.35 * digit)[..., None] + 0.65 * (towards * orange + against * blue)
    src = inline_png(np.kron((np.clip(rgb, 0, 1) * 255).astype(np.uint8), np.ones((6, 6, 1), np.uint8)))
    top, runner_up = escape(labels[ex.top]), escape(labels[ex.runner_up])  # a card's labels are text, never markup
    return (
        f'<img src="{src}" alt="which strokes made it read {top}" width="{side}" height="{side}">'
        f'<p><span style="color:#f08c00">orange</span>: strokes that made it read {top}; '
        f'<span style="color:#5a5aff">blue</span>: strokes that looked like {runner_up}.</p>'
    )
