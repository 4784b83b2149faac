"""A few real training steps on real digits, a resume, then export and ONNX-vs-Keras parity. The run
mechanics (pause, kill, resume, restarts, averaging, budgets, strategies) are the same for every network,
so they run on the tiny stand-in (`--arch tiny`); what is ResNet50V2's own (the graph rewrites, its
weights) is tested on the shipped model's."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import onnx
import pytest

from demo.card import ModelCard
from demo.card_markdown import model_card
from demo.classifier import Classifier
from demo.contract import DESCRIPTION, INPUT_SHAPE, to_model_input
from tests.conftest import FIXTURE, ROOT, TRAIN_SMOKE, run_module

pytestmark = pytest.mark.train

QUICK = ["--arch", "tiny", *TRAIN_SMOKE]


def train_until_killed(out, marker):
    """Resume a training run and SIGKILL it as soon as it prints `marker`. Its epochs are one digit a step
    over all the training digits, so the kill lands inside one (the tiny network's usual 2-step epoch
    could end before the signal arrives)."""
    slow = ["--batch-size", "1", "--steps-per-epoch", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "train", *QUICK, *slow, "--epochs", "3", "--out", str(out), "--resume"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            proc.kill()
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen[-30:])
    return "".join(seen)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """Epoch 1, paused by the time budget; epoch 2 killed half-way; then resumed to the end: the
    main run, two one-epoch warm restarts, their weights averaged."""
    out = tmp_path_factory.mktemp("run")
    first = run_module("-m", "train", *QUICK, "--epochs", "3", "--out", str(out), "--pause-after", "0.01")
    assert first.returncode == 0, first.stderr[-3000:]
    paused = json.loads((out / "state.json").read_text())
    assert paused["epoch"] == 1 and paused["stop"] == "time budget", paused  # paused cleanly after epoch 1
    train_until_killed(out, "Epoch 2/3")
    assert json.loads((out / "state.json").read_text())["epoch"] == 1  # the kill lost epoch 2 only
    resumed = run_module(
        "-m", "train", *QUICK, "--epochs", "3", "--out", str(out), "--resume", "--restart-epochs", "1", "1"
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return out, first.stdout, resumed.stdout


def test_time_budget_pause_kill_and_resume_give_one_continuous_run(run_dir):
    out, first, resumed = run_dir
    assert not list(out.glob("*.tmp*")), "a killed run left a temp file"
    state = json.loads((out / "state.json").read_text())
    assert [h["epoch"] for h in state["history"]] == [1, 2, 3]
    # the cosine schedule went on from the saved optimizer step: it decays to 0 at the last step
    lrs = [h["learning_rate"] for h in state["history"]]
    assert lrs[0] > lrs[1] > lrs[2] and lrs[2] < 1e-6
    history = json.loads((out / "history.json").read_text())["epochs"]
    assert len(history) == 3 and {"loss", "val_accuracy", "learning_rate", "seconds"} <= set(history[0])
    assert (out / "curves.png").stat().st_size > 1000 and (out / "history.csv").read_text().count("\n") == 4
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["count"] == 100 and len(metrics["test"]["confusion"]) == 10
    assert sum(map(sum, metrics["test"]["confusion"])) == 100 and metrics["epochs_run"] == 3


def test_each_warm_restart_starts_from_the_best_weights_before_it(run_dir):
    out, _, resumed = run_dir
    for folder, init, lr in (("restart", out, 4e-4), ("restart2", out / "restart", 3e-4)):
        config = json.loads((out / folder / "config.json").read_text())
        assert config["init"] == str(init / "best.weights.h5") and config["epochs"] == 1 and config["lr"] == lr
        state = json.loads((out / folder / "state.json").read_text())
        assert [h["epoch"] for h in state["history"]] == [1] and (out / folder / "best.weights.h5").exists()
        assert json.loads((out / folder / "metrics.json").read_text())["test"]["count"] == 100
    # the parts of the run, side by side (python -m train.compare reads the run folders as written)
    done = run_module("-m", "train.compare", str(out), str(out / "restart"), "--out", str(out / "cmp.png"))
    assert done.returncode == 0 and (out / "cmp.png").stat().st_size > 1000, done.stderr


def test_the_recipe_ends_with_the_restart_cycles_weights_averaged(run_dir):
    import keras

    from train.model import build_model

    out, _, resumed = run_dir
    averaged = json.loads((out / "average" / "config.json").read_text())["averaged"]
    assert averaged["sources"] == [str(out / "restart"), str(out / "restart2")]
    metrics = json.loads((out / "average" / "metrics.json").read_text())
    assert metrics["test"]["count"] == 100 and metrics["epochs_run"] == 5  # 3 + 1 + 1, end to end
    assert [h["epoch"] for h in json.loads((out / "average" / "history.json").read_text())["epochs"]] == [1, 2, 3, 4, 5]
    models = []
    for folder in ("restart", "restart2", "average"):
        models.append(build_model("tiny"))
        models[-1].load_weights(out / folder / "best.weights.h5")
    a, b, avg = ({w.path: keras.ops.convert_to_numpy(w) for w in m.weights} for m in models)
    learned = [k for k in avg if "moving_" not in k]
    assert len(learned) == len(models[-1].trainable_weights) == 8 and all(
        np.allclose(avg[k], (a[k] + b[k]) / 2, atol=1e-6) for k in learned
    )
    assert not all(np.allclose(avg[k], (a[k] + b[k]) / 2) for k in avg if "moving_" in k)  # measured again


def test_export_writes_a_contract_onnx_that_matches_keras(run_dir, sample):
    out = run_dir[0] / "average"  # the recipe's final model
    dest = out / "exported.onnx"
    int8 = out / "exported.int8.onnx"
    result = run_module(
        "-m", "export", "--run", str(out), "--out", str(dest), "--data", str(FIXTURE), "--parity", "256",
        "--int8", str(int8), "--calibration", "100",
        "--int8-tolerance", "1",  # the tiny network reads near chance either way; the refusal is tested below
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    quantized = ModelCard.from_metadata({p.key: p.value for p in onnx.load(str(int8)).metadata_props})
    assert "on 96 training digits" in quantized.quantization  # whole batches of 32, and it says so
    assert quantized.temperature and 0.2 <= quantized.temperature <= 3.0
    parity = json.loads((out / "exported.metrics.json").read_text())["parity"]
    assert parity["digits"] == 256 and parity["argmax_agreement"] == 1.0 and parity["max_abs_diff"] < 1e-4
    meta = {p.key: p.value for p in onnx.load(str(dest), load_external_data=False).metadata_props}
    card = ModelCard.from_metadata(meta)  # every field of the card, typed
    assert card.labels == [str(d) for d in range(10)] and card.contract == DESCRIPTION and card.extra == {}
    assert 0.0 <= card.test_accuracy <= 1.0 and card.history == "exported.history.json" and card.epochs == 5
    assert (out / "exported.history.json").exists() and card.recipe["val_size"] == 100
    assert card.temperature and 0.2 <= card.temperature <= 3.0  # export.calibrate fitted it on validation
    from export.quantize import QuantizeError, quantize

    refused = out / "refused.int8.onnx"
    x = to_model_input(sample["x_test"][:64])
    with pytest.raises(QuantizeError, match="not written"):  # int8 must beat fp32 by a point: it cannot
        quantize(dest, refused, x, x, sample["y_test"][:64], tolerance=-0.01)
    assert not refused.exists()

    clf = Classifier(dest)  # the app's loader accepts it
    probs = clf.predict_batch(to_model_input(sample["x_test"][:8]))
    assert probs.shape == (8, 10) and np.allclose(probs.sum(1), 1, atol=1e-4)
    assert clf.session.get_inputs()[0].shape[1:] == list(INPUT_SHAPE)
    card = model_card(clf, json.loads((out / "exported.metrics.json").read_text()))
    assert "the weights at the end of 2 training cycles averaged" in card and "**Weight averaging**" in card
    assert "the tiny stand-in CNN from" in card  # the card names the network the run trained


def test_graph_rewrites_change_no_answer_and_drop_a_quarter_of_the_bytes(imported, sample, tmp_path):
    """tf2onnx's graph of the shipped ResNet50V2 against the rewritten one, both run by onnxruntime on real
    digits."""
    from export.graph import optimize
    from export.onnx_export import run_onnx, to_onnx
    from export.onnx_io import session

    plain = to_onnx(imported, rewrite=False)
    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(plain)
    counts = optimize(rewritten)
    # tf2onnx's transpose optimizer places the [-1,C,1,1] Reshapes by the weights' values (9 or 10 seen)
    reshapes = [n.op_type for n in plain.graph.node].count("Reshape")
    assert counts == {"affine_to_batchnorm": 17, "dead_taps_cropped": 4, "identity_reshapes_dropped": reshapes}
    assert reshapes >= 8
    x = to_model_input(sample["x_test"][:64])
    before, after = run_onnx(session(plain), x), run_onnx(session(rewritten), x)
    assert np.abs(before - after).max() < 1e-5 and (before.argmax(1) == after.argmax(1)).all()
    ops = [n.op_type for n in rewritten.graph.node]
    plain_ops = [n.op_type for n in plain.graph.node]
    assert ops.count("BatchNormalization") == 17 and ops.count("Mul") < plain_ops.count("Mul")
    assert ops.count("Reshape") == 0 and rewritten.ByteSize() < 0.8 * plain.ByteSize()
    assert set(optimize(rewritten).values()) == {0}  # idempotent

    missing = run_module("-m", "export.graph", str(tmp_path / "none.onnx"), str(tmp_path / "out.onnx"))
    assert missing.returncode != 0 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr


def test_time_budget_fits_the_schedule_to_the_minutes_and_ends_the_run_there(tmp_path):
    """--time-budget: the cosine runs on the clock, so the learning rate is near zero when the minutes
    are spent, and the run ends there rather than at --epochs."""
    budget_s, peak = 10, 2e-3
    args = [*QUICK, "--epochs", "500", "--warmup-epochs", "1", "--time-budget", str(budget_s / 60)]
    result = run_module("-m", "train", *args, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["stop"] == "time budget spent" and 3 <= state["epoch"] < 500, state["stop_detail"]
    seconds = [h["seconds"] for h in state["history"]]
    # it ends inside the minutes, its last validation and checkpoint included, and not an epoch short of
    # them; half a second for a busy 2-core machine's scheduling
    assert budget_s - max(seconds[1:]) - 0.5 <= sum(seconds) <= budget_s + 0.5, seconds
    lrs = [h["learning_rate"] for h in state["history"]]
    assert lrs[1:] == sorted(lrs[1:], reverse=True) and lrs[-1] < 0.1 * peak  # epoch 1 ends in the warm-up
    assert json.loads((tmp_path / "metrics.json").read_text())["stop_reason"] == "time budget spent"


def test_a_restart_exports_with_the_cycles_before_it_in_its_history(run_dir):
    """A warm restart shipped alone: its curves and card count the main cycle's epochs too."""
    out = run_dir[0]
    dest = out / "restart" / "joined.onnx"
    result = run_module(
        "-m", "export", "--run", str(out / "restart"), "--out", str(dest), "--data", str(FIXTURE),
        "--history-before", str(out), "--temperature-digits", "100",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    main = json.loads((out / "history.json").read_text())["epochs"]
    own = json.loads((out / "restart" / "history.json").read_text())["epochs"]
    joined = json.loads((out / "restart" / "joined.history.json").read_text())["epochs"]
    assert [h["epoch"] for h in joined] == [1, 2, 3, 4] and joined[3]["val_loss"] == own[0]["val_loss"]
    assert [h["val_loss"] for h in joined[:3]] == [h["val_loss"] for h in main]
    metrics = json.loads((out / "restart" / "joined.metrics.json").read_text())
    assert metrics["epochs_run"] == 4 and metrics["best_epoch"] == 4 and metrics["history_before"] == [str(out)]
    assert metrics["train_seconds_total"] >= sum(h["seconds"] for h in main + own) - 0.1
    meta = {p.key: p.value for p in onnx.load(str(dest), load_external_data=False).metadata_props}
    assert ModelCard.from_metadata(meta).epochs == 4 and ModelCard.from_metadata(meta).best_epoch == 4
    wrong = run_module(
        "-m", "export", "--run", str(out), "--out", str(out / "no.onnx"), "--history-before", str(out / "no.json")
    )  # told before TensorFlow loads, and nothing is written
    assert wrong.returncode != 0 and "--history-before" in wrong.stderr and "Traceback" not in wrong.stderr
    assert not (out / "no.onnx").exists()


def test_export_without_a_trained_run_says_what_to_do(tmp_path):
    result = run_module(
        "-m", "export", "--run", str(tmp_path), "--out", str(tmp_path / "m.onnx"), "--data", str(FIXTURE)
    )
    assert result.returncode != 0 and "train first" in result.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_training_cli_help_and_bad_data_path(tmp_path):
    assert "--time-budget" in run_module("-m", "train", "--help").stdout
    result = run_module("-m", "train", "--data", "/nonexistent/mnist.npz", "--out", str(tmp_path / "run"))
    assert result.returncode != 0 and "does not exist" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    """tf.distribute.MirroredStrategy, as on a 2-GPU machine: global batch and LR scale with replicas."""
    result = run_module(
        "-m",
        "train",
        *QUICK,
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--out",
        str(tmp_path),
        "--strategy",
        "mirrored",
        "--cpu-replicas",
        "2",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["replicas"] == 2 and config["batch_size"] == 32 and config["lr"] == 0.004  # 2e-3 x 2
    assert json.loads((tmp_path / "metrics.json").read_text())["test"]["count"] == 100
