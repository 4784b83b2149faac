"""The pad's server side in-process: a real digit read from the PNG the page sends (its ink's box, where
it sits on the canvas), and every bound a script could push against (payload, picture size, where it
says it sits), each with a sentence."""

import base64

import numpy as np
import pytest

from bench.hostile_files import png
from bench.target import pad_ink
from demo.canvas import CANVAS_H, CANVAS_W
from demo.correct import Corrector
from demo.handlers import Reader
from demo.pad import MALFORMED, MAX_PAYLOAD, PREFIX, TOO_BIG, PadServer, decode_pad, png_payload
from demo.preprocess import Cut
from demo.serving.fair import FairQueue
from demo.sqlite_store import Store


@pytest.fixture
def pad(classifier, tmp_path):
    return PadServer(
        Reader(classifier),
        Corrector(classifier, Store(tmp_path / "c.sqlite")),
        FairQueue(2, model=classifier.predict_batch),
    )


def test_a_real_digit_from_the_pads_png_is_read(pad, sample):
    for digit in (3, 7):
        out = pad.read(png_payload(pad_ink(digit)), "a")
        assert out["number"] == str(digit), out
        assert out["top"][0][0] == str(digit) and len(out["top"]) == 3 and "<img" in out["seen"]
    assert pad.read(png_payload(np.zeros((CANVAS_H, CANVAS_W, 4), np.uint8)), "a")["message"].startswith("Draw")


def test_why_and_correct_answer_for_the_same_drawing(pad, tmp_path):
    why = pad.why(png_payload(pad_ink(3)), "a")
    assert why["html"].count("<img") == 1 and "strokes that made it read 3" in why["html"]
    said = pad.correct({**png_payload(pad_ink(3)), "answer": "8"}, "a")
    assert "kept 8" in said["message"]
    assert [(r.predicted, r.label) for r in pad.corrector.store.all()] == [(3, 8)]
    assert "Type the digits" in pad.correct({**png_payload(pad_ink(3)), "answer": "eight"}, "a")["message"]


@pytest.mark.parametrize(
    "payload, words",
    [
        (None, MALFORMED),
        ("data", MALFORMED),
        ({"png": 7}, MALFORMED),
        ({"png": "data:image/jpeg;base64,AAAA"}, MALFORMED),
        ({"png": PREFIX + "!!not base64"}, MALFORMED),
        ({"png": PREFIX + "A" * (MAX_PAYLOAD + 1)}, TOO_BIG),
        ({"png": PREFIX + base64.b64encode(b"GIF89a....").decode()}, "not a PNG"),
        ({"png": PREFIX + base64.b64encode(png((12000, 12000), "1")).decode()}, "far more pixels"),
        ({"png": PREFIX + base64.b64encode(png((CANVAS_W + 1, CANVAS_H))).decode()}, "at most 800x300"),
        ({"png": PREFIX + base64.b64encode(png((CANVAS_W, CANVAS_H))[:300]).decode()}, MALFORMED),
    ],
)
def test_malformed_payloads_get_a_sentence(pad, payload, words):
    out = pad.read(payload, "a")
    assert words in out["message"], out


def test_the_ink_box_alone_reads_as_the_whole_canvas_does(pad, classifier):
    """The page sends only its ink's box and where it sits; the digits, and what counts as a dot or too
    much ink, are those of the whole canvas."""
    rgba = pad_ink(7)
    cut = decode_pad(png_payload(rgba))
    assert isinstance(cut, Cut) and cut.canvas == (CANVAS_H, CANVAS_W) and cut.ink.size < 0.5 * CANVAS_H * CANVAS_W
    whole = classifier.read_number(rgba).digits[0].prediction
    boxed = classifier.read_number(cut).digits[0].prediction
    assert boxed.digit == whole.digit == 7 and np.array_equal(boxed.seen, whole.seen)


@pytest.mark.parametrize(
    "where",
    [
        {"at": [790, 0]},
        {"at": [-1, 0]},
        {"at": [0, 300]},
        {"canvas": [801, 300]},
        {"canvas": [800, 299]},
        {"at": [0.5, 0]},
        {"at": "0,0"},
        {"canvas": [True, 300]},
    ],
)
def test_where_the_ink_sits_is_checked(pad, where):
    said = pad.read({**png_payload(pad_ink(3)), **where}, "a")["message"]
    assert said == MALFORMED or "the canvas is at most" in said, said


def test_pen_lifts_waiting_together_share_one_model_call_and_read_as_alone(classifier):
    """Readings that wait while a worker is busy are read in one onnxruntime call; each answer is what it
    would have been alone."""
    import threading

    calls = []
    queue = FairQueue(1, model=lambda x: (calls.append(len(x)), classifier.predict_batch(x))[1])
    pad = PadServer(Reader(classifier), Corrector(classifier, None), queue)
    go = threading.Event()
    queue.submit("blocker", "p", lambda: (go.wait(10), {})[1], lambda answer: None)
    drawings = [png_payload(pad_ink(d)) for d in (0, 1, 2, 3, 4, 5)]
    answers: dict = {}
    threads = [
        threading.Thread(target=lambda k=k: answers.update({k: pad.read({**drawings[k], "page": str(k)}, f"v{k}")}))
        for k in range(6)
    ]
    for t in threads:
        t.start()
    while queue.waiting() < 6:
        threading.Event().wait(0.01)
    go.set()
    for t in threads:
        t.join()
    alone = [Reader(classifier).pad_answer(decode_pad(p)) for p in drawings]
    assert calls == [6] and [answers[k] for k in range(6)] == alone
