"""The corrections store from the command line.

python -m demo.corrections add --label 7 scans/*.png     labelled pictures in bulk
python -m demo.corrections list                          what is kept, and how many of each digit
python -m demo.corrections export corrections.npz        the 28x28 inputs and labels, for training
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from demo.classifier import DEFAULT_MODEL, Classifier, ModelError
from demo.correct import Corrector
from demo.correction_store import DEFAULT_STORE, CorrectionStore, StoreError, seen_bytes
from demo.fileio import atomic_path
from demo.stores import open_store


def add(store: CorrectionStore, model: str, label: str, files: list[str]) -> int:
    """Each file read as one digit (as the Upload tab reads it), or as a number when --label has
    several digits; a file that cannot be read is named and skipped. Returns the digits kept."""
    corrector = Corrector(Classifier(model), store)
    kept = 0
    for name in files:
        count, message = corrector.correct(name, label, source="cli", as_number=len(label) > 1)
        kept += count
        if not count:
            print(f"{name}: {message}", file=sys.stderr)
    print(f"Kept {kept} digit{'s' * (kept != 1)} from {len(files)} file{'s' * (len(files) != 1)} in {store.where}.")
    return kept


def show(store: CorrectionStore) -> None:
    rows = store.all()
    for r in rows:
        probs = f"{max(r.probabilities):.0%}"
        print(f"{r.id:6d}  {r.created}  {r.source:4s}  read {r.predicted} ({probs})  was {r.label}")
    labels = Counter(r.label for r in rows)
    wrong = sum(r.label != r.predicted for r in rows)
    print(
        f"{len(rows)} corrections in {store.where}, {wrong} of them where the model was wrong; per digit: "
        + ", ".join(f"{d}: {labels[d]}" for d in range(10))
    )


def export(store: CorrectionStore, out: str) -> int:
    """x: uint8 [N, 28, 28] (the model's inputs), y: the right digits, predicted: what the model read."""
    rows = store.all()
    x = np.frombuffer(b"".join(seen_bytes(r.seen) for r in rows), np.uint8).reshape(-1, 28, 28)
    with atomic_path(out, suffix=".npz") as tmp:
        np.savez_compressed(
            tmp,
            x=x,
            y=np.array([r.label for r in rows], np.uint8),
            predicted=np.array([r.predicted for r in rows], np.uint8),
        )
    print(f"Wrote {len(rows)} corrections to {out}.")
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m demo.corrections",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--corrections",
        "--store",
        dest="store",
        default=str(DEFAULT_STORE),
        metavar="PATH",
        help="the SQLite file (the app's --corrections; --store is its old name)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("add", help="add labelled pictures")
    a.add_argument("--label", required=True, help="the digit in every file (or the number, digit by digit)")
    a.add_argument("--model", default=str(DEFAULT_MODEL), help="ONNX model whose reading is recorded beside it")
    a.add_argument("files", nargs="+")
    sub.add_parser("list", help="list the corrections")
    e = sub.add_parser("export", help="write the corrections as .npz (x, y, predicted)")
    e.add_argument("out")
    args = p.parse_args(argv)
    store = open_store(args.store, wait=30.0)
    try:
        if args.command == "add":
            if not (args.label.isascii() and args.label.isdigit()):
                p.error(f"--label {args.label!r}: give the digit (or digits) the files show, e.g. --label 7")
            missing = [f for f in args.files if not Path(f).is_file()]
            if missing:
                p.error(f"no such file: {missing[0]}; give paths of pictures (PNG, JPEG, ...).")
            return 0 if add(store, args.model, args.label, args.files) else 1
        if not store.exists():
            p.error(f"no corrections file at {store.where}; give one with --corrections, or add some first.")
        if args.command == "list":
            show(store)
        else:
            export(store, args.out)
    except (StoreError, ModelError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
