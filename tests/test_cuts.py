"""Touching digits cut by recognition (demo.cuts), on real MNIST digits joined the hard ways people join
them (crossing strokes, a shared stroke, a ligature), and what a window keeps of its neighbour."""

import numpy as np

from demo.canvas import CANVAS_H, CANVAS_W
from demo.cuts import window
from train.written import HARD, write_pair


def pairs(sample, style, count, seed):
    rng = np.random.default_rng(seed)
    x, y = sample["x_test"], sample["y_test"]
    out = []
    while len(out) < count:
        idx = rng.choice(len(x), 2, replace=False)
        w = write_pair(list(x[idx]), [int(v) for v in y[idx]], rng, style, "pen" if len(out) % 2 else "mnist")
        if w is not None:
            out.append(w)
    return out


def test_digits_joined_the_hard_ways_are_read_apart_more_often_than_by_columns(classifier, sample):
    """30 pairs of each HARD kind: 30 of 90 read exactly (cutting at one column, as before demo.cuts: 19).
    Far from every pair: BENCHMARKS.md, "Touching digits", says how far and why."""
    got = []
    for style in HARD:
        written = pairs(sample, style, 30, seed=len(style))
        got += [(classifier.read_number(w.value).text, w.number) for w in written]
    assert sum(g == truth for g, truth in got) >= 26, got


def test_a_window_leaves_out_the_bits_of_its_neighbour_that_its_edge_cut_off():
    ink = np.zeros((100, 100), np.float32)
    ink[10:90, 20:30] = 1.0  # the window's own digit, a 1
    ink[40:50, 92:100] = 1.0  # the end of the neighbour's stroke, cut off at the window's right edge
    piece = window(ink, 0, 100, cut_left=False)
    assert piece.box == (20, 10, 30, 90)
    piece = window(ink, 0, 100, cut_left=True)  # a window cut on its left: the 1 is now the cut-off bit
    assert piece.box == (92, 40, 100, 50)


def test_a_window_with_one_piece_keeps_it_whole():
    ink = np.zeros((CANVAS_H, CANVAS_W), np.float32)
    ink[100:200, 700:790] = 1.0
    assert window(ink, 600, 800, cut_left=True).box == (700, 100, 790, 200)
    assert window(ink, 600, 800, cut_left=False).box == (700, 100, 790, 200)
