"""Inference speed and memory, side by side in one run.  `python -m bench.inference`

onnxruntime int8 and fp32 against Keras `model.predict` (the original way), single image and batch;
then the app itself: cold start to first answer, full request latency through gradio_client, and
the resident memory of the TensorFlow-free app process.
"""

import argparse
import itertools
import tempfile
import time
from functools import partial
from pathlib import Path

from bench.client import pad_call, rest_predict
from bench.report import machine, percentiles, publish, table
from bench.serve import rss_mb, running_app
from demo.classifier import DEFAULT_MODEL, Classifier
from demo.contract import to_model_input
from demo.handlers import Reader
from demo.pad import decode_pad, png_payload

KERAS = "Keras `model.predict` (TensorFlow)"


def call_times(fn, n, warmup=5):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1000)
    return ms


def time_calls(fn, n, warmup=5):
    return percentiles(call_times(fn, n, warmup))


def interleaved(engines, n, rounds=4):
    """{name: percentiles} with every engine timed in turn, `rounds` times over: this shared CPU's
    speed drifts by 10-20% from minute to minute, and timing one engine after another would bill that to them."""
    ms = {name: [] for name in engines}
    for _ in range(rounds):
        for name, fn in engines.items():
            ms[name] += call_times(fn, n // rounds)
    return {name: percentiles(v) for name, v in ms.items()}


def request_latencies(url, files, labels, n_requests):
    """p50/p95/p99 through gradio_client and through the plain HTTP API, checking every answer."""
    import httpx
    from gradio_client import Client

    client = Client(url, verbose=False)
    cases = itertools.cycle(zip(files, labels))

    def via_client():
        f, y = next(cases)
        assert client.predict(f, api_name="/predict")["label"] == y

    with httpx.Client(timeout=60) as http:

        def via_http():
            f, y = next(cases)
            assert rest_predict(http, url, f)["label"] == y

        return time_calls(via_client, n_requests, warmup=3), time_calls(via_http, n_requests, warmup=3)


def pad_latencies(url, payloads, labels, n_requests):
    """p50/p95/p99 of the pad's `read` over plain HTTP, as the page calls it, checking every answer."""
    import httpx

    cases = enumerate(itertools.cycle(zip(payloads, labels)))
    with httpx.Client(timeout=60) as http:

        def read():
            k, (payload, y) = next(cases)
            assert pad_call(http, url, "read", payload)["number"] == y

        return time_calls(read, n_requests, warmup=3)


def app_numbers(model, x_digits, n_requests):
    """Start app.py as a user does (cold start, request latency, RSS), then Gradio with handlers that do
    no work behind the same pad and the same Sketchpad: the floors no model or preprocessing can go below."""
    from bench.drawing import as_upload
    from train.drawn import pad_rgba, place_digit, sketch_value

    values = [sketch_value(place_digit(d, 400, 0.6)) for d in x_digits[:20]]
    clf = Classifier(model)
    labels = [str(clf.predict(v).digit) for v in values]  # the app must give the model's own answer
    cases = itertools.cycle(values)
    in_process = time_calls(lambda: clf.predict(next(cases)), n_requests)  # preprocess + onnxruntime
    pads = [png_payload(pad_rgba(d)) for d in x_digits[:20]]
    reader = Reader(clf)
    pad_labels = [reader.pad_answer(decode_pad(p))["number"] for p in pads]
    pad_cases = itertools.cycle(pads)
    pad_in_process = time_calls(lambda: reader.pad_answer(decode_pad(next(pad_cases))), n_requests)
    with tempfile.TemporaryDirectory() as tmp:
        files = [as_upload(v, tmp, str(i)) for i, v in enumerate(values)]
        started = time.perf_counter()
        with running_app("--model", model) as (url, proc):
            from gradio_client import Client

            Client(url, verbose=False).predict(files[0], api_name="/predict")
            cold = time.perf_counter() - started
            app_client, app_http = request_latencies(url, files, labels, n_requests)
            app_pad = pad_latencies(url, pads, pad_labels, n_requests)
            rss = rss_mb(proc.pid)
        with running_app(program=("-m", "bench.floor_app")) as (url, proc):
            floor_client, floor_http = request_latencies(url, files, ["1"] * len(files), n_requests)
            floor_rss = rss_mb(proc.pid)
            from gradio_client import Client

            client = Client(url, verbose=False)
            echo = time_calls(lambda: client.predict("7", api_name="/echo"), n_requests, warmup=3)
        with running_app("--pad", program=("-m", "bench.floor_app")) as (url, proc):
            floor_pad = pad_latencies(url, pads, ["1"] * len(pads), n_requests)
    return dict(
        pad_in_process=pad_in_process,
        app_pad=app_pad,
        floor_pad=floor_pad,
        cold=cold,
        in_process=in_process,
        app_client=app_client,
        app_http=app_http,
        floor_client=floor_client,
        floor_http=floor_http,
        rss=rss,
        floor_rss=floor_rss,
        echo=echo,
    )


def keras_model(run: str, onnx_path: str, images):
    """A training run's Keras model, or else the same graph holding the ONNX file's weights (the one
    the app ships), so the Keras column needs no training run: its speed is the graph's."""
    if Path(run, "best.weights.h5").exists():
        from export.onnx_export import load_keras

        return load_keras(run)
    import keras

    from train.from_onnx import start_from
    from train.model import build_model

    keras.mixed_precision.set_global_policy("float32")
    model = build_model()
    start_from(model, onnx_path, images)
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="fp32 ONNX model")
    p.add_argument("--int8", default=str(DEFAULT_MODEL).replace(".onnx", ".int8.onnx"))
    p.add_argument(
        "--run",
        default="runs/resnet50v2",
        help="training run (best.weights.h5) for the Keras column, else --model in the same graph",
    )
    p.add_argument("--data", default=None)
    p.add_argument("--n", type=int, default=200, help="single-image calls per engine (in 4 interleaved rounds)")
    p.add_argument("--requests", type=int, default=100, help="app requests through gradio_client")
    args = p.parse_args(argv)

    from train.data import load

    _, (x_test, _) = load(args.data)
    single = to_model_input(x_test[:1])
    batch = to_model_input(x_test[:256])
    engines = {}  # name: (one image, a batch of 256, file MB)
    for label, path in (("int8", args.int8), ("fp32", args.model)):
        if Path(path).exists():
            clf = Classifier(path)
            engines[f"onnxruntime {label}"] = (
                partial(clf.predict_batch, single),
                partial(clf.predict_batch, batch),
                f"{Path(path).stat().st_size / 2**20:.1f}",
            )
    if Path(args.run, "best.weights.h5").exists() or Path(args.model).exists():
        model = keras_model(args.run, args.model, batch)
        engines[KERAS] = (
            partial(model.predict, single, verbose=0),
            partial(model.predict, batch, batch_size=256, verbose=0),
            "(TF)",
        )
        engines["Keras direct call `model(x)`"] = (
            partial(model, single, training=False),
            partial(model, batch, training=False),
            "(TF)",
        )
    lat = interleaved({name: one for name, (one, _, _) in engines.items()}, args.n)
    rows = []
    for name, (_, many, size_mb) in engines.items():
        many()  # warm-up
        t = time.perf_counter()
        many()
        rows.append(
            [
                name,
                f"{lat[name][50]:.2f}",
                f"{lat[name][99]:.2f}",
                f"{len(batch) / (time.perf_counter() - t):.0f}",
                size_mb,
            ]
        )
    keras_p50 = lat[KERAS][50] if KERAS in lat else float("nan")
    ort_p50 = {name.split()[-1]: lat[name][50] for name in lat if name.startswith("onnxruntime")}

    app = app_numbers(args.model, x_test, args.requests)

    def ms(pc):
        return f"{pc[50]:.0f} / {pc[95]:.0f} / {pc[99]:.0f}"

    body = (
        f"`python -m bench.inference` on {machine()}.\n\n"
        + table(["engine", "1 image p50 ms", "1 image p99 ms", "batch of 256, images/s", "file MB"], rows)
        + "\n\nSingle image, onnxruntime vs Keras `predict`: "
        + ", ".join(f"{k} **{keras_p50 / v:.1f}x** faster" for k, v in ort_p50.items())
        + ".\n\n"
        + f"A drawing, {args.requests} requests of real MNIST digits, every answer checked, p50 / p95 / p99 "
        "ms. The page's path: an 800x300 PNG of the ink to the pad's `read`, read through "
        "the number path; the API's: a 400x400 Sketchpad value to `/predict` (one digit). The floors are "
        "Gradio alone: the same pad, and the same Sketchpad -> Label endpoint, answered at once "
        "(`bench/floor_app.py --pad` and without).\n\n"
        + table(
            ["path", "the app (fp32 model)", "Gradio floor (no work)"],
            [
                [
                    "page, in process: decode the PNG + `Reader.pad_answer` (number path)",
                    ms(app["pad_in_process"]),
                    "-",
                ],
                [
                    "page: the pad's `read` over HTTP (`/gradio_api/pad/read`)",
                    ms(app["app_pad"]),
                    ms(app["floor_pad"]),
                ],
                ["API, in process: `Classifier.predict` (preprocess + onnxruntime)", ms(app["in_process"]), "-"],
                [
                    "API over HTTP (`/gradio_api/upload` + `/gradio_api/call/predict`)",
                    ms(app["app_http"]),
                    ms(app["floor_http"]),
                ],
                ["API through gradio_client `predict`", ms(app["app_client"]), ms(app["floor_client"])],
                ["gradio_client `predict` of a string to a Textbox echo (no files)", "-", ms(app["echo"])],
            ],
        )
        + "\n\ngradio_client waits for each result by polling its message queue every 50 ms "
        "(`time.sleep(0.05)` in `gradio_client/utils.py`, `stream_sse_v1plus`) and uploads each file of "
        "the Sketchpad value in its own request: the echo row is its floor for any endpoint, and the "
        "HTTP API row is what the app itself costs."
        + "\n\n"
        + table(
            ["the app (TensorFlow-free, fp32 model)", "value"],
            [
                ["cold start to first answer", f"{app['cold']:.1f} s"],
                [
                    "app resident memory after the requests",
                    f"{app['rss']:.0f} MB (Gradio floor app: {app['floor_rss']:.0f} MB)",
                ],
            ],
        )
    )
    publish("Inference", body)


if __name__ == "__main__":
    main()
