"""Connected pieces of ink and the rank filters around them, in C (scipy.ndimage): the number reader cuts a
line into digits with them, and the preprocessing joins a digit drawn in many pieces (a dotted stroke).
A drawing made of 1-px stripes has a hundred thousand runs: nothing here loops over them in Python."""

import numpy as np
from scipy import ndimage

EIGHT = np.ones((3, 3), bool)  # diagonal neighbours touch: a pen's stroke drawn at a slant is one piece


def label_runs(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components of a boolean mask, numbered in raster order of their first pixel.
    Returns (labels 0 = background, count)."""
    labels, count = ndimage.label(mask, structure=EIGHT)
    return labels, int(count)


def boxes_of(labels: np.ndarray, count: int) -> np.ndarray:
    """[count, 4] boxes (x0, y0, x1, y1), exclusive ends, of labels 1..count."""
    out = np.zeros((count, 4), np.int64)
    for i, (rows, cols) in enumerate(ndimage.find_objects(labels, count)):
        out[i] = cols.start, rows.start, cols.stop, rows.stop
    return out


def max_filter(img: np.ndarray, size: int) -> np.ndarray:
    """Each pixel the largest within a `size` x `size` square around it, edges repeated (PIL's MaxFilter)."""
    return ndimage.maximum_filter(img, size=size, mode="nearest")


def min_filter(img: np.ndarray, size: int) -> np.ndarray:
    """Each pixel the smallest within a `size` x `size` square around it, edges repeated (PIL's MinFilter)."""
    return ndimage.minimum_filter(img, size=size, mode="nearest")
