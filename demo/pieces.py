"""Connected pieces of ink, found without SciPy: the number reader cuts a line into digits with them, and
the preprocessing joins a digit drawn in many pieces (a dotted stroke)."""

import numpy as np


def label_runs(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components of a boolean mask, by runs of pixels per row and union-find:
    numpy and a loop over runs, no SciPy. Returns (labels 0 = background, count)."""
    padded = np.pad(mask, ((0, 0), (1, 1))).astype(np.int8)
    edges = np.diff(padded, axis=1)
    starts, ends = np.nonzero(edges == 1), np.nonzero(edges == -1)
    rows, x0, x1 = starts[0], starts[1], ends[1]  # run = row, [x0, x1)
    parent = list(range(len(rows)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_start = np.searchsorted(rows, np.arange(mask.shape[0] + 1))
    for r in range(1, mask.shape[0]):
        prev, cur = range(row_start[r - 1], row_start[r]), range(row_start[r], row_start[r + 1])
        j = prev.start
        for i in cur:
            while j < prev.stop and x1[j] < x0[i]:  # previous runs ending left of this one, diagonals aside
                j += 1
            k = j
            while k < prev.stop and x0[k] <= x1[i]:  # touching, diagonals included
                a, b = find(i), find(k)
                if a != b:
                    parent[max(a, b)] = min(a, b)
                k += 1
    roots = [find(i) for i in range(len(rows))]
    ids = {root: n + 1 for n, root in enumerate(dict.fromkeys(roots))}
    labels = np.zeros(mask.shape, np.int32)
    for i, root in enumerate(roots):
        labels[rows[i], x0[i] : x1[i]] = ids[root]
    return labels, len(ids)
