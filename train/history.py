"""Per-epoch history on disk (JSON for the app, CSV for people) and a headless curves PNG."""
import csv
import io

from demo.fileio import atomic_path, write_json, write_text

COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"]


def save(history, out_dir):
    """history: list of dicts with COLUMNS. Writes history.json, history.csv, curves.png."""
    write_json(out_dir / "history.json", {"columns": COLUMNS, "epochs": history})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore")
    w.writeheader()
    w.writerows(history)
    write_text(out_dir / "history.csv", buf.getvalue())
    plot(history, out_dir / "curves.png")


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
