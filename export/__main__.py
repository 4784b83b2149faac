"""python -m export --run runs/resnet50v2/average --out models/mnist-resnet50v2.onnx"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from demo.classifier import DEFAULT_MODEL
from train.layout import AVERAGE, BEST, RESTART


def run_problem(run: Path) -> str | None:
    """One sentence if `run` holds no weights to export, naming the folder that does."""
    if (run / BEST).is_file():
        return None
    if not run.exists():
        hint = (
            f"; that run has no {run.name} cycle, so export {run.parent}"
            if run.name.startswith((AVERAGE, RESTART)) and (run.parent / BEST).is_file()
            else "; train one first (`python -m train --out RUN`)"
        )
        return f"--run {run} does not exist{hint}."
    found = sorted(str(p.parent) for p in run.glob(f"*/{BEST}"))
    hint = f"; export one of its cycles: {', '.join(found)}" if found else "; train first (`python -m train`)"
    return f"--run {run} holds no {BEST}{hint}."


def history_problem(paths: list[str]) -> str | None:
    """One sentence if a --history-before path is not a run's history."""
    from train.history import HistoryError, chain

    try:
        chain(paths)
    except HistoryError as e:
        return f"--history-before: {e}"
    return None


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m export",
        description="Export a trained run to ONNX.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--run", default="runs/resnet50v2", help="training run folder (holds best.weights.h5)")
    p.add_argument(
        "--out",
        default=None,
        help=f"ONNX file to write (default: RUN/model.onnx; the shipped {DEFAULT_MODEL.name} only when named)",
    )
    p.add_argument("--data", default=None, help="local mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument("--parity", type=int, default=256, help="test digits compared between ONNX and Keras")
    p.add_argument("--limit-test", type=int, default=0, help="evaluate on this many test digits; 0 = all")
    p.add_argument("--int8", default=None, help="also write an int8 model here (static QDQ, per-channel)")
    p.add_argument("--calibration", type=int, default=500, help="training digits used to calibrate int8")
    p.add_argument(
        "--int8-tolerance", type=float, default=None, help="test accuracy int8 may lose against fp32 (default 0.002)"
    )
    p.add_argument("--calibration-method", default="percentile", choices=["minmax", "percentile", "entropy"])
    p.add_argument(
        "--temperature-digits", type=int, default=2500, help="validation digits that fit the confidence's temperature"
    )
    p.add_argument(
        "--history-before",
        nargs="+",
        default=[],
        metavar="HISTORY",
        help="histories of the cycles RUN started from (run folders or exported .history.json files), joined "
        "in front of its own: the curves and the card count the whole training",
    )
    args = p.parse_args(argv)
    if problem := run_problem(Path(args.run)) or history_problem(args.history_before):  # before TensorFlow loads
        sys.exit(f"error: {problem}")
    args.out = args.out or str(Path(args.run) / "model.onnx")

    from export.onnx_export import ExportError, export
    from train import data

    try:
        (x_train, _), (x_test, y_test) = data.load(args.data)
        if args.limit_test:
            x_test, y_test = x_test[: args.limit_test], y_test[: args.limit_test]
        summary = export(args.run, args.out, x_test, y_test, args.parity, args.history_before)
    except (ExportError, data.DataError) as e:
        sys.exit(f"error: {e}")
    print(f"wrote {summary['path']} ({summary['size_mb']:.1f} MB), test accuracy {summary['test_accuracy']:.4%}")
    if args.int8:
        from demo.contract import to_model_input
        from export.quantize import TOLERANCE, QuantizeError, calibration_count, quantize

        calib = np.random.default_rng(0).choice(len(x_train), calibration_count(args.calibration), replace=False)
        try:
            int8_acc, fp32_acc = quantize(
                args.out,
                args.int8,
                to_model_input(x_train[calib]),
                to_model_input(x_test),
                y_test,
                args.calibration_method,
                TOLERANCE if args.int8_tolerance is None else args.int8_tolerance,
            )
        except QuantizeError as e:
            sys.exit(f"error: {e}")
        size = os.path.getsize(args.int8) / 2**20
        print(
            f"wrote {args.int8} ({size:.1f} MB): int8 test accuracy {int8_acc:.4%} vs fp32 {fp32_acc:.4%} "
            f"({(int8_acc - fp32_acc) * 100:+.2f} points)"
        )
    from export.calibrate import calibrate, validation_set

    inputs, y = validation_set(Path(args.out), args.data, args.temperature_digits)
    for model in [args.out] + ([args.int8] if args.int8 else []):
        r = calibrate(Path(model), inputs, y)
        print(
            f"{model}: confidence temperature {r['temperature']:.2f} "
            f"(validation ECE {r['ece'][0]:.2%} -> {r['ece'][1]:.2%})"
        )


if __name__ == "__main__":
    main()
