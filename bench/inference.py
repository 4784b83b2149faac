"""Inference speed and memory, side by side in one run.  `python -m bench.inference`

onnxruntime int8 and fp32 against Keras `model.predict` (the original way), single image and batch;
then the app itself: cold start to first answer, full request latency through gradio_client, and
the resident memory of the TensorFlow-free app process.
"""
import argparse
import itertools
import tempfile
import time
from pathlib import Path


from bench.report import machine, percentiles, publish, table
from bench.serve import rss_mb, running_app
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.contract import to_model_input


def time_calls(fn, n, warmup=5):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1000)
    return percentiles(ms)


def app_numbers(model, x_digits, n_requests):
    """Start app.py as a user does; time to first answer, request latency, RSS."""
    from gradio_client import Client

    from tests.drawing import as_upload, place_digit, sketch_value

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, running_app("--model", model) as (url, proc):
        files = [as_upload(sketch_value(place_digit(d, 400, 0.6)), tmp, str(i)) for i, d in enumerate(x_digits[:20])]
        client = Client(url, verbose=False)
        client.predict(files[0], api_name="/predict")
        cold = time.perf_counter() - started
        drawings = itertools.cycle(files)
        lat = time_calls(lambda: client.predict(next(drawings), api_name="/predict"), n_requests, warmup=3)
        rss = rss_mb(proc.pid)
    return cold, lat, rss


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="fp32 ONNX model")
    p.add_argument("--int8", default=str(DEFAULT_MODEL).replace(".onnx", ".int8.onnx"))
    p.add_argument("--run", default="runs/resnet50v2", help="training run (best.weights.h5) for the Keras column")
    p.add_argument("--data", default=None)
    p.add_argument("--n", type=int, default=200, help="single-image calls per engine")
    p.add_argument("--requests", type=int, default=100, help="app requests through gradio_client")
    args = p.parse_args(argv)

    from train.data import load
    _, (x_test, _) = load(args.data)
    single = to_model_input(x_test[:1])
    batch = to_model_input(x_test[:256])
    rows = []

    def engine_row(name, one, many, size_mb):
        lat = time_calls(one, args.n)
        t = time.perf_counter()
        many()
        per_s = len(batch) / (time.perf_counter() - t)
        rows.append([name, f"{lat[50]:.2f}", f"{lat[99]:.2f}", f"{per_s:.0f}", size_mb])
        return lat

    for label, path in (("onnxruntime int8", args.int8), ("onnxruntime fp32", args.model)):
        if Path(path).exists():
            clf = Classifier(path)
            engine_row(label, lambda: clf.predict_batch(single), lambda: clf.predict_batch(batch),
                       f"{Path(path).stat().st_size / 2**20:.1f}")
    ort_p50 = float(rows[-1][1]) if rows else float("nan")

    keras_p50 = float("nan")
    if Path(args.run, "best.weights.h5").exists():
        from export.onnx_export import load_keras
        model = load_keras(args.run)
        lat = engine_row("Keras `model.predict` (TensorFlow)", lambda: model.predict(single, verbose=0),
                         lambda: model.predict(batch, batch_size=256, verbose=0), "(TF)")
        keras_p50 = lat[50]
        lat = engine_row("Keras direct call `model(x)`", lambda: model(single, training=False),
                         lambda: model(batch, training=False), "(TF)")

    cold, req, rss = app_numbers(args.model, x_test, args.requests)
    body = (f"`python -m bench.inference` on {machine()}.\n\n"
            + table(["engine", "1 image p50 ms", "1 image p99 ms", "batch of 256, images/s", "file MB"], rows)
            + f"\n\nonnxruntime fp32 vs Keras `predict`, single image: **{keras_p50 / ort_p50:.0f}x** faster.\n\n"
            + table(["the app (TensorFlow-free, fp32 model)", "value"], [
                ["cold start to first answer", f"{cold:.1f} s"],
                [f"full request via gradio_client ({args.requests} drawings, 400x400), p50", f"{req[50]:.0f} ms"],
                ["full request p95 / p99", f"{req[95]:.0f} / {req[99]:.0f} ms"],
                ["app resident memory after the requests", f"{rss:.0f} MB"],
            ]))
    publish("Inference", body)


if __name__ == "__main__":
    main()
