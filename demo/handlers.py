"""What the page and the API do with a drawing or a photo, as a plain object a test can call.

`Reader.drawing` and `Reader.photo` never raise: every outcome is (Label value, the model's view as
HTML, a sentence). Gradio's formats stop here: the classifier below returns `Prediction`s.
"""

from __future__ import annotations

import logging
import re
from html import escape

import numpy as np

from demo.classifier import Classifier, Number, Prediction
from demo.components import uploaded_path
from demo.contract import Pending
from demo.correct import Corrector
from demo.explain import evidence_image, inline_png, occlusion
from demo.memory import release_freed_memory
from demo.preprocess import BadImage, EmptyDrawing

log = logging.getLogger(__name__)
UNSURE = 0.6  # below this top-1 confidence the app says it is not sure
NO_PHOTO = "Upload a photo of a digit first, then say which digit it was."
Answer = tuple[dict | str, str | None, str]  # (Label value, preview HTML, sentence)


def seen_image(digit: np.ndarray, side: int = 168) -> str:
    """The 28x28 digit the model reads as an inline PNG of its own 28x28 pixels, which the browser enlarges
    with hard edges: the answer stays light, and is never written to disk, so drawing goes on even when
    the disk is full."""
    src = inline_png((digit * 255).astype(np.uint8))
    return (
        f'<img src="{src}" alt="the 28x28 digit the model reads" width="{side}" height="{side}" '
        'style="image-rendering: pixelated">'
    )


def seen_digits(number: Number, labels: list[str]) -> str:
    """Each digit's 28x28 view with what it was read as, left to right."""
    cells = []
    for d in number.digits:
        p = d.prediction
        mark = " ?" if p.confidence < UNSURE else ""
        cells.append(
            f'<figure style="display:inline-block;margin:0 6px 0 0;text-align:center">'
            f"{seen_image(p.seen, 72)}<figcaption>{escape(labels[p.digit])}{mark} "
            f"({p.confidence:.0%})</figcaption></figure>"
        )
    return "<div>" + "".join(cells) + "</div>"


def doubts(number: Number, labels: list[str]) -> str:
    """A sentence for the digits the model is not sure of; "" when it is sure of them all."""
    unsure = [
        f"digit {k + 1}: {labels[d.prediction.top[0][0]]} or {labels[d.prediction.top[1][0]]}?"
        for k, d in enumerate(number.digits)
        if d.prediction.confidence < UNSURE
    ]
    return "not sure of " + "; ".join(unsure) + " Try writing those larger and clearer." if unsure else ""


def number_verdict(number: Number, labels: list[str]) -> str:
    """The number in bold, then what the model is not sure of."""
    text = f"**{''.join(labels[d.prediction.digit] for d in number.digits)}**"
    unsure = doubts(number, labels)
    return f"{text} - {unsure}" if unsure else text


def html(markdown: str) -> str:
    """The verdicts' one piece of Markdown (**bold**) as HTML, everything else escaped."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escape(markdown, quote=False))


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

    def attempt(self, read, value) -> tuple[Prediction | Number | Pending | None, str]:
        """(result, "") or (None, the sentence for the person); never raises."""
        if isinstance(value, dict) and "unreadable" in value:
            return None, value["unreadable"]
        try:
            return read(value, max(self.top_k, 2)), ""
        except (EmptyDrawing, BadImage) as e:
            return None, str(e)
        except Exception as e:  # a bug must not become an HTTP 500 for the person drawing
            log.exception("could not read input")
            return None, f"Could not read that input ({type(e).__name__}); clear the canvas and try again."

    def drawing(self, value) -> Answer:
        """A Sketchpad value (or anything `prepare` takes) read as one digit -> the answer."""
        pred, msg = self.attempt(self.classifier.predict, value)
        return (msg, None, msg) if pred is None else self.drawing_answer(pred)

    def number(self, value) -> Answer:
        """A drawing read as a number of 1 to 8 digits: one digit keeps its top-k; several show the number."""
        number, msg = self.attempt(self.classifier.read_number, value)
        if number is None:
            return msg, None, msg
        if len(number.digits) == 1:
            return self.drawing_answer(number.digits[0].prediction)
        labels = self.classifier.labels
        return number.text, seen_digits(number, labels), number_verdict(number, labels)

    def pad_answer(self, value) -> dict:
        """The pad's answer as JSON: {"number", "top" (one digit's [[label, p], ...], else None), "seen",
        "note"}, HTML in the last two (the note only says what the model is not sure of), or {"message"}."""
        answer = self.pad_pending(value)
        return self.classifier.finished(answer) if isinstance(answer, Pending) else answer

    def pad_pending(self, value) -> Pending | dict:
        """`pad_answer` up to its last model call (demo.serving.fair batches it with other readings'), or
        {"message"} at once."""
        pending, msg = self.attempt(self.classifier.number_pending, value)
        if pending is None:
            return {"message": msg}
        return Pending(pending.inputs, lambda probs: self.pad_json(pending.finish(probs)))

    def pad_json(self, number: Number) -> dict:
        labels = self.classifier.labels
        if len(number.digits) == 1:
            pred = number.digits[0].prediction
            top = [[labels[d], round(p, 4)] for d, p in pred.top[: self.top_k]]
            note = html(verdict(pred, labels)) if pred.confidence < UNSURE else ""
            return {"number": labels[pred.digit], "top": top, "seen": seen_image(pred.seen, 112), "note": note}
        return {
            "number": number.text,
            "top": None,
            "seen": seen_digits(number, labels),
            "note": html(doubts(number, labels)),
        }

    def drawing_answer(self, pred: Prediction) -> Answer:
        labels = self.classifier.labels
        return label_value(pred, labels, self.top_k), seen_image(pred.seen), verdict(pred, labels)

    def number_json(self, value) -> dict:
        """The read_number API: {"number", "digits": [{"digit", "confidence", "box"}]} or {"message"}."""
        number, msg = self.attempt(self.classifier.read_number, value)
        return {"message": msg} if number is None else number.as_json()

    def why(self, value) -> str:
        """ "Why?" for a drawing: for each digit read, which strokes pushed it towards its answer and which
        towards the runner-up (demo.explain), as HTML; a sentence when nothing can be read."""
        number, msg = self.attempt(self.classifier.read_number, value)
        if number is None:
            return f"<p>{escape(msg)}</p>"
        labels, predict = self.classifier.labels, self.classifier.predict_batch
        cells = [
            f'<figure style="display:inline-block;margin:0 8px 0 0">'
            f"{evidence_image(d.prediction.seen, occlusion(d.prediction.seen, predict), labels, 140)}</figure>"
            for d in number.digits
        ]
        return "<div>" + "".join(cells) + "</div>"

    def why_photo(self, value) -> str:
        """The Upload tab's "Why?": the photo read as one digit, as its answer was."""
        try:
            path = uploaded_path(value)
        except BadImage as e:
            return f"<p>{escape(str(e))}</p>"
        pred, msg = self.attempt(self.classifier.predict, path)
        if pred is None:
            return f"<p>{escape(msg)}</p>"
        ex = occlusion(pred.seen, self.classifier.predict_batch)
        return f"<div>{evidence_image(pred.seen, ex, self.classifier.labels, 140)}</div>"

    def photo(self, value) -> Answer:
        """An upload event's file record. Upload events run with preprocess=False (our decoder gives
        the sentences), so only a regular file in Gradio's upload folder is opened."""
        try:
            return self.drawing(uploaded_path(value))
        except BadImage as e:
            return str(e), None, str(e)
        finally:
            release_freed_memory()  # a big photo's pages go back to the system, not to glibc's free lists


def correct_photo(corrector: Corrector, value, digit: int, who: str = "") -> str:
    """The Upload tab's "Wrong? It was": the upload event's file record, opened by the same rule as
    `Reader.photo` and read again as one digit, kept with the right digit; a sentence either way."""
    try:
        path = uploaded_path(value)
    except BadImage as e:
        return str(e)
    return NO_PHOTO if path is None else corrector.correct(path, digit, who, as_number=False)[1]
