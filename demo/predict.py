"""Classify image files from the command line, TensorFlow-free.

    python -m demo.predict digit.png more/*.png --top-k 3 [--json] [--model F]
    python -m demo.predict --number cheque.png [--json]     # each file holds a number of 1-8 digits

One line per file (or one JSON document); an unreadable file gets its own error
line and the rest are still classified; the exit code is 1 if any file failed.
Readable files go to onnxruntime together, in batches.
"""

import argparse
import json
import sys

from demo.classifier import DEFAULT_MODEL, Classifier, ModelError
from demo.preprocess import BadImage, EmptyDrawing, prepare


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m demo.predict",
        description="Classify images of handwritten digits.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("files", nargs="+", help="image files (PNG, JPEG, ...): a digit, dark on light or light on dark")
    p.add_argument("--top-k", type=int, default=3, choices=range(1, 11), metavar="{1..10}")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="ONNX model following the digit contract")
    p.add_argument("--number", action="store_true", help="each file is a number of 1-8 digits written left to right")
    args = p.parse_args(argv)
    try:
        clf = Classifier(args.model)
    except ModelError as e:
        sys.exit(f"error: {e}")
    if args.number:
        return numbers(clf, args.files, args.json)

    results, readable = {}, []
    for f in args.files:
        try:
            readable.append((f, prepare(f)))
        except (BadImage, EmptyDrawing) as e:
            results[f] = {"file": f, "error": str(e)}
    for (f, _), pred in zip(readable, clf.predict_prepared([prep for _, prep in readable], args.top_k)):
        results[f] = {"file": f, "top": [{"digit": d, "probability": round(p, 6)} for d, p in pred.top]}

    ordered = [results[f] for f in args.files]
    for r in ordered:
        if "error" in r:
            print(f"{r['file']}: error: {r['error']}", file=sys.stderr)
        elif not args.json:
            print(f"{r['file']}: " + "  ".join(f"{t['digit']} ({t['probability']:.1%})" for t in r["top"]))
    if args.json:
        print(json.dumps(ordered, indent=2))
    return 1 if any("error" in r for r in ordered) else 0


def numbers(clf: Classifier, files: list[str], as_json: bool) -> int:
    """One number per file: `file: 2026 (2 99%, 0 98%, ...)`, or the JSON of the read_number API."""
    out = []
    for f in files:
        try:
            out.append({"file": f, **clf.read_number(f).as_json()})
        except (BadImage, EmptyDrawing) as e:
            out.append({"file": f, "error": str(e)})
            print(f"{f}: error: {e}", file=sys.stderr)
            continue
        if not as_json:
            each = ", ".join(f"{d['digit']} {d['confidence']:.0%}" for d in out[-1]["digits"])
            print(f"{f}: {out[-1]['number']} ({each})")
    if as_json:
        print(json.dumps(out, indent=2))
    return 1 if any("error" in r for r in out) else 0


if __name__ == "__main__":
    sys.exit(main())
