"""The review of corrections: real MNIST digits kept by an honest visitor and by one who labels 3s as 8;
the report names the second, the contact sheets show every row, and the command line rejects in bulk so
that rejected rows neither export nor train."""

import numpy as np
from PIL import Image

from demo.contract import to_model_input
from demo.correction_store import Correction
from demo.review import contact_sheets, report, suspects
from demo.sqlite_store import Store
from tests.conftest import run_module


def kept(sample, store, classifier):
    """30 honest corrections (their true labels) and 30 poisoned ones (3s labelled 8), stored as the app does."""
    x, y = sample["x_test"], sample["y_test"]
    honest = [i for i in range(200) if y[i] != 3][:30]
    threes = np.flatnonzero(y == 3)[:30]
    seen = x[np.r_[honest, threes]].astype(np.float32) / 255
    probs = classifier.predict_batch(to_model_input(seen))
    labels = [int(y[i]) for i in honest] + [8] * len(threes)
    for k, (s, p, label) in enumerate(zip(seen, probs, labels)):
        row = Correction(label=label, predicted=int(p.argmax()), probabilities=p.tolist(), seen=s)
        store.add([row], "198.51.100.7" if k < len(honest) else "203.0.113.66", 1000)
    return store.all()


def test_the_review_names_the_visitor_who_poisons_and_not_the_honest_one(sample, classifier, tmp_path):
    store = Store(tmp_path / "c.sqlite")
    rows = kept(sample, store, classifier)
    predicted = classifier.predict_batch(to_model_input(np.stack([r.seen for r in rows]))).argmax(-1).tolist()
    poisoner = store.visitor("203.0.113.66")
    assert suspects(rows, predicted) == [poisoner]
    text = report(rows, predicted, "the shipped model")
    assert f"Look at visitor {poisoner}" in text and "30 labelled 8, read 3" in text
    assert "198.51.100.7" not in text and "203.0.113.66" not in text  # keys, never addresses
    sheets = contact_sheets(rows, predicted, tmp_path / "sheets")
    assert [p.name for p in sheets] == [f"digit-{d}.png" for d in sorted({r.label for r in rows})]
    eights = Image.open(tmp_path / "sheets" / "digit-8.png")
    assert eights.size[0] == 56 * 20 and eights.size[1] >= 56 * 2  # the 30 poisoned 8s and the honest ones


def test_the_command_line_rejects_a_visitor_and_rejected_rows_leave_the_export(sample, classifier, tmp_path):
    store = Store(tmp_path / "c.sqlite")
    kept(sample, store, classifier)
    poisoner = store.visitor("203.0.113.66")
    db = store.path
    looked = run_module(
        "-m", "demo.corrections", "--corrections", db, "review", "--sheets", tmp_path / "s", timeout=120
    )
    assert looked.returncode == 0 and f"Look at visitor {poisoner}" in looked.stdout, looked.stderr
    rejected = run_module(
        "-m", "demo.corrections", "--corrections", db, "review", "--reject-visitor", poisoner, timeout=120
    )
    assert rejected.returncode == 0 and f"rejected 30 corrections of visitor {poisoner}" in rejected.stdout
    assert [r.status for r in store.all()].count("rejected") == 30
    assert "No visitor stands out" in rejected.stdout  # what is rejected is no longer named
    out = tmp_path / "c.npz"
    assert run_module("-m", "demo.corrections", "--corrections", db, "export", out, timeout=60).returncode == 0
    with np.load(out) as f:
        assert len(f["y"]) == 30 and 8 not in f["y"][f["predicted"] == 3]
