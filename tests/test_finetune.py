"""python -m train.finetune on corrections kept by the app's own code, then export: the model card
says how many corrections it learned from, and epoch 0 (the starting model) is always a candidate."""

import json

import numpy as np
import pytest

from demo.canvas import CANVAS_H, CANVAS_W
from demo.card_markdown import model_card
from demo.classifier import Classifier
from demo.correct import Corrector
from demo.serving.limits import RateLimit
from demo.sqlite_store import Store
from tests.conftest import FIXTURE, SHIPPED, run_module
from train.drawn import place_digit, sketch_value

pytestmark = pytest.mark.train


def drawn(sample, i):
    ink = place_digit(sample["x_test"][i], CANVAS_H, 0.6)
    return sketch_value(np.pad(ink, ((0, 0), (0, CANVAS_W - CANVAS_H))))


def test_finetune_then_export_carries_the_corrections_into_the_card(classifier, sample, tmp_path):
    from train.finetune import parser

    store = Store(tmp_path / "c.sqlite")
    corrector = Corrector(classifier, store, RateLimit(per_key=100, total=100))
    for i in range(20):
        assert corrector.correct(drawn(sample, i), str(sample["y_test"][i]), "t")[0] == 1
    out = tmp_path / "ft"
    tuned = run_module(
        "-m",
        "train.finetune",
        "--corrections",
        store.path,
        "--init",
        SHIPPED,
        "--out",
        out,
        "--data",
        FIXTURE,
        "--val-size",
        "100",
        "--split-seed",
        "0",
        "--epochs",
        "1",
        "--repeat",
        "1",
        "--replay",
        "1",
        "--limit-test",
        "100",
        "--eager",  # two steps: no graph to trace
        timeout=900,
    )
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    assert "20 corrections; read by the kept model" in tuned.stdout  # the review, with what the kept model reads
    assert sorted(p.name for p in (out / "review").glob("*.png")) == sorted(
        {f"digit-{sample['y_test'][i]}.png" for i in range(20)}
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["val_images"] == 100
    (epoch1,) = json.loads((out / "history.json").read_text())["epochs"]
    digit_tolerance = parser().get_default("digit_tolerance")
    if metrics["best_epoch"] == 1:  # kept: its scores are the epoch's own, and no digit lost past the guard
        assert metrics["corrections_val_accuracy"] == epoch1["corrections_val_accuracy"]
        assert metrics["val_accuracy"] == round(epoch1["val_accuracy"], 5)
        assert metrics["val_worst_digit_lost"] == epoch1["worst_digit_lost"] <= digit_tolerance
    else:  # the starting model stayed: the epoch did not beat it on the held-out corrections, or lost MNIST
        assert metrics["best_epoch"] == 0 and metrics["val_accuracy"] == metrics["val_before"]
        worse_on_mnist = (
            epoch1["val_accuracy"] < metrics["val_before"] - parser().get_default("tolerance")
            or epoch1["worst_digit_lost"] > digit_tolerance
        )
        assert worse_on_mnist or epoch1["corrections_val_accuracy"] <= metrics["corrections_val_before"]
    assert metrics["val_accuracy"] >= metrics["val_before"] - 0.0005  # never worse on validation than the start
    exported = run_module(
        "-m", "export", "--run", out, "--data", FIXTURE, "--limit-test", "100", "--out", out / "m.onnx", timeout=900
    )
    assert exported.returncode == 0, exported.stderr[-3000:]
    tuned_model = Classifier(out / "m.onnx")
    tuned_card = tuned_model.card.recipe["finetune"]
    assert tuned_card["corrections"] == 20 == tuned_card["corrections_train"] + tuned_card["corrections_val"]
    assert f"Fine-tuned on {tuned_card['corrections_train']} corrections" in model_card(tuned_model, metrics)
    ok = [tuned_model.predict(drawn(sample, i)).digit == sample["y_test"][i] for i in range(20, 60)]
    assert sum(ok) >= 38


def test_replay_evens_out_the_digits_the_corrections_tilt():
    from train.tune import balanced_replay

    y_corrections = np.array([0] * 80 + [7] * 80)
    pool = np.repeat(np.arange(10), 5000)
    replay = balanced_replay(y_corrections, repeat=4, replay=6, y_pool=pool)
    seen = replay + np.bincount(y_corrections, minlength=10) * 4
    assert seen.max() - seen.min() <= 1 and replay.sum() == 6 * 640
    assert replay[0] == replay[7] < replay[1]


def test_an_epoch_that_trades_one_digit_for_another_is_not_kept():
    from train.finetune import parser
    from train.tune import guarded

    args = parser().parse_args([])
    start = np.full(10, 0.997)
    traded = start.copy()
    traded[3] -= 0.004  # two of ~500 validation 3s read as 8s ...
    traded[8] += 0.004  # ... and two 8s more read right: the mean is unchanged
    one = start.copy()
    one[3] -= 0.002  # one validation 3 of ~500
    assert not guarded(start, traded, 0.997, 0.997, args)
    assert guarded(start, one, 0.997, 0.9968, args)
    assert not guarded(start, start, 0.997, 0.997 - 0.001, args)  # the mean's own tolerance still holds


def test_repeated_taps_on_one_drawing_become_one_row_with_its_latest_label():
    """Otherwise the same 28x28 input can sit on both sides of the split and flatter the held-out score."""
    from train.finetune import split_corrections, unique_inputs

    rng = np.random.default_rng(0)
    digits = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    x = np.concatenate([digits, digits[:10], digits[:10]])  # ten drawings tapped three times
    y = np.concatenate([np.arange(30) % 10, (np.arange(10) + 1) % 10, (np.arange(10) + 2) % 10])
    ux, uy = unique_inputs(x, y)
    assert len(ux) == 30 and len({d.tobytes() for d in ux}) == 30
    latest = {d.tobytes(): label for d, label in zip(x, y)}
    assert all(latest[d.tobytes()] == label for d, label in zip(ux, uy))
    tr, va = split_corrections(uy, 0.2, 0)
    assert not {ux[i].tobytes() for i in tr} & {ux[i].tobytes() for i in va}
