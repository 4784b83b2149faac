"""Training digits redrawn on the pad and read back the app's way: the model learns what the page feeds it
(a round pen along the writer's centreline, at the sizes people write, then the app's own preprocessing),
not only MNIST's scans. Made from MNIST training digits only, like the writing forms."""

import numpy as np

from demo.canvas import CANVAS_H
from demo.preprocess import center_digit
from train.drawn import STROKES, pen_px, pen_strokes

SIZES = (0.15, 0.8)  # a digit's height as a fraction of the pad's: a small hand to the full pad
PENS = tuple(STROKES[k] for k in ("fine pen", "thin", "the app's brush"))  # the pens along the centreline


def redraw(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit (uint8 28x28) drawn on the pad with a random pen and size, then read back the way the
    app reads a drawing: uint8 28x28 again."""
    height = int(rng.uniform(*SIZES) * CANVAS_H)
    pen = PENS[int(rng.integers(0, len(PENS)))]
    ink = np.asarray(pen_strokes(digit, height, pen_px(pen, height)), np.float32) / 255.0
    return (center_digit(ink, CANVAS_H) * 255).round().clip(0, 255).astype(np.uint8)


def with_redrawn(x: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training digits plus redrawn copies of `fraction` of them (digits preprocessing refuses are
    skipped: the app would have asked for a clearer digit)."""
    if fraction <= 0:
        return x, y
    rng = np.random.default_rng(seed + 1)
    chosen = rng.choice(len(x), int(fraction * len(x)), replace=False)
    xs, ys = [], []
    for i in chosen:
        try:
            xs.append(redraw(x[i], rng))
        except ValueError:
            continue
        ys.append(y[i])
    if not xs:
        return x, y
    return np.concatenate([x, np.stack(xs)]), np.concatenate([y, np.asarray(ys, y.dtype)])
