"""Per-epoch history on disk, defined once: written here (JSON for the app, CSV for people, a headless
curves PNG) and read back here by train.compare and train.average (the app reads the exported copy)."""

import csv
import io
import json
from pathlib import Path

from demo.fileio import atomic_path, write_json, write_text
from train.layout import HISTORY

COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"]


def save(history, out_dir):
    """history: list of dicts with COLUMNS. Writes history.json, history.csv, curves.png."""
    write_json(out_dir / HISTORY, {"columns": COLUMNS, "epochs": history})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore")
    w.writeheader()
    w.writerows(history)
    write_text(out_dir / "history.csv", buf.getvalue())
    plot(history, out_dir / "curves.png")


class HistoryError(ValueError):
    """A path that is not a run's history, said in one sentence."""


def load(path):
    """A run folder or its history.json -> the list of epochs."""
    path = Path(path)
    file = path / HISTORY if path.is_dir() else path
    if not file.is_file():
        raise HistoryError(f"No training history at {path}: pass a run folder or its history.json.")
    try:
        epochs = json.loads(file.read_text())["epochs"]
        [(e["epoch"], e["val_accuracy"], e["seconds"]) for e in epochs]
    except (ValueError, KeyError, TypeError):
        raise HistoryError(f"{file} is not a history.json written by `python -m train`.") from None
    if not epochs:
        raise HistoryError(f"{file} holds no finished epoch yet; compare it once one epoch is done.")
    return epochs


def joined(histories) -> list[dict]:
    """Lists of epochs end to end, renumbered: a warm restart's curves start where the cycle before ended."""
    rows = []
    for epochs in histories:
        for row in epochs:
            rows.append({**row, "epoch": len(rows) + 1})
    return rows


def chain(paths) -> list[dict]:
    """Runs' histories end to end, renumbered: the training behind a model made in several cycles."""
    return joined(load(path) for path in paths)


def pyplot():
    """Agg backend: no window, never blocks, works on a server."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, dest):
    with atomic_path(dest, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    pyplot().close(fig)


def plot(history, dest):
    plt = pyplot()
    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for ax, key, title in ((axes[0], "loss", "Loss"), (axes[1], "accuracy", "Accuracy")):
        ax.plot(epochs, [h[key] for h in history], "o-", label="training")
        ax.plot(epochs, [h["val_" + key] for h in history], "o-", label="validation")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    save_figure(fig, dest)
