"""The confidence's temperature: the maths, the fit, and the card written to the model file and read back
by the classifier, on real digits."""

import shutil

import numpy as np

from demo.classifier import Classifier, with_temperature
from demo.contract import to_model_input
from export.calibrate import fit_temperature, reliability, write_temperature
from tests.conftest import SHIPPED


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_temperature_rescales_the_logits_behind_a_softmax():
    z = np.random.default_rng(0).normal(0, 3, (50, 10))
    assert np.allclose(with_temperature(softmax(z).astype(np.float32), 0.5), softmax(z / 0.5), atol=1e-5)
    p = softmax(z).astype(np.float32)
    assert with_temperature(p, 1.0) is p


def test_the_fit_finds_the_temperature_that_made_the_labels():
    """Labels drawn from softmax(z / 0.6): the fit on softmax(z) says 0.6, and then the ECE is small."""
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2.5, (20000, 10))
    true = softmax(z / 0.6)
    y = np.array([rng.choice(10, p=p) for p in true])
    t = fit_temperature(softmax(z).astype(np.float32), y)
    assert abs(t - 0.6) <= 0.05
    assert reliability(with_temperature(softmax(z), t), y)[0] < 0.02 < reliability(softmax(z), y)[0]


def test_the_temperature_goes_into_the_card_and_every_reading(sample, tmp_path):
    model = tmp_path / "m.onnx"
    shutil.copy(SHIPPED, model)
    write_temperature(model, 2.0)
    warm, plain = Classifier(model), Classifier(model)
    assert warm.card.temperature == 2.0 and warm.temperature == 2.0
    x = to_model_input(sample["x_test"][:64])
    raw = plain.predict_batch(x, calibrated=False)
    soft = warm.predict_batch(x)
    assert (soft.argmax(1) == raw.argmax(1)).all() and (soft.max(1) < raw.max(1)).all()
    assert warm.predict_prepared([(x[:1], None)])[0].confidence == soft[0].max()  # the API and the page
