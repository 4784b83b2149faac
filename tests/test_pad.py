"""The pad's server side in-process: a real digit read from the PNG the page sends, and every bound a
script could push against (payload, picture size, rate, readings at once), each with a sentence."""

import base64
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from bench.hostile_files import png
from bench.target import pad_ink
from demo.canvas import CANVAS_H, CANVAS_W
from demo.correct import Corrector
from demo.correction_store import Store
from demo.guard import Gate, TokenBucket, client_address
from demo.handlers import Reader
from demo.pad import (
    BUSY,
    MALFORMED,
    MAX_PAYLOAD,
    PREFIX,
    READS_BURST,
    READS_PER_SECOND,
    SLOW_DOWN,
    TOO_BIG,
    PadServer,
    png_payload,
)


@pytest.fixture
def pad(classifier, tmp_path):
    return PadServer(Reader(classifier), Corrector(classifier, Store(tmp_path / "c.sqlite")), Gate(2))


def test_a_real_digit_from_the_pads_png_is_read(pad, sample):
    for digit in (3, 7):
        out = pad.read(png_payload(pad_ink(digit), seq=41), "a")
        assert out["seq"] == 41 and out["number"] == str(digit), out
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


def test_one_address_gets_a_hand_writers_rate_and_others_are_not_held_up(pad):
    payload = png_payload(pad_ink(3))
    start = time.monotonic()
    answers = [pad.read(payload, "script").get("message") for _ in range(100)]
    allowed = READS_BURST + READS_PER_SECOND * (time.monotonic() - start) + 1
    assert answers.count(None) <= allowed and answers.count(SLOW_DOWN) >= 100 - allowed
    assert pad.read(payload, "person")["number"] == "3"


def test_token_bucket_refills_and_forgets_old_keys():
    bucket = TokenBucket(rate=2, burst=3, keys=5)
    assert [bucket.allow("a", now=0) for _ in range(4)] == [True, True, True, False]
    assert bucket.allow("a", now=0.6) and not bucket.allow("a", now=0.6)
    for k in range(10):
        bucket.allow(f"k{k}", now=1)
    assert len(bucket._buckets) == 5


def test_the_gate_bounds_readings_at_once_and_says_busy():
    gate, started, release = Gate(2, queue=1), threading.Barrier(3), threading.Event()

    def slow():
        started.wait()
        release.wait(10)
        return "done"

    threads = [threading.Thread(target=gate.run, args=(slow, 5, lambda: BUSY)) for _ in range(2)]
    for t in threads:
        t.start()
    started.wait()
    t0 = time.perf_counter()
    assert gate.run(lambda: "read", 0.2, lambda: BUSY) == BUSY and time.perf_counter() - t0 < 2
    release.set()
    for t in threads:
        t.join()
    assert gate.run(lambda: "read", 0.2, lambda: BUSY) == "read" and gate.busy == 0


def test_the_client_is_its_address_and_a_proxys_only_when_trusted():
    direct = SimpleNamespace(client=SimpleNamespace(host="203.0.113.9"), headers={"x-real-ip": "1.2.3.4"})
    proxied = SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"), headers={"x-real-ip": "198.51.100.7"})
    assert client_address(direct) == client_address(direct, behind_proxy=True) == "203.0.113.9"
    assert client_address(proxied) == "127.0.0.1"
    assert client_address(proxied, behind_proxy=True) == "198.51.100.7"
