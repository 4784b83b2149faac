"""Sketchpad values made from real MNIST digits, as a person would draw them on the canvas."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from demo.classifier import Classifier


def split_digits(model: str, data: str | None, which: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test digits, or ("val") the model's own validation split, for choosing without the test set."""
    from train.average import split_of  # numpy and onnx only: these modules import no TensorFlow
    from train.data import load, split

    (x_train, y_train), test = load(data)
    return split(x_train, y_train, *split_of([model]))[1] if which == "val" else test


FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "mnist-sample.npz"  # 544 real digits


def read_text(clf: Classifier, value: dict) -> str:
    """What the Draw tab reads in a Sketchpad value; "" for a message ("draw it larger"), a miss."""
    try:
        return clf.read_number(value).text
    except ValueError:  # EmptyDrawing and BadImage: the sentence for the person
        return ""


def as_upload(value, folder, name):
    """A Sketchpad value as PNG files, the way the browser sends it to /predict."""
    from gradio_client import handle_file

    def save(array, part):
        path = f"{folder}/{name}-{part}.png"
        Image.fromarray(array).save(path)
        return handle_file(path)

    return {
        "background": save(value["background"], "background"),
        "layers": [save(layer, f"layer{i}") for i, layer in enumerate(value["layers"])],
        "composite": save(value["composite"], "composite"),
    }
