"""How well are digits that touch the hard ways read?  `python -m bench.touching [--split val]`

Pairs of real MNIST digits written on the app's canvas joined the ways people join them (train.written.HARD:
crossing strokes, a shared stroke, a ligature), beside the same kind of pairs written apart and digits
written alone (which must stay one digit). Each goes through the app's own code (`Classifier.read_number`).
`--split val` reads the model's validation digits: demo.number's choices are made there, never on test.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.drawing import read_text, split_digits
from bench.numbers import in_place, one_by_one
from bench.report import machine, publish, table
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.cuts import cut_to_box, read_windows
from demo.preprocess import ink_and_canvas, normalised
from train.written import HARD, Written, write_number, write_pair

APART = "apart (a normal gap)"
ALONE = "one digit alone"


def written(x: np.ndarray, y: np.ndarray, kind: str, count: int, seed: int) -> list[Written]:
    """`count` drawings of one kind: a HARD join, APART or ALONE."""
    rng = np.random.default_rng(seed)
    out: list[Written] = []
    while len(out) < count:
        pen = "pen" if rng.random() < 0.5 else "mnist"
        idx = rng.choice(len(x), 1 if kind == ALONE else 2, replace=False)
        digits, labels = list(x[idx]), [int(v) for v in y[idx]]
        if kind in HARD:
            w = write_pair(digits, labels, rng, kind, pen)
        else:
            w = write_number(digits, labels, rng, "normal", pen, False, False, sizes=(0.45, 0.75))
        if w is not None:
            out.append(w)
    return out


def score(clf: Classifier, drawings: list[Written]) -> tuple[float, float, float]:
    """(exact, digits in place, the ceiling: each digit's own ink read alone)."""
    got = [read_text(clf, w.value) for w in drawings]
    exact = np.mean([g == w.number for g, w in zip(got, drawings)])
    digits = sum(in_place(g, w.number) for g, w in zip(got, drawings)) / sum(len(w.number) for w in drawings)
    ceiling = np.mean([one_by_one(clf, w) == w.number for w in drawings])
    return float(exact), float(digits), float(ceiling)


def windows(clf: Classifier, w: Written) -> tuple[bool, bool]:
    """demo.cuts' windows over a pair's whole ink, every piece cut: (some left/right pair of windows reads
    both digits right, the pair the model is surest of reads both right): what recognition could reach
    with this model, and what its confidence picks."""
    ink, (h, width) = ink_and_canvas(w.value)
    found = read_windows(cut_to_box(normalised(ink, h * width)).ink, lambda inks: clf.best_reads(inks, min(h, width)))
    if found is None:
        return False, False
    truth = (int(w.number[0]), int(w.number[1]))

    def right_pair(ab):
        return (found.left_reads[ab[1]][0], found.right_reads[ab[0]][0]) == truth

    return any(map(right_pair, found.pairs)), right_pair(found.surest())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--data", default=None, help="mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument("--n", type=int, default=400, help="drawings of each kind")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", choices=["test", "val"], default="test")
    p.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    args = p.parse_args(argv)
    clf = Classifier(args.model)
    x, y = split_digits(args.model, args.data, args.split)
    started, rows = time.time(), []
    for k, kind in enumerate([*HARD, APART, ALONE]):
        drawings = written(x, y, kind, args.n, args.seed + k)
        exact, digits, ceiling = score(clf, drawings)
        found = [windows(clf, w) for w in drawings] if kind in HARD else []
        some, surest = (f"{np.mean([f[i] for f in found]):.2%}" for i in (0, 1)) if found else ("-", "-")
        rows.append((kind, args.n, f"{exact:.2%}", f"{digits:.2%}", f"{ceiling:.2%}", some, surest))
        print(rows[-1], flush=True)
    body = (
        f"`python -m bench.touching --n {args.n}{' --split val' if args.split == 'val' else ''}` with "
        f"`{clf.path.name}` on {machine()} ({time.time() - started:.0f} s): pairs of MNIST {args.split} digits "
        "joined the hard ways (the right digit's strokes run through the left's; a stretch of outline in "
        "common; a small gap bridged by a pen stroke from the left digit's end to the right's start), the same "
        "kind of pairs written apart, and digits alone, round pen or MNIST's stroke. Exact: the whole reading "
        "right (a lone digit read as two is wrong); per digit: digits in place; ceiling: each digit's own ink "
        "read alone, what a perfect cut would give. The last two columns take demo.cuts' windows over every "
        "pair, each cut whatever its width: how often some left and right window read both digits right, "
        "and how often the pair the model is surest of (log-odds) does: the gap is the model's confidence, "
        "not the windows.\n\n"
        + table(
            [
                "written",
                "drawings",
                "exact",
                "per digit",
                "ceiling: digits read apart",
                "some pair of windows right",
                "the surest pair right",
            ],
            rows,
        )
    )
    publish("Touching digits" + (" (validation)" if args.split == "val" else ""), body, write=not args.no_write)
    return rows


if __name__ == "__main__":
    main()
