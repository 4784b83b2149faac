"""Classify image files from the command line, TensorFlow-free.

    python -m demo.predict digit.png more/*.png --top-k 3 [--json] [--model F]

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
    p = argparse.ArgumentParser(prog="python -m demo.predict", description="Classify images of handwritten digits.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("files", nargs="+", help="image files (PNG, JPEG, ...): a digit, dark on light or light on dark")
    p.add_argument("--top-k", type=int, default=3, choices=range(1, 11), metavar="{1..10}")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="ONNX model following the digit contract")
    args = p.parse_args(argv)
    try:
        clf = Classifier(args.model)
    except ModelError as e:
        sys.exit(f"error: {e}")

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


if __name__ == "__main__":
    sys.exit(main())
