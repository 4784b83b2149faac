"""Concurrent clients against a local app, with a plain HTTP client.  `python -m bench.load --clients 1,8,32,64`

Each client is a thread sending real drawings to /predict through the HTTP API (upload, call, result
stream; not gradio_client, whose 50 ms polling would be most of the figure) in a loop for a bounded
time. Reports requests/s, latency percentiles, errors and wrong answers (both must be 0) and the
server's resident memory. `--soak 600` instead holds 16 clients for 10 minutes and reports how the
server's memory moves after warm-up.
"""

import argparse
import itertools
import sys
import tempfile
import threading
import time

import httpx
import numpy as np

from bench.client import rest_predict
from bench.drawing import FIXTURE, as_upload, place_digit, sketch_value
from bench.report import machine, percentiles, publish, table
from bench.serve import rss_mb, running_app
from demo.classifier import DEFAULT_MODEL


def drawings(tmp, n=16):
    """(Sketchpad value as files, the digit's label) for n real test digits."""
    with np.load(FIXTURE) as f:
        digits, labels = f["x_test"][:n], f["y_test"][:n]
    return [
        (as_upload(sketch_value(place_digit(d, 400, 0.6)), tmp, str(i)), str(y))
        for i, (d, y) in enumerate(zip(digits, labels))
    ]


def client_loop(url, cases, deadline, latencies, errors, lock):
    with httpx.Client(timeout=120) as http:
        for value, label in itertools.cycle(cases):
            if time.time() > deadline:
                return
            t = time.perf_counter()
            try:
                got = rest_predict(http, url, value).get("label")
                problem = None if got == label else f"wrong answer: {got} for {label}"
            except Exception as e:  # counted, reported
                problem = repr(e)[:200]
            with lock:
                if problem is None:
                    latencies.append((time.perf_counter() - t) * 1000)
                else:
                    errors.append(problem)


def run(url, clients, seconds, cases):
    """(latencies ms, errors, wall seconds) for `clients` threads over `seconds`."""
    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.time() + seconds
    threads = [
        threading.Thread(target=client_loop, args=(url, cases, deadline, latencies, errors, lock))
        for _ in range(clients)
    ]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.time() - started


def load_rows(url, pid, counts, seconds, cases, prefix=()):
    rows, errors = [], []
    for n in counts:
        lat, errs, wall = run(url, n, seconds, cases)
        pc = percentiles(lat) if lat else {50: float("nan"), 95: float("nan"), 99: float("nan")}
        rows.append(
            [
                *prefix,
                n,
                f"{len(lat) / wall:.1f}",
                f"{pc[50]:.0f}",
                f"{pc[95]:.0f}",
                f"{pc[99]:.0f}",
                len(errs),
                f"{rss_mb(pid):.0f}",
            ]
        )
        errors += errs
        print(rows[-1], flush=True)
    return rows, errors


LOAD_HEADER = ["clients", "requests/s", "p50 ms", "p95 ms", "p99 ms", "errors or wrong", "server RSS MB"]


def soak(url, pid, clients, seconds, cases, warmup=60, step=60):
    """RSS once a minute while `clients` draw for `seconds`: rows and the growth after warm-up."""
    rows, errors, start = [], [], time.time()
    lat, errs, _ = run(url, clients, warmup, cases)
    base = rss_mb(pid)
    rows.append([f"{warmup:.0f} (warm-up)", len(lat), len(errs), f"{base:.0f}", "-"])
    while time.time() - start < seconds:
        lat, errs, _ = run(url, clients, min(step, seconds - (time.time() - start)), cases)
        errors += errs
        rows.append(
            [f"{time.time() - start:.0f}", len(lat), len(errs), f"{rss_mb(pid):.0f}", f"{rss_mb(pid) - base:+.0f}"]
        )
        print(rows[-1], flush=True)
    return rows, errors


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--clients", default="1,8,32,64", help="comma-separated client counts, one after another")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--soak", type=float, default=0, help="instead: seconds of a soak at the first client count")
    args = p.parse_args(argv)
    counts = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as tmp, running_app("--model", args.model) as (url, proc):
        cases = drawings(tmp)
        rest_predict(httpx.Client(timeout=60), url, cases[0][0])
        idle = rss_mb(proc.pid)
        if args.soak:
            rows, errors = soak(url, proc.pid, counts[0], args.soak, cases)
            body = (
                f"`python -m bench.load --soak {args.soak:g} --clients {counts[0]}` on {machine()}: "
                f"{counts[0]} plain HTTP clients drawing real digits without pause; idle RSS {idle:.0f} MB.\n\n"
                + table(["seconds", "answers", "errors or wrong", "server RSS MB", "since warm-up MB"], rows)
            )
            section = "Soak"
        else:
            rows, errors = load_rows(url, proc.pid, counts, args.seconds, cases)
            body = (
                f"`python -m bench.load --clients {args.clients} --seconds {args.seconds:g}` on {machine()}: "
                f"the app as it starts by default, plain HTTP clients, idle RSS {idle:.0f} MB. "
                "Clients and server share the same 2 cores.\n\n" + table(LOAD_HEADER, rows)
            )
            section = "Load"
    if errors:
        body += "\n\nFirst errors: " + "; ".join(errors[:3])
    publish(section, body)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
