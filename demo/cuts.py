"""Where a piece of ink too wide for one digit is cut: segmentation by recognition.

Touching digits rarely meet at a clean column: their strokes cross, share a stretch of outline, or are
joined by a ligature. So a wide piece is read through windows: a left digit in columns [0, b) and a right
one in [a, w), overlapping where the digits do (a <= b), each cleared of the bits of its neighbour that
the window's edge cut off. Every window is read once, lefts and rights in one model call, and the pair
(a, b) read surest together wins if it beats reading the piece whole; each side may be cut again. "Surest"
is the log-odds of a reading's first choice over its second: a softmax saturates near 1 on half a digit as
on a whole one, while the odds still tell them apart (chosen on validation digits, bench.touching).
The model is passed in as `read`, so this module stays arrays only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from demo.pieces import boxes_of, label_runs
from demo.preprocess import INK_THRESHOLD as INK

WIDE = 1.05  # a piece of a number wider than this x the number's height may be two or more touching digits
LONE = 1.3  # ... and a piece that is all the ink there is, wider than this x its height
STEPS = 13  # window edges tried per wide piece, evenly between SPAN of its width
SPAN = (0.1, 0.9)
OVERLAP = 0.15  # at most this much of the piece's width may belong to both windows
EDGE = 0.3  # a bit of ink wholly within this much of a window's cut side is the neighbour's, cut off
ODDS = 2.0  # a cut's two sides must be read surer, on average (log-odds), than the piece whole, by this
LONE_ODDS = 0.5  # ... and by this when the piece is all the ink there is

# read: ink maps -> (digit, confidence, log-odds of the first choice over the second) each, in one model
# call; the caller brings the model.
Read = Callable[[list[np.ndarray]], list[tuple[int, float, float]]]


@dataclass
class Piece:
    """Ink of one digit: its own ink map (cut to `box`) and the box in canvas pixels (x0, y0, x1, y1)."""

    ink: np.ndarray
    box: tuple[int, int, int, int]


def cut_to_box(ink: np.ndarray, x0: int = 0, x1: int | None = None) -> Piece | None:
    """The ink between columns x0 and x1, trimmed to its own box; None if no stroke is left."""
    part = ink[:, x0:x1]
    keep = part > INK * max(float(ink.max(initial=0)), 1e-6)
    if not keep.any():
        return None
    ys, xs = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    return Piece(
        part[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1],
        (x0 + int(xs[0]), int(ys[0]), x0 + int(xs[-1]) + 1, int(ys[-1]) + 1),
    )


def shifted(piece: Piece, dx: int, dy: int) -> Piece:
    x0, y0, x1, y1 = piece.box
    return Piece(piece.ink, (x0 + dx, y0 + dy, x1 + dx, y1 + dy))


def window(ink: np.ndarray, x0: int, x1: int, cut_left: bool) -> Piece | None:
    """The ink in columns [x0, x1) without the bits wholly within EDGE of its cut side (`cut_left`: the
    window's left edge is the cut, as for a right digit), trimmed to its box; None if nothing is left."""
    part = ink[:, x0:x1]
    labels, count = label_runs(part > INK)
    if count > 1:
        w = part.shape[1]
        boxes = boxes_of(labels, count)
        stray = boxes[:, 2] <= EDGE * w if cut_left else boxes[:, 0] >= (1 - EDGE) * w
        if stray.any() and not stray.all():
            part = np.where(np.isin(labels, np.flatnonzero(stray) + 1), 0.0, part)
    piece = cut_to_box(part)
    return None if piece is None else shifted(piece, x0, 0)


@dataclass
class Windows:
    """A wide piece read through left windows [0, b) and right ones [a, w), by their edges: each window and
    its reading (digit, confidence, log-odds), the whole piece's reading, and the pairs that may go together
    (a <= b <= a + OVERLAP of the width)."""

    lefts: dict[int, Piece]
    rights: dict[int, Piece]
    left_reads: dict[int, tuple[int, float, float]]
    right_reads: dict[int, tuple[int, float, float]]
    whole: tuple[int, float, float]
    pairs: list[tuple[int, int]]

    def odds(self, a: int, b: int) -> float:
        """How sure the pair's two readings are, on average (log-odds)."""
        return (self.left_reads[b][2] + self.right_reads[a][2]) / 2

    def surest(self) -> tuple[int, int]:
        """The pair (a, b) whose two readings are surest together."""
        return max(self.pairs, key=lambda ab: self.odds(*ab))


def read_windows(ink: np.ndarray, read: Read) -> Windows | None:
    """Every window over `ink` read, with the whole, in one model call; None if no pair of windows exists."""
    w = ink.shape[1]
    edges = sorted({int(round(f * w)) for f in np.linspace(*SPAN, STEPS)})
    lefts = {b: p for b in edges if (p := window(ink, 0, b, cut_left=False)) is not None}
    rights = {a: p for a in edges if (p := window(ink, a, w, cut_left=True)) is not None}
    pairs = [(a, b) for b in lefts for a in rights if a <= b <= a + OVERLAP * w]
    if not pairs:
        return None
    reads = read([ink] + [p.ink for p in lefts.values()] + [p.ink for p in rights.values()])
    left_reads = dict(zip(lefts, reads[1 : 1 + len(lefts)]))
    right_reads = dict(zip(rights, reads[1 + len(lefts) :]))
    return Windows(lefts, rights, left_reads, right_reads, reads[0], pairs)


def split_wide(piece: Piece, height: float, read: Read, budget: int, lone: bool = False) -> list[Piece]:
    """A piece wider than one digit, read through overlapping windows and cut where both sides read
    surest, if that beats reading it whole; each side is tried again while the budget lasts. A `lone`
    piece (all the ink there is) has gates of its own (LONE, LONE_ODDS): it is most likely one digit, and
    one digit on the pad must never be cut in two (bench.canvas_robustness, column "split")."""
    h, w = piece.ink.shape
    if budget < 2 or w < (LONE if lone else WIDE) * max(height, h):
        return [piece]
    found = read_windows(piece.ink, read)
    if found is None:
        return [piece]
    a, b = found.surest()
    if found.odds(a, b) < found.whole[2] + (LONE_ODDS if lone else ODDS):
        return [piece]
    dx, dy = piece.box[0], piece.box[1]
    left, right = shifted(found.lefts[b], dx, dy), shifted(found.rights[a], dx, dy)
    first = split_wide(left, height, read, budget - 1)
    return first + split_wide(right, height, read, budget - len(first))
