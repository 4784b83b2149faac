"""A few real training steps on real digits, a resume, then export and ONNX-vs-Keras parity."""
import json

import numpy as np
import onnx
import pytest

from demo.classifier import Classifier
from demo.contract import DESCRIPTION, INPUT_SHAPE, to_model_input
from tests.conftest import FIXTURE, run_module

QUICK = ["--data", str(FIXTURE), "--val-size", "100", "--batch-size", "32", "--steps-per-epoch", "2",
         "--limit-test", "100", "--verbose", "2"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    first = run_module("-m", "train", *QUICK, "--epochs", "2", "--out", str(out), "--time-budget", "0.01")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "time budget" in first.stdout, first.stdout[-2000:]     # stopped cleanly after epoch 1
    resumed = run_module("-m", "train", *QUICK, "--epochs", "2", "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return out, first.stdout, resumed.stdout


def test_time_budget_stops_at_an_epoch_and_resume_continues(run_dir):
    out, first, resumed = run_dir
    assert "Resuming" in resumed and "after epoch 1" in resumed
    state = json.loads((out / "state.json").read_text())
    assert [h["epoch"] for h in state["history"]] == [1, 2]
    history = json.loads((out / "history.json").read_text())["epochs"]
    assert len(history) == 2 and {"loss", "val_accuracy", "learning_rate", "seconds"} <= set(history[0])
    assert (out / "curves.png").stat().st_size > 1000 and (out / "history.csv").read_text().count("\n") == 3
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["count"] == 100 and len(metrics["test"]["confusion"]) == 10
    assert sum(map(sum, metrics["test"]["confusion"])) == 100


def test_export_writes_a_contract_onnx_that_matches_keras(run_dir, sample):
    out = run_dir[0]
    dest = out / "exported.onnx"
    result = run_module("-m", "export", "--run", str(out), "--out", str(dest), "--data", str(FIXTURE),
                        "--parity", "256")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "parity on 256 test digits" in result.stdout and "argmax agreement 100.00%" in result.stdout
    meta = {p.key: p.value for p in onnx.load(str(dest), load_external_data=False).metadata_props}
    assert json.loads(meta["labels"]) == [str(d) for d in range(10)] and meta["contract"] == DESCRIPTION
    assert 0.0 <= float(meta["test_accuracy"]) <= 1.0 and meta["history"] == "exported.history.json"
    assert (out / "exported.history.json").exists() and (out / "exported.metrics.json").exists()

    clf = Classifier(dest)   # the app's loader accepts it
    probs = clf.predict_batch(to_model_input(sample["x_test"][:8]))
    assert probs.shape == (8, 10) and np.allclose(probs.sum(1), 1, atol=1e-4)
    assert clf.session.get_inputs()[0].shape[1:] == list(INPUT_SHAPE)


def test_export_without_a_trained_run_says_what_to_do(tmp_path):
    result = run_module("-m", "export", "--run", str(tmp_path), "--out", str(tmp_path / "m.onnx"),
                        "--data", str(FIXTURE))
    assert result.returncode != 0 and "train first" in result.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_training_cli_help_and_bad_data_path():
    assert "--time-budget" in run_module("-m", "train", "--help").stdout
    result = run_module("-m", "train", "--data", "/nonexistent/mnist.npz")
    assert result.returncode != 0 and "does not exist" in result.stderr and "Traceback" not in result.stderr
