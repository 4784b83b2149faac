"""Learning a writing form from corrections, end to end.  `python -m bench.finetune_style`

An 8 written as two loops apart: `train.styles` leaves that form out of training on purpose, and the
shipped model reads many of them as 3s. Styled digits are made from MNIST training digits (never test or
validation ones), drawn on the app's canvas; half are corrected through the app's own code into a
SQLite store, `python -m train.finetune` learns from them with its own defaults, `python -m export`
writes the ONNX file, and the other half is read before and after, beside MNIST test accuracy.
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
from PIL import Image

from bench.drawing import read_text
from bench.report import machine, publish, table
from demo.canvas import CANVAS_H, CANVAS_W
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.contract import to_model_input
from demo.correct import Corrector
from demo.decode import BadImage
from demo.sqlite_store import Store
from train.average import split_of
from train.data import load, split
from train.drawn import sketch_value
from train.styles import HELD_OUT, restyle

ROOT = Path(__file__).resolve().parent.parent
FORM = next(iter(HELD_OUT))


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


def styled_digits(data: str | None, form: str, n: int, seed: int, model: str) -> list[tuple[np.ndarray, dict, int]]:
    """n digits of `form` (28x28, and drawn on the canvas) from the training part of `model`'s split."""
    (x, y), _ = load(data)
    (x_tr, y_tr), _ = split(x, y, *split_of([model]))
    digit = HELD_OUT[form][0]
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.permutation(np.flatnonzero(y_tr == digit)):
        try:
            styled = restyle(x_tr[i], form, rng)
        except BadImage:  # a loop the pen fills in: not a digit anyone would write
            continue
        out.append((styled, on_canvas(styled, rng), digit))
        if len(out) == n:
            return out
    return out


def figure(digits: list[np.ndarray], path: Path) -> None:
    """A strip of the form as the model sees it (white on black, 3x)."""
    strip = np.concatenate(digits, axis=1)
    Image.fromarray(strip).resize((strip.shape[1] * 3, strip.shape[0] * 3), Image.Resampling.NEAREST).save(path)


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
    p.add_argument("--form", default=FORM, choices=list(HELD_OUT), help="a form train.styles leaves out")
    p.add_argument("--n", type=int, default=200, help="styled digits in all; half are corrected")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/finetune-style")
    p.add_argument("--figure", default="docs/finetune-style.png")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)

    digits = styled_digits(args.data, args.form, args.n, args.seed, str(DEFAULT_MODEL))
    drawings = [(v, d) for _, v, d in digits]
    if not args.no_write:
        figure([s for s, _, _ in digits[:16]], ROOT / args.figure)
    taught, held_out = drawings[: len(drawings) // 2], drawings[len(drawings) // 2 :]
    shipped = Classifier(DEFAULT_MODEL)
    store_path = Path(tempfile.mkdtemp()) / "corrections.sqlite"
    corrector = Corrector(shipped, Store(store_path))
    kept = sum(corrector.correct(v, str(d), source="cli")[0] for v, d in taught)
    print(f"{kept} corrections kept in {store_path}", flush=True)
    data = ["--data", args.data] if args.data else []
    out = Path(args.out)
    tune_s = run("-m", "train.finetune", "--corrections", str(store_path), "--out", str(out), *data)
    export_s = run("-m", "export", "--run", str(out), "--out", str(out / "model.onnx"), *data)
    tuned = Classifier(out / "model.onnx")

    before, after = mnist_test(shipped, args.data), mnist_test(tuned, args.data)
    rows = [
        [name, f"{read_right(clf, taught):.1%}", f"{read_right(clf, held_out):.1%}", f"{test:.2%}", points]
        for name, clf, test, points in (
            ("shipped model", shipped, before, ""),
            ("fine-tuned on the corrections", tuned, after, f"{(after - before) * 100:+.2f}"),
        )
    ]
    print(rows, flush=True)
    body = (
        f"`python -m bench.finetune_style --form '{args.form}' --n {args.n}` on {machine()}: {len(digits)} "
        f"digits in a form `train.styles` leaves out of training ({args.form}, `docs/finetune-style.png`), made "
        f"from MNIST training digits and written on the app's canvas; {kept} of them corrected through the "
        f"app's own code into SQLite, `python -m train.finetune` with its defaults ({tune_s / 60:.1f} min "
        f"including start-up and evaluation), `python -m export` ({export_s / 60:.1f} min); the other "
        f"{len(held_out)} read before and after.\n\n"
        + table(["model", "the corrected half", "the held-out half", "MNIST test (10,000)", "points"], rows)
    )
    publish("Fine-tuning on corrections", body, write=not args.no_write)


if __name__ == "__main__":
    main()
