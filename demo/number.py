"""A whole number on one canvas: ink -> one ink map per digit, left to right.

Pieces of ink are found by connectivity, pieces of one digit (a 5's detached bar, a two-stroke 4,
a dotted stroke) are merged by how much they overlap across the writing direction, and a piece
too wide for one digit is cut where the model itself reads both sides best (demo.cuts). The model is passed in
as `read`, so this module stays arrays only: it decides where digits are, never what they are.
"""

from __future__ import annotations

import numpy as np

from demo.cuts import Piece, Read, cut_to_box, shifted, split_wide
from demo.decode import BadImage
from demo.pieces import boxes_of, label_runs, max_filter
from demo.preprocess import INK_THRESHOLD as INK

MAX_DIGITS = 8
MAX_PIECES = 32 * MAX_DIGITS  # separate bits of ink a number can be made of: a dotted stroke is a few per digit
TOO_SCATTERED = (
    "That drawing is hundreds of separate specks, not a number: clear the canvas and write the digits "
    "with joined strokes."
)
MAX_RUNS = 64  # strokes crossed by one row (or column) of ink, on average: 8 digits cross a few each; a mesh, hundreds
MESH = (
    "That drawing is a mesh of hundreds of thin lines, not a number: clear the canvas and write the digits "
    "with joined strokes."
)
OVERLAP = 0.5  # pieces whose x-ranges overlap by this much of the narrower one are one digit
STACKED = 0.01  # ... or by any column when one is wholly above the other (digits are never stacked)
FLAT = 0.45  # a piece less tall than this fraction of a digit is a mark (bar, dot) of a digit
MARK = 0.3  # a mark this close (fraction of a digit's height) to a digit belongs to it
SPECK = 0.06  # a mark smaller than this, further away, is a stray dot
NEAR = 0.15  # ... and only if the gap between them is under this fraction of a digit's height
JOIN = 1.1  # two neighbouring pieces read as one digit only if no wider than this x its height
MARGIN = 0.15  # ... and if together they read better than apart by this much (geometric mean of confidences)


def reference_height(boxes: np.ndarray) -> float:
    """A digit's height in this number: the median height of the pieces at least half the tallest,
    measured again over the digits those pieces make, so a dotted stroke's dots do not set it."""

    def median_tall(heights):
        return float(np.median(heights[heights >= 0.5 * heights.max()]))

    height = median_tall(boxes[:, 3] - boxes[:, 1])
    groups = group_pieces(boxes, height)
    return median_tall(np.array([boxes[g, 3].max() - boxes[g, 1].min() for g in groups]))


def group_pieces(boxes: np.ndarray, height: float) -> list[list[int]]:
    """Component indices grouped into digits, left to right: overlapping x-ranges join (a little overlap
    is enough when one piece is wholly above the other: digits are written side by side, never
    stacked); marks (short bars, dots) join the digit they overlap or sit nearest to; stray specks are
    dropped. One pass over the pieces by their left edge, each group's extent kept as it grows."""
    tall = (boxes[:, 3] - boxes[:, 1]) >= FLAT * height
    groups: list[list[int]] = []
    extents: list[list[int]] = []  # x0, y0, x1, y1 of each group

    def joins(a: list[int], b: list[int]) -> bool:
        share = OVERLAP if min(a[3], b[3]) > max(a[1], b[1]) else STACKED  # side by side, or one above the other
        return min(a[2], b[2]) - max(a[0], b[0]) >= share * min(a[2] - a[0], b[2] - b[0])

    for i in sorted(np.flatnonzero(tall).tolist(), key=lambda i: boxes[i, 0]):
        group, extent = [i], [int(v) for v in boxes[i]]
        while groups and joins(extents[-1], extent):  # a grown group may now reach the one before it
            before, other = groups.pop(), extents.pop()
            before.extend(group)  # the shorter list is copied, so a long chain stays linear
            group = before
            extent = [min(other[k], extent[k]) for k in (0, 1)] + [max(other[k], extent[k]) for k in (2, 3)]
        groups.append(group)
        extents.append(extent)
    sizes = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    spans = np.array([[e[0], e[2]] for e in extents], np.int64).reshape(-1, 2)
    for i in np.flatnonzero(~tall).tolist():
        if not groups:
            groups.append([i])
            spans = np.array([[boxes[i, 0], boxes[i, 2]]], np.int64)
            continue
        overlaps = np.minimum(boxes[i, 2], spans[:, 1]) - np.maximum(boxes[i, 0], spans[:, 0])
        nearest = int(np.argmax(overlaps))
        if overlaps[nearest] > 0 or sizes[i] >= SPECK * height or -overlaps[nearest] <= MARK * height:
            groups[nearest].append(i)
            spans[nearest] = min(spans[nearest, 0], boxes[i, 0]), max(spans[nearest, 1], boxes[i, 2])
    return sorted(groups, key=lambda g: int(boxes[g, 0].min()))


def grow(mask: np.ndarray, px: int) -> np.ndarray:
    """A mask widened by `px` pixels, so each digit keeps the soft edge of its own strokes."""
    return max_filter(mask, 2 * px + 1)


def piece_of(ink: np.ndarray, labels: np.ndarray, boxes: np.ndarray, group: list[int], pad: int) -> Piece | None:
    """The ink of the components in `group` alone, with their soft edges, cut to its box."""
    x0, y0 = max(0, int(boxes[group, 0].min()) - pad), max(0, int(boxes[group, 1].min()) - pad)
    x1, y1 = int(boxes[group, 2].max()) + pad, int(boxes[group, 3].max()) + pad
    mask = np.isin(labels[y0:y1, x0:x1], [i + 1 for i in group])
    piece = cut_to_box(ink[y0:y1, x0:x1] * grow(mask, pad))
    return None if piece is None else shifted(piece, x0, y0)


def join_by_reading(groups: list[list[int]], make, height: float, read: Read) -> list[list[int]]:
    """Neighbouring pieces the model reads much better as one digit than apart (a broken stroke, a
    two-stroke 4 or 7 written apart) become one; pieces each read well apart are never joined."""
    while len(groups) > 1:
        pieces = [make(g) for g in groups]
        pairs = [
            k
            for k in range(len(groups) - 1)
            if pieces[k + 1].box[0] - pieces[k].box[2] <= NEAR * height
            and max(pieces[k + 1].box[2], pieces[k].box[2]) - pieces[k].box[0] <= JOIN * height
        ]
        if not pairs:
            break
        joined = [make(groups[k] + groups[k + 1]) for k in pairs]
        reads = read([p.ink for p in pieces] + [p.ink for p in joined])
        apart = [reads[k][1] for k in range(len(pieces))]
        gains = [reads[len(pieces) + n][1] - np.sqrt(apart[k] * apart[k + 1]) for n, k in enumerate(pairs)]
        best = int(np.argmax(gains))
        if gains[best] < MARGIN:
            break
        k = pairs[best]
        groups[k : k + 2] = [groups[k] + groups[k + 1]]
    return groups


def segment(ink: np.ndarray, read: Read) -> list[Piece]:
    """An ink map [H, W] in [0, 1] -> the digits' pieces, left to right (more than MAX_DIGITS when the
    number is too long, so the caller can say so); [] if there is no ink."""
    peak = float(ink.max(initial=0))
    if peak <= 0:
        return []
    ink = np.clip(ink / peak, 0.0, 1.0)
    mask = ink > INK
    labels, count = label_runs(mask)  # in C: as cheap for a hundred thousand runs as for a digit's few
    if count == 0:
        return []
    if count > MAX_PIECES:  # before anything that grows faster than the ink does
        raise BadImage(TOO_SCATTERED)
    # a mesh of 1-px lines is one piece of ink, which would otherwise be cut and read many ways over
    for runs in (mask, mask.T):  # along rows, then along columns
        if np.count_nonzero(runs[:, 1:] & ~runs[:, :-1]) > MAX_RUNS * np.count_nonzero(runs.any(axis=1)):
            raise BadImage(MESH)
    boxes = boxes_of(labels, count)
    height = reference_height(boxes)
    pad = max(1, round(0.02 * height))
    groups = group_pieces(boxes, height)
    if len(groups) > 3 * MAX_DIGITS:
        return [p for p in (piece_of(ink, labels, boxes, g, pad) for g in groups) if p is not None]
    groups = join_by_reading(groups, lambda g: piece_of(ink, labels, boxes, g, pad), height, read)
    pieces = [p for p in (piece_of(ink, labels, boxes, g, pad) for g in groups) if p is not None]
    if len(pieces) > MAX_DIGITS:
        return pieces
    out: list[Piece] = []
    for k, piece in enumerate(pieces):
        out += split_wide(piece, height, read, MAX_DIGITS + 1 - len(out) - (len(pieces) - k - 1), len(pieces) == 1)
    return out
