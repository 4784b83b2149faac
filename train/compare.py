"""Validation curves of several runs on one figure, so recipes can be compared by eye (README: docs/recipes.png).

python -m train.compare models/mnist-resnet50v2.history.json runs/original --labels ours original --out cmp.png
"""

import argparse
import sys
from pathlib import Path

from train.history import HistoryError, load, pyplot, save_figure


def series(epochs):
    """Epoch numbers, minutes of training at the end of each epoch, validation error in percent."""
    minutes, total = [], 0.0
    for e in epochs:
        total += e["seconds"] / 60
        minutes.append(total)
    return [e["epoch"] for e in epochs], minutes, [100 * (1 - e["val_accuracy"]) for e in epochs]


def plot(runs, dest):
    """runs: {label: epochs}. Error on a log axis: 2% -> 0.4% is as visible as 20% -> 4%; time on a
    log axis too, so minutes-long and hours-long recipes share the figure (time to accuracy)."""
    fig, axes = pyplot().subplots(1, 2, figsize=(10, 4), dpi=100, sharey=True)
    lo, hi = [], []
    for label, epochs in runs.items():
        ep, minutes, err = series(epochs)
        best = min(err)
        lo.append(best)
        hi.append(max(err))
        axes[0].plot(ep, err, "o-", ms=3, label=f"{label} (best validation {100 - best:.2f}%)")
        axes[1].plot(minutes, err, "o-", ms=3, label=label)
    axes[0].set_yscale("log")
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if min(lo) / 2 <= t <= max(hi) * 2]
    axes[0].set_yticks(ticks, [f"{t:g}" for t in ticks])
    axes[0].minorticks_off()
    axes[0].set_ylabel("validation error (%)")
    axes[0].set_xlabel("epoch")
    axes[1].set_xscale("log")  # a 10-minute recipe and a 5-hour one on one axis
    axes[1].set_xlabel("minutes of training (log scale)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    save_figure(fig, dest)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m train.compare", description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", help="run folders or history.json files")
    p.add_argument("--labels", nargs="+", help="one per run (default: the folder or file names)")
    p.add_argument("--out", default="compare.png", help="PNG to write")
    args = p.parse_args(argv)
    labels = args.labels or [Path(r).stem if Path(r).suffix == ".json" else Path(r).name for r in args.runs]
    if len(labels) != len(args.runs):
        p.error(f"{len(args.runs)} runs but {len(labels)} labels: give one label per run.")
    try:
        runs = {label: load(r) for label, r in zip(labels, args.runs)}
    except HistoryError as e:
        sys.exit(f"error: {e}")
    plot(runs, args.out)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
