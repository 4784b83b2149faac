"""--init: training starts again from the shipped ONNX model (it ships without Keras weights)."""

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from demo.contract import to_model_input
from tests.conftest import ROOT, SHIPPED, TRAIN_SMOKE, run_module

pytestmark = pytest.mark.train


def test_imported_weights_compute_the_onnx_function(imported, sample, classifier):
    x = to_model_input(sample["x_test"][:128])
    keras_probs = imported.predict(x, verbose=0)
    onnx_probs = classifier.predict_batch(x, calibrated=False)  # the softmax the graph computes
    assert np.abs(keras_probs - onnx_probs).max() < 1e-4
    assert (keras_probs.argmax(1) == sample["y_test"][:128]).mean() >= 0.97


def test_imported_batchnorm_statistics_make_training_mode_work(imported, sample):
    """BatchNorm in training uses each batch's statistics: with gamma and beta rebuilt from measured
    statistics, a training step starts from the shipped model's answers, not from noise."""
    x, y = to_model_input(sample["x_test"][200:456]), sample["y_test"][200:456]
    kept = imported.get_weights()  # a training-mode call moves the BatchNorm statistics; the fixture is shared
    try:
        train_mode = imported(x, training=True).numpy()
    finally:
        imported.set_weights(kept)
    assert (train_mode.argmax(1) == y).mean() >= 0.95


def test_an_onnx_file_of_another_model_is_refused(tmp_path):
    from train.from_onnx import InitError, load_onnx_into
    from train.model import build_model

    path = tmp_path / "identity.onnx"
    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    onnx.save(helper.make_model(graph), path)
    with pytest.raises(InitError, match="does not hold the weights of this network, mnist_resnet50v2"):
        load_onnx_into(build_model(), path, np.zeros((8, 32, 32, 1), np.float32))


def test_cli_continues_training_from_the_shipped_model(tmp_path):
    result = run_module(
        "-m",
        "train",
        *TRAIN_SMOKE,
        "--epochs",
        "1",
        "--lr",
        "1e-6",
        "--out",
        str(tmp_path),
        "--init",
        str(SHIPPED),
        "--eager",  # two steps: tracing ResNet50V2's training step would take longer than running them
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["val_accuracy"] >= 0.97 and metrics["test_accuracy"] >= 0.97  # a fresh model scores ~0.1
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["init"] == str(SHIPPED) and config["eager"] is True
    # the best epoch's file holds the 96 MB of weights alone, not AdamW's two moments beside them (289 MB)
    assert 90e6 < (tmp_path / "best.weights.h5").stat().st_size < 100e6


def test_cli_init_with_a_missing_file_says_so_before_loading_anything(tmp_path):
    result = run_module(
        "-m", "train", *TRAIN_SMOKE, "--out", str(tmp_path / "run"), "--init", str(tmp_path / "no.onnx")
    )
    assert result.returncode != 0 and "no such file" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_files_that_are_not_weights_are_refused(tmp_path):
    from train.from_onnx import InitError, start_from
    from train.model import build_model

    model = build_model()
    with pytest.raises(InitError, match="cannot load these weights into mnist_resnet50v2"):
        start_from(model, ROOT / "README.md", None)
    garbage = tmp_path / "bad.onnx"
    garbage.write_bytes(b"not a protobuf at all")
    with pytest.raises(InitError, match="is not a readable ONNX file"):
        start_from(model, garbage, None)
    with pytest.raises(InitError, match="pass the fp32 export"):  # int8 weights sit behind DequantizeLinear
        start_from(model, SHIPPED.with_name("mnist-resnet50v2.int8.onnx"), None)
