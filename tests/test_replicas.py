"""Replicas behind deploy/nginx.conf, one PostgreSQL store for all: a replica killed in the middle of a load
run moves its visitors to the other within a second, the page keeps answering, and every correction the
page said was kept is in the store."""

import threading
import time
from collections import Counter

import pytest

from bench.client import client_from, pad_call, visitor
from bench.load import drawings
from bench.nginx import running_nginx
from bench.postgres import running_postgres
from bench.serve import running_app
from demo.pad import png_payload
from demo.pg_store import PgStore

pytestmark = pytest.mark.server
VISITORS = 16  # each its own address: both replicas get some (all on one: 1 run in 30,000)


def test_a_replica_killed_mid_run_costs_its_visitors_under_a_second_and_no_kept_correction(tmp_path):
    cases = [(png_payload(rgba), label) for rgba, label in drawings(8)]
    with (
        running_postgres() as pg,
        running_app("--corrections", pg.url) as (a, proc_a),
        running_app("--corrections", pg.url) as (b, _),
        running_nginx([a, b], tmp_path) as url,
    ):
        log, kept, stop = [], [], threading.Event()

        def visit(k):
            with client_from(visitor(k), timeout=10) as http:
                for n in range(10**6):
                    if stop.is_set():
                        return
                    payload, label = cases[n % len(cases)]
                    if n % 5 == 4:  # now and then: "Wrong? It was" with the digit it is
                        said = pad_call(http, url, "correct", {**payload, "page": f"v{k}", "answer": label})
                        kept.extend([label] if "kept" in str(said.get("message")) else [])
                        continue
                    got = pad_call(http, url, "read", {**payload, "page": f"v{k}"})
                    log.append((k, time.monotonic(), got.get("number") == label))
                    time.sleep(0.25)

        threads = [threading.Thread(target=visit, args=(k,)) for k in range(VISITORS)]
        for t in threads:
            t.start()
        time.sleep(3)
        killed = time.monotonic()
        proc_a.kill()  # SIGKILL, mid-run: no goodbye
        time.sleep(4)
        stop.set()
        for t in threads:
            t.join()
        rows = PgStore(pg.url).all()
    before = [ok for _, when, ok in log if when < killed]
    assert before and all(before)
    for k in range(VISITORS):  # every visitor: right again within a second of the kill, and right from then on
        after = [(when, ok) for j, when, ok in log if j == k and when >= killed]
        assert after and after[-1][1], (k, after)
        first_right = next(when for when, ok in after if ok)
        assert first_right - killed < 1.0, (k, first_right - killed)
        assert all(ok for when, ok in after if when > killed + 1.0), (k, after)
    assert kept and not Counter(kept) - Counter(str(r.label) for r in rows)  # all the page said was kept is there
