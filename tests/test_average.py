"""Weight averaging over warm restarts: BatchNorm statistics measured again, the CLI, its errors."""

import json

import numpy as np
import pytest

from demo.contract import to_model_input
from tests.conftest import FIXTURE, SHIPPED, run_module

pytestmark = pytest.mark.train


def test_batchnorm_statistics_are_measured_again_from_real_digits(imported, sample):
    """Wipe every BatchNorm's moving statistics; measuring them on 300 training digits brings the
    shipped model's answers back."""
    import keras

    from train.average import remeasure_batchnorm
    from train.from_onnx import all_layers
    from train.model import build_model

    model = build_model()
    model.set_weights(imported.get_weights())
    bns = [w for w in model.weights if "moving_" in w.path]
    assert len(bns) == 2 * 50  # 49 in the backbone, 1 in the head: mean and variance each
    for w in bns:
        w.assign(np.zeros(w.shape) if "mean" in w.path else np.ones(w.shape))
    x, y = to_model_input(sample["x_test"]), sample["y_test"]
    assert (model.predict(x, verbose=0).argmax(1) == y).mean() < 0.5

    remeasure_batchnorm(model, to_model_input(sample["x_train"][:300]), batch=100)
    probs, reference = model.predict(x, verbose=0), imported.predict(x, verbose=0)
    assert (probs.argmax(1) == y).mean() >= 0.98
    assert (probs.argmax(1) == reference.argmax(1)).mean() >= 0.99 and np.abs(probs - reference).max() < 0.2
    momenta = {layer.momentum for layer in all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)}
    assert momenta == {0.99}  # training's momentum is put back


def metrics_of(run):
    return json.loads((run / "metrics.json").read_text())


def test_cli_averages_weights_into_a_run_folder(tmp_path):
    """The shipped model averaged with itself is the shipped model, BatchNorm measured again."""
    out = tmp_path / "average"
    history = SHIPPED.with_name("mnist-resnet50v2.history.json")
    result = run_module(
        "-m",
        "train.average",
        str(SHIPPED),
        str(SHIPPED),
        "--out",
        str(out),
        "--data",
        str(FIXTURE),
        "--val-size",
        "100",
        "--bn-images",
        "300",
        "--history",
        str(history),
        str(history),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(metrics_of(out)["averaged"]["val_accuracy_each"]) == 2
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["val_accuracy"] >= 0.97 and metrics["test_accuracy"] >= 0.98 and metrics["test"]["count"] == 500
    assert metrics["averaged"]["sources"] == [str(SHIPPED)] * 2 and metrics["averaged"]["bn_images"] == 300
    epochs = json.loads((out / "history.json").read_text())["epochs"]
    shipped = json.loads(history.read_text())["epochs"]
    assert [e["epoch"] for e in epochs] == list(range(1, 2 * len(shipped) + 1))  # end to end, renumbered
    assert epochs[len(shipped)]["val_loss"] == shipped[0]["val_loss"]
    assert (out / "best.weights.h5").stat().st_size > 50e6 and not list(out.glob(".*tmp*"))


def test_cli_errors_are_one_sentence(tmp_path):
    one = run_module("-m", "train.average", str(SHIPPED), "--out", str(tmp_path / "a"), "--data", str(FIXTURE))
    assert one.returncode != 0 and "at least two sources" in one.stderr and "Traceback" not in one.stderr
    missing = run_module(
        "-m",
        "train.average",
        str(SHIPPED),
        str(tmp_path / "no-run"),
        "--out",
        str(tmp_path / "a"),
        "--data",
        str(FIXTURE),
    )
    assert missing.returncode != 0 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    history = run_module(
        "-m",
        "train.average",
        str(SHIPPED),
        str(SHIPPED),
        "--out",
        str(tmp_path / "a"),
        "--data",
        str(FIXTURE),
        "--history",
        str(tmp_path / "nope.json"),
    )
    assert history.returncode != 0 and "--history" in history.stderr and "Traceback" not in history.stderr
    assert not (tmp_path / "a").exists()


def test_the_average_is_measured_on_its_sources_own_validation_split(tmp_path):
    """A run trained with --val-size 100 must be averaged on that split, not on the default 5,000
    (4,900 of which were its training digits)."""

    from train.average import arch_of_sources, split_of
    from train.from_onnx import InitError

    runs = []
    for name, split in (("a", (100, 7)), ("b", (100, 7)), ("c", (300, 7))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({"val_size": split[0], "seed": split[1]}))
        runs.append(tmp_path / name)
    assert split_of(runs[:2]) == (100, 7)
    assert split_of([runs[0] / "best.weights.h5", runs[1]]) == (100, 7)
    assert split_of([SHIPPED, SHIPPED]) == (5000, 42)  # the export's metadata records its recipe
    assert split_of([tmp_path / "x.weights.h5"], val_size=200) == (200, 42)
    with pytest.raises(InitError, match="different validation splits"):
        split_of(runs)
    assert split_of(runs[:2], val_size=5000) == (5000, 7)  # said out loud: another data file, say

    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "config.json").write_text(json.dumps({"val_size": 100, "seed": 7, "arch": "tiny"}))
    assert arch_of_sources([runs[0], SHIPPED]) == "resnet50v2"  # runs from before --arch are ResNet50V2
    assert arch_of_sources([tmp_path / "t", tmp_path / "t" / "best.weights.h5"]) == "tiny"
    with pytest.raises(InitError, match="different networks"):
        arch_of_sources([tmp_path / "t", runs[0]])
