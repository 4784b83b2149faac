"""The ONNX model behind every entry point: one onnxruntime session, contract-checked, warmed up."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from demo.card import CardError, ModelCard
from demo.contract import (
    INPUT_NAME,
    INPUT_SHAPE,
    LABELS,
    MNIST_SIZE,
    NUM_CLASSES,
    OUTPUT_NAME,
    Pending,
    to_model_input,
)
from demo.memory import release_freed_memory
from demo.number import MAX_DIGITS, segment
from demo.preprocess import EMPTY, BadImage, EmptyDrawing, center_digit, ink_and_canvas, normalised, prepare

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "mnist-resnet50v2.onnx"
HOW_TO_GET = "train and export one (`python -m train` then `python -m export`) or restore models/ from git"


class ModelError(Exception):
    """A model file that is missing, unreadable or breaks the contract; one sentence for people."""


class Classifier:
    """Load once, share across requests: onnxruntime's `run` is thread-safe."""

    def __init__(self, path: str | Path = DEFAULT_MODEL, threads: int = 0):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"Model file {self.path} does not exist; {HOW_TO_GET}.")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        # many small calls from a few workers: threads sleep between them instead of spinning on a core
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            data = self.path.read_bytes()  # hashed and loaded from one read: the hash is of the model that runs
            self.sha256 = hashlib.sha256(data).hexdigest()
            self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as e:
            raise ModelError(
                f"Model file {self.path} is not a readable ONNX model ({str(e).strip()[:200]}); {HOW_TO_GET}."
            ) from None
        self._check_contract()
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        try:
            self.card = ModelCard.from_metadata(self.metadata)  # None for a model from another tool
        except CardError as e:
            raise ModelError(f"Model file {self.path}: {e}") from None
        self.labels = self.card.labels if self.card else LABELS
        self.temperature = (self.card.temperature if self.card else None) or 1.0
        self.predict_batch(np.zeros((1, *INPUT_SHAPE), np.float32))  # warm-up: first call allocates
        release_freed_memory()

    def _check_contract(self) -> None:
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        problems = []
        if (
            len(inputs) != 1
            or inputs[0].name != INPUT_NAME
            or inputs[0].type != "tensor(float)"
            or list(inputs[0].shape[1:]) != list(INPUT_SHAPE)
        ):
            got = ", ".join(f"{i.name} {i.type} {i.shape}" for i in inputs)
            problems.append(f"input should be '{INPUT_NAME}' float [N, {', '.join(map(str, INPUT_SHAPE))}], got {got}")
        if (
            not outputs
            or outputs[0].name != OUTPUT_NAME
            or outputs[0].type != "tensor(float)"
            or outputs[0].shape[-1] != NUM_CLASSES
        ):
            got = ", ".join(f"{o.name} {o.type} {o.shape}" for o in outputs)
            problems.append(f"output should be '{OUTPUT_NAME}' float [N, {NUM_CLASSES}], got {got}")
        if problems:
            raise ModelError(
                f"Model file {self.path} does not follow the digit model contract "
                f"({'; '.join(problems)}); {HOW_TO_GET}."
            )

    def predict_batch(self, x: np.ndarray, calibrated: bool = True) -> np.ndarray:
        """Contract input [N, 32, 32, 1] float32 -> probabilities [N, 10], through the card's temperature
        (export.calibrate) unless `calibrated` is False: the softmax as trained."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        probs = self.session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
        return with_temperature(probs, self.temperature) if calibrated else probs

    def predict(self, images, k: int = 3) -> Prediction | list[Prediction]:
        """One image (path, PIL image, array, Sketchpad value) -> Prediction; a list -> list of
        Predictions from a single onnxruntime call. Unusable inputs raise EmptyDrawing/BadImage."""
        single = not isinstance(images, (list, tuple))
        out = self.predict_prepared([prepare(im) for im in ([images] if single else images)], k)
        return out[0] if single else out

    def predict_prepared(
        self, prepared: list[tuple[np.ndarray, np.ndarray]], k: int = 3, batch: int = 256
    ) -> list[Prediction]:
        """[(model input, seen digit), ...] from `prepare` -> Predictions, `batch` images per run."""
        out = []
        for start in range(0, len(prepared), batch):
            chunk = prepared[start : start + batch]
            probs = self.predict_batch(np.concatenate([x for x, _ in chunk]))
            out += [Prediction.from_probabilities(p, seen, k) for p, (_, seen) in zip(probs, chunk)]
        return out

    def read_number(self, image, k: int = 3) -> Number:
        """A drawing or picture of a number (1 to MAX_DIGITS digits, left to right), or a `Cut` of one ->
        Number; every digit goes through the same preprocessing and contract as a single one."""
        return self.finished(self.number_pending(image, k))

    def number_pending(self, image, k: int = 3) -> Pending:
        """`read_number` up to its last model call, which the caller makes (with other readings', maybe)."""
        ink, (h, w) = ink_and_canvas(image)
        return self.ink_pending(normalised(ink, h * w), k, min(h, w))

    def finished(self, pending: Pending):
        """A Pending's answer, its model call made alone."""
        return pending.finish(self.predict_batch(pending.inputs))

    def read_ink(self, ink: np.ndarray, k: int = 3, side: int = 0) -> Number:
        """`read_number` for an ink map that is already decoded and normalised (float [0, 1], 1 = ink), cut
        from a canvas whose shorter side is `side` (0: the ink map is the whole canvas)."""
        return self.finished(self.ink_pending(ink, k, side))

    def ink_pending(self, ink: np.ndarray, k: int = 3, side: int = 0) -> Pending:
        """`read_ink` up to its last model call: the digits found and centred, waiting to be read."""
        side = side or min(ink.shape)
        pieces = segment(ink, lambda inks: self.best_reads(inks, side))
        if not pieces:
            raise EmptyDrawing(EMPTY)
        if len(pieces) > MAX_DIGITS:
            raise BadImage(
                f"That looks like more than {MAX_DIGITS} digits; write a number of at most "
                f"{MAX_DIGITS} digits, left to right, with a little space between them."
            )
        seen = [center_digit(p.ink, side) for p in pieces]

        def finish(probs: np.ndarray) -> Number:
            preds = [Prediction.from_probabilities(p, d, k) for p, d in zip(probs, seen)]
            return Number([DigitReading(pred, p.box) for pred, p in zip(preds, pieces)])

        return Pending(to_model_input(np.stack(seen)), finish)

    def best_reads(self, inks: list[np.ndarray], side: int) -> list[tuple[int, float, float]]:
        """Top digit, its confidence and its log-odds over the runner-up for each ink map, for demo.number's
        joins and demo.cuts' cuts; an unreadable one scores 0 and 0."""
        seen, ok = [], []
        for ink in inks:
            try:
                seen.append(center_digit(ink, side))
                ok.append(True)
            except ValueError:
                seen.append(np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32))
                ok.append(False)
        # the softmax as trained: demo.number's MARGIN and demo.cuts' ODDS were chosen on it, before the temperature
        probs = self.predict_batch(to_model_input(np.stack(seen)), calibrated=False)
        top = np.sort(np.clip(probs, 1e-12, 1.0), axis=1)[:, ::-1]
        odds = np.log(top[:, 0]) - np.log(top[:, 1])
        return [(int(p.argmax()), float(p.max()) * good, float(o) * good) for p, o, good in zip(probs, odds, ok)]


def with_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) from softmax(logits): log p differs from the logits by a constant per row."""
    if temperature == 1.0:
        return probs
    z = np.log(np.clip(probs, 1e-30, None)) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


@dataclass
class Prediction:
    digit: int  # the most likely digit
    confidence: float  # its probability
    top: list[tuple[int, float]]  # [(digit, probability), ...] best first, k long
    probabilities: np.ndarray  # all 10
    seen: np.ndarray  # the 28x28 digit the model was shown

    @classmethod
    def from_probabilities(cls, probs: np.ndarray, seen: np.ndarray, k: int = 3) -> Prediction:
        order = np.argsort(probs)[::-1][:k]
        top = [(int(i), float(probs[i])) for i in order]
        return cls(top[0][0], top[0][1], top, probs, seen)


@dataclass
class DigitReading:
    prediction: Prediction
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the picture's pixels, ends exclusive


@dataclass
class Number:
    digits: list[DigitReading]  # left to right

    @property
    def text(self) -> str:
        return "".join(str(d.prediction.digit) for d in self.digits)

    def as_json(self) -> dict:
        """The read_number API's answer."""
        return {
            "number": self.text,
            "digits": [
                {"digit": d.prediction.digit, "confidence": round(d.prediction.confidence, 4), "box": list(d.box)}
                for d in self.digits
            ],
        }
