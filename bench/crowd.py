"""A crowd on one link, as the public meets it: `python -m bench.crowd [--seconds 15]`.

The app runs as a Hugging Face Space runs it (`SYSTEM=spaces`, behind a forwarding front on 127.0.0.2 that
appends X-Forwarded-For: bench.front), and once behind deploy/nginx.conf; every visitor is a client bound
to a loopback address of its own. One person writes a real digit every 0.5 s beside each crowd: a script
with made-up X-Forwarded-For headers and pages, a classroom of 20 pages behind one address, the stripes
drawing, a "Why?" flood. Capacity: 64 visitors lifting the pen as fast as they are answered, with the
app process's own CPU time per reading, beside a pad that does no work and the model alone, in one run.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from bench import lightload
from bench.client import client_from, pad_call, visitor
from bench.drawing import FIXTURE
from bench.front import SPACE_ENV, running_front
from bench.load import drawings
from bench.nginx import running_nginx
from bench.report import machine, percentiles, publish, table
from bench.serve import rss_mb, running_app
from bench.target import cpu_seconds
from demo.classifier import Classifier
from demo.contract import to_model_input
from demo.pad import png_payload

PERSON = "127.0.0.10"
SCRIPT = "127.0.0.66"
SCHOOL = "127.0.0.77"


def writer(url, address, cases, lifts, pace, page, out, stop=None):
    """One visitor writing: `lifts` pen lifts every `pace` s (or until `stop`); (right, ms) appended to out."""
    with client_from(address) as http:
        for _, (payload, label) in zip(range(lifts), itertools.cycle(cases)):
            if stop is not None and stop.is_set():
                return
            t = time.perf_counter()
            got = pad_call(http, url, "read", {**payload, "page": page})
            spent = time.perf_counter() - t
            out.append((got.get("number") == label, spent * 1000, got.get("message", "")))
            time.sleep(max(0.0, pace - spent))


def flood(url, payload, fn, stop, threads, count):
    """One address sending `fn` calls as fast as answered from `threads` threads, made-up X-Forwarded-For
    headers and pages on every call; the number answered goes into `count`."""

    def loop(t):
        with client_from(SCRIPT, timeout=120) as http:
            for k in itertools.count():
                if stop.is_set():
                    return
                http.headers["X-Forwarded-For"] = f"203.0.113.{k % 250}, 10.0.0.{k % 250}"
                if "status" not in pad_call(http, url, fn, {**payload, "page": f"script{t}-{k}"}):
                    count.append(1)  # answered by the app (not refused by nginx's per-address limit)

    workers = [threading.Thread(target=loop, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    return workers


def person_row(name, url, cases, seconds, crowd=None):
    """The person's readings (every 0.5 s for `seconds`) beside `crowd(stop)`, which returns its threads."""
    out, stop, count = [], threading.Event(), []
    threads = crowd(stop, count) if crowd else []
    time.sleep(1.0 if crowd else 0)  # the crowd is at it before the person starts
    writer(url, PERSON, cases, int(seconds / 0.5), 0.5, "person", out)
    stop.set()
    for t in threads:
        t.join()
    right = [ms for ok, ms, _ in out if ok]
    p50 = f"{percentiles(right)[50]:.0f}" if right else "-"
    said = sorted({m[:45] for ok, _, m in out if m})
    return [
        name,
        f"{len(right)} of {len(out)}",
        p50,
        f"{len(count) / seconds:.0f}/s" if crowd else "-",
        " / ".join(said),
    ]


def classroom(url, cases, seconds, pupils=20):
    """`pupils` pages behind one address, a pen lift a second each."""
    outs = [[] for _ in range(pupils)]
    threads = [
        threading.Thread(target=writer, args=(url, SCHOOL, cases, int(seconds), 1.0, f"pupil{k}", outs[k]))
        for k in range(pupils)
    ]
    for t in threads:
        t.start()
        time.sleep(1.0 / pupils)
    for t in threads:
        t.join()
    every = [x for o in outs for x in o]
    right = [ms for ok, ms, _ in every if ok]
    said = sorted({m[:45] for ok, _, m in every if m})
    return [f"a classroom: {pupils} pages behind one address, a lift a second each", f"{len(right)} of {len(every)}",
            f"{percentiles(right)[50]:.0f}", "-", " / ".join(said)]  # fmt: skip


def capacity(url, pid, cases, seconds, clients=64):
    """`clients` visitors, each its own address, lifting as soon as answered (bench.lightload, so the load
    generator leaves the cores to the app): (answered/s, right/s, p50 ms, the app's CPU ms per answer,
    not right)."""
    cpu, start = cpu_seconds(pid), time.time()
    every = lightload.run(url, cases, [visitor(k + 20) for k in range(clients)], seconds)
    wall, used = time.time() - start, cpu_seconds(pid) - cpu
    right = [ms for ok, ms, _ in every if ok]
    p50 = percentiles([ms for _, ms, _ in every])[50]
    said = sorted({str(got)[:60] for ok, _, got in every if not ok})
    wrong = f"{len(every) - len(right)}" + (f" ({' / '.join(said)})" if said else "")
    return len(every) / wall, len(right) / wall, p50, 1000 * used / max(1, len(every)), wrong


def model_floor(n=200):
    """CPU ms per digit of onnxruntime alone, one thread: one digit a call, and 16 a call."""
    clf = Classifier(threads=1)
    x = to_model_input(np.random.default_rng(0).random((16, 28, 28), np.float32))
    out = []
    for batch in (1, 16):
        clf.predict_batch(x[:batch])
        t = time.thread_time()
        for _ in range(n // batch * 4):
            clf.predict_batch(x[:batch])
        out.append(1000 * (time.thread_time() - t) / (n // batch * 4 * batch))
    return out


def bodies(url, pid):
    """Six 40 MB bodies at once (declared) to the queue, and six chunked to the pad's route: statuses, RSS growth."""
    import httpx

    before, big = rss_mb(pid), b"x" * (40 * 2**20)

    def declared(_):
        with httpx.Client(timeout=60) as http:
            return http.post(url + "gradio_api/call/predict_image", content=big).status_code

    def chunked(_):
        with httpx.Client(timeout=60) as http:
            return http.post(url + "gradio_api/pad/read", content=iter([big[: 2**20]] * 40)).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = sorted(set(pool.map(declared, range(6)))) + sorted(set(pool.map(chunked, range(6))))
    return codes, rss_mb(pid) - before


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=15)
    args = p.parse_args(argv)
    s = args.seconds
    cases = [(png_payload(rgba), label) for rgba, label in drawings()]
    stripes = np.zeros((300, 800, 4), np.uint8)
    stripes[:, ::3, 3] = stripes[:3, :, 3] = 255
    number = np.zeros((300, 800, 4), np.uint8)  # eight test digits, 90 px each, side by side
    with np.load(FIXTURE) as f:
        for k, d in enumerate(f["x_test"][:8]):
            number[100:190, 10 + 98 * k : 100 + 98 * k, 3] = np.asarray(Image.fromarray(d).resize((90, 90)))
    rows = []
    with running_app(env=SPACE_ENV, nofile=4096) as (app, proc), running_front(app) as url:
        writer(url, PERSON, cases, 5, 0.0, "warm-up", [])
        crowds = [
            ("a person alone", None),
            ("beside a script: 4 threads, made-up X-Forwarded-For and pages",
             lambda stop, n: flood(url, cases[0][0], "read", stop, 4, n)),
            ("beside the stripes drawing, 4 threads",
             lambda stop, n: flood(url, png_payload(stripes), "read", stop, 4, n)),
            ('beside "Why?" on an 8-digit number, 4 threads',
             lambda stop, n: flood(url, png_payload(number), "why", stop, 4, n)),
        ]  # fmt: skip
        for name, crowd in crowds:
            rows.append(person_row(name, url, cases, s, crowd))
            print(rows[-1], flush=True)
        rows.append(classroom(url, cases, s))
        print(rows[-1], flush=True)
        cap = capacity(url, proc.pid, cases, s)
        codes, grown = bodies(app, proc.pid)
    with running_app(nofile=4096) as (app, proc), running_nginx(app, Path(os.environ.get("TMPDIR", "/tmp"))) as url:
        writer(url, PERSON, cases, 5, 0.0, "warm-up", [])
        crowd = lambda stop, n: flood(url, cases[0][0], "read", stop, 4, n)  # noqa: E731
        rows.append(person_row("behind deploy/nginx.conf, beside the script", url, cases, s, crowd))
        print(rows[-1], flush=True)
    with running_app("--pad", program=("-m", "bench.floor_app"), env=SPACE_ENV) as (app, proc):
        with running_front(app) as url:
            floor = capacity(url, proc.pid, cases, s)
    one, sixteen = model_floor()
    cap_rows = [
        ["the app: the pad's read, digits checked", f"{cap[0]:.1f}", f"{cap[1]:.1f}", f"{cap[2]:.0f}",
         f"{cap[3]:.1f}", cap[4]],
        ["a pad whose read does no work (bench.floor_app --pad)", f"{floor[0]:.1f}", "-", f"{floor[2]:.0f}",
         f"{floor[3]:.1f}", "-"],
        ["onnxruntime alone, one thread: one digit a call / 16 a call", "-", "-", "-", f"{one:.1f} / {sixteen:.1f}",
         "-"],
    ]  # fmt: skip
    body = (
        f"`python -m bench.crowd --seconds {s:g}` on {machine()}: the app as a Space runs it (`SYSTEM=spaces`, "
        "behind a forwarding front on 127.0.0.2 that appends X-Forwarded-For), each visitor a client bound to a "
        "loopback address of its own; the last row behind deploy/nginx.conf instead. One person writes a real "
        "digit every 0.5 s beside each crowd. Visitors, front and app share the same 2 cores.\n\n"
        + table(["crowd", "the person's readings right", "p50 ms", "crowd's calls answered", "other answers"], rows)
        + f"\n\nCapacity: 64 visitors, each its own address, lifting the pen as soon as answered, for {s:g} s; "
        "CPU ms per reading is the app process's own (all threads), divided by the readings it answered.\n\n"
        + table(["server", "answers/s", "readings/s right", "p50 ms", "CPU ms per answer", "not right"], cap_rows)
        + f"\n\nSix 40 MB bodies at once to `/gradio_api/call/predict_image` (declared) and six chunked to the "
        f"pad's route: HTTP {', '.join(map(str, codes))}; the app's memory grew {grown:+.0f} MB."
    )
    publish("Crowd", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
