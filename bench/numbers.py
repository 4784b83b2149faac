"""How well are whole numbers read?  `python -m bench.numbers`

Numbers of 2 to 8 real MNIST test digits written left to right on the app's canvas the way people
write them: gaps from wide to touching, a drifting baseline, mixed sizes, MNIST's own strokes or a
round pen along the digit's centreline. Each goes through the app's own code (`Classifier.read_number`
on the Sketchpad's value). Beside it, the naive reading: the ink's width cut into equal slots, one per
digit, with the true number of digits given away.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.drawing import read_text, split_digits
from bench.report import machine, publish, table
from demo.canvas import CANVAS_H, CANVAS_W
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.contract import to_model_input
from demo.preprocess import center_digit
from train.written import GAPS, Written, write_number


def read_digits(clf: Classifier, digits: np.ndarray) -> str:
    """28x28 digits [N, 28, 28] -> the digits the model reads in them, in one call, as a string."""
    return "".join(str(int(d)) for d in clf.predict_batch(to_model_input(digits)).argmax(1))


def in_place(got: str, truth: str) -> int:
    """Digits right in their place; a reading of the wrong length scores none."""
    return sum(a == b for a, b in zip(got, truth)) if len(got) == len(truth) else 0


def naive(clf: Classifier, value: dict, n: int) -> str:
    """Equal-width slots across the ink, one per digit (the count given away)."""
    ink = value["layers"][0][..., 3].astype(np.float32) / 255
    cols = np.flatnonzero(ink.max(0) > 0.15)
    edges = np.linspace(cols[0], cols[-1] + 1, n + 1).round().astype(int)
    seen = []
    for a, b in zip(edges[:-1], edges[1:]):
        try:
            seen.append(center_digit(ink[:, a:b]))
        except ValueError:
            seen.append(np.zeros((28, 28), np.float32))
    return read_digits(clf, np.stack(seen))


def one_by_one(clf: Classifier, w: Written) -> str:
    """Each digit read from its own ink: what a perfect segmentation would give."""
    try:
        seen = np.stack([center_digit(part, CANVAS_H) for part in w.parts])
    except ValueError:  # a message instead of a digit: a miss
        return ""
    return read_digits(clf, seen)


def as_mnist(clf: Classifier, w: Written) -> str:
    """The same MNIST digits read as MNIST gives them (no canvas, no preprocessing): the model's own ceiling."""
    return read_digits(clf, w.sources / 255.0)


def synthesise(x: np.ndarray, y: np.ndarray, count: int, seed: int) -> list[Written]:
    rng = np.random.default_rng(seed)
    out: list[Written] = []
    while len(out) < count:
        n = int(rng.integers(2, 9))
        idx = rng.choice(len(x), n, replace=False)
        gap = list(GAPS)[int(rng.integers(0, len(GAPS)))]
        w = write_number(
            list(x[idx]),
            [int(v) for v in y[idx]],
            rng,
            gap,
            "pen" if rng.random() < 0.5 else "mnist",
            bool(rng.random() < 0.5),
            bool(rng.random() < 0.5),
            slant=float(rng.uniform(5, 20) * rng.choice([-1, 1])) if rng.random() < 0.5 else 0.0,
            sizes=(0.25, 0.8),  # from a small hand to the pad's full height
        )
        if w is not None:
            out.append(w)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--data", default=None, help="mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument("--n", type=int, default=1000, help="numbers to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--split",
        choices=["test", "val"],
        default="test",
        help="val: the model's held-out training digits, for tuning the splitter without looking at the test set",
    )
    p.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    args = p.parse_args(argv)
    clf = Classifier(args.model)
    x_test, y_test = split_digits(args.model, args.data, args.split)
    started = time.time()
    written = synthesise(x_test, y_test, args.n, args.seed)
    results = []
    for w in written:
        got = read_text(clf, w.value)
        base = naive(clf, w.value, len(w.number))
        apart, mnist = one_by_one(clf, w) == w.number, as_mnist(clf, w)
        results.append(
            (
                w,
                got == w.number,
                in_place(got, w.number),
                base == w.number,
                in_place(base, w.number),
                apart,
                mnist == w.number,
                in_place(mnist, w.number),
            )
        )
    took = time.time() - started

    def row(name, sel):
        r = [results[i] for i in sel]
        digits = sum(len(x[0].number) for x in r)
        return (
            name,
            len(r),
            f"{np.mean([x[1] for x in r]):.2%}",
            f"{sum(x[2] for x in r) / digits:.2%}",
            f"{np.mean([x[5] for x in r]):.2%}",
            f"{np.mean([x[6] for x in r]):.2%}",
            f"{sum(x[7] for x in r) / digits:.2%}",
            f"{np.mean([x[3] for x in r]):.2%}",
            f"{sum(x[4] for x in r) / digits:.2%}",
        )

    rows = [row("**all**", range(len(results)))]
    apart = [i for i, r in enumerate(results) if not r[0].condition["gap"].startswith("one pair")]
    rows.append(row("no two digits touch", apart))
    rows.append(row("one pair touching or overlapping", [i for i in range(len(results)) if i not in set(apart)]))
    for key in ("gap", "digits", "pen", "baseline", "sizes", "slant"):
        for level in sorted({r[0].condition[key] for r in results}):
            rows.append(row(f"{key}: {level}", [i for i, r in enumerate(results) if r[0].condition[key] == level]))
    body = (
        f"`python -m bench.numbers --n {args.n}{' --split val' if args.split == 'val' else ''}` with "
        f"`{clf.path.name}` on {machine()}: {len(results)} numbers of 2-8 MNIST {args.split} digits written "
        f"on the {CANVAS_W}x{CANVAS_H} canvas ({took:.0f} s in all). A number "
        "counts only if every digit is right and none is missing or extra; per digit counts digits in place "
        "(a number read with the wrong length scores none). Digits read apart: each digit's own ink alone "
        "through the same preprocessing and model, the ceiling a perfect segmentation would reach. "
        "MNIST's own 28x28: the same digits as MNIST gives them, no canvas at all, the ceiling the model itself "
        "sets. Naive: equal-width slots, the true count given.\n\n"
        + table(
            [
                "condition",
                "numbers",
                "exact number",
                "per digit",
                "digits read apart: exact",
                "MNIST's own 28x28: exact",
                "MNIST's own 28x28: per digit",
                "naive: exact",
                "naive: per digit",
            ],
            rows,
        )
    )
    publish("Numbers", body, write=not args.no_write)
    return results


if __name__ == "__main__":
    main()
