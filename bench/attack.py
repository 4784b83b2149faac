"""Every attack on a public link against one started app, then the load table, in one run.

    python -m bench.attack [--seconds 20]

The app starts as a user starts it, with the 1,024-descriptor soft limit of many hosts. For each
attack: the answer, seconds, the app's peak memory above where it started, its CPU per request, and
whether the next normal drawing was right (and how long it took). Then the burst (memory given back),
slow headers through deploy/nginx.conf, and plain HTTP clients at 1, 8, 32 and 64 against the
same app. Written to BENCHMARKS.md, "Attacks".
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.attacks import ATTACKS, REQUESTS, burst, slow_headers
from bench.front import SPACE_ENV, running_front
from bench.load import LOAD_HEADER, drawings, load_rows
from bench.nginx import running_nginx
from bench.report import machine, publish, table
from bench.serve import rss_mb, running_app
from bench.target import Target, measured, normal_drawing
from demo.server import raise_fd_limit


def next_normal(target, wait=30):
    """The next drawing after an attack: (right, seconds), retried while a flood's queue drains."""
    deadline = time.time() + wait
    while True:
        right, seconds = normal_drawing(target)
        if (right and seconds < 2) or time.time() > deadline:
            return right, seconds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20, help="per client count in the load table")
    args = p.parse_args(argv)
    raise_fd_limit()
    rows, failures = [], []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_app("--corrections", str(Path(tmp) / "corrections.sqlite"), env=SPACE_ENV, nofile=1024) as (
            app,
            proc,
        ),
        running_front(app) as url,
        httpx.Client(timeout=120) as http,
    ):
        target = Target(url, proc.pid, http, Path(tmp), app)
        normal_drawing(target)
        start_rss = rss_mb(proc.pid)
        for name, attack in ATTACKS.items():
            m = measured(target, attack, REQUESTS.get(name, 1))
            right, seconds = next_normal(target)
            rows.append(
                [
                    name,
                    m.answer.replace("|", "/"),
                    "yes" if m.ok else "**no**",
                    f"{m.seconds:.2f}",
                    f"{m.peak_mb:.0f}",
                    f"{m.cpu_s:.2f}",
                    f"{'right' if right else '**wrong**'}, {seconds:.2f} s",
                ]
            )
            failures += [name] if not (m.ok and right) else []
            print(rows[-1], flush=True)
        kept = burst(target)
        end_rss = rss_mb(proc.pid)
        with running_nginx(app, Path(tmp)) as proxy:
            proxied = Target(proxy, proc.pid, http, Path(tmp))
            m = measured(proxied, lambda t: slow_headers(t, 1000), 1000)
            right, seconds = next_normal(proxied)
            rows.append(
                [
                    "1,000 slow-header connections through deploy/nginx.conf",
                    m.answer,
                    "yes" if m.ok else "**no**",
                    f"{m.seconds:.2f}",
                    f"{m.peak_mb:.0f}",
                    f"{m.cpu_s:.2f}",
                    f"{'right' if right else '**wrong**'}, {seconds:.2f} s",
                ]
            )
            failures += [] if m.ok and right else ["nginx"]
            print(rows[-1], flush=True)
        load, errors = load_rows(url, proc.pid, [1, 8, 32, 64], args.seconds, drawings())
    body = (
        f"`python -m bench.attack --seconds {args.seconds:g}` on {machine()}: one app run as a Space runs it "
        "(`SYSTEM=spaces`, soft descriptor limit 1,024) behind a forwarding front on 127.0.0.2 (bench.front), "
        "every attack through its HTTP API, a script's floods from one loopback address of its own. "
        "Peak MB: the app's peak resident memory during the attack above where it started. CPU: the app's "
        "CPU time per request sent (all its threads). Floors: 250 MB and 2 s per request, a drawing under 2 s "
        "with 10 heavy photos in flight, under 1 s behind nginx with 1,000 slow clients.\n\n"
        + table(["attack", "answer", "safe", "seconds", "peak MB", "CPU s / request", "next drawing"], rows)
        + f"\n\nMemory: {start_rss:.0f} MB before the attacks, {end_rss:.0f} MB after them all; a burst of "
        f"24 of the biggest accepted photos (16 Mpx PNG, 841 Mpx JPEG) from 8 clients left {kept:+.1f} MB.\n\n"
        f"Load on the same app, right after: visitors writing on the pad as the page sends, each from its own "
        f"address (`bench.load`, {args.seconds:g} s per row):\n\n" + table(LOAD_HEADER, load)
    )
    if errors:
        body += "\n\nFirst errors: " + "; ".join(errors[:3])
    publish("Attacks", body)
    return 1 if failures or errors else 0


if __name__ == "__main__":
    sys.exit(main())
