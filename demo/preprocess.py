"""From whatever a person gives us (a Sketchpad value, an image, an array) to the model's input.

Every entry point (app, Python API, command line, benchmarks, tests) goes through
`prepare`, so a drawing is always turned into MNIST geometry the same way:
ink map -> crop to the ink -> longer side to 20 px, aspect kept -> centre of
mass at the centre of 28x28 -> the contract's padding to 32x32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from demo.contract import DIGIT_BOX, MNIST_SIZE, to_model_input
from demo.decode import BadImage, as_array
from demo.pieces import label_runs, max_filter, min_filter

__all__ = ["BadImage", "Cut", "EmptyDrawing", "prepare", "sketch_ink", "ink_and_canvas", "ink_map", "center_digit"]

INK_THRESHOLD = 0.15  # fraction of the strongest ink that still counts as a stroke when cropping
MIN_CONTRAST = 0.08  # below this the picture holds no digit, only background
MID_BOX = 4 * DIGIT_BOX  # stroke widths are measured and fixed at 4x the final size
MID_STROKE = 15.7  # median pen of MNIST training digits measured the same way (bench.canvas_robustness prints it)
THIN, FAT = 0.6, 1.5  # pens outside [THIN, FAT] x MNIST's are brought back towards it
NARROW = 0.4  # fat strokes lose this fraction of their excess width
NOISE_FLOOR = 0.12  # photos: ink weaker than this fraction of the strongest is paper texture
MAX_GREY = 0.5  # strokes are mostly ink or paper; half grey (at 80 px) is noise or blur
DOT = 0.08  # a solid mark under 8% of the picture's side is a dot, not a digit
BLOB = 0.4  # a pen this wide for the digit's size (fraction of its longer side) fills its loops
MAX_INK = 0.5  # ink on more than half the picture is a filled canvas or noise, not a digit
BRIDGE = 7  # px at MID_BOX: the widest gap closed inside a digit drawn in pieces (a dotted stroke)
MANY_PIECES = 3  # a 4 or a 5 is often two pieces; three or more is a broken stroke
MAX_LAYERS = 1  # a Sketchpad value: background, the one layer our canvas draws on, composite


EMPTY = "Draw a digit first: the canvas is empty."


class EmptyDrawing(ValueError):
    """Nothing to classify; the message is for the person at the canvas."""


@dataclass
class Cut:
    """Ink (float [0, 1], 1 = ink) cut from a canvas `canvas` = (height, width) big: the pad sends only its
    ink's box, and what depends on the whole canvas (what a dot is, how much ink is too much) still can."""

    ink: np.ndarray
    canvas: tuple[int, int]


def ink_and_canvas(value) -> tuple[np.ndarray, tuple[int, int]]:
    """Anything `sketch_ink` takes, or a Cut -> (ink map, the canvas's (height, width))."""
    if isinstance(value, Cut):
        return value.ink, value.canvas
    ink = sketch_ink(value)
    return ink, ink.shape


def ink_map(image) -> np.ndarray:
    """Any image -> float32 [H, W] in [0, 1], 1 = ink. Transparent backgrounds use alpha as ink;
    opaque ones go through `_opaque_ink`, so dark-on-light, light-on-dark and coloured ink all work."""
    a = as_array(image)
    if a is None or a.size == 0:
        raise EmptyDrawing(EMPTY)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or a.dtype.kind not in "uifb":
        raise BadImage(
            f"Expected a greyscale, RGB or RGBA image, got an array of shape {list(a.shape)} and dtype {a.dtype}."
        )
    # floats in [0, 1], a boolean mask and a 0/1 mask all mean "fraction of full": scaled to 0..255
    unit_range = a.dtype.kind in "fb" or (a.dtype.kind in "ui" and a.size and 0 <= a.min() and a.max() == 1)
    unit_range = unit_range and np.nanmax(a, initial=0) <= 1.0
    if a.dtype.kind == "f":
        with np.errstate(over="ignore"):  # float64 beyond float32 become inf, then 255
            a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
    a = a.astype(np.float32)
    a = (a * 255.0 if unit_range else a).clip(0, 255)
    if a.ndim == 3 and a.shape[2] == 4:
        alpha = a[..., 3] / 255.0
        if alpha.min() < 0.5 and not _paper_inside(a, alpha > 0.5):  # strokes on nothing: alpha is the ink
            return alpha
        a = _flattened(a, alpha)
    return _opaque_ink(a if a.ndim == 3 else a[..., None])


def _paper_inside(rgba: np.ndarray, opaque: np.ndarray) -> bool:
    """True when the opaque part holds both paper and ink (a photo or scan with a transparent margin),
    false when it is strokes of one ink on nothing (a drawing, whose alpha is the ink)."""
    if opaque.sum() < 16:
        return False
    light = rgba[..., :3][opaque].mean(axis=1)
    low, high = np.percentile(light, [5, 95])
    return high - low > 128


def _flattened(rgba: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """RGB with what is transparent filled by the paper's colour (the median of the opaque part)."""
    rgb = rgba[..., :3]
    opaque = alpha > 0.5
    if not opaque.any() or opaque.all():
        return rgb
    paper = np.median(rgb[opaque], axis=0)
    return rgb * alpha[..., None] + paper * (1 - alpha[..., None])


def _opaque_ink(rgb: np.ndarray) -> np.ndarray:
    """Photos and flattened drawings: decide which side is paper from the border, measure ink as
    darkness (or lightness) in the strongest channel, so coloured ink counts, then subtract a
    smooth local background so shadows and uneven lighting are not taken for ink."""
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    light_paper = np.median(border.mean(axis=1)) >= 128
    v = 255.0 - rgb.min(axis=2) if light_paper else rgb.max(axis=2)
    h, w = v.shape
    small_side = 64
    if max(h, w) > 2 * small_side:
        f = small_side / max(h, w)
        small = Image.fromarray(v.round().astype(np.uint8)).resize(
            (max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX
        )
        background = small.filter(ImageFilter.MinFilter(15)).filter(ImageFilter.BoxBlur(4))
        v = v - np.asarray(background.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)
    else:
        v = v - np.median(v)
    v = np.clip(v, 0, None)
    top = np.percentile(v, 99.5) if v.size > 400 else v.max(initial=0)
    if top < MIN_CONTRAST * 255:
        return np.zeros_like(v, dtype=np.float32)
    return np.clip((v / top - NOISE_FLOOR) / (1 - NOISE_FLOOR), 0, 1).astype(np.float32)


def sketch_ink(value) -> np.ndarray:
    """A Gradio Sketchpad/ImageEditor value -> ink map. Since Gradio 5.24 the composite is opaque
    white with dark strokes; the layers' alpha is the ink itself, so prefer it."""
    if value is None:
        raise EmptyDrawing(EMPTY)
    if not isinstance(value, dict):
        return ink_map(value)
    if len(value.get("layers") or []) > MAX_LAYERS:
        raise BadImage(
            f"A drawing has at most {MAX_LAYERS} layer; send the canvas as background, one layer and composite."
        )
    layers = [as_array(layer) for layer in (value.get("layers") or []) if layer is not None]
    layers = [layer for layer in layers if layer.ndim == 3 and layer.shape[2] == 4]
    if layers and all(layer.shape == layers[0].shape for layer in layers):
        ink = np.max([layer[..., 3] for layer in layers], axis=0).astype(np.float32) / 255.0
        if ink.max(initial=0) > MIN_CONTRAST:
            return ink
    for key in ("composite", "background"):
        if value.get(key) is not None:
            return ink_map(value[key])
    raise EmptyDrawing(EMPTY)


def resize_longer(img: np.ndarray, side: int) -> np.ndarray:
    """Longer side to `side` px, aspect kept; area-averaging when shrinking (no ringing), then
    rescaled so the strongest ink is 1 again: a thin stroke stays as dark as MNIST's pen."""
    h, w = img.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    out = np.asarray(
        Image.fromarray(img.astype(np.float32), mode="F").resize(
            size, Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
        )
    )
    return np.clip(out / max(float(out.max()), 1e-6), 0.0, 1.0)


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in px: a stroke of length L and width w has area L*w and outline 2L."""
    mask = ink > 0.3
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    outline = (mask & ~inner).sum()
    return 2.0 * mask.sum() / max(int(outline), 1)


def normalise_stroke(mid: np.ndarray) -> np.ndarray:
    """Bring the pen towards MNIST's, at 4x the final resolution so the change stays smooth.
    Strokes much thinner (a fine brush on a big canvas) are widened to it; strokes much fatter
    (a big brush on a small digit) are narrowed part of the way, which keeps loops open without
    eating thin details, then cropped again so the digit still fills its box."""
    width = stroke_width(mid)
    if width < THIN * MID_STROKE:
        k = int(min(MID_STROKE - width, 15)) | 1  # odd kernel, >= 7 here
        padded = np.pad(mid, k // 2)  # room for the strokes at the edges to grow
        return max_filter(padded, k)
    if width > FAT * MID_STROKE:
        k = max(3, int(min((width - MID_STROKE) * NARROW, 31)) | 1)  # PIL's rank filters crash on size 1
        thinner = min_filter(mid, k)
        if (thinner > INK_THRESHOLD).any():
            return crop_to_ink(thinner)
    return mid


def bridged(mid: np.ndarray) -> np.ndarray:
    """A digit in MANY_PIECES or more pieces of ink (a dotted or broken stroke) with its small gaps
    closed, since the model learnt whole strokes; a digit in one or two pieces is left as it is."""
    if label_runs(mid > INK_THRESHOLD)[1] < MANY_PIECES:
        return mid
    k = BRIDGE | 1
    return min_filter(max_filter(np.pad(mid, k), k), k)[k:-k, k:-k]


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The smallest box holding every pixel with at least INK_THRESHOLD of the strongest ink (1)."""
    keep = ink > INK_THRESHOLD
    rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def normalised(ink: np.ndarray, area: int = 0) -> np.ndarray:
    """A whole picture's ink map scaled so its strongest ink is 1; refused if empty or filled (more than
    MAX_INK of `area`, the whole canvas's pixels when `ink` is cut from one)."""
    ink = np.asarray(ink, dtype=np.float32)
    peak = float(ink.max(initial=0))
    if not np.isfinite(peak) or peak < MIN_CONTRAST:
        raise EmptyDrawing(EMPTY)
    ink = np.clip(ink / peak, 0.0, 1.0)
    if np.count_nonzero(ink > 0.5) > MAX_INK * (area or ink.size):
        raise BadImage(
            "There is ink almost everywhere: clear the canvas (or use a cleaner picture) and draw one digit."
        )
    return ink


def center_digit(ink: np.ndarray, canvas: int = 0) -> np.ndarray:
    """Ink map -> 28x28 float32 in MNIST geometry (20 px box, centred by mass). `canvas`: the shorter
    side of the picture this ink was cut from (a digit of a number: the line's height on the pad), which
    sets what counts as a dot; 0 when the ink is the picture itself."""
    if canvas:
        peak = float(np.max(ink, initial=0))
        ink = np.clip(np.asarray(ink, np.float32) / max(peak, 1e-6), 0.0, 1.0)
    else:
        ink = normalised(ink)
    crop = crop_to_ink(ink)
    mid = resize_longer(crop, MID_BOX)
    if max(crop.shape) < DOT * (canvas or min(ink.shape)) and (mid > 0.5).mean() > 0.6:
        raise BadImage("That is a dot or a blot, not a digit: clear the canvas and draw a digit.")
    if stroke_width(np.pad(mid, 1)) > BLOB * MID_BOX:  # padded: strokes at the crop's edge have an outline too
        raise BadImage(
            "The strokes are too thick for the digit's size, so its loops are filled in: draw it "
            "larger, or with a thinner pen."
        )
    if ((mid > 0.25) & (mid < 0.75)).mean() > MAX_GREY:
        raise BadImage(
            "No clear pen strokes found: the picture looks like noise or is very blurred; draw or photograph one digit."
        )
    mid = normalise_stroke(bridged(mid))
    small = resize_longer(mid, DIGIT_BOX)
    nh, nw = small.shape
    # MNIST puts the centre of mass at pixel (14, 14) of 28x28, measured in pixel indices.
    out = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    total = small.sum()
    cy = (small.sum(axis=1) @ np.arange(nh)) / total
    cx = (small.sum(axis=0) @ np.arange(nw)) / total
    top = int(np.clip(round(MNIST_SIZE / 2 - cy), 0, MNIST_SIZE - nh))
    left = int(np.clip(round(MNIST_SIZE / 2 - cx), 0, MNIST_SIZE - nw))
    out[top : top + nh, left : left + nw] = small
    return out


def prepare(value) -> tuple[np.ndarray, np.ndarray]:
    """Sketchpad value / image / array -> (model input float32 [1, 32, 32, 1], the 28x28 digit)."""
    digit = center_digit(sketch_ink(value))
    return to_model_input(digit), digit
