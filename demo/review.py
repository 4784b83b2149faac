"""What the corrections hold, for the person who decides what the model learns: the rows grouped by digit
and by visitor, with what a model reads in each, and a contact sheet per digit to look at.

A visitor whose corrections a model keeps reading otherwise, many of them, mostly as one other digit, is
named: that is what poisoning looks like (200 MNIST 3s labelled 8). Honest corrections of a style the
model misreads are read otherwise too, until it learns them; after fine-tuning, what the kept model still
reads otherwise is the part it refused. Used by `demo.corrections review` and `train.finetune`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from demo.correction_store import Correction
from demo.fileio import atomic_path

SUSPECT = 0.6  # a visitor whose rows a model reads otherwise at least this often...
MIN_ROWS = 10  # ...with at least this many rows, is named
CELL, COLUMNS = 56, 20  # a contact sheet: 28x28 views at 2x, this many a row
BORDER = {"otherwise": (220, 40, 40), "rejected": (140, 140, 140), "accepted": (40, 160, 80)}


def otherwise(rows: list[Correction], predicted: list[int]) -> list[bool]:
    return [p != r.label for r, p in zip(rows, predicted)]


def by_digit(rows: list[Correction], predicted: list[int]) -> list[tuple[int, int, int, int, int]]:
    """(digit, rows, read otherwise, accepted, rejected) for each digit with rows."""
    out = []
    for d in sorted({r.label for r in rows}):
        mine = [(r, p) for r, p in zip(rows, predicted) if r.label == d]
        out.append(
            (
                d,
                len(mine),
                sum(p != d for _, p in mine),
                sum(r.status == "accepted" for r, _ in mine),
                sum(r.status == "rejected" for r, _ in mine),
            )
        )
    return out


def by_visitor(rows: list[Correction], predicted: list[int]) -> list[tuple[str, int, int, str]]:
    """(visitor, rows, read otherwise, the commonest "labelled X, read Y"), most read otherwise first."""
    groups: dict[str, list[tuple[Correction, int]]] = {}
    for r, p in zip(rows, predicted):
        groups.setdefault(r.visitor or "(command line)", []).append((r, p))
    out = []
    for visitor, mine in groups.items():
        wrong = Counter((r.label, p) for r, p in mine if p != r.label)
        common = wrong.most_common(1)
        top = f"{common[0][1]} labelled {common[0][0][0]}, read {common[0][0][1]}" if common else ""
        out.append((visitor, len(mine), sum(wrong.values()), top))
    return sorted(out, key=lambda v: (-v[2], -v[1]))


def suspects(rows: list[Correction], predicted: list[int]) -> list[str]:
    """Visitors whose many corrections, not yet rejected, a model mostly reads otherwise."""
    open_rows = [(r, p) for r, p in zip(rows, predicted) if r.status != "rejected"]
    rows, predicted = [r for r, _ in open_rows], [p for _, p in open_rows]
    return [
        v
        for v, n, wrong, _ in by_visitor(rows, predicted)
        if v != "(command line)" and n >= MIN_ROWS and wrong >= SUSPECT * n
    ]


def report(rows: list[Correction], predicted: list[int], model: str) -> str:
    """The review as text: per digit, per visitor, and the visitors to look at first."""
    lines = [f"{len(rows)} corrections; read by {model}:", "digit  rows  read otherwise  accepted  rejected"]
    lines += [f"{d:5d} {n:5d} {w:15d} {a:9d} {x:9d}" for d, n, w, a, x in by_digit(rows, predicted)]
    lines += ["visitor            rows  read otherwise  commonest"]
    lines += [f"{v:18s} {n:5d} {w:15d}  {top}" for v, n, w, top in by_visitor(rows, predicted)[:20]]
    named = suspects(rows, predicted)
    for v in named:
        lines.append(
            f"Look at visitor {v}: most of their corrections are read otherwise; if they are wrong, "
            f"`python -m demo.corrections review --reject-visitor {v}` keeps them out of training."
        )
    if not named:
        lines.append("No visitor stands out: no one's many corrections are mostly read otherwise.")
    return "\n".join(lines)


def contact_sheets(rows: list[Correction], predicted: list[int], folder: str | Path) -> list[Path]:
    """One PNG per digit: every row's 28x28 view, bordered red where the model reads it otherwise, grey
    where rejected, green where accepted. Written whole or not at all."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for d in sorted({r.label for r in rows}):
        mine = [(r, p) for r, p in zip(rows, predicted) if r.label == d]
        h = -(-len(mine) // COLUMNS)
        sheet = Image.new("RGB", (CELL * min(COLUMNS, len(mine)), CELL * h), (255, 255, 255))
        draw = ImageDraw.Draw(sheet)
        for k, (r, p) in enumerate(mine):
            x, y = CELL * (k % COLUMNS), CELL * (k // COLUMNS)
            view = Image.fromarray((255 - np.clip(r.seen, 0, 1) * 255).astype(np.uint8)).resize((CELL - 6, CELL - 6))
            sheet.paste(view.convert("RGB"), (x + 3, y + 3))
            mark = "rejected" if r.status == "rejected" else "otherwise" if p != d else r.status
            if mark in BORDER:
                draw.rectangle([x + 1, y + 1, x + CELL - 2, y + CELL - 2], outline=BORDER[mark], width=2)
        path = folder / f"digit-{d}.png"
        with atomic_path(path, suffix=".png") as tmp:
            sheet.save(tmp, format="PNG")
        written.append(path)
    return written
