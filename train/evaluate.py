"""Accuracy of a Keras model on labelled digits: the figures in metrics.json and the model card."""

import numpy as np

from demo.contract import NUM_CLASSES


def evaluate(model, x, y, batch_size=500):
    """Accuracy, per-digit accuracy and confusion matrix (rows: true digit, columns: predicted)."""
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    pred = probs.argmax(1)
    cm = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=int)
    np.add.at(cm, (y.astype(int), pred), 1)
    per_digit = (np.diag(cm) / np.maximum(cm.sum(1), 1)).round(5).tolist()
    return dict(
        accuracy=round(float((pred == y).mean()), 5),
        per_digit=per_digit,
        confusion=cm.tolist(),
        errors=int((pred != y).sum()),
        count=int(len(y)),
    )
