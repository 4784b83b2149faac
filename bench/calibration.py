"""Does the confidence on the page mean what it says?  `python -m bench.calibration [--model F] [--n 2000]`

The MNIST test set and the canvas benchmark's kind of drawings (test digits redrawn with the pad's brush,
through the app's preprocessing), read by the model as trained (softmax) and through the temperature its
card carries (export.calibrate, fitted on validation digits only): expected calibration error, NLL, the
wrong answers given at more than 90%, and a reliability diagram (docs/reliability.png). The page's "not
sure" threshold is read off the calibrated diagram of validation drawings, not of these.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.report import machine, publish, table
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.contract import to_model_input
from export.calibrate import canvas_inputs, nll, reliability
from train.data import load

MIN_BIN = 5  # digits a bin needs to be drawn
FIGURE = Path(__file__).resolve().parent.parent / "docs" / "reliability.png"


def plot(curves: dict[str, list[tuple[float, float, int]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for name, rows in curves.items():
        rows = [r for r in rows if r[2] >= MIN_BIN]  # a bin of a handful of digits says little
        line = ax.plot([r[0] for r in rows], [r[1] for r in rows], label=name)[0]
        ax.scatter(
            [r[0] for r in rows], [r[1] for r in rows], s=[8 * r[2] ** 0.5 for r in rows], color=line.get_color()
        )
    ax.set(xlabel="confidence shown", ylabel="fraction right", xlim=(0.3, 1.0), ylim=(0.3, 1.0))
    ax.set_title(f"Reliability, all test digits (bins of {MIN_BIN}+; area ~ count)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--data", default=None, help="mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument("--n", type=int, default=2000, help="test digits redrawn on the pad")
    p.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md and docs/ alone")
    args = p.parse_args(argv)
    clf = Classifier(args.model)
    _, (x_test, y_test) = load(args.data)
    idx = np.random.default_rng(0).choice(len(x_test), args.n, replace=False)
    sets = {
        "MNIST test": (to_model_input(x_test), y_test),
        "canvas drawings": (canvas_inputs(x_test[idx], seed=2), y_test[idx]),
    }
    rows, curves, pooled = [], {}, {}
    for name, (x, y) in sets.items():
        for how, calibrated in (("softmax as trained", False), (f"temperature {clf.temperature:.2f}", True)):
            probs = clf.predict_batch(x, calibrated=calibrated)
            ece = reliability(probs, y)[0]
            wrong = probs.argmax(1) != y
            rows.append(
                (
                    name,
                    how,
                    len(y),
                    f"{ece:.2%}",
                    f"{nll(probs, y):.4f}",
                    int((wrong & (probs.max(1) > 0.9)).sum()),
                    f"{np.median(probs.max(1)):.3f}",
                )
            )
            pooled.setdefault(how, []).append((probs, y))
    for how, parts in pooled.items():  # MNIST and pad drawings together: more digits in the rare bins
        curves[how] = reliability(np.concatenate([p for p, _ in parts]), np.concatenate([y for _, y in parts]), 10)[1]
    body = (
        f"`python -m bench.calibration --n {args.n}` with `{clf.path.name}` on {machine()}: expected calibration "
        "error (15 bins), NLL, wrong answers shown at more than 90%, and the median confidence, as trained and "
        "through the card's temperature (fitted on validation digits by `export.calibrate`). "
        "Reliability diagram: docs/reliability.png.\n\n"
        + table(["digits", "confidence", "count", "ECE", "NLL", "wrong at >90%", "median confidence"], rows)
    )
    if not args.no_write:
        plot(curves, FIGURE)
    publish("Calibration", body, write=not args.no_write)
    return rows


if __name__ == "__main__":
    main()
