"""Taking the right answer: a drawing and the digits the person says it was -> rows in the store.

The drawing is read again here, by the same code as the page, so what is kept is exactly what the
model saw. `Corrector.correct` never raises: every outcome is (digits kept, a sentence).
"""

from __future__ import annotations

import logging

import numpy as np

from demo.classifier import Classifier, Number, Prediction
from demo.correction_store import DAILY, KEPT, Correction, CorrectionStore, StoreError
from demo.number import MAX_DIGITS
from demo.preprocess import BadImage, Cut, EmptyDrawing, ink_and_canvas
from demo.serving.limits import RateLimit

log = logging.getLogger(__name__)
OFF = "Corrections are turned off on this server."
ASK = f"Type the digits you wrote, for example 7 or 2026 (at most {MAX_DIGITS})."
SLOW_DOWN = "That is a lot of corrections in a minute; wait a little and send it again."


def parse_answer(answer) -> str | None:
    """'7', 7, ' 2026 ' -> the digits as text; anything else -> None."""
    text = str(answer if answer is not None else "").strip()
    return text if text.isascii() and text.isdigit() and 1 <= len(text) <= MAX_DIGITS else None


def strokes(ink: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return ink[y0:y1, x0:x1]


class Corrector:
    """The page's and the API's "it was really ...": validated, rate limited, read, stored."""

    def __init__(
        self, classifier: Classifier, store: CorrectionStore | None, limit: RateLimit | None = None, daily: int = DAILY
    ):
        """`limit`: this process's flood guard (a minute); `daily`: a visitor's day, which the store counts."""
        self.classifier, self.store, self.limit, self.daily = classifier, store, limit or RateLimit(), daily
        self.problem = self.public_problem = ""  # the detail for the owner; the sentence for the page
        if store is not None:
            try:
                store.check()
            except StoreError as e:
                self.problem, self.public_problem = str(e), e.public
                log.warning("corrections: %s", e)

    def notice(self) -> str:
        """What the page says about corrections: where they go and what is kept, or why not."""
        if self.store is None:
            return OFF
        if self.public_problem:
            return self.public_problem
        return f"A correction is kept on this server ({self.store.name}): {KEPT}"

    def correct(self, value, answer, who: str = "", source: str = "page", as_number: bool = True) -> tuple[int, str]:
        """(digits kept, sentence). `who` is the client address the rate limits count; `as_number` reads the
        drawing as the Draw tab does, else as one digit as the Upload tab does."""
        if self.store is None:
            return 0, OFF
        digits = parse_answer(answer)
        if digits is None:
            return 0, ASK
        guarded = source != "cli"
        if guarded and not self.limit.allow(who):
            return 0, SLOW_DOWN
        try:
            rows = self.rows(value, digits, source, as_number)
            self.store.add(rows, who if guarded else "", self.daily if guarded else 0)
        except Exception as e:
            if guarded:  # budgets are spent on kept corrections only
                self.limit.refund(who)
            if isinstance(e, (EmptyDrawing, BadImage)):
                return 0, str(e)
            if isinstance(e, StoreError):
                log.warning("corrections: %s", e)  # the detail for the owner, a sentence for the visitor
                return 0, e.public if source != "cli" else str(e)
            log.exception("could not keep a correction")  # a bug must not break the page
            return 0, f"Could not keep that correction ({type(e).__name__}); the app goes on reading."
        self.problem = self.public_problem = ""
        wrong = sum(r.label != r.predicted for r in rows)
        return len(rows), (
            f"Thank you: kept {digits}"
            + (f" ({wrong} digit{'s' * (wrong > 1)} the model got wrong)" if wrong else " (the model read it right)")
            + "."
        )

    def rows(self, value, digits: str, source: str, as_number: bool) -> list[Correction]:
        """One Correction per digit, or EmptyDrawing/BadImage with the sentence for the person."""
        ink, canvas = ink_and_canvas(value)
        if as_number:
            number: Number = self.classifier.read_number(Cut(ink, canvas))
            if len(number.digits) != len(digits):
                found = len(number.digits)
                raise BadImage(
                    f"The app found {found} digit{'s' * (found > 1)} in the drawing but you typed "
                    f"{len(digits)}; write the digits a little apart, or type all of them."
                )
            read = [(d.prediction, strokes(ink, d.box)) for d in number.digits]
        else:
            if len(digits) != 1:
                raise BadImage("A picture on the Upload tab is one digit; type one digit from 0 to 9.")
            pred: Prediction = self.classifier.predict(value)  # read as the Upload tab reads it
            read = [(pred, ink)]
        return [
            Correction(
                label=int(c),
                predicted=p.digit,
                probabilities=p.probabilities.tolist(),
                seen=p.seen,
                drawing=d,
                source=source,
                model_sha256=self.classifier.sha256,
            )
            for c, (p, d) in zip(digits, read)
        ]

    def as_json(self, value, answer, who: str = "") -> dict:
        """The `correct` API: {"kept": n, "message": "..."}."""
        kept, message = self.correct(value, answer, who, source="api")
        return {"kept": kept, "message": message}
