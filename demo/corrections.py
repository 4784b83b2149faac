"""The corrections store from the command line.

python -m demo.corrections add --label 7 scans/*.png     labelled pictures in bulk
python -m demo.corrections list                          what is kept, and how many of each digit
python -m demo.corrections export corrections.npz        the 28x28 inputs and labels, for training
python -m demo.corrections review [--sheets DIR]         by digit and by visitor, with what the model reads
python -m demo.corrections review --reject-visitor K     ...and rejects (or accepts) rows in bulk
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from demo.classifier import DEFAULT_MODEL, Classifier, ModelError
from demo.contract import to_model_input
from demo.correct import Corrector
from demo.correction_store import DEFAULT_STORE, CorrectionStore, StoreError, seen_bytes
from demo.fileio import atomic_path
from demo.review import contact_sheets, report
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
        print(f"{r.id:6d}  {r.created}  {r.source:4s}  read {r.predicted} ({probs})  was {r.label}  {r.status}")
    labels = Counter(r.label for r in rows)
    wrong = sum(r.label != r.predicted for r in rows)
    print(
        f"{len(rows)} corrections in {store.where}, {wrong} of them where the model was wrong; per digit: "
        + ", ".join(f"{d}: {labels[d]}" for d in range(10))
    )


def review(store: CorrectionStore, args) -> None:
    """Apply the review's decisions, then show the store by digit and by visitor as the model reads it."""
    for status in ("rejected", "accepted"):
        verb = status[:-2]  # reject, accept
        for visitor in getattr(args, f"{verb}_visitor") or []:
            print(f"{status} {store.mark(status, visitor=visitor)} corrections of visitor {visitor}")
        for digit in getattr(args, f"{verb}_digit") or []:
            print(f"{status} {store.mark(status, digit=digit)} corrections labelled {digit}")
        if getattr(args, f"{verb}_row"):
            print(f"{status} {store.mark(status, ids=getattr(args, f'{verb}_row'))} corrections by row")
    rows = store.all()
    classifier = Classifier(args.model)
    seen = np.stack([r.seen for r in rows]) if rows else np.zeros((0, 28, 28), np.float32)
    predicted = classifier.predict_batch(to_model_input(seen)).argmax(-1).tolist() if rows else []
    print(report(rows, predicted, classifier.path.name))
    if args.sheets and rows:
        print("Contact sheets: " + ", ".join(str(p) for p in contact_sheets(rows, predicted, args.sheets)))


def export(store: CorrectionStore, out: str) -> int:
    """x: uint8 [N, 28, 28] (the model's inputs), y: the right digits, predicted: what the model read; rows a
    review rejected are left out, as training leaves them out."""
    rows = [r for r in store.all() if r.status != "rejected"]
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
    r = sub.add_parser("review", help="by digit and by visitor as the model reads them; reject or accept in bulk")
    r.add_argument("--model", default=str(DEFAULT_MODEL), help="ONNX model that reads the rows")
    r.add_argument("--sheets", metavar="DIR", help="write a contact sheet PNG per digit here")
    for verb in ("reject", "accept"):
        r.add_argument(f"--{verb}-visitor", action="append", metavar="KEY", help=f"{verb} every row of this visitor")
        r.add_argument(f"--{verb}-digit", action="append", type=int, choices=range(10), metavar="D")
        r.add_argument(f"--{verb}-row", action="append", type=int, metavar="ID")
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
        elif args.command == "review":
            review(store, args)
        else:
            export(store, args.out)
    except (StoreError, ModelError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
