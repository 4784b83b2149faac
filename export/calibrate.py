"""Confidence that means what it says: `python -m export.calibrate MODEL.onnx [MORE.onnx] [--data mnist.npz]`

Label smoothing teaches the network never to be more than ~96% sure, so its softmax says 96% for nearly
every answer, right or wrong. One temperature T (softmax(logits / T)) is fitted here by the negative log
likelihood on the model's own validation digits (the split its card records, never test digits): as
MNIST gives them and redrawn the way the page's pad draws them, half each. T goes into the model card,
and the classifier applies it at every entry point. `python -m export` runs this after writing a model.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import onnx

from demo.card import ModelCard
from demo.classifier import Classifier
from demo.contract import INPUT_SHAPE, to_model_input
from demo.fileio import atomic_path
from demo.preprocess import prepare
from export.onnx_export import set_metadata
from train.drawn import STROKES, draw

GRID = np.round(np.arange(0.2, 3.0001, 0.01), 2)  # temperatures tried
BINS = 15  # reliability diagram and ECE


def canvas_inputs(digits: np.ndarray, seed: int) -> np.ndarray:
    """MNIST digits redrawn on the pad with its brush at the sizes and tilts people draw, through the app's
    preprocessing: the drawings the page reads (the canvas benchmark's own generator)."""
    rng = np.random.default_rng(seed)
    out = []
    for d in digits:
        value = draw(d, rng, rng.uniform(0.25, 0.8), STROKES["the app's brush"], rng.uniform(-12, 12), (0, 0, 0), False)
        try:
            out.append(prepare(value)[0])
        except ValueError:  # "draw it larger": no reading to calibrate
            out.append(np.zeros((1, *INPUT_SHAPE), np.float32))
    return np.concatenate(out)


def nll(probs: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-30, None))))


def fit_temperature(raw: np.ndarray, y: np.ndarray) -> float:
    """The T of the grid with the lowest NLL for uncalibrated probabilities `raw`."""
    from demo.classifier import with_temperature

    return float(GRID[int(np.argmin([nll(with_temperature(raw, t), y) for t in GRID]))])


def reliability(probs: np.ndarray, y: np.ndarray, bins: int = BINS) -> tuple[float, list[tuple[float, float, int]]]:
    """(expected calibration error, [(mean confidence, accuracy, count) per non-empty bin])."""
    conf, hit = probs.max(1), probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    rows, ece = [], 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            rows.append((float(conf[sel].mean()), float(hit[sel].mean()), int(sel.sum())))
            ece += sel.mean() * abs(conf[sel].mean() - hit[sel].mean())
    return float(ece), rows


def write_temperature(path: Path, temperature: float) -> None:
    """The card's temperature set in the ONNX file, written to a temp file and renamed over it."""
    proto = onnx.load(str(path))
    card = ModelCard.from_metadata({p.key: p.value for p in proto.metadata_props})
    if card is None:
        raise ValueError(f"{path} carries no model card; export it with `python -m export` first.")
    set_metadata(proto, dataclasses.replace(card, temperature=temperature))
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))


def validation_set(model: Path, data: str | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n of the model's own validation digits as MNIST gives them and n redrawn on the pad, with labels."""
    from train.average import split_of
    from train.data import load, split

    (x_train, y_train), _ = load(data)
    _, (x_val, y_val) = split(x_train, y_train, *split_of([str(model)]))
    idx = np.random.default_rng(0).choice(len(x_val), min(n, len(x_val)), replace=False)
    inputs = np.concatenate([to_model_input(x_val[idx]), canvas_inputs(x_val[idx], seed=1)])
    return inputs, np.concatenate([y_val[idx], y_val[idx]])


def calibrate(model: Path, inputs: np.ndarray, y: np.ndarray) -> dict:
    """Fit and store the temperature; the validation NLL and ECE before and after."""
    raw = Classifier(model).predict_batch(inputs, calibrated=False)
    t = fit_temperature(raw, y)
    write_temperature(model, t)
    after = Classifier(model).predict_batch(inputs)
    return dict(
        temperature=t,
        nll=(nll(raw, y), nll(after, y)),
        ece=(reliability(raw, y)[0], reliability(after, y)[0]),
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", type=Path, help="ONNX models with a card (an int8 one too)")
    p.add_argument("--data", default=None, help="mnist.npz (default: $MNIST_NPZ, else download)")
    p.add_argument("--n", type=int, default=2500, help="validation digits, each used plain and redrawn")
    args = p.parse_args(argv)
    missing = [str(m) for m in args.models if not m.is_file()]
    if missing:
        sys.exit(f"error: {', '.join(missing)} does not exist; give the path of an exported .onnx model.")
    inputs, y = validation_set(args.models[0], args.data, args.n)
    for model in args.models:
        r = calibrate(model, inputs, y)
        print(
            f"{model}: temperature {r['temperature']:.2f}; validation NLL {r['nll'][0]:.4f} -> {r['nll'][1]:.4f}, "
            f"ECE {r['ece'][0]:.2%} -> {r['ece'][1]:.2%} ({len(y)} digits, half redrawn on the pad)"
        )


if __name__ == "__main__":
    main()
