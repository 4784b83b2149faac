"""Whole numbers on one canvas, from real MNIST digits: segmentation, the Python API, the handlers and
the command line; one digit alone is never split."""

import json
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bench.dotted import dotted
from demo.canvas import CANVAS_H, CANVAS_W
from demo.handlers import Reader
from demo.number import MAX_DIGITS, MAX_PIECES, group_pieces
from demo.pieces import label_runs
from demo.preprocess import BadImage, EmptyDrawing, stroke_width
from tests.conftest import run_module
from train.drawn import cropped, pen_strokes, place_digit, sketch_value, stroke_digit
from train.written import write_number


def flood_count(mask):
    """Reference: 8-connected components by flood fill."""
    seen, count = np.zeros_like(mask), 0
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        count += 1
        stack = [(y, x)]
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = cy + dy, cx + dx
                    if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
    return count


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.1, 0.6))
def test_components_match_a_flood_fill(seed, density):
    mask = np.random.default_rng(seed).random((23, 31)) < density
    labels, count = label_runs(mask)
    assert count == flood_count(mask)
    assert ((labels > 0) == mask).all()
    for k in range(1, count + 1):  # each label is one connected piece
        assert flood_count(labels == k) == 1


def numbers(sample, gap, count=20, seed=0):
    rng = np.random.default_rng(seed)
    x, y = sample["x_test"], sample["y_test"]
    out = []
    while len(out) < count:
        idx = rng.choice(len(x), int(rng.integers(2, 7)), replace=False)
        w = write_number(
            list(x[idx]),
            [int(v) for v in y[idx]],
            rng,
            gap,
            "pen" if len(out) % 2 else "mnist",
            bool(rng.random() < 0.5),
            bool(rng.random() < 0.5),
        )
        if w is not None:
            out.append(w)
    return out


def test_numbers_with_gaps_are_read_whole(classifier, sample):
    written = numbers(sample, "normal") + numbers(sample, "tight", seed=1)
    got = [classifier.read_number(w.value).text for w in written]
    assert sum(g == w.number for g, w in zip(got, written)) >= 0.9 * len(written), [
        (g, w.number) for g, w in zip(got, written) if g != w.number
    ]


def test_touching_digits_are_cut_apart(classifier, sample):
    written = numbers(sample, "one pair touching", count=20, seed=2)
    got = [classifier.read_number(w.value).text for w in written]
    assert sum(g == w.number for g, w in zip(got, written)) >= 16, list(zip(got, [w.number for w in written]))


def test_one_digit_alone_is_never_split(classifier, sample):
    rng = np.random.default_rng(3)
    for i in range(60):
        ink = place_digit(sample["x_test"][i], CANVAS_H, rng.uniform(0.3, 0.8), (rng.uniform(0.3, 0.7), 0.5))
        wide = np.zeros((CANVAS_H, CANVAS_W), np.float32)
        left = int(rng.integers(0, CANVAS_W - CANVAS_H))
        wide[:, left : left + CANVAS_H] = ink
        assert len(classifier.read_number(sketch_value(wide)).digits) == 1


def test_the_pieces_of_one_digit_stay_one_digit(classifier, sample):
    x, y = sample["x_test"], sample["y_test"]
    read = []
    for i in [int(np.flatnonzero(y == d)[k]) for d in (1, 4, 5, 7) for k in range(3)]:
        ink = place_digit(dotted(x[i], "rows", 5), CANVAS_H, 0.7)
        pad = np.zeros((CANVAS_H, CANVAS_W), np.float32)
        pad[:, 200 : 200 + CANVAS_H] = ink
        read.append((classifier.read_number(sketch_value(pad)).text, str(y[i])))
    assert all(len(got) == 1 for got, _ in read), read
    assert sum(got == truth for got, truth in read) >= 10, read


@pytest.mark.parametrize("lean,width", [(60, 14), (80, 10), (100, 10), (100, 14)])
def test_a_slanted_stroke_lifted_midway_is_one_digit(classifier, lean, width):
    """The two halves of a slanted 1 barely overlap across the line (a few columns at the steepest
    slants), but one sits above the other, and digits are never written one above the other."""
    ink = np.zeros((CANVAS_H, CANVAS_W), np.float32)
    ink[:, 250:550] = stroke_digit([(150 + lean / 2, 50), (150 - lean / 2, 250)], canvas=300, width=width)
    ink[140:152] = 0  # the pen lifted for a moment
    answer = classifier.read_number(sketch_value(ink))
    assert answer.text == "1", answer.as_json()


def test_the_answer_carries_digits_confidences_and_boxes(classifier, sample):
    w = numbers(sample, "wide", count=1, seed=4)[0]
    answer = classifier.read_number(w.value).as_json()
    assert answer["number"] == "".join(str(d["digit"]) for d in answer["digits"])
    boxes = [d["box"] for d in answer["digits"]]
    assert all(0 <= x0 < x1 <= CANVAS_W and 0 <= y0 < y1 <= CANVAS_H for x0, y0, x1, y1 in boxes)
    assert all(a[2] <= b[0] for a, b in zip(boxes, boxes[1:]))  # left to right, apart
    assert all(0 < d["confidence"] <= 1 for d in answer["digits"])


def test_too_many_digits_and_an_empty_canvas_get_sentences(classifier, sample):
    with pytest.raises(EmptyDrawing):
        classifier.read_number(sketch_value(np.zeros((CANVAS_H, CANVAS_W), np.float32)))
    ink = np.zeros((CANVAS_H, CANVAS_W), np.float32)
    for k in range(MAX_DIGITS + 2):  # ten upright strokes: ten 1s
        ink[100:200, 20 + 75 * k : 30 + 75 * k] = 1.0
    with pytest.raises(BadImage, match=f"more than {MAX_DIGITS} digits"):
        classifier.read_number(sketch_value(ink))


def test_handlers_show_the_number_and_the_api_answers_json(classifier, sample):
    reader = Reader(classifier, top_k=3)
    w = numbers(sample, "wide", count=1, seed=5)[0]
    label, preview, sentence = reader.number(w.value)
    answer = reader.number_json(w.value)
    assert label == answer["number"] and sentence.startswith(f"**{answer['number']}**")
    assert preview.count("<img") == len(w.number)
    one = sketch_value(place_digit(sample["x_test"][0], CANVAS_H, 0.7))
    assert next(iter(reader.number(one)[0])) == str(sample["y_test"][0])  # one digit keeps its top-k
    assert reader.number_json(sketch_value(np.zeros((CANVAS_H, CANVAS_W), np.float32))) == {
        "message": "Draw a digit first: the canvas is empty."
    }


def test_command_line_reads_numbers(classifier, sample, tmp_path):
    w = numbers(sample, "normal", count=1, seed=6)[0]
    path = tmp_path / "number.png"
    Image.fromarray(255 - w.value["layers"][0][..., 3]).save(path)  # dark ink on white paper, as scanned
    r = run_module("-m", "demo.predict", "--number", "--json", str(path))
    assert r.returncode == 0, r.stderr
    (answer,) = json.loads(r.stdout)
    assert answer["file"] == str(path) and answer["number"] == classifier.read_number(str(path)).text
    assert sum(a == b for a, b in zip(answer["number"], w.number)) >= len(w.number) - 1, (answer, w.number)
    assert len(answer["number"]) == len(w.number)


def test_the_round_pen_keeps_a_filled_loop_filled():
    """A 9 whose loop the writer filled in stays a blob on a stick, not a 7; a plain stroke keeps the pen's width."""
    yy, xx = np.mgrid[:28, :28]
    nine = ((yy - 10) ** 2 + (xx - 13) ** 2 <= 36) | ((abs(xx - 18) <= 1) & (yy >= 10) & (yy <= 25))
    one = (abs(xx - 14) <= 1) & (yy >= 4) & (yy <= 24)
    for digit, want in ((nine, 0.7), (one, None)):
        ink = np.asarray(pen_strokes(digit.astype(np.uint8) * 255, 200, 16), np.float32) / 255 > 0.5
        ink = ink[np.ix_(ink.any(1), ink.any(0))]
        original = np.asarray(Image.fromarray(cropped(digit.astype(np.uint8) * 255)).resize(ink.shape[::-1])) > 0.35
        if want:
            assert ink.sum() >= want * original.sum()
        else:
            assert 12 <= stroke_width(np.pad(ink, 1).astype(np.float32)) <= 20


def dots(count, seed=0):
    """An 800x300 canvas of `count` isolated 1-px dots: tiny as a PNG, thousands of ink pieces."""
    ink = np.zeros((CANVAS_H, CANVAS_W), np.float32)
    ys, xs = np.mgrid[0:CANVAS_H:2, 0:CANVAS_W:2]
    idx = np.random.default_rng(seed).choice(ys.size, count, replace=False)
    ink[ys.ravel()[idx], xs.ravel()[idx]] = 1.0
    return ink


def test_a_canvas_of_dots_gets_a_sentence_as_fast_as_a_number(classifier, sample):
    """Grouping used to grow with the square of the pieces: 4,000 dots took 11 s, 60,000 most of an hour.
    Now anything past MAX_PIECES is refused before grouping, and the time is a normal reading's."""
    w = numbers(sample, "wide", count=1, seed=7)[0]
    start = time.perf_counter()
    classifier.read_number(w.value)
    baseline = time.perf_counter() - start
    for count in (MAX_PIECES + 1, 4000, 60000):
        start = time.perf_counter()
        with pytest.raises(BadImage, match="separate specks"):
            classifier.read_number(sketch_value(dots(count)))
        assert time.perf_counter() - start < 5 * baseline + 0.2, count


def test_grouping_is_one_pass():
    """Pieces in a row, each overlapping the next, make one digit; apart, one digit each. Ten times the
    pieces take about ten times as long (the old loop restarted its scan after every merge: a hundred)."""

    def timed(n):
        boxes = np.stack([np.arange(n), np.zeros(n), np.arange(n) + 2, np.full(n, 100)], axis=1)
        start = time.perf_counter()
        groups = group_pieces(boxes, 100.0)
        assert sorted(map(len, groups)) == [n]
        return time.perf_counter() - start

    small, large = min(timed(2000) for _ in range(3)), timed(20000)
    assert large < 30 * small + 0.05, (small, large)
    n = 500
    apart = np.stack([np.arange(n) * 3, np.zeros(n), np.arange(n) * 3 + 2, np.full(n, 100)], axis=1)
    assert len(group_pieces(apart, 100.0)) == n


@pytest.mark.parametrize("axis", [0, 1])
def test_a_mesh_of_thin_lines_is_refused_before_it_is_cut_or_read(classifier, axis):
    """1-px lines joined by a bar are one piece with a hundred thousand runs; counted first, refused at once."""
    from demo.number import MESH

    rgba = np.zeros((CANVAS_H, CANVAS_W, 4), np.uint8)  # strokes on a transparent layer, as the pad draws
    (rgba[::3] if axis == 0 else rgba[:, ::3])[..., 3] = 255
    rgba[:, :3, 3] = rgba[:3, :, 3] = 255
    with pytest.raises(BadImage, match="mesh") as refused:
        classifier.read_number(rgba)
    assert str(refused.value) == MESH
