"""Poison beside honest corrections, end to end: `python -m bench.poison`.

Honest: two visitors correct 100 8s written as two loops apart (a form the shipped model misreads, made from
MNIST training digits: bench.finetune_style); another 100 are held out. Poison: one visitor labels 200 MNIST
training 3s as 8. Both go through the app's own code into SQLite; `python -m train.finetune` with its
defaults learns from the honest ones alone and from both, `python -m export` writes each; the held-out half
and every MNIST test class are read by each model, and the review (demo.review) names its visitors.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from bench.finetune_style import on_canvas, read_right, run, styled_digits
from bench.report import machine, publish, table
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.contract import to_model_input
from demo.correct import Corrector
from demo.review import suspects
from demo.serving.limits import RateLimit
from demo.sqlite_store import Store
from train.average import split_of
from train.data import load, split
from train.finetune import parser

HONEST, POISON = ("198.51.100.1", "198.51.100.2"), "203.0.113.66"


def per_class(classifier: Classifier, data: str | None) -> np.ndarray:
    """MNIST test accuracy of each digit."""
    _, (x, y) = load(data)
    pred = np.concatenate(
        [classifier.predict_batch(to_model_input(x[i : i + 500])).argmax(1) for i in range(0, len(x), 500)]
    )
    return np.array([(pred[y == d] == d).mean() for d in range(10)])


def poison(data: str | None, n: int, seed: int) -> list[dict]:
    """n MNIST training 3s of the shipped model's split, on the canvas: to be labelled 8."""
    (x, y), _ = load(data)
    (x_tr, y_tr), _ = split(x, y, *split_of([str(DEFAULT_MODEL)]))
    rng = np.random.default_rng(seed)
    return [on_canvas(x_tr[i], rng) for i in rng.permutation(np.flatnonzero(y_tr == 3))[:n]]


def store_of(shipped: Classifier, folder: Path, honest, bad) -> tuple[Path, Store]:
    store = Store(folder / "corrections.sqlite")
    corrector = Corrector(shipped, store, RateLimit(per_key=10**6, total=10**6), daily=10**6)
    for k, (v, d) in enumerate(honest):
        corrector.correct(v, str(d), HONEST[k % 2])
    for v in bad:
        corrector.correct(v, "8", POISON)
    return store.path, store


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/poison")
    args = p.parse_args(argv)
    drawings = [(v, d) for _, v, d in styled_digits(args.data, "8 of two loops", 200, args.seed, str(DEFAULT_MODEL))]
    taught, held_out = drawings[:100], drawings[100:]
    bad = poison(args.data, 200, args.seed)
    shipped = Classifier(DEFAULT_MODEL)
    data = ["--data", args.data] if args.data else []
    base = per_class(shipped, args.data)
    rows = [
        ["none (the shipped model)", f"{read_right(shipped, held_out):.1%}", f"{base.mean():.2%}", "-", "-", "-", "-"]
    ]
    honest_classes = base
    runs = (
        ("100 honest", [], False, "honest"),
        ("100 honest + 200 poisoned", bad, False, "poisoned"),
        ("the same, the visitor the review names rejected first", bad, True, "reviewed"),
    )
    for name, poisoned, review_first, folder in runs:
        with tempfile.TemporaryDirectory() as tmp:
            path, store = store_of(shipped, Path(tmp), taught, poisoned)
            who = {store.visitor(a): a for a in (*HONEST, POISON)}
            seen = to_model_input(np.stack([r.seen for r in store.all()]))
            if review_first:  # `demo.corrections review`, then `--reject-visitor` for each visitor it names
                for v in suspects(store.all(), shipped.predict_batch(seen).argmax(-1).tolist()):
                    store.mark("rejected", visitor=v)
            out = Path(args.out) / folder
            run("-m", "train.finetune", "--corrections", str(path), "--out", str(out), *data)
            run("-m", "export", "--run", str(out), "--out", str(out / "model.onnx"), *data)
            tuned = Classifier(out / "model.onnx")
            named = suspects(store.all(), tuned.predict_batch(seen).argmax(-1).tolist())
        classes = per_class(tuned, args.data)
        guard = json.loads((out / "metrics.json").read_text())["val_worst_digit_lost"] * 100
        honest_classes = honest_classes if poisoned else classes
        rows.append(
            [name, f"{read_right(tuned, held_out):.1%}", f"{classes.mean():.2%}",
             f"{guard:.2f}", f"{np.abs(classes - base).max() * 100:.2f}",
             f"{np.abs(classes - honest_classes).max() * 100:.2f}" if poisoned else "-",
             ", ".join(who.get(v, v) for v in named) or "none"]
        )  # fmt: skip
        print(rows[-1], flush=True)
    body = (
        f"`python -m bench.poison` on {machine()}: 100 honest corrections of 8s written as two loops apart from "
        f"two visitors ({', '.join(HONEST)}), 100 more held out; 200 MNIST training 3s labelled 8 by {POISON}; "
        "through the app's own code, `train.finetune` and `export` with their defaults. The review names the "
        "visitors whose many corrections (not rejected) the kept model mostly reads otherwise (demo.review; "
        "addresses shown here only because the bench knows them: the store keeps salted hashes); the last row "
        "rejects the visitors the review names with the shipped model before fine-tuning. Fine-tuning keeps an "
        f"epoch only if no digit loses more than {parser().get_default('digit_tolerance') * 100:.2f} points of MNIST "
        "validation (one digit of ~500).\n\n"
        + table(
            [
                "corrections",
                "held-out 8s read right",
                "MNIST test (mean of classes)",
                "MNIST validation: most one digit lost, points (the guard's)",
                "worst class change from the shipped model, points",
                "...from the honest corrections alone",
                "visitors named by the review",
            ],
            rows,
        )  # fmt: skip
    )
    publish("Poisoned corrections", body)


if __name__ == "__main__":
    main()
