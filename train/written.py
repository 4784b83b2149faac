"""Numbers written on the pad from real MNIST digits, the way people write them (numpy and PIL only):
gaps from wide to touching and overlapping, a drifting baseline, mixed sizes, slant, MNIST's own strokes
or a round pen. The number benchmark's drawings and the tests' come from here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from demo.canvas import CANVAS_H, CANVAS_W
from train.drawn import cropped, pen_strokes, sketch_value

GAPS = {
    "wide": (0.35, 0.7),
    "normal": (0.12, 0.35),
    "tight": (0.03, 0.12),
    "one pair touching": None,
    "one pair overlapping": None,  # as people's: the neighbours' ink overlaps by a few pixels
}
OVERLAP = (0.02, 0.08)  # of the digits' height: how far the overlapping pair's ink runs into each other


@dataclass
class Written:
    value: dict  # the Sketchpad's value
    number: str
    condition: dict
    parts: list[np.ndarray]  # each digit's own ink, for reading them one at a time
    sources: np.ndarray  # the MNIST digits themselves, 28x28 uint8, for the model's own ceiling


def digit_ink(digit: np.ndarray, height: int, pen: str) -> np.ndarray:
    """One MNIST digit as canvas ink `height` px tall: its own stroke scaled, or a round pen."""
    if pen == "pen":
        img = pen_strokes(digit, height, max(3.0, 0.09 * height))
        a = np.asarray(img, np.float32) / 255.0
        a = np.where(a > 0.5, 1.0, a * 2 * (a > 0.25))
    else:
        d = cropped(digit)
        w = max(2, round(d.shape[1] * height / d.shape[0]))
        a = np.asarray(Image.fromarray(d, mode="F").resize((w, height), Image.Resampling.BILINEAR)).clip(0, 1)
    keep = a > 0.1
    ys, xs = np.flatnonzero(keep.any(1)), np.flatnonzero(keep.any(0))
    return a[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1]


def touch_shift(left: np.ndarray, right: np.ndarray, top_l: int, top_r: int) -> int:
    """How far `right` (placed just after `left`) must move left for their strokes to touch."""
    h = max(top_l + left.shape[0], top_r + right.shape[0])
    a, b = np.zeros((h, left.shape[1]), bool), np.zeros((h, right.shape[1]), bool)
    a[top_l : top_l + left.shape[0]] = left > 0.5
    b[top_r : top_r + right.shape[0]] = right > 0.5
    for s in range(0, min(a.shape[1], b.shape[1])):
        if (a[:, a.shape[1] - s - 1 :] & b[:, : s + 1]).any():
            return s
    return 0


def sheared(a: np.ndarray, degrees: float) -> np.ndarray:
    """Ink slanted by `degrees` (positive leans right, as most slanted writing does), widened to fit."""
    if not degrees:
        return a
    h, w = a.shape
    t = np.tan(np.radians(degrees))
    extra = int(np.ceil(abs(t) * h))
    img = Image.fromarray(a, mode="F").transform(
        (w + extra, h), Image.Transform.AFFINE, (1, t, -t * h if t > 0 else 0, 0, 1, 0), Image.Resampling.BILINEAR
    )
    return np.asarray(img).clip(0, 1)


def on_canvas(inks: list[np.ndarray], corners: list[tuple[int, int]]) -> np.ndarray:
    """The pad's canvas with each ink map drawn at its (x, y) top-left corner, overlaps keeping the darker."""
    ink = np.zeros((CANVAS_H, CANVAS_W), np.float32)
    for a, (x, y) in zip(inks, corners):
        region = ink[y : y + a.shape[0], x : x + a.shape[1]]
        np.maximum(region, a[: region.shape[0], : region.shape[1]], out=region)
    return ink


def write_number(
    digits: list[np.ndarray],
    labels: list[int],
    rng: np.random.Generator,
    gap: str,
    pen: str,
    drift: bool,
    mixed: bool,
    slant: float = 0.0,
    sizes: tuple[float, float] = (0.45, 0.75),
) -> Written | None:
    """Digits written left to right on the canvas; None if they do not fit."""
    n = len(digits)
    size = rng.uniform(*sizes) * CANVAS_H
    size = min(size, CANVAS_W / (n * 0.95))
    heights = [int(size * (rng.uniform(0.75, 1.1) if mixed else 1.0)) for _ in digits]
    inks = [sheared(digit_ink(d, h, pen), slant) for d, h in zip(digits, heights)]
    base = rng.uniform(0.55, 0.85) * CANVAS_H
    tops, y = [], base
    for a in inks:
        y += rng.normal(0, 0.06 * size) if drift else 0
        tops.append(int(np.clip(y - a.shape[0], 0, CANVAS_H - a.shape[0])))
    touching = rng.integers(0, n - 1) if GAPS[gap] is None else -1
    lo, hi = GAPS[gap] or GAPS["normal"]
    xs, x = [], 0
    for k, a in enumerate(inks):
        if k:
            x += int(rng.uniform(lo, hi) * size)
            if k - 1 == touching:
                x -= touch_shift(
                    inks[k - 1][:, -min(inks[k - 1].shape[1], a.shape[1] + 40) :], a, tops[k - 1], tops[k]
                ) + int(rng.integers(0, 2))
                if gap == "one pair overlapping":
                    x -= int(rng.uniform(*OVERLAP) * size)
        xs.append(x)
        x += a.shape[1]
    if x > CANVAS_W - 4:
        return None
    x_off = int(rng.integers(2, CANVAS_W - x - 1))
    ink = on_canvas(inks, [(x_off + left, top) for left, top in zip(xs, tops)])
    cond = {
        "digits": str(n),
        "gap": gap,
        "pen": "round pen" if pen == "pen" else "MNIST stroke",
        "baseline": "drifting" if drift else "level",
        "sizes": "mixed" if mixed else "equal",
        "slant": "slanted" if slant else "upright",
    }
    return Written(sketch_value(ink), "".join(map(str, labels)), cond, inks, np.stack(digits))


HARD = {  # how a pair of neighbours is joined, with how far (of the narrower one's width) the right one moves in
    "crossing strokes": (0.2, 0.4),  # past touching: the right digit's strokes run through the left one's
    "a shared stroke": (0.08, 0.2),  # a little past touching: a stretch of outline in common
    "a ligature": None,  # a small gap, bridged by a pen stroke from the left digit's end to the right's start
}


def ligature(ink: np.ndarray, left: tuple[int, int, int, int], right: tuple[int, int, int, int], width: float):
    """A connecting stroke drawn into `ink`: from the left digit's rightmost ink in its lower half to the right
    digit's leftmost ink in its upper half, as joined-up writing runs on (boxes are x0, y0, x1, y1)."""

    def extreme(box, rows, pick):
        x0, y0, x1, y1 = box
        part = ink[y0:y1, x0:x1] > 0.5
        band = part[rows(y1 - y0)]
        ys, xs = np.nonzero(band)
        k = pick(xs)
        return x0 + int(xs[k]), y0 + rows(y1 - y0).start + int(ys[k])

    a = extreme(left, lambda h: slice(h // 2, h), np.argmax)
    b = extreme(right, lambda h: slice(0, max(1, h // 2)), np.argmin)
    img = Image.fromarray((ink * 255).astype(np.uint8))
    ImageDraw.Draw(img).line([a, b], fill=255, width=max(2, round(width)))
    return np.maximum(ink, np.asarray(img, np.float32) / 255.0)


def write_pair(
    digits: list[np.ndarray], labels: list[int], rng: np.random.Generator, style: str, pen: str
) -> Written | None:
    """Two digits joined the hard ways people join them (HARD); None if they do not fit."""
    size = rng.uniform(0.45, 0.75) * CANVAS_H
    inks = [digit_ink(d, int(size * rng.uniform(0.9, 1.05)), pen) for d in digits]
    base = rng.uniform(0.6, 0.85) * CANVAS_H
    tops = [int(np.clip(base - a.shape[0] + rng.normal(0, 0.04 * size), 0, CANVAS_H - a.shape[0])) for a in inks]
    left, right = inks
    if HARD[style] is None:
        x = left.shape[1] + int(rng.uniform(0.03, 0.12) * size)
    else:
        narrower = min(left.shape[1], right.shape[1])
        x = left.shape[1] - touch_shift(left, right, *tops) - int(rng.uniform(*HARD[style]) * narrower)
    x0 = int(rng.integers(2, max(3, CANVAS_W - x - right.shape[1] - 2)))
    if x0 + x + right.shape[1] > CANVAS_W - 2:
        return None
    corners = [(x0, tops[0]), (x0 + x, tops[1])]
    ink = on_canvas(inks, corners)
    boxes = [(cx, cy, cx + a.shape[1], cy + a.shape[0]) for a, (cx, cy) in zip(inks, corners)]
    if HARD[style] is None:
        ink = ligature(ink, *boxes, max(3.0, 0.08 * size))
    cond = {"join": style, "pen": "round pen" if pen == "pen" else "MNIST stroke"}
    return Written(sketch_value(ink), "".join(map(str, labels)), cond, inks, np.stack(digits))
