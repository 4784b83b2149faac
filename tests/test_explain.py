"""Occlusion explanations on real digits: the strokes marked as evidence for the answer are the ones the
model needs, and the page gets them as an inline image with a key."""

import numpy as np

from demo.contract import to_model_input
from demo.explain import occlusion
from demo.handlers import Reader
from train.drawn import place_digit, sketch_value


def test_the_evidence_is_what_the_model_needs(classifier, sample):
    """Hiding the ink marked as the strongest evidence hurts the answer more than hiding the weakest."""
    more_hurt = 0
    for i in range(20):
        digit = sample["x_test"][i].astype(np.float32) / 255
        ex = occlusion(digit, classifier.predict_batch)
        ink = digit > 0.05
        order = np.argsort(ex.evidence[ink])
        k = max(1, len(order) // 4)
        strongest, weakest = digit.copy(), digit.copy()
        strongest[tuple(np.argwhere(ink)[order[-k:]].T)] = 0
        weakest[tuple(np.argwhere(ink)[order[:k]].T)] = 0
        p = classifier.predict_batch(to_model_input(np.stack([strongest, weakest])))[:, ex.top]
        more_hurt += p[0] < p[1]
        assert ex.top == int(classifier.predict_batch(to_model_input(digit)).argmax())
        assert (ex.evidence[~ink] == 0).all()
    assert more_hurt >= 17


def test_why_shows_one_explanation_per_digit(classifier, sample):
    reader = Reader(classifier)
    one = sketch_value(place_digit(sample["x_test"][1], 300, 0.7))
    html = reader.why(one)
    assert html.count('<img src="data:image/png;base64,') == 1 and "orange" in html and "blue" in html
    empty = sketch_value(np.zeros((300, 800), np.float32))
    assert reader.why(empty) == "<p>Draw a digit first: the canvas is empty.</p>"
