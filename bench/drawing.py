"""Sketchpad values made from real MNIST digits, as a person would draw them on the canvas."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

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


def sketch_value(ink, color=(0, 0, 0), opaque_layer=False):
    """ink: float [H, W] in [0, 1] -> the dict Gradio's Sketchpad sends (numpy RGBA images):
    a white background, one transparent layer whose alpha is the ink, and the composite."""
    h, w = ink.shape
    layer = np.zeros((h, w, 4), np.uint8)
    layer[..., :3] = color
    layer[..., 3] = (np.clip(ink, 0, 1) * 255).round().astype(np.uint8)
    background = np.full((h, w, 4), 255, np.uint8)
    composite = Image.fromarray(background)
    composite.alpha_composite(Image.fromarray(layer))
    value = {"background": background, "layers": [layer], "composite": np.asarray(composite)}
    if opaque_layer:  # some clients flatten everything: no layers, only the opaque composite
        value["layers"] = []
    return value


def place_digit(digit28, canvas=400, height=0.6, center=(0.5, 0.5)):
    """A real 28x28 MNIST digit scaled so its ink is `height` of the canvas, centred at `center`."""
    d = digit28.astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(d.max(1) > 0.1), np.flatnonzero(d.max(0) > 0.1)
    d = d[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = height * canvas / d.shape[0]
    size = (max(1, round(d.shape[1] * scale)), max(1, round(d.shape[0] * scale)))
    big = np.asarray(Image.fromarray(d, mode="F").resize(size, Image.Resampling.BILINEAR)).clip(0, 1)
    ink = np.zeros((canvas, canvas), np.float32)
    top = int(np.clip(center[1] * canvas - size[1] / 2, 0, canvas - size[1]))
    left = int(np.clip(center[0] * canvas - size[0] / 2, 0, canvas - size[0]))
    ink[top : top + size[1], left : left + size[0]] = big[: canvas - top, : canvas - left]
    return ink


def stroke_digit(points, canvas=400, width=28):
    """A polyline drawn with a round brush, like a mouse stroke."""
    im = Image.new("F", (canvas, canvas), 0.0)
    draw = ImageDraw.Draw(im)
    draw.line(points, fill=1.0, width=width, joint="curve")
    for x, y in (points[0], points[-1]):
        draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=1.0)
    return np.asarray(im)


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
