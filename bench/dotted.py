"""Dotted and broken strokes: `python -m bench.dotted [--model F] [--split val] [--n 2000]`

Real MNIST test digits (or the model's own validation digits) cut by blank rows or columns every 4-6 px (a
stroke that skipped, a dotted pen), drawn on the pad and read as the Draw tab reads them. Side by side in one
run: the app as it is (the gaps of a digit in three or more pieces closed, `demo.preprocess.bridged`), the
same drawings with the gaps left open, and the same digits drawn whole.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager

import numpy as np

import demo.preprocess
from bench.drawing import read_text, split_digits
from bench.report import machine, publish, table
from demo.canvas import CANVAS_H, CANVAS_W
from demo.classifier import DEFAULT_MODEL, Classifier
from train.drawn import place_digit, sketch_value

HEADER = ["cut", "drawings", "as a number", "as one digit"]
HEADER += [f"{h}, gaps left open" for h in HEADER[2:]] + ["the same digits whole, as a number"]


def dotted(digit28: np.ndarray, across: str, step: int) -> np.ndarray:
    """The digit with every `step`-th row (across="rows") or column blanked."""
    d = digit28.copy()
    if across == "rows":
        d[::step] = 0
    else:
        d[:, ::step] = 0
    return d


def on_pad(digit28: np.ndarray) -> dict:
    """The digit at 70% of the pad's height, a little left of centre, as a Sketchpad value."""
    pad = np.zeros((CANVAS_H, CANVAS_W), np.float32)
    pad[:, 250 : 250 + CANVAS_H] = place_digit(digit28, CANVAS_H, 0.7)
    return sketch_value(pad)


@contextmanager
def gaps_left_open():
    """The preprocessing without its gap closing, for the comparison only."""
    saved = demo.preprocess.MANY_PIECES
    demo.preprocess.MANY_PIECES = 10**9
    try:
        yield
    finally:
        demo.preprocess.MANY_PIECES = saved


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--data", default=None, help="mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument("--split", choices=["test", "val"], default="test")
    p.add_argument("--n", type=int, default=2000, help="digits of the split, the same number of each class")
    p.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    args = p.parse_args(argv)
    clf = Classifier(args.model)
    x, y = split_digits(args.model, args.data, args.split)
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == d), args.n // 10, replace=False) for d in range(10)])
    labels = [str(y[i]) for i in idx]

    def right(values, read) -> np.ndarray:
        return np.array([read(v) == t for v, t in zip(values, labels)])

    def as_number(value) -> str:
        return read_text(clf, value)

    def as_digit(value) -> str:
        try:
            return str(clf.predict(value).digit)
        except ValueError:  # a message for the person: a miss
            return ""

    whole = right([on_pad(x[i]) for i in idx], as_number).mean()
    rows = []
    for across in ("rows", "columns"):
        for step in (4, 5, 6):
            cut = [on_pad(dotted(x[i], across, step)) for i in idx]
            figures = [right(cut, as_number).mean(), right(cut, as_digit).mean()]
            with gaps_left_open():
                figures += [right(cut, as_number).mean(), right(cut, as_digit).mean()]
            rows.append((f"blank {across} every {step} px", len(idx), *(f"{f:.2%}" for f in figures), f"{whole:.2%}"))
    body = (
        f"`python -m bench.dotted --n {args.n}{' --split val' if args.split == 'val' else ''}` with "
        f"`{clf.path.name}` on {machine()}: MNIST {args.split} digits cut by blank rows or columns every 4-6 px, "
        "drawn on the pad and read as a number (the Draw tab) and as one digit (`predict`, the upload and API "
        "path); a message counts as a miss. Blank columns cut a digit into strips side by side, which the number "
        "reader takes for several digits.\n\n" + table(HEADER, rows)
    )
    publish("Dotted strokes", body, write=not args.no_write)
    return rows


if __name__ == "__main__":
    main()
