"""The corrections people give ("it was a 7"), kept in SQLite (one machine) or PostgreSQL (demo.pg_store,
every replica): bounded, safe for many writers, and never a reason for the app to stop serving.

One row per digit: when, which model (its file's SHA-256), what it read with what probabilities, the
right digit, the model's 28x28 input and the person's own strokes of that digit, scaled down, and a salted
hash of the visitor's address (their daily cap, and review by visitor), never the address. Every failure
is a `StoreError`: a sentence for the visitor, the detail for the owner; the app goes on.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from demo.contract import MNIST_SIZE, NUM_CLASSES

DEFAULT_STORE = Path(__file__).resolve().parent.parent / "data" / "corrections.sqlite"
MAX_ROWS = 20_000  # digits kept; then the oldest unreviewed rows make room, and accepted rows stay
MAX_BYTES = 64 * 2**20  # the database file's size bound
DRAWING_SIDE = 128  # px: the longer side of the kept strokes
WAIT = 2.0  # s a writer waits for another one; a visitor's click never waits longer
SCHEMA = 3  # 2: each row's visitor, as a salted hash (never the address); 3: each row's review status
PER_VISITOR = 1000  # rows one visitor may hold at once: a flood from one place cannot fill the store
STATUSES = ("new", "accepted", "rejected")  # rejected rows never train; accepted rows are never let go
HELD_ENOUGH = "Thank you: this server already keeps as many corrections from you as it keeps from anyone."
DAILY = 200  # corrections one visitor may give in a day: a keen person, never a script filling the store
ENOUGH_TODAY = "Thank you, that is as many corrections from you as one day keeps; come back tomorrow."
NOT_KEPT = "Corrections cannot be kept on this server right now; the app goes on reading your digits."
KEPT = (
    "the time, the model's answer and its probabilities, the digit you give, the 28x28 image the "
    "model read, a small copy of your strokes, and a code made from your address so that your corrections "
    "count together (never the address itself)."
)

CREATE = """CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    predicted INTEGER NOT NULL,
    probabilities TEXT NOT NULL,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    seen BLOB NOT NULL,
    drawing BLOB,
    visitor TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'accepted', 'rejected'))
)"""
CREATE_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
CREATE_INDEX = "CREATE INDEX IF NOT EXISTS corrections_visitor ON corrections (visitor, created)"
MIGRATIONS = {  # from schema version k to k + 1
    1: "ALTER TABLE corrections ADD COLUMN visitor TEXT NOT NULL DEFAULT ''",
    2: "ALTER TABLE corrections ADD COLUMN status TEXT NOT NULL DEFAULT 'new'",
}
COLUMNS = "id, created, model_sha256, source, predicted, probabilities, label, seen, drawing, visitor, status"
INSERT = f"INSERT INTO corrections ({COLUMNS.split(', ', 1)[1]}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
SINCE = "SELECT COUNT(*) FROM corrections WHERE visitor = ? AND created >= ?"
HELD = "SELECT COUNT(*) FROM corrections WHERE visitor = ?"
UNREVIEWED = "SELECT COUNT(*) FROM corrections WHERE status = 'new'"
LET_GO = "DELETE FROM corrections WHERE id IN (SELECT id FROM corrections WHERE status = 'new' ORDER BY id LIMIT ?)"
FULL = "The corrections store is full; nothing was added."
STORE_BUSY = "The corrections store is busy; try again in a moment."


class StoreError(Exception):
    """The store cannot take or give corrections right now: the detail (paths, the OS's words) for the
    owner's log and the command line, and `public`, one sentence a visitor of the page may read."""

    def __init__(self, detail: str, public: str = ""):
        super().__init__(detail)
        self.public = public or detail


@dataclass
class Correction:
    label: int  # the right digit, as the person says
    predicted: int  # what the model read
    probabilities: list[float]  # all 10
    seen: np.ndarray  # the 28x28 model input, float [0, 1]
    drawing: np.ndarray | None = None  # the person's strokes of this digit, ink float [0, 1]
    source: str = "page"  # page | api | cli
    model_sha256: str = ""
    created: str = ""
    id: int = 0
    visitor: str = ""  # the store's salted hash of the visitor's address; "" from the command line
    status: str = "new"  # new | accepted | rejected (demo.corrections review)


def png_bytes(ink: np.ndarray, side: int = DRAWING_SIDE) -> bytes:
    """Ink [0, 1] -> a grey PNG (ink dark on white), its longer side at most `side` px."""
    im = Image.fromarray((255 - np.clip(ink, 0, 1) * 255).astype(np.uint8))
    im.thumbnail((side, side), Image.Resampling.BOX)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def seen_bytes(seen: np.ndarray) -> bytes:
    if seen.shape != (MNIST_SIZE, MNIST_SIZE):
        raise ValueError(f"the model's view is {MNIST_SIZE}x{MNIST_SIZE}, got {seen.shape}")
    return (np.clip(seen, 0, 1) * 255).round().astype(np.uint8).tobytes()


def seen_array(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, np.uint8).reshape(MNIST_SIZE, MNIST_SIZE)


def now_text(seconds_ago: float = 0.0) -> str:
    """UTC time as the store keeps it (ISO text, which sorts as time does)."""
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds_ago)
    return when.isoformat(timespec="seconds")


def visitor_key(salt: str, address: str) -> str:
    """What the store keeps of a visitor: a hash of their address with the store's own salt, so rows of one
    visitor can be counted and reviewed together and the address itself is never kept."""
    return hashlib.sha256(f"{salt}:{address}".encode()).hexdigest()[:16] if address else ""


def encoded(corrections: list[Correction], visitor: str) -> list[tuple]:
    """Rows to insert (COLUMNS without the id); a label outside 0-9 is refused."""
    if any(not 0 <= c.label < NUM_CLASSES for c in corrections):
        raise StoreError("A correction is a digit from 0 to 9.")
    now = now_text()
    return [
        (
            now,
            c.model_sha256,
            c.source,
            int(c.predicted),
            json.dumps([round(float(p), 6) for p in c.probabilities]),
            int(c.label),
            seen_bytes(c.seen),
            None if c.drawing is None else png_bytes(c.drawing),
            visitor,
            "new",
        )
        for c in corrections
    ]


def decoded(r: tuple) -> Correction:
    """A row of COLUMNS -> Correction."""
    drawing = None if r[8] is None else 1 - np.asarray(Image.open(io.BytesIO(bytes(r[8]))), np.float32) / 255
    return Correction(
        id=r[0],
        created=r[1],
        model_sha256=r[2],
        source=r[3],
        predicted=r[4],
        probabilities=json.loads(r[5]),
        label=r[6],
        seen=seen_array(bytes(r[7])).astype(np.float32) / 255,
        drawing=drawing,
        visitor=r[9],
        status=r[10],
    )


def room(count: int, size: int, rows: list[tuple], store, today: int, per_day: int, held: int, new: int) -> int:
    """How many of the oldest unreviewed rows must go for `rows` to fit `store`'s bounds; StoreError when
    they cannot: the visitor's day, what one visitor may hold, the bytes, or a store of reviewed rows only."""
    n = len(rows)
    if per_day and today + n > per_day:
        raise StoreError(f"visitor over {per_day} corrections a day", ENOUGH_TODAY)
    if per_day and held + n > PER_VISITOR:
        raise StoreError(f"visitor holds {held} corrections", HELD_ENOUGH)
    over = count + n - store.max_rows
    if size + sum(len(r[6]) + len(r[7] or b"") for r in rows) > store.max_bytes or over > new:
        raise StoreError(f"{FULL} ({count} digits) Review or fine-tune on them, then reject what should go.", FULL)
    return max(0, over)


def make_room(one, run, rows: list[tuple], per_day: int, store, size: int) -> None:
    """Inside an add's transaction: count what the bounds need and let the oldest unreviewed rows go when
    the store is full, or raise StoreError. `one(sql, params)`: the first value of the first row;
    `run(sql, params)`: a statement. Both take this module's SQL with `?` placeholders."""
    visitor = rows[0][8]
    count = one("SELECT COUNT(*) FROM corrections", ())
    today = one(SINCE, (visitor, now_text(86400))) if visitor else 0
    held = one(HELD, (visitor,)) if visitor else 0
    let_go = room(count, size, rows, store, today, per_day, held, one(UNREVIEWED, ()))
    if let_go:
        run(LET_GO, (let_go,))


def marking(status: str, ids: list[int] = (), visitor: str = "", digit: int | None = None) -> tuple[str, list]:
    """UPDATE setting `status` on the rows named by id, by visitor or by digit (all that are given)."""
    if status not in STATUSES:
        raise StoreError(f"A review status is one of {', '.join(STATUSES)}.")
    where, params = [], [status]
    if ids:
        where.append(f"id IN ({', '.join('?' * len(ids))})")
        params += [int(i) for i in ids]
    if visitor:
        where.append("visitor = ?")
        params.append(visitor)
    if digit is not None:
        where.append("label = ?")
        params.append(int(digit))
    if not where:
        raise StoreError("Say which corrections: by row, by visitor or by digit.")
    return f"UPDATE corrections SET status = ? WHERE {' AND '.join(where)}", params


class CorrectionStore(Protocol):
    """What the app, the command line and fine-tuning use of a store, SQLite or PostgreSQL."""

    where: str  # for the owner: the file, or the database without its password
    name: str  # for the page: a short name, never a path

    def exists(self) -> bool: ...
    def check(self) -> None: ...
    def add(self, corrections: list[Correction], address: str = "", per_day: int = 0) -> list[int]: ...
    def mark(self, status: str, ids: list[int] = (), visitor: str = "", digit: int | None = None) -> int: ...
    def all(self) -> list[Correction]: ...
