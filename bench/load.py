"""Concurrent visitors against a local app, each writing as the page sends.  `python -m bench.load --clients 1,8,32,64`

Each client is a thread that writes real digits on the pad the way the page does: one PNG of the ink's
box per pen lift to the pad's `read`, read through the number path, a pen lift every
PACE seconds at most (a fast writer), from its own loopback address (bench.client.client_from), in a
loop for a bounded time. Reports answers/s, latency percentiles, "busy" answers (the fair queue's answer
when a reading waits over 2 s), errors and wrong
answers (must be 0) and the server's resident memory. `--soak 600` instead holds 16 clients for 10
minutes and reports how the server's memory moves after warm-up.
"""

import argparse
import itertools
import sys
import threading
import time

import httpx
import numpy as np

from bench.client import client_from, pad_call, visitor
from bench.drawing import FIXTURE
from bench.front import SPACE_ENV, running_front
from bench.report import machine, percentiles, publish, table
from bench.serve import rss_mb, running_app
from demo.classifier import DEFAULT_MODEL
from demo.pad import png_payload
from demo.serving.fair import BUSY
from train.drawn import pad_rgba

PACE = 0.25  # seconds between one visitor's pen lifts, at the fastest


def drawings(n=16):
    """(the pad's RGBA drawing, the digit's label) for n real test digits."""
    with np.load(FIXTURE) as f:
        return [(pad_rgba(d), str(y)) for d, y in zip(f["x_test"][:n], f["y_test"][:n])]


def client_loop(url, cases, deadline, out, lock, address):
    latencies, busy, errors = out
    with client_from(address, timeout=120) as http:
        for rgba, label in itertools.cycle(cases):
            if time.time() > deadline:
                return
            t = time.perf_counter()
            try:
                answer = pad_call(http, url, "read", png_payload(rgba, address))
                got = answer.get("number", answer.get("message"))
                problem = None if got == label else "busy" if got == BUSY else f"wrong answer: {got} for {label}"
            except Exception as e:  # counted, reported
                problem = repr(e)[:200]
            spent = time.perf_counter() - t
            with lock:
                if problem is None:
                    latencies.append(spent * 1000)
                elif problem == "busy":
                    busy.append(problem)
                else:
                    errors.append(problem)
            time.sleep(max(0.0, PACE - spent))


def run(url, clients, seconds, cases):
    """(latencies ms, busy answers, errors, wall seconds) for `clients` visitors over `seconds`."""
    out, lock = ([], [], []), threading.Lock()
    deadline = time.time() + seconds
    threads = [
        threading.Thread(target=client_loop, args=(url, cases, deadline, out, lock, visitor(k))) for k in range(clients)
    ]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (*out, time.time() - started)


def load_rows(url, pid, counts, seconds, cases, prefix=()):
    rows, errors = [], []
    for n in counts:
        lat, busy, errs, wall = run(url, n, seconds, cases)
        pc = percentiles(lat) if lat else {50: float("nan"), 95: float("nan"), 99: float("nan")}
        rows.append(
            [
                *prefix,
                n,
                f"{len(lat) / wall:.1f}",
                f"{pc[50]:.0f}",
                f"{pc[95]:.0f}",
                f"{pc[99]:.0f}",
                len(busy),
                len(errs),
                f"{rss_mb(pid):.0f}",
            ]
        )
        errors += errs
        print(rows[-1], flush=True)
    return rows, errors


LOAD_HEADER = ["visitors", "answers/s", "p50 ms", "p95 ms", "p99 ms", '"busy"', "errors or wrong", "server RSS MB"]


def soak(url, pid, clients, seconds, cases, warmup=60, step=60):
    """RSS once a minute while `clients` draw for `seconds`: rows and the growth after warm-up."""
    rows, errors, start = [], [], time.time()
    lat, _, errs, _ = run(url, clients, warmup, cases)
    base = rss_mb(pid)
    rows.append([f"{warmup:.0f} (warm-up)", len(lat), len(errs), f"{base:.0f}", "-"])
    while time.time() - start < seconds:
        lat, _, errs, _ = run(url, clients, min(step, seconds - (time.time() - start)), cases)
        errors += errs
        rows.append(
            [f"{time.time() - start:.0f}", len(lat), len(errs), f"{rss_mb(pid):.0f}", f"{rss_mb(pid) - base:+.0f}"]
        )
        print(rows[-1], flush=True)
    return rows, errors


def warmed(url, proc):
    """The drawings, after one reading has warmed the model: (cases, idle RSS MB)."""
    cases = drawings()
    with httpx.Client(timeout=60) as http:
        pad_call(http, url, "read", png_payload(cases[0][0]))
    return cases, rss_mb(proc.pid)


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--clients", default="1,8,32,64", help="comma-separated client counts, one after another")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--concurrency", default="", help="the app's --concurrency values to compare (default: its own)")
    p.add_argument("--soak", type=float, default=0, help="instead: seconds of a soak at the first client count")
    args = p.parse_args(argv)
    counts = [int(c) for c in args.clients.split(",")]
    if args.soak:
        with running_app("--model", args.model, env=SPACE_ENV) as (app, proc), running_front(app) as url:
            cases, idle = warmed(url, proc)
            rows, errors = soak(url, proc.pid, counts[0], args.soak, cases)
        body = (
            f"`python -m bench.load --soak {args.soak:g} --clients {counts[0]}` on {machine()}: "
            f"{counts[0]} visitors writing real digits on the pad, a pen lift every {PACE:g} s at most; "
            f"idle RSS {idle:.0f} MB.\n\n"
            + table(["seconds", "answers", "errors or wrong", "server RSS MB", "since warm-up MB"], rows)
        )
        section = "Soak"
    else:
        rows, errors, idles = [], [], []
        for concurrency in args.concurrency.split(",") if args.concurrency else [""]:
            extra = ["--concurrency", concurrency] if concurrency else []
            with running_app("--model", args.model, *extra, env=SPACE_ENV) as (app, proc), running_front(app) as url:
                cases, idle = warmed(url, proc)
                more, errs = load_rows(url, proc.pid, counts, args.seconds, cases, prefix=[concurrency or "default"])
            rows, errors, idles = rows + more, errors + errs, idles + [idle]
        body = (
            f"`python -m bench.load --clients {args.clients} --seconds {args.seconds:g}"
            f"{' --concurrency ' + args.concurrency if args.concurrency else ''}` on {machine()}: the app "
            "run as a Space runs it (`SYSTEM=spaces`, behind a forwarding front on 127.0.0.2: bench.front), "
            "each visitor a client bound to a loopback address of its own, visitors "
            "writing real digits as the page sends them (a PNG of the ink's box per pen lift to the pad's `read`, "
            f"the number path), a pen lift every {PACE:g} s at most; idle RSS {max(idles):.0f} MB. Visitors "
            "and server share the same 2 cores.\n\n" + table(["--concurrency", *LOAD_HEADER], rows)
        )
        section = "Load"
    if errors:
        body += "\n\nFirst errors: " + "; ".join(errors[:3])
    publish(section, body)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
