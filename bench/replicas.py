"""One app against two replicas behind deploy/nginx.conf, and where corrections are written, in one run:
`python -m bench.replicas [--seconds 15]`.

Capacity: 64 visitors, each its own loopback address (so nginx's hash spreads them), lifting the pen as soon
as answered (bench.lightload), through nginx to 1 or 2 replicas; every answer checked; CPU ms per reading
per replica from each process's own CPU time. Corrections: 4 writers keeping one real correction at a time
for a few seconds into SQLite and into PostgreSQL (a real server started here): rows kept a second.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench import lightload
from bench.client import visitor
from bench.load import drawings
from bench.nginx import running_nginx
from bench.postgres import running_postgres
from bench.report import machine, percentiles, publish, table
from bench.serve import running_app
from bench.target import cpu_seconds
from demo.correction_store import Correction
from demo.pad import png_payload
from demo.pg_store import PgStore
from demo.sqlite_store import Store


def capacity(n: int, cases, seconds: float, store: str) -> list:
    """A row for `n` replicas behind nginx."""
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        apps = [stack.enter_context(running_app("--corrections", store)) for _ in range(n)]
        url = stack.enter_context(running_nginx([a for a, _ in apps], Path(folder)))
        lightload.run(url, cases, [visitor(k) for k in range(8)], 2)  # warm every replica
        cpu = [cpu_seconds(p.pid) for _, p in apps]
        start = time.time()
        every = lightload.run(url, cases, [visitor(k) for k in range(64)], seconds)
        wall = time.time() - start
        used = [cpu_seconds(p.pid) - c for (_, p), c in zip(apps, cpu)]
    ms = [m for _, m, _ in every]
    pc = percentiles(ms)
    per = " / ".join(f"{1000 * u / max(1, len(every)):.1f}" for u in used)
    return [n, f"{len(every) / wall:.1f}", f"{pc[50]:.0f}", f"{pc[99]:.0f}", per,
            f"{1000 * sum(used) / max(1, len(every)):.1f}", len(every) - sum(ok for ok, _, _ in every)]  # fmt: skip


def write_rate(store, seconds: float = 5, writers: int = 4) -> float:
    """Rows a second that `writers` threads keep, one correction a call, each its own visitor."""
    row = Correction(label=3, predicted=8, probabilities=[0.1] * 10, seen=np.zeros((28, 28), np.float32))
    done, stop = [], time.time() + seconds

    def write(k):
        while time.time() < stop:
            store.add([row], f"10.0.0.{k}", 0)
            done.append(1)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(done) / seconds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=15)
    args = p.parse_args(argv)
    cases = [(png_payload(rgba), label) for rgba, label in drawings()]
    with running_postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        rows = [capacity(n, cases, args.seconds, pg.url) for n in (1, 2)]
        for row in rows:
            print(row, flush=True)
        sqlite = write_rate(Store(Path(tmp) / "c.sqlite"))
        postgres = write_rate(PgStore(pg.url))
    body = (
        f"`python -m bench.replicas --seconds {args.seconds:g}` on {machine()}: 64 visitors, each its own "
        "loopback address, lifting the pen as soon as answered (bench.lightload), through deploy/nginx.conf "
        "to 1 or 2 replicas of the app on the same 2 cores, corrections in PostgreSQL; every answer checked.\n\n"
        + table(
            [
                "replicas",
                "readings/s",
                "p50 ms",
                "p99 ms",
                "CPU ms per reading, each replica",
                "CPU ms per reading, all",
                "not right",
            ],
            rows,
        )  # fmt: skip
        + f"\n\nCorrections kept a second, 4 writers one row at a time, each its own visitor: SQLite "
        f"{sqlite:.0f}/s, PostgreSQL {postgres:.0f}/s (a server started here, fsync off)."
    )
    publish("Replicas", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
