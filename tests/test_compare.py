"""python -m train.compare: the shipped model's real history against a run folder, and bad paths."""

import json

import pytest
from PIL import Image

from tests.conftest import ROOT, run_module
from train.compare import series
from train.history import HistoryError, load

SHIPPED_HISTORY = ROOT / "models" / "mnist-resnet50v2.history.json"


def test_series_turns_epochs_into_minutes_and_validation_error(tmp_path):
    rows = [
        {"epoch": i + 1, "seconds": s, "val_accuracy": a, "loss": 0.1, "val_loss": 0.1, "accuracy": 0.9}
        for i, (s, a) in enumerate([(1800, 0.9), (1800, 0.95), (3600, 0.99)])
    ]
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"epochs": rows}))
    ep, minutes, err = series(load(path))
    assert ep == [1, 2, 3] and minutes == pytest.approx([30, 60, 120]) and err == pytest.approx([10, 5, 1])
    shipped = series(load(SHIPPED_HISTORY))[2]
    assert min(shipped) < 0.4  # the shipped model validated at 99.66%


def test_cli_draws_two_runs_from_a_folder_and_a_file(tmp_path):
    run = tmp_path / "short-run"
    run.mkdir()
    history = json.loads(SHIPPED_HISTORY.read_text())
    history["epochs"] = history["epochs"][:5]
    (run / "history.json").write_text(json.dumps(history))
    out = tmp_path / "cmp.png"
    done = run_module(
        "-m", "train.compare", str(SHIPPED_HISTORY), str(run), "--labels", "shipped", "short", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (1000, 400)
        assert len(im.convert("RGB").getcolors(1 << 20)) > 50  # curves were drawn, not an empty canvas
    assert not list(tmp_path.glob(".*tmp*"))


@pytest.mark.parametrize(
    "content, says",
    [
        (None, "No training history at"),
        ("# a README, not a history\n", "is not a history.json written by `python -m train`"),
        ('{"columns": [], "epochs": [{"epoch": 1}]}', "is not a history.json"),
        ('{"columns": [], "epochs": []}', "holds no finished epoch yet"),
    ],
)
def test_a_path_that_is_not_a_history_gets_one_sentence(tmp_path, content, says):
    path = tmp_path / "history.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(HistoryError, match=says.replace("(", r"\(")):
        load(path)
    out = tmp_path / "cmp.png"
    done = run_module("-m", "train.compare", str(path), "--out", str(out))
    assert done.returncode == 1 and done.stderr.startswith("error: ") and says in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_labels_must_match_runs():
    done = run_module("-m", "train.compare", str(SHIPPED_HISTORY), str(SHIPPED_HISTORY), "--labels", "one")
    assert done.returncode == 2 and "2 runs but 1 labels" in done.stderr
