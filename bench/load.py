"""Concurrent clients against a local app.  `python -m bench.load --clients 32 --seconds 30`

Each client is a gradio_client thread sending real drawings to /predict in a loop for a bounded time.
Reports requests/s, latency percentiles, errors (must be 0) and the server's resident memory.
"""
import argparse
import itertools
import sys
import tempfile
import threading
import time

import numpy as np

from bench.report import machine, percentiles, publish, table
from bench.serve import rss_mb, running_app
from demo.classifier import DEFAULT_MODEL
from bench.drawing import FIXTURE, as_upload, place_digit, sketch_value


def drawings(tmp, n=16):
    with np.load(FIXTURE) as f:
        digits = f["x_test"][:n]
    return [as_upload(sketch_value(place_digit(d, 400, 0.6)), tmp, str(i)) for i, d in enumerate(digits)]


def client_loop(url, values, deadline, latencies, errors, lock):
    from gradio_client import Client
    client = Client(url, verbose=False)
    for v in itertools.cycle(values):
        if time.time() > deadline:
            return
        t = time.perf_counter()
        try:
            result = client.predict(v, api_name="/predict")
            ok = isinstance(result, dict) and result.get("confidences")
        except Exception as e:  # counted, reported
            ok, result = False, e
        with lock:
            if ok:
                latencies.append((time.perf_counter() - t) * 1000)
            else:
                errors.append(repr(result)[:200])


def run(url, clients, seconds, values):
    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.time() + seconds
    threads = [threading.Thread(target=client_loop, args=(url, values, deadline, latencies, errors, lock))
               for _ in range(clients)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.time() - started


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--clients", default="1,8,32", help="comma-separated client counts, run one after another")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--settings", default="1x2,2x1,2x2,4x1",
                   help="server settings to compare, CONCURRENCYxTHREADS: app.py --concurrency C --threads T")
    args = p.parse_args(argv)

    rows, all_errors, idle = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        values = drawings(tmp)
        for setting in args.settings.split(","):
            concurrency, threads = setting.split("x")
            with running_app("--model", args.model, "--concurrency", concurrency, "--threads", threads) as (url, proc):
                from gradio_client import Client
                Client(url, verbose=False).predict(values[0], api_name="/predict")
                idle.append(f"{rss_mb(proc.pid):.0f}")
                for n in map(int, args.clients.split(",")):
                    lat, errors, wall = run(url, n, args.seconds, values)
                    pc = percentiles(lat) if lat else {50: float("nan"), 95: float("nan"), 99: float("nan")}
                    rows.append([concurrency, threads, n, f"{len(lat) / wall:.1f}", f"{pc[50]:.0f}", f"{pc[95]:.0f}",
                                 f"{pc[99]:.0f}", len(errors), f"{rss_mb(proc.pid):.0f}"])
                    all_errors += errors
                    print(rows[-1], flush=True)
    body = (f"`python -m bench.load --clients {args.clients} --seconds {args.seconds:g} --settings {args.settings}` "
            f"on {machine()}: the app started as `app.py --concurrency C --threads T` (queue "
            f"default_concurrency_limit, onnxruntime intra-op threads), idle RSS {'/'.join(idle)} MB. "
            "Clients and server share the same 2 cores.\n\n"
            + table(["concurrency", "ORT threads", "clients", "requests/s", "p50 ms", "p95 ms", "p99 ms", "errors",
                     "server RSS MB"], rows))
    if all_errors:
        body += "\n\nFirst errors: " + "; ".join(all_errors[:3])
    publish("Load", body)
    return 1 if all_errors else 0


if __name__ == "__main__":
    sys.exit(main())
