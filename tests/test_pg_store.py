"""Corrections in a real PostgreSQL server (Debian's, started here as an unprivileged user): the same rows
as SQLite, a visitor's day counted across replicas, bounds under concurrent writers, a restart that costs
a sentence and nothing half-written, and the command line reading it."""

import threading

import numpy as np
import pytest
from PIL import Image

from bench.postgres import running_postgres
from demo.correct import Corrector
from demo.correction_store import ENOUGH_TODAY, Correction
from demo.pg_store import UNREACHABLE, PgStore
from demo.serving.limits import RateLimit
from tests.conftest import run_module
from tests.test_corrections import drawn

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server():
    with running_postgres() as pg:
        yield pg


@pytest.fixture
def url(server):
    """A fresh database for each test, on the one server."""
    import psycopg

    name = f"t{threading.get_ident() % 10**6}_{np.random.default_rng().integers(10**9)}"
    with psycopg.connect(server.url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return server.url.rsplit("/", 1)[0] + "/" + name


def test_a_correction_is_kept_as_sqlite_keeps_it_and_the_address_never(classifier, sample, url):
    store = PgStore(url)
    kept, message = Corrector(classifier, store).correct(drawn(sample, 0), "5", "203.0.113.9")
    assert kept == 1, message
    (row,) = store.all()
    pred = classifier.read_number(drawn(sample, 0)).digits[0].prediction
    assert row.label == 5 and row.predicted == pred.digit and np.abs(row.seen - pred.seen).max() <= 1 / 255 + 1e-6
    assert row.visitor == store.visitor("203.0.113.9") != "" and "203.0.113" not in row.visitor


def test_a_visitors_day_holds_across_replicas(classifier, sample, url):
    replicas = [Corrector(classifier, PgStore(url), RateLimit(per_key=100, total=1000), daily=3) for _ in range(2)]
    said = [replicas[k % 2].correct(drawn(sample, 0), "5", "198.51.100.4") for k in range(5)]
    assert [kept for kept, _ in said] == [1, 1, 1, 0, 0] and said[3][1] == ENOUGH_TODAY
    assert replicas[1].correct(drawn(sample, 0), "5", "198.51.100.5")[0] == 1  # another visitor's own day
    assert len(PgStore(url).all()) == 4


def test_the_bound_holds_under_concurrent_writers_and_accepted_rows_stay(url):
    """Four replicas writing at once into a store of 20: it never holds more, what goes is the oldest
    unreviewed, and rows a person accepted stay."""
    row = Correction(label=3, predicted=8, probabilities=[0.1] * 10, seen=np.zeros((28, 28), np.float32))
    first = PgStore(url, max_rows=20)
    accepted = first.add([row] * 5)
    first.mark("accepted", ids=accepted)
    kept = []

    def writer():
        store = PgStore(url, max_rows=20)  # each its own replica
        for _ in range(6):
            kept.extend(store.add([row, row]))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [r.id for r in PgStore(url).all()]
    assert len(kept) == 48 and ids == accepted + sorted(kept)[-15:]


def test_a_restart_costs_a_sentence_and_the_store_recovers_by_itself(classifier, sample, server, url):
    store = PgStore(url)
    corrector = Corrector(classifier, store)
    assert corrector.correct(drawn(sample, 0), "5", "a")[0] == 1
    server.stop()
    try:
        kept, message = corrector.correct(drawn(sample, 1), "6", "a")
        assert kept == 0 and message == UNREACHABLE
    finally:
        server.start()
    assert corrector.correct(drawn(sample, 2), "7", "a")[0] == 1  # the same objects, nothing restarted
    assert [r.label for r in store.all()] == [5, 7]


def test_the_command_line_adds_lists_and_exports_postgresql(sample, tmp_path, url):
    files = []
    for k, i in enumerate(np.flatnonzero(sample["y_test"] == 7)[:2]):
        files.append(tmp_path / f"seven{k}.png")
        Image.fromarray(255 - sample["x_test"][i]).resize((112, 112)).save(files[-1])
    added = run_module("-m", "demo.corrections", "--corrections", url, "add", "--label", "7", *files, timeout=120)
    assert added.returncode == 0 and "Kept 2 digits" in added.stdout, added.stderr
    listed = run_module("-m", "demo.corrections", "--corrections", url, "list", timeout=60)
    assert listed.returncode == 0 and "2 corrections" in listed.stdout and "7: 2" in listed.stdout
    assert "postgres@127.0.0.1" in listed.stdout
