"""MNIST digits redrawn the way people draw on the app's pad (numpy and PIL only): the canvas benchmark's
drawings, the confidence's calibration digits, the number writer's pens (train.written), and the digits
the tests and benchmarks send as the pad and the Sketchpad would, all come from here."""

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from demo.canvas import BRUSH, CANVAS_H, CANVAS_W

STROKES = {"the app's brush": -3, "fine pen": -2, "thin": -1, "normal": 0, "thick": 1, "very thick": 2}
PEN = {-2: 0.05, -1: 0.10}  # fine pens: brush width as a fraction of the digit's height; -3: BRUSH px at any size
INKS = {"black": (0, 0, 0), "blue": (20, 60, 200), "red": (210, 30, 30), "orange": (255, 150, 0)}


def cropped(digit):
    """An MNIST digit as float ink in [0, 1], cut to its own box."""
    d = digit.astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(d.max(1) > 0.1), np.flatnonzero(d.max(0) > 0.1)
    return d[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def skeleton(mask):
    """Zhang-Suen thinning: the one-pixel centreline the writer's pen followed."""
    m = np.pad(mask.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            c = m[1:-1, 1:-1]
            ring = [
                m[:-2, 1:-1],
                m[:-2, 2:],
                m[1:-1, 2:],
                m[2:, 2:],
                m[2:, 1:-1],
                m[2:, :-2],
                m[1:-1, :-2],
                m[:-2, :-2],
            ]
            p2, _, p4, _, p6, _, p8, _ = ring
            neighbours = sum(ring)
            crossings = sum((ring[i] == 0) & (ring[(i + 1) % 8] == 1) for i in range(8))
            cut = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0) if step == 0 else (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            kill = (c == 1) & (neighbours >= 2) & (neighbours <= 6) & (crossings == 1) & cut
            if kill.any():
                c[kill] = 0
                changed = True
    return m[1:-1, 1:-1].astype(bool)


def depth(mask):
    """How many 3x3 erosions each pixel of `mask` survives: its distance to the paper, in px."""
    m, out = np.pad(mask.astype(bool), 1), np.zeros(mask.shape, np.int32)
    while m.any():
        out += m[1:-1, 1:-1]
        inner = m[1:-1, 1:-1].copy()
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                inner &= m[dy : dy + inner.shape[0], dx : dx + inner.shape[1]]
        m = np.pad(inner, 1)
    return out


def pen_strokes(digit, height, width):
    """An MNIST digit redrawn the way a person draws it: a round brush `width` px wide along the digit's
    centreline, `height` px tall, with the soft anti-aliased edge of the Sketchpad's brush. Where the
    writer's ink is much wider than their stroke (a loop filled in, a blot at a joint) the brush widens
    by as much, or the centreline alone would turn a filled 9 into a 7."""
    d = cropped(digit)
    trace = 64  # the centreline is traced at 64 px tall
    tw = max(2, round(d.shape[1] * trace / d.shape[0]))
    mask = np.asarray(Image.fromarray(d, mode="F").resize((tw, trace), Image.Resampling.BILINEAR)) > 0.35
    line, deep = skeleton(mask), depth(mask)
    points = set(zip(*map(np.ndarray.tolist, np.nonzero(line))))
    s, r = (height - 1) / (trace - 1), width / 2
    usual = float(np.median(deep[line])) if points else 0.0
    radius = {p: max(r, r + (deep[p] - usual) * s) for p in points}
    pad = int(max(radius.values(), default=r)) + 2
    img = Image.new("L", (round(tw * s) + 2 * pad, height + 2 * pad), 0)
    brush = ImageDraw.Draw(img)
    for (y, x), rp in radius.items():
        cy, cx = y * s + pad, x * s + pad
        brush.ellipse([cx - rp, cy - rp, cx + rp, cy + rp], fill=255)
        for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):  # join 8-connected neighbours into one stroke
            if (y + dy, x + dx) in points:
                w = max(1, round(2 * min(rp, radius[(y + dy, x + dx)])))
                brush.line([cx, cy, (x + dx) * s + pad, (y + dy) * s + pad], fill=255, width=w)
    return img.filter(ImageFilter.GaussianBlur(1.0))


def pen_px(stroke: int, height: int) -> float:
    """A centreline pen of STROKES (the negative codes) in px, for a digit `height` px tall."""
    return PEN[stroke] * height if stroke in PEN else BRUSH


def draw(digit, rng, height, stroke, angle, ink, flatten):
    """One synthetic drawing as the Sketchpad value (background, one RGBA layer, composite)."""
    d = cropped(digit)
    h = int(height * CANVAS_H)
    w = max(2, int(d.shape[1] * h / d.shape[0]))
    if stroke < 0:  # a pen along the digit's centreline: a fine one, or the app's own brush
        big = pen_strokes(digit, h, pen_px(stroke, h))
    else:  # MNIST's own stroke, widened at 1/4 size then smoothed up
        quarter = Image.fromarray(d, mode="F").resize((max(2, w // 4), max(2, h // 4)), Image.Resampling.BILINEAR)
        mask = Image.fromarray(((np.asarray(quarter) > 0.45) * 255).astype(np.uint8))
        step = max(1, round(h / 4 / 40))  # one kernel step per ~2.5% of the digit's height
        for _ in range(stroke):
            mask = mask.filter(ImageFilter.MaxFilter(2 * step + 1))
        big = mask.resize((w, h), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1.2))
    big = big.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
    alpha = np.asarray(big, dtype=np.float32) / 255.0
    alpha = np.where(alpha > 0.5, 1.0, alpha * 2 * (alpha > 0.25))  # brush: opaque core, soft edge
    bh, bw = alpha.shape
    if bh > CANVAS_H or bw > CANVAS_W:
        f = min(CANVAS_H / bh, CANVAS_W / bw)
        alpha = np.asarray(Image.fromarray(alpha, mode="F").resize((int(bw * f), int(bh * f))))
        bh, bw = alpha.shape
    top, left = rng.integers(0, CANVAS_H - bh + 1), rng.integers(0, CANVAS_W - bw + 1)
    layer = np.zeros((CANVAS_H, CANVAS_W, 4), np.uint8)
    layer[..., :3] = ink
    layer[top : top + bh, left : left + bw, 3] = (np.clip(alpha, 0, 1) * 255).astype(np.uint8)
    background = np.full((CANVAS_H, CANVAS_W, 4), 255, np.uint8)
    composite = Image.fromarray(background.copy())
    composite.alpha_composite(Image.fromarray(layer))
    composite = np.asarray(composite)
    return {"background": background, "layers": [] if flatten else [layer], "composite": composite}


def sketch_value(ink, color=(0, 0, 0), opaque_layer=False):
    """ink: float [H, W] in [0, 1] -> the dict Gradio's Sketchpad sends (numpy RGBA images):
    a white background, one transparent layer whose alpha is the ink, and the composite."""
    h, w = ink.shape
    layer = np.zeros((h, w, 4), np.uint8)
    layer[..., :3] = color
    layer[..., 3] = (np.clip(ink, 0, 1) * 255).round().astype(np.uint8)
    background = np.full((h, w, 4), 255, np.uint8)
    composite = Image.fromarray(background)
    composite.alpha_composite(Image.fromarray(layer))
    value = {"background": background, "layers": [layer], "composite": np.asarray(composite)}
    if opaque_layer:  # some clients flatten everything: no layers, only the opaque composite
        value["layers"] = []
    return value


def place_digit(digit28, canvas=400, height=0.6, center=(0.5, 0.5)):
    """A real 28x28 MNIST digit scaled so its ink is `height` of the canvas, centred at `center`."""
    d = digit28.astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(d.max(1) > 0.1), np.flatnonzero(d.max(0) > 0.1)
    d = d[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = min(height * canvas / d.shape[0], canvas / d.shape[1])  # a digit wider than tall still fits
    size = (max(1, round(d.shape[1] * scale)), max(1, round(d.shape[0] * scale)))
    big = np.asarray(Image.fromarray(d, mode="F").resize(size, Image.Resampling.BILINEAR)).clip(0, 1)
    ink = np.zeros((canvas, canvas), np.float32)
    top = int(np.clip(center[1] * canvas - size[1] / 2, 0, canvas - size[1]))
    left = int(np.clip(center[0] * canvas - size[0] / 2, 0, canvas - size[0]))
    ink[top : top + size[1], left : left + size[0]] = big[: canvas - top, : canvas - left]
    return ink


def pad_rgba(digit28, height=0.6) -> np.ndarray:
    """A real 28x28 MNIST digit on the pad's 800x300 canvas as the pad sends it: black ink on transparent."""
    ink = place_digit(digit28, CANVAS_H, height)
    rgba = np.zeros((CANVAS_H, CANVAS_W, 4), np.uint8)
    left = (CANVAS_W - CANVAS_H) // 2
    rgba[:, left : left + CANVAS_H, 3] = (ink * 255).round().astype(np.uint8)
    return rgba


def stroke_digit(points, canvas=400, width=28):
    """A polyline drawn with a round brush, like a mouse stroke."""
    im = Image.new("F", (canvas, canvas), 0.0)
    draw = ImageDraw.Draw(im)
    draw.line(points, fill=1.0, width=width, joint="curve")
    for x, y in (points[0], points[-1]):
        draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=1.0)
    return np.asarray(im)
