"""train.styles: each writing form is drawn on real MNIST digits of its class, in MNIST geometry, does
what its name says, and only the training forms (never the held-out one) enter training."""

import numpy as np
import pytest

from demo.pieces import label_runs
from train.styles import FORMS, HELD_OUT, styled_set, with_styles


def ink(d, level=80):
    return d > level


def top_width(d, rows=slice(0, 12)):
    """Columns with ink in the given rows: a flag or a bar widens them."""
    return int(ink(d)[rows].any(0).sum())


@pytest.mark.parametrize("form", [*FORMS, *HELD_OUT])
def test_a_form_is_drawn_on_every_digit_of_its_class_in_mnist_geometry(sample, form):
    x, y = sample["x_train"], sample["y_train"]
    digit = {**FORMS, **HELD_OUT}[form][0]
    sx, sy = styled_set(x, y, form, seed=0)
    assert len(sx) == (y == digit).sum() > 10 and (sy == digit).all()
    assert sx.dtype == np.uint8 and sx.shape[1:] == (28, 28)
    for d in sx:
        rows, cols = np.flatnonzero(d.max(1) > 25), np.flatnonzero(d.max(0) > 25)
        assert rows[-1] - rows[0] < 21 and cols[-1] - cols[0] < 21  # MNIST's 20 px box
        mass = d.astype(np.float64) / d.sum()
        cy, cx = mass.sum(1) @ np.arange(28), mass.sum(0) @ np.arange(28)
        assert abs(cy - 14) < 2 and abs(cx - 14) < 2
    changed = np.mean([np.abs(a.astype(int) - b.astype(int)).mean() > 3 for a, b in zip(sx, x[y == digit])])
    assert changed > 0.9  # the form, not the digit as MNIST wrote it


def test_each_form_changes_the_part_of_the_digit_its_name_says(sample):
    x, y = sample["x_train"], sample["y_train"]
    ones, fours, sevens, eights = (x[y == d] for d in (1, 4, 7, 8))

    def mean(f, digits):
        return float(np.mean([f(d) for d in digits]))

    flagged, footed = styled_set(x, y, "1 with a flag")[0], styled_set(x, y, "1 with a flag and a foot")[0]
    # a flag widens the top of a 1; a foot widens its bottom too
    assert mean(top_width, flagged) > mean(top_width, ones) + 2
    bottom = lambda d: top_width(d, slice(20, 28))  # noqa: E731
    assert mean(bottom, footed) > mean(bottom, flagged) + 2
    # a crossed 7 has a row in its lower half much wider than its stem
    widest_low = lambda d: max(int(ink(d)[r].sum()) for r in range(14, 24))  # noqa: E731
    assert mean(widest_low, styled_set(x, y, "crossed 7")[0]) > mean(widest_low, sevens) + 2
    # an open 4 has less ink at its top-left; two loops are apart (two pieces of ink) more often than MNIST's 8s
    assert mean(lambda d: ink(d)[:8, :14].sum(), styled_set(x, y, "open-top 4")[0]) < mean(
        lambda d: ink(d)[:8, :14].sum(), fours
    )
    apart = lambda d: label_runs(ink(d))[1] >= 2  # noqa: E731
    assert mean(apart, styled_set(x, y, "8 of two loops")[0]) > mean(apart, eights) + 0.05


def test_training_gets_styled_copies_of_each_form_but_never_the_held_out_one(sample):
    x, y = sample["x_train"], sample["y_train"]
    xs, ys = with_styles(x, y, 0.5, seed=3)
    added = ys[len(y) :]
    assert (xs[: len(x)] == x).all() and (ys[: len(y)] == y).all()
    expected = {}
    for digit, _ in FORMS.values():
        expected[digit] = expected.get(digit, 0) + int(0.5 * (y == digit).sum())
    assert {d: int((added == d).sum()) for d in expected} == expected
    held_out_digits = {d for d, _ in HELD_OUT.values()} - {d for d, _ in FORMS.values()}
    assert not np.isin(added, list(held_out_digits)).any()
    again = with_styles(x, y, 0.5, seed=3)
    assert (again[0] == xs).all()  # the same seed, the same training set (resumable)
    assert with_styles(x, y, 0.0, seed=3)[0] is x
