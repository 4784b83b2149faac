"""The shipped ONNX model: accuracy on real test digits, through the same code the app uses."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from bench.dotted import dotted
from demo.classifier import Classifier, ModelError
from demo.contract import to_model_input
from demo.preprocess import bridged
from tests.conftest import SHIPPED
from train.drawn import place_digit, sketch_value


def test_shipped_model_classifies_real_test_digits(classifier, sample):
    probs = classifier.predict_batch(to_model_input(sample["x_test"]))
    accuracy = (probs.argmax(1) == sample["y_test"]).mean()
    assert accuracy > 0.98, f"{accuracy:.2%} on {len(probs)} real MNIST test digits"
    assert np.allclose(probs.sum(1), 1.0, atol=1e-4)


def test_shipped_model_reads_real_digits_drawn_on_a_canvas(classifier, sample):
    """Real digits as drawings: big, small, off-centre; through the Sketchpad value and `predict` (a digit
    preprocessing refuses counts as a miss)."""
    placements = [(0.7, (0.5, 0.5)), (0.3, (0.25, 0.7)), (0.5, (0.7, 0.35))]
    hits = total = 0
    for i, (digit, label) in enumerate(zip(sample["x_test"][:300], sample["y_test"][:300])):
        height, center = placements[i % 3]
        total += 1
        try:
            pred = classifier.predict(sketch_value(place_digit(digit, 400, height, center)), k=3)
        except ValueError:
            continue
        probs = [p for _, p in pred.top]
        assert len(pred.top) == 3 and probs == sorted(probs, reverse=True) and pred.confidence == probs[0]
        hits += pred.digit == label
    assert hits / total > 0.97, f"{hits}/{total}"


def test_metadata_describes_the_shipped_model(classifier):
    meta = classifier.metadata
    assert float(meta["test_accuracy"]) > 0.985 and int(meta["epochs"]) >= 2
    assert (SHIPPED.parent / meta["history"]).is_file() and (SHIPPED.parent / meta["metrics"]).is_file()


def tiny_model(path, input_name="image", shape=(None, 32, 32, 1), output_name="probabilities"):
    """A real, loadable ONNX file with whatever interface a test needs."""
    inp = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(shape))
    out = helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [None, 10])
    node = helper.make_node("Flatten", [input_name], ["flat"])
    features = int(np.prod(shape[1:]))
    w = helper.make_tensor("w", TensorProto.FLOAT, [features, 10], np.zeros(features * 10))
    nodes = [
        node,
        helper.make_node("MatMul", ["flat", "w"], ["logits"]),
        helper.make_node("Softmax", ["logits"], [output_name]),
    ]
    graph = helper.make_graph(nodes, "tiny", [inp], [out], initializer=[w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_a_conforming_model_loads(tmp_path):
    clf = Classifier(tiny_model(tmp_path / "ok.onnx"))
    assert clf.predict_batch(np.zeros((2, 32, 32, 1), np.float32)).shape == (2, 10)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: p, "does not exist"),
        (lambda p: (p.write_bytes(b"this is not onnx"), p)[1], "not a readable ONNX model"),
        (lambda p: (p.write_bytes(SHIPPED.read_bytes()[:100_000]), p)[1], "not a readable ONNX model"),
        (lambda p: tiny_model(p, input_name="input_1"), "input should be 'image'"),
        (lambda p: tiny_model(p, shape=(None, 28, 28, 1)), r"float \[N, 32, 32, 1\]"),
        (lambda p: tiny_model(p, output_name="dense_3"), "output should be 'probabilities'"),
    ],
)
def test_bad_model_files_get_one_clear_sentence(tmp_path, make, message):
    path = make(tmp_path / "model.onnx")
    with pytest.raises(ModelError, match=message) as err:
        Classifier(path)
    assert str(path) in str(err.value) and "python -m train" in str(err.value)


def test_a_dotted_stroke_reads_as_the_whole_stroke(classifier, sample):
    """Real digits cut into pieces by blank rows (a dotted or broken stroke) read as they do whole: the
    gaps are closed before the model sees them. A digit in one or two pieces is left exactly as it is."""
    digits = [(d, y) for d, y in zip(sample["x_test"], sample["y_test"])][:120]
    hits = 0
    for i, (digit, label) in enumerate(digits):
        try:
            hits += (
                classifier.predict(sketch_value(place_digit(dotted(digit, "rows", 4 + i % 3), 300, 0.7))).digit == label
            )
        except ValueError:
            pass
    assert hits >= 0.97 * len(digits), f"{hits}/{len(digits)}"
    two_strokes = np.zeros((80, 60), np.float32)
    two_strokes[5:11, 25:55] = two_strokes[14:75, 10:16] = 1  # a flag lifted off its stem, a gap of 3 px
    assert bridged(two_strokes) is two_strokes
