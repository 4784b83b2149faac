"""Writing forms MNIST lacks: `python -m bench.styles [--model F] [--split val]`

Every MNIST test digit (or, with `--split val`, the model's own validation digits) of a form's class,
restyled by `train.styles` (a flag on a 1, a bar across a 7, ...), read by the model as MNIST geometry;
beside it the same digits unstyled. No other handwriting: what real people write stays an honest test.
"""

from __future__ import annotations

import argparse

import numpy as np

from bench.drawing import split_digits
from bench.report import machine, publish, table
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.contract import to_model_input
from train.styles import FORMS, styled_set


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--data", default=None, help="mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument("--split", choices=["test", "val"], default="test")
    p.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    args = p.parse_args(argv)
    clf = Classifier(args.model)
    x, y = split_digits(args.model, args.data, args.split)

    def accuracy(digits, labels):
        return float(np.mean(clf.predict_batch(to_model_input(digits)).argmax(1) == labels))

    rows = []
    for form, (digit, _) in FORMS.items():
        sx, sy = styled_set(x, y, form, seed=1)
        rows.append((form, len(sy), f"{accuracy(sx, sy):.2%}", f"{accuracy(x[y == digit], y[y == digit]):.2%}"))
    body = (
        f"`python -m bench.styles{' --split val' if args.split == 'val' else ''}` with `{clf.path.name}` on "
        f"{machine()}: every MNIST {args.split} digit of each form's class, restyled by `train.styles`, read as "
        "MNIST geometry; beside it the same digits as MNIST wrote them.\n\n"
        + table(["form", "digits", "styled", "the same digits unstyled"], rows)
    )
    publish("Writing forms", body, write=not args.no_write)
    return rows


if __name__ == "__main__":
    main()
