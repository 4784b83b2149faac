"""Corrections in a real SQLite file: what is kept, the bounds, the rate limit, a damaged or locked
file, many writers at once (threads and processes), and the command line. Real digits throughout."""

import sqlite3
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from demo.canvas import CANVAS_H, CANVAS_W
from demo.correct import ASK, OFF, SLOW_DOWN, Corrector
from demo.correction_store import ENOUGH_TODAY, FULL, HELD_ENOUGH, NOT_KEPT
from demo.fileio import file_sha256
from demo.handlers import Reader
from demo.serving.limits import RateLimit
from demo.sqlite_store import Store
from tests.conftest import ROOT, SHIPPED, run_module
from train.drawn import place_digit, sketch_value
from train.written import write_number


def drawn(sample, i, center=(0.5, 0.5)):
    """Test digit i drawn on the app's canvas, as the Sketchpad sends it."""
    ink = place_digit(sample["x_test"][i], CANVAS_H, 0.6, (0.5, center[1]))
    return sketch_value(np.pad(ink, ((0, 0), (0, CANVAS_W - CANVAS_H))))


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "corrections.sqlite")


def test_a_correction_keeps_what_the_model_saw(classifier, sample, store):
    corrector = Corrector(classifier, store)
    value, truth = drawn(sample, 0), int(sample["y_test"][0])
    wrong = (truth + 1) % 10
    kept, message = corrector.correct(value, str(wrong), "s1")
    assert kept == 1 and "kept" in message and "got wrong" in message
    (row,) = store.all()
    pred = classifier.read_number(value).digits[0].prediction
    assert row.label == wrong and row.predicted == pred.digit == truth
    assert np.allclose(row.probabilities, pred.probabilities, atol=1e-5)
    assert np.abs(row.seen - pred.seen).max() <= 1 / 255 + 1e-6  # the model's own 28x28 input
    assert max(row.drawing.shape) <= 128 and row.drawing.max() > 0.5  # the strokes, scaled down
    assert row.model_sha256 == file_sha256(SHIPPED) and row.source == "page" and row.created


def test_a_number_is_corrected_digit_by_digit(classifier, sample, store):
    rng = np.random.default_rng(5)
    x, y = sample["x_test"], sample["y_test"]
    idx = [int(np.flatnonzero(y == d)[0]) for d in (4, 0, 7)]
    w = write_number([x[i] for i in idx], [4, 0, 7], rng, "normal", "mnist", False, False)
    corrector = Corrector(classifier, store)
    assert corrector.correct(w.value, "47", "s")[0] == 0  # wrong count: a sentence, nothing kept
    assert store.all() == []
    kept, message = corrector.correct(w.value, " 407 ", "s")
    assert kept == 3, message
    assert [r.label for r in store.all()] == [4, 0, 7]


def test_bad_answers_and_drawings_get_a_sentence_and_keep_nothing(classifier, sample, store):
    corrector = Corrector(classifier, store)
    for answer in ("", "seven", "-1", "٣", "123456789", None):
        assert corrector.correct(drawn(sample, 1), answer, "s") == (0, ASK)
    kept, message = corrector.correct(sketch_value(np.zeros((CANVAS_H, CANVAS_W), np.float32)), "3", "s")
    assert kept == 0 and message.startswith("Draw a digit")
    assert store.all() == []
    assert Corrector(classifier, None).correct(drawn(sample, 1), "3", "s") == (0, OFF)


def test_a_full_store_lets_the_oldest_unreviewed_go_and_keeps_what_was_accepted(classifier, sample, tmp_path):
    """A flood cannot close the store for good: when full, the oldest rows nobody reviewed make room; rows a
    person accepted stay, and a store of accepted rows only refuses with a sentence."""
    store = Store(tmp_path / "c.sqlite", max_rows=3)
    corrector = Corrector(classifier, store)
    for i in range(3):
        assert corrector.correct(drawn(sample, i), "1", f"s{i}")[0] == 1
    assert store.mark("accepted", ids=[1]) == 1
    assert corrector.correct(drawn(sample, 3), "1", "s9")[0] == 1
    assert [(r.id, r.status) for r in store.all()] == [(1, "accepted"), (3, "new"), (4, "new")]
    store.mark("accepted", ids=[3, 4])
    kept, message = corrector.correct(drawn(sample, 4), "1", "s9")
    assert kept == 0 and message == FULL and [r.id for r in store.all()] == [1, 3, 4]
    small = Corrector(classifier, Store(tmp_path / "d.sqlite", max_bytes=8192))
    assert small.correct(drawn(sample, 0), "1", "s")[1] == FULL


def test_one_visitor_holds_at_most_their_share(classifier, sample, tmp_path, monkeypatch):
    from demo import correction_store

    monkeypatch.setattr(correction_store, "PER_VISITOR", 2)
    corrector = Corrector(classifier, Store(tmp_path / "c.sqlite"), RateLimit(per_key=100, total=1000))
    said = [corrector.correct(drawn(sample, 0), "5", "203.0.113.5") for _ in range(3)]
    assert [kept for kept, _ in said] == [1, 1, 0] and said[2][1] == HELD_ENOUGH
    assert corrector.correct(drawn(sample, 0), "5", "203.0.113.6")[0] == 1


def test_rate_limit_per_session_and_in_total_with_bounded_memory():
    limit = RateLimit(per_key=2, total=5, window=60, keys=3)
    assert [limit.allow("a", 0), limit.allow("a", 1), limit.allow("a", 2)] == [True, True, False]
    assert limit.allow("b", 2) and limit.allow("c", 2) and limit.allow("d", 2)
    assert not limit.allow("e", 3)  # five in the window: everyone waits
    assert limit.allow("a", 61)  # the window moved on
    assert len(limit._seen) <= 3


def test_the_page_says_slow_down(classifier, sample, store):
    corrector = Corrector(classifier, store, RateLimit(per_key=2))
    answers = [corrector.correct(drawn(sample, 0), "5", "same")[1] for _ in range(3)]
    assert answers[2] == SLOW_DOWN and len(store.all()) == 2
    assert corrector.correct(drawn(sample, 0), "5", "another")[0] == 1


def test_one_address_has_a_daily_cap(classifier, sample, store):
    corrector = Corrector(classifier, store, RateLimit(per_key=100, total=1000), daily=3)
    answers = [corrector.correct(drawn(sample, 0), "5", "203.0.113.66")[1] for _ in range(4)]
    assert answers[3] == ENOUGH_TODAY and len(store.all()) == 3
    assert corrector.correct(drawn(sample, 0), "5", "198.51.100.1")[0] == 1


def test_a_damaged_file_gives_a_sentence_and_reading_goes_on(classifier, sample, tmp_path):
    bad = tmp_path / "c.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    corrector = Corrector(classifier, Store(bad))
    assert "damaged" in corrector.problem and "move it away" in corrector.problem  # the owner's detail
    kept, message = corrector.correct(drawn(sample, 2), "4", "s")
    assert kept == 0 and message == corrector.notice() == NOT_KEPT  # the visitor's sentence: no path, no OS words
    assert str(tmp_path) not in message
    assert Reader(classifier).number(drawn(sample, 2))[0]  # the drawing is still read
    assert bad.read_bytes().startswith(b"this is not")  # and the file is left for its owner


def test_an_unusable_path_gives_a_sentence(classifier, tmp_path):
    (tmp_path / "file").write_text("x")
    corrector = Corrector(classifier, Store(tmp_path / "file" / "c.sqlite"))
    assert "cannot be opened" in corrector.problem


def test_a_locked_store_makes_the_person_wait_briefly_not_forever(classifier, sample, tmp_path):
    store = Store(tmp_path / "c.sqlite", wait=0.3)
    corrector = Corrector(classifier, store)
    other = sqlite3.connect(tmp_path / "c.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    kept, message = corrector.correct(drawn(sample, 0), "5", "s")
    assert kept == 0 and "busy" in message
    other.execute("ROLLBACK")
    other.close()
    assert corrector.correct(drawn(sample, 0), "5", "s")[0] == 1


WRITER = """
import sys
import numpy as np
from demo.correction_store import Correction
from demo.sqlite_store import Store
store = Store(sys.argv[1], wait=30)
for i in range(int(sys.argv[2])):
    store.add([Correction(label=i % 10, predicted=0, probabilities=[0.1] * 10, seen=np.zeros((28, 28)))])
"""


def test_many_writers_at_once_lose_nothing(tmp_path):
    """Eight threads of this process and two other processes write at the same time."""
    path = tmp_path / "c.sqlite"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), "40"], cwd=ROOT) for _ in range(2)]
    store = Store(path, wait=30)
    from demo.correction_store import Correction

    def write(k):
        for _ in range(25):
            store.add([Correction(label=k, predicted=1, probabilities=[0.1] * 10, seen=np.full((28, 28), 0.5))])

    threads = [threading.Thread(target=write, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(p.wait(timeout=120) == 0 for p in procs)
    rows = store.all()
    assert len(rows) == 8 * 25 + 2 * 40 and len({r.id for r in rows}) == len(rows)
    assert sorted(np.bincount([r.label for r in rows if r.predicted == 1]).tolist()) == [25] * 8


def test_command_line_add_list_export(sample, tmp_path):
    files = []
    for k, i in enumerate(np.flatnonzero(sample["y_test"] == 7)[:3]):
        files.append(tmp_path / f"seven{k}.png")
        Image.fromarray(255 - sample["x_test"][i]).resize((112, 112)).save(files[-1])
    db = tmp_path / "c.sqlite"
    added = run_module("-m", "demo.corrections", "--store", db, "add", "--label", "7", *files, timeout=120)
    assert added.returncode == 0 and "Kept 3 digits" in added.stdout, added.stderr
    listed = run_module("-m", "demo.corrections", "--corrections", db, "list", timeout=60)
    assert listed.returncode == 0 and "3 corrections" in listed.stdout and "7: 3" in listed.stdout
    out = tmp_path / "c.npz"
    assert run_module("-m", "demo.corrections", "--corrections", db, "export", out, timeout=60).returncode == 0
    with np.load(out) as f:
        assert f["x"].shape == (3, 28, 28) and f["x"].dtype == np.uint8 and f["y"].tolist() == [7, 7, 7]
    wrong = run_module("-m", "demo.corrections", "--corrections", db, "add", "--label", "seven", *files, timeout=60)
    assert wrong.returncode == 2 and "--label 'seven'" in wrong.stderr and "Traceback" not in wrong.stderr
    none = run_module("-m", "demo.corrections", "--corrections", tmp_path / "none.sqlite", "list", timeout=60)
    assert none.returncode == 2 and "no corrections file" in none.stderr


def test_finetune_says_what_is_missing_before_loading_tensorflow(tmp_path, classifier, sample):
    none = run_module("-m", "train.finetune", "--corrections", tmp_path / "none.sqlite", timeout=60)
    assert none.returncode == 1 and "no corrections file" in none.stderr and "Traceback" not in none.stderr
    store = Store(tmp_path / "few.sqlite")
    Corrector(classifier, store).correct(drawn(sample, 0), "5", "s")
    few = run_module("-m", "train.finetune", "--corrections", store.path, timeout=60)
    assert few.returncode == 1 and "holds 1 corrections" in few.stderr and "at least 10" in few.stderr


def test_the_hash_kept_is_of_the_model_that_read_it(sample, tmp_path):
    """`python -m export --out models/...` may replace the file under a running app: the hash is the
    loaded model's, taken when it was loaded."""
    import shutil

    from demo.classifier import Classifier

    model = tmp_path / "m.onnx"
    shutil.copy(SHIPPED, model)
    loaded = file_sha256(model)
    corrector = Corrector(Classifier(model), Store(tmp_path / "c.sqlite"))
    model.write_bytes(b"another model, exported over it")
    assert corrector.correct(drawn(sample, 0), "5", "s")[0] == 1
    assert corrector.store.all()[0].model_sha256 == loaded


def test_attempts_that_keep_nothing_spend_no_budget(classifier, sample, store):
    """A wrong count of digits, typed again and again, never locks the person out: budgets pay for kept rows."""
    corrector = Corrector(classifier, store, RateLimit(per_key=3, total=1000), daily=3)
    for _ in range(10):
        kept, message = corrector.correct(drawn(sample, 0), "55", "203.0.113.7")  # one digit drawn, two typed
        assert kept == 0 and "found 1 digit" in message
    assert [corrector.correct(drawn(sample, 0), "5", "203.0.113.7")[0] for _ in range(4)] == [1, 1, 1, 0]


def test_a_store_of_an_earlier_schema_is_migrated_in_place(classifier, sample, tmp_path):
    """A file written by the app before visitors and reviews were kept: its rows stay, new ones get both."""
    old = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    old.execute(
        "CREATE TABLE corrections (id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, model_sha256 TEXT "
        "NOT NULL, source TEXT NOT NULL, predicted INTEGER NOT NULL, probabilities TEXT NOT NULL, label INTEGER "
        "NOT NULL CHECK (label BETWEEN 0 AND 9), seen BLOB NOT NULL, drawing BLOB)"
    )
    old.execute("INSERT INTO corrections VALUES (1, '2026-01-01', 'x', 'page', 3, '[]', 8, ?, NULL)", (bytes(784),))
    old.execute("PRAGMA user_version=1")
    old.close()
    store = Store(tmp_path / "old.sqlite")
    assert Corrector(classifier, store).correct(drawn(sample, 0), "5", "203.0.113.1")[0] == 1
    rows = store.all()
    assert [(r.label, r.visitor, r.status) for r in rows] == [(8, "", "new"), (5, store.visitor("203.0.113.1"), "new")]
