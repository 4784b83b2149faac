"""python -m train.finetune --corrections data/corrections.sqlite: the shipped model taught the
corrections people gave, with MNIST replayed beside them so it forgets nothing, then `python -m export`.

A fifth of the corrections (per digit) is held out for validation, as are the MNIST validation digits
the starting model was trained without. Each epoch is scored on both and the starting model is epoch 0:
the weights kept read the held-out corrections best (accuracy, then loss, which still tells epochs apart
when a few dozen held-out digits give them the same accuracy) and are never worse on MNIST validation
than the starting model by more than --tolerance, nor on any one digit by more than --digit-tolerance
(a correction that teaches a 3-like 8 must not cost MNIST's 3s more than that).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import sys
import time
from pathlib import Path

import numpy as np

from demo.classifier import DEFAULT_MODEL
from demo.correction_store import DEFAULT_STORE, StoreError
from demo.fileio import write_json
from demo.review import contact_sheets, report
from demo.stores import open_store
from train.config import Config
from train.layout import CONFIG, METRICS

MIN_CORRECTIONS = 10  # fewer than this leaves nothing to learn from and nothing to validate on


def split_corrections(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices: `fraction` of each digit's corrections held out, at least one of a
    digit that has two or more."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for d in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == d))
        k = max(1, round(fraction * len(idx))) if len(idx) >= 2 else 0
        val += idx[:k].tolist()
        train += idx[k:].tolist()
    return np.sort(train), np.sort(val)


def unique_inputs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One row per distinct model input, with its latest label: repeated taps on one drawing would
    otherwise sit on both sides of the split and flatter the held-out score that picks the epoch."""
    latest: dict[bytes, int] = {}
    for i, d in enumerate(x):
        latest[d.tobytes()] = i  # a later tap wins
    keep = np.array(sorted(latest.values()), np.int64)
    return x[keep], y[keep]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m train.finetune",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--corrections", default=str(DEFAULT_STORE), help="the SQLite file the app keeps")
    p.add_argument("--init", default=str(DEFAULT_MODEL), help="the model to start from (ONNX export or weights.h5)")
    p.add_argument("--out", default="runs/finetune", help="run folder; export it with `python -m export --run OUT`")
    p.add_argument("--data", default=None, help="local mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--repeat", type=int, default=4, help="each correction seen this many times per epoch")
    p.add_argument("--replay", type=float, default=6.0, help="MNIST digits per correction seen, each epoch")
    p.add_argument("--lr", type=float, default=1e-2, help="peak learning rate (cosine to zero, no warm-up)")
    p.add_argument(
        "--optimizer",
        default="sgd",
        choices=["sgd", "adamw"],
        help="sgd moves each weight by its gradient, so weights MNIST does not push on barely move",
    )
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument(
        "--learn",
        default="conv5",
        choices=["conv1", "conv2", "conv3", "conv4", "conv5", "head"],
        help="the first stage whose weights change (conv1 = all): the earlier ones keep MNIST's features",
    )
    p.add_argument("--val-fraction", type=float, default=0.2, help="of each digit's corrections, held out")
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.0005,
        help="MNIST validation accuracy the kept weights may lose against the starting model",
    )
    p.add_argument(
        "--digit-tolerance",
        type=float,
        default=0.0025,
        help="MNIST validation accuracy any one digit may lose against the starting model (one of ~500)",
    )
    p.add_argument("--seed", type=int, default=42, help="seed of the corrections' hold-out, shuffling, augmentation")
    p.add_argument(
        "--val-size",
        type=int,
        default=None,
        help="MNIST validation split (default: the one the --init model was trained with)",
    )
    p.add_argument("--split-seed", type=int, default=None, help="its seed (default: the --init model's)")
    p.add_argument("--eager", action="store_true", help=Config.__dataclass_fields__["eager"].metadata["help"])
    p.add_argument("--limit-test", type=int, default=0, help="evaluate on only this many MNIST test digits")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        store = open_store(args.corrections, wait=30.0)
        every = store.all() if store.exists() else None
        rows = None if every is None else [r for r in every if r.status != "rejected"]  # a review's no is final
    except StoreError as e:
        sys.exit(f"error: {e}")
    if rows is None:
        sys.exit(
            f"error: no corrections file at {args.corrections}; run the app and correct some answers, or "
            "add labelled pictures with `python -m demo.corrections add`."
        )
    if len(rows) < MIN_CORRECTIONS:
        sys.exit(
            f"error: {args.corrections} holds {len(rows)} corrections; fine-tuning needs at least "
            f"{MIN_CORRECTIONS} (it holds a fifth of them out to check itself)."
        )
    if not Path(args.init).is_file():
        sys.exit(f"error: --init {args.init}: no such file; pass an ONNX export or a run's best.weights.h5.")

    from train.tune import finetune  # TensorFlow loads after the cheap checks

    xc, yc = unique_inputs(
        np.stack([(r.seen * 255).round().astype(np.uint8) for r in rows]), np.array([r.label for r in rows], np.int64)
    )
    tr, va = split_corrections(yc, args.val_fraction, args.seed)
    seen = np.stack([(r.seen * 255).round().astype(np.uint8) for r in every])
    summary = finetune(args, xc[tr], yc[tr], xc[va], yc[va], seen)
    out = Path(args.out)
    cfg = dataclasses.replace(
        Config(),
        out=str(out),
        init=str(args.init),
        epochs=args.epochs,
        lr=args.lr,
        optimizer=args.optimizer,
        batch_size=args.batch_size,
        seed=summary["seed"],
        val_size=summary["val_size"],
        data=args.data,
        restart_epochs=(0,),
        warmup_epochs=0.0,
        eager=args.eager,
    )
    recipe = {
        **dataclasses.asdict(cfg),
        "precision_used": "float32",
        "finetune": {
            k: summary[k] for k in ("corrections", "corrections_train", "corrections_val", "repeat", "replay", "store")
        },
    }
    write_json(out / CONFIG, recipe)
    write_json(
        out / METRICS,
        {**summary["metrics"], "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")},
    )
    print(report(every, summary["predicted"], f"the kept model (epoch {summary['metrics']['best_epoch']})"))
    print("Contact sheets: " + ", ".join(str(p) for p in contact_sheets(every, summary["predicted"], out / "review")))
    m = summary["metrics"]
    lost = np.subtract(m["test_before_per_digit"], m["test"]["per_digit"])
    print(
        f"Kept epoch {m['best_epoch']}: corrections held out {m['corrections_val_before']:.1%} -> "
        f"{m['corrections_val_accuracy']:.1%}; MNIST test {m['test_before']:.2%} -> {m['test_accuracy']:.2%}, "
        f"the digit that lost most {int(lost.argmax())} ({-lost.max() * 100:+.2f} points); "
        f"{time.strftime('%M:%S', time.gmtime(m['train_seconds_total']))} of training. "
        f"Export it: python -m export --run {out} --out models/finetuned.onnx"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
