"""How well does a drawing on the pad reach the model?  `python -m bench.canvas_robustness`

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
from PIL import Image

from bench.drawing import read_text, split_digits
from bench.report import machine, publish, table
from demo import preprocess
from demo.canvas import BRUSH, CANVAS_H, CANVAS_W
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.contract import INPUT_SHAPE, to_model_input
from demo.preprocess import MID_BOX, crop_to_ink, normalised, prepare, resize_longer, stroke_width
from train.drawn import INKS, STROKES, draw


def naive(value):
    """What most demos do: the whole canvas, greyscale, inverted, squashed to 28x28."""
    grey = Image.fromarray(value["composite"][..., :3]).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    return to_model_input(255 - np.asarray(grey))


def training_pen(model: str, data: str | None, n: int = 5000) -> float:
    """The median pen of `n` of the model's training digits, measured as `normalise_stroke` measures a
    drawing's before comparing it with MID_STROKE (cropped, longer side MID_BOX, `stroke_width`): what
    MID_STROKE stands for, from no test digit."""
    from train.average import split_of
    from train.data import load, split

    (x, y), _ = load(data)
    x_train = split(x, y, *split_of([model]))[0][0]
    pick = np.random.default_rng(0).choice(len(x_train), n, replace=False)
    widths = [stroke_width(resize_longer(crop_to_ink(normalised(x_train[i])), MID_BOX)) for i in pick]
    return float(np.median(widths))


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
    p.add_argument("--mid-stroke", type=float, default=None, help="preprocess.MID_STROKE for this run (choose on val)")
    p.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    args = p.parse_args(argv)
    if args.mid_stroke:
        preprocess.MID_STROKE = args.mid_stroke
    pen = training_pen(args.model, args.data)

    clf = Classifier(args.model)
    x_test, y_test = split_digits(args.model, args.data, args.split)
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
    flags += f" --mid-stroke {args.mid_stroke:g}" if args.mid_stroke else ""
    body = (
        f"`python -m bench.canvas_robustness {flags}` with `{clf.path.name}` on {machine()}: "
        f"{args.n} MNIST {args.split} digits redrawn on the app's {CANVAS_W}x{CANVAS_H} pad "
        f"(the app's brush is {BRUSH} px at every size; {synth:.0f} s to synthesise and read). Pens are "
        f"brought towards MID_STROKE = {preprocess.MID_STROKE:g} (the median pen of the model's training "
        f"digits, measured the same way: {pen:.1f}). Accuracy "
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
