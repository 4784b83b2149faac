"""What the page and the API do with a drawing or a photo, as a plain object a test can call.

`Reader.drawing` and `Reader.photo` never raise: every outcome is (Label value, the model's view as
HTML, a sentence). Gradio's formats stop here: the classifier below returns `Prediction`s.
"""

from __future__ import annotations

import base64
import io
import logging

import numpy as np
from PIL import Image

from demo.classifier import Classifier, Prediction
from demo.components import uploaded_path
from demo.memory import release_freed_memory
from demo.preprocess import BadImage, EmptyDrawing

log = logging.getLogger(__name__)
UNSURE = 0.6  # below this top-1 confidence the app says it is not sure
Answer = tuple[dict | str, str | None, str]  # (Label value, preview HTML, sentence)


def seen_image(digit: np.ndarray) -> str:
    """The 28x28 digit the model reads, enlarged with hard pixels, as an inline PNG: the page's
    answer is never written to disk, so drawing goes on even when the disk is full."""
    big = np.kron((digit * 255).astype(np.uint8), np.ones((6, 6), np.uint8))
    buf = io.BytesIO()
    Image.fromarray(big).save(buf, format="PNG")
    src = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return f'<img src="{src}" alt="the 28x28 digit the model reads" width="168" height="168">'


def verdict(pred: Prediction, labels: list[str]) -> str:
    (d1, p1), (d2, p2) = pred.top[:2]
    if p1 < UNSURE:
        return f"**Not sure: {labels[d1]} or {labels[d2]}?** ({p1:.0%} vs {p2:.0%}). Try a larger, clearer digit."
    return f"**{labels[d1]}** ({p1:.1%})"


def label_value(pred: Prediction, labels: list[str], top_k: int) -> dict[str, float]:
    """Gradio's Label value: {label: confidence}, best first."""
    return {labels[d]: p for d, p in pred.top[:top_k]}


class Reader:
    """One shared classifier behind every event; `top_k` classes shown (the sentence compares two)."""

    def __init__(self, classifier: Classifier, top_k: int = 3):
        self.classifier, self.top_k = classifier, top_k

    def drawing(self, value) -> Answer:
        """A Sketchpad value (or anything `prepare` takes) -> the answer."""
        if isinstance(value, dict) and "unreadable" in value:
            return value["unreadable"], None, value["unreadable"]
        try:
            pred = self.classifier.predict(value, max(self.top_k, 2))
        except (EmptyDrawing, BadImage) as e:
            return str(e), None, str(e)
        except Exception as e:  # a bug must not become an HTTP 500 for the person drawing
            log.exception("could not read input")
            msg = f"Could not read that input ({type(e).__name__}); clear the canvas and try again."
            return msg, None, msg
        labels = self.classifier.labels
        return label_value(pred, labels, self.top_k), seen_image(pred.seen), verdict(pred, labels)

    def photo(self, value) -> Answer:
        """An upload event's file record. Upload events run with preprocess=False (our decoder gives
        the sentences), so only a regular file in Gradio's upload folder is opened."""
        try:
            return self.drawing(uploaded_path(value))
        except BadImage as e:
            return str(e), None, str(e)
        finally:
            release_freed_memory()  # a big photo's pages go back to the system, not to glibc's free lists
