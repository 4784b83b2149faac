"""Learning a writing style from corrections, end to end.  `python -m bench.finetune_style`

A programmer's and a European's digits: a 0 with a slash through it, a 7 with a bar. The shipped model
reads most slashed zeros as 8s. Styled digits are made from MNIST training digits (never test or
validation ones), drawn on the app's canvas; half are corrected through the app's own code into a
SQLite store, `python -m train.finetune` learns from them, `python -m export` writes the ONNX file,
and the other half is read before and after, beside MNIST test accuracy before and after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench.drawing import read_text, sketch_value
from bench.report import machine, publish, table
from demo.canvas import CANVAS_H, CANVAS_W
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.contract import to_model_input
from demo.correct import Corrector
from demo.correction_store import Store
from train.data import load, split

ROOT = Path(__file__).resolve().parent.parent
SCALE = 10  # the 28x28 digit is redrawn at 280x280 before the strokes are added


def pen(d28: np.ndarray) -> float:
    """The digit's stroke width in 28x28 pixels: ink area over ink height (a 1 or a 7 is mostly one line)."""
    m = d28 > 100
    return max(1.5, m.sum() / max(1, m.any(1).sum()))


def big(d28: np.ndarray) -> Image.Image:
    return Image.fromarray(d28).resize((28 * SCALE, 28 * SCALE), Image.Resampling.BILINEAR)


def slashed_zero(d28: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 0 with a slash through it, corner to corner, a little past the loop (a zero's ink is two strokes
    per row, so its pen is half of `pen`)."""
    im = big(d28)
    ys, xs = np.nonzero(np.asarray(im) > 100)
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    w, lean, over = int(pen(d28) * SCALE * 0.45), rng.uniform(-0.1, 0.15), rng.uniform(0.0, 0.12)
    ImageDraw.Draw(im).line(
        [(x1 + lean * (x1 - x0), y0 - over * (y1 - y0)), (x0 - lean * (x1 - x0), y1 + over * (y1 - y0))],
        fill=255,
        width=w,
    )
    return np.asarray(im)


def crossed_seven(d28: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 7 with a short bar across its stem, half-way down."""
    im = big(d28)
    ys, xs = np.nonzero(np.asarray(im) > 100)
    top, bottom = ys.min(), ys.max()
    mid = top + (bottom - top) * rng.uniform(0.45, 0.6)
    cx = xs[np.abs(ys - mid) < 6].mean()
    w, bar = int(pen(d28) * SCALE * 0.8), (bottom - top) * rng.uniform(0.2, 0.3)
    ImageDraw.Draw(im).line([(cx - bar, mid), (cx + bar, mid)], fill=255, width=w)
    return np.asarray(im)


def on_canvas(styled: np.ndarray, rng: np.random.Generator) -> dict:
    """The styled digit written on the app's canvas, 50-70% of its height, as the Sketchpad sends it."""
    ink = styled.astype(np.float32) / 255
    rows, cols = np.flatnonzero(ink.max(1) > 0.1), np.flatnonzero(ink.max(0) > 0.1)
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h = int(rng.uniform(0.5, 0.7) * CANVAS_H)
    w = max(1, round(ink.shape[1] * h / ink.shape[0]))
    ink = np.asarray(Image.fromarray(ink, mode="F").resize((w, h), Image.Resampling.BILINEAR)).clip(0, 1)
    canvas = np.zeros((CANVAS_H, CANVAS_W), np.float32)
    top, left = int(rng.integers(0, CANVAS_H - h)), int(rng.integers(100, CANVAS_W - 100 - w))
    canvas[top : top + h, left : left + w] = ink
    return sketch_value(canvas)


def styled_digits(data: str | None, n: int, seed: int) -> list[tuple[dict, int]]:
    """n styled drawings, half 0s and half 7s, from the training part of the shipped model's split."""
    (x, y), _ = load(data)
    (x_tr, y_tr), _ = split(x, y, 5000, 42)
    rng = np.random.default_rng(seed)
    out = []
    for digit, make in ((0, slashed_zero), (7, crossed_seven)):
        for i in rng.choice(np.flatnonzero(y_tr == digit), n // 2, replace=False):
            out.append((on_canvas(make(x_tr[i], rng), rng), digit))
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def read_right(classifier: Classifier, drawings: list[tuple[dict, int]]) -> float:
    return float(np.mean([read_text(classifier, v) == str(d) for v, d in drawings]))


def mnist_test(classifier: Classifier, data: str | None) -> float:
    _, (x_test, y_test) = load(data)
    x = to_model_input(x_test)
    pred = np.concatenate([classifier.predict_batch(x[i : i + 500]).argmax(1) for i in range(0, len(x), 500)])
    return float((pred == y_test).mean())


def run(*args: str) -> float:
    started = time.time()
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return time.time() - started


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None)
    p.add_argument("--n", type=int, default=400, help="styled digits in all; half are corrected")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/finetune-style")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)

    drawings = styled_digits(args.data, args.n, args.seed)
    taught, held_out = drawings[: len(drawings) // 2], drawings[len(drawings) // 2 :]
    shipped = Classifier(DEFAULT_MODEL)
    store_path = Path(tempfile.mkdtemp()) / "corrections.sqlite"
    corrector = Corrector(shipped, Store(store_path))
    kept = sum(corrector.correct(v, str(d), source="cli")[0] for v, d in taught)
    print(f"{kept} corrections kept in {store_path}", flush=True)
    data = ["--data", args.data] if args.data else []
    out = Path(args.out)
    tune_s = run(
        "-m", "train.finetune", "--corrections", str(store_path), "--out", str(out), "--epochs", str(args.epochs), *data
    )
    export_s = run("-m", "export", "--run", str(out), "--out", str(out / "model.onnx"), *data)
    tuned = Classifier(out / "model.onnx")

    rows = []
    for name, clf in (("shipped model", shipped), ("fine-tuned on the corrections", tuned)):
        zeros = [(v, d) for v, d in held_out if d == 0]
        sevens = [(v, d) for v, d in held_out if d == 7]
        rows.append(
            [
                name,
                f"{read_right(clf, held_out):.1%}",
                f"{read_right(clf, zeros):.1%}",
                f"{read_right(clf, sevens):.1%}",
                f"{mnist_test(clf, args.data):.2%}",
            ]
        )
        print(rows[-1], flush=True)
    body = (
        f"`python -m bench.finetune_style --n {args.n} --epochs {args.epochs}` on {machine()}: {args.n} "
        "styled digits (slashed 0s, crossed 7s) made from MNIST training "
        f"digits and written on the app's canvas; {kept} of them corrected through the app's own code into "
        f"SQLite, `python -m train.finetune` ({tune_s / 60:.1f} min including start-up and evaluation), "
        f"`python -m export` ({export_s / 60:.1f} min); the other {len(held_out)} read before and after.\n\n"
        + table(["model", "held-out style, exact", "slashed 0s", "crossed 7s", "MNIST test (10,000)"], rows)
    )
    publish("Fine-tuning on corrections", body, write=not args.no_write)


if __name__ == "__main__":
    main()
