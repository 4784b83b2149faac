"""How well does a drawing on the Sketchpad reach the model?  `python -m bench.canvas_robustness`

Real MNIST test digits (or, with `--split val`, the validation digits held out of training, for
choosing between models without looking at the test set) are redrawn the way people draw on the
app's canvas (digit height 15-80% of the canvas, anywhere on it, the app's own brush or strokes from a
fine pen to a fat brush, tilted up to 12 degrees, black or coloured ink) and sent, as the Sketchpad's
value, through the app's own preprocessing and model, both as one digit (`prepare`) and as the Draw tab
reads it, as a number (`Classifier.read_number`), which must never split one digit in two. The naive
pipeline most demos use (whole canvas -> greyscale -> invert -> 28x28) runs beside it.
"""

import argparse
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bench.drawing import read_text
from bench.report import machine, publish, table
from demo.canvas import BRUSH, CANVAS_H, CANVAS_W
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.contract import INPUT_SHAPE, to_model_input
from demo.preprocess import prepare
from train.average import split_of  # numpy and onnx only: these modules import no TensorFlow
from train.data import load, split

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


def draw(digit, rng, height, stroke, angle, ink, flatten):
    """One synthetic drawing as the Sketchpad value (background, one RGBA layer, composite)."""
    d = cropped(digit)
    h = int(height * CANVAS_H)
    w = max(2, int(d.shape[1] * h / d.shape[0]))
    if stroke < 0:  # a pen along the digit's centreline: a fine one, or the app's own brush
        big = pen_strokes(digit, h, PEN[stroke] * h if stroke in PEN else BRUSH)
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


def naive(value):
    """What most demos do: the whole canvas, greyscale, inverted, squashed to 28x28."""
    grey = Image.fromarray(value["composite"][..., :3]).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    return to_model_input(255 - np.asarray(grey))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--data", default=None, help="mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument("--n", type=int, default=2000, help="drawings (digits of the split) to synthesise")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--split",
        choices=["test", "val"],
        default="test",
        help="val: the training run's held-out digits, for model selection",
    )
    p.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    args = p.parse_args(argv)

    clf = Classifier(args.model)
    (x_train, y_train), (x_test, y_test) = load(args.data)
    if args.split == "val":
        _, (x_test, y_test) = split(x_train, y_train, *split_of([args.model]))  # the model's own split
    rng = np.random.default_rng(args.seed)
    idx = rng.choice(len(x_test), args.n, replace=False)
    conditions, ours, base, refused, as_number = [], [], [], [], []
    started = time.time()
    for i in idx:
        height = rng.uniform(0.15, 0.80)
        stroke = rng.choice(list(STROKES))
        angle = rng.uniform(-12, 12)
        ink = rng.choice(list(INKS)) if rng.random() < 0.5 else "black"
        flatten = rng.random() < 0.25  # some clients send only the flattened composite
        value = draw(x_test[i], rng, height, STROKES[stroke], angle, INKS[ink], flatten)
        try:
            x, _ = prepare(value)
            refused.append(False)
        except ValueError:  # a message instead of a digit counts as a miss
            x = np.zeros((1, *INPUT_SHAPE), np.float32)
            refused.append(True)
        as_number.append(read_text(clf, value))
        ours.append(x)
        base.append(naive(value))
        size = (
            "tiny (15-25%)"
            if height < 0.25
            else "small (25-40%)"
            if height < 0.4
            else "medium (40-60%)"
            if height < 0.6
            else "large (60-80%)"
        )
        tilt = "upright (<4°)" if abs(angle) < 4 else "tilted (4-12°)"
        conditions.append(
            {
                "size": size,
                "stroke": stroke,
                "tilt": tilt,
                "ink": "black" if ink == "black" else "colour",
                "value": "flattened composite" if flatten else "layers + composite",
            }
        )
    synth = time.time() - started
    y = y_test[idx]
    probs = clf.predict_batch(np.concatenate(ours))
    said = np.array(refused)
    hit_ours = (probs.argmax(1) == y) & ~said
    sure_wrong = (~hit_ours) & (probs.max(1) > 0.9) & ~said
    hit_base = clf.predict_batch(np.concatenate(base)).argmax(1) == y
    hit_number = np.array([t == str(d) for t, d in zip(as_number, y)])
    two_or_more = np.array([len(t) > 1 for t in as_number])

    def row(name, sel):
        return (
            name,
            int(sel.sum()),
            f"{hit_ours[sel].mean():.2%}",
            int(said[sel].sum()),
            int(sure_wrong[sel].sum()),
            f"{hit_number[sel].mean():.2%}",
            int(two_or_more[sel].sum()),
            f"{hit_base[sel].mean():.2%}",
        )

    everything = np.ones(len(y), bool)
    rows = [tuple(f"**{v}**" if k in (0, 2) else v for k, v in enumerate(row("all", everything)))]
    for key in ("size", "stroke", "tilt", "ink", "value"):
        order = lambda v: (list(STROKES).index(v) if v in STROKES else 0, v)  # noqa: E731
        for level in sorted({c[key] for c in conditions}, key=order):
            rows.append(row(f"{key}: {level}", np.array([c[key] == level for c in conditions])))
    for level in sorted({c["size"] for c in conditions}):  # what a person drawing with the page's brush gets
        rows.append(
            row(
                f"the app's brush, {level}",
                np.array([c["size"] == level and c["stroke"] == "the app's brush" for c in conditions]),
            )
        )
    flags = f"--n {args.n}" + (f" --seed {args.seed}" if args.seed else "")
    flags += " --split val" if args.split == "val" else ""
    body = (
        f"`python -m bench.canvas_robustness {flags}` with `{clf.path.name}` on {machine()}: "
        f"{args.n} MNIST {args.split} digits redrawn on the app's {CANVAS_W}x{CANVAS_H} Sketchpad "
        f"(the app's brush is {BRUSH} px at every size; {synth:.0f} s to synthesise and read). Accuracy "
        "through the app's preprocessing as one digit "
        '(a message such as "draw it larger" counts as a miss), how many got a message instead, the '
        "wrong answers given with more than 90% confidence, the same drawing read as a number (the Draw tab) "
        "and how often that found more than one digit, and the naive whole-canvas resize:\n\n"
        + table(
            ["condition", "drawings", "one digit", "message", "wrong at >90%", "as a number", "split", "naive resize"],
            rows,
        )
    )
    publish("Canvas robustness", body, write=not args.no_write)
    return hit_ours.mean()


if __name__ == "__main__":
    main()
