"""python -m export --run runs/resnet50v2 --out models/mnist-resnet50v2.onnx"""
import argparse
import sys

from demo.classifier import DEFAULT_MODEL


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m export", description="Export a trained run to ONNX.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--run", default="runs/resnet50v2", help="training run folder (holds best.weights.h5)")
    p.add_argument("--out", default=str(DEFAULT_MODEL), help="ONNX file to write")
    p.add_argument("--data", default=None, help="local mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument("--parity", type=int, default=256, help="test digits compared between ONNX and Keras")
    p.add_argument("--limit-test", type=int, default=0, help="evaluate on this many test digits; 0 = all")
    args = p.parse_args(argv)

    from export.onnx_export import ExportError, export
    from train import data

    try:
        _, (x_test, y_test) = data.load(args.data)
        if args.limit_test:
            x_test, y_test = x_test[:args.limit_test], y_test[:args.limit_test]
        summary = export(args.run, args.out, x_test, y_test, args.parity)
    except (ExportError, data.DataError) as e:
        sys.exit(f"error: {e}")
    print(f"wrote {summary['path']} ({summary['size_mb']:.1f} MB), test accuracy {summary['test_accuracy']:.4%}")


if __name__ == "__main__":
    main()
