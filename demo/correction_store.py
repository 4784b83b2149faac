"""The corrections people give ("it was a 7"), kept in SQLite: bounded, safe for many writers, and
never a reason for the app to stop serving.

One row per digit: when, which model (its file's SHA-256), what it read with what probabilities, the
right digit, the model's 28x28 input and the person's own strokes of that digit, scaled down. Nothing
about the person. Every failure is a `StoreError` with one sentence; the app shows it and goes on.
"""

from __future__ import annotations

import datetime
import io
import json
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from demo.contract import MNIST_SIZE, NUM_CLASSES

DEFAULT_STORE = Path(__file__).resolve().parent.parent / "data" / "corrections.sqlite"
MAX_ROWS = 20_000  # digits kept; then new corrections are refused, old ones are never dropped
MAX_BYTES = 64 * 2**20  # the database file's size bound
DRAWING_SIDE = 128  # px: the longer side of the kept strokes
WAIT = 2.0  # s a writer waits for another one; a visitor's click never waits longer
SCHEMA = 1
KEPT = (
    "the time, the model's answer and its probabilities, the digit you give, the 28x28 image the "
    "model read and a small copy of your strokes. Nothing about you."
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
    drawing BLOB
)"""
COLUMNS = "id, created, model_sha256, source, predicted, probabilities, label, seen, drawing"


NOT_KEPT = "Corrections cannot be kept on this server right now; the app goes on reading your digits."


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


class Store:
    """One SQLite file. A connection per call (threads and processes alike), WAL so readers never
    block the writer, and a short wait for the write lock, after which the person gets a sentence."""

    def __init__(
        self, path: str | Path = DEFAULT_STORE, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES, wait: float = WAIT
    ):
        self.path, self.max_rows, self.max_bytes, self.wait = Path(path), max_rows, max_bytes, wait
        self._lock = threading.Lock()  # one writer at a time in this process; SQLite orders the processes

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=self.wait, isolation_level=None)
        except (OSError, sqlite3.Error) as e:
            raise StoreError(
                f"The corrections file {self.path} cannot be opened ({e}); check the path and "
                "its folder's permissions, or start the app with --no-corrections.",
                NOT_KEPT,
            ) from None
        try:
            con.execute("PRAGMA journal_mode=WAL")
            if con.execute("PRAGMA user_version").fetchone()[0] == 0:
                con.execute(CREATE)
                con.execute(f"PRAGMA user_version={SCHEMA}")
        except sqlite3.OperationalError as e:
            con.close()
            raise self._busy_or(e) from None
        except sqlite3.DatabaseError as e:
            con.close()
            raise StoreError(
                f"The corrections file {self.path} is damaged or not a corrections database ({e}); "
                "move it away and a new one is started.",
                NOT_KEPT,
            ) from None
        return con

    def _busy_or(self, e: sqlite3.Error) -> StoreError:
        if "locked" in str(e) or "busy" in str(e):
            return StoreError("The corrections store is busy; try again in a moment.")
        return StoreError(
            f"The corrections file {self.path} could not be written ({e}); check the disk and its permissions.",
            NOT_KEPT,
        )

    def check(self) -> None:
        """Raise StoreError now if the file cannot be used (the app says so at start and keeps serving)."""
        self._connect().close()

    def add(self, corrections: list[Correction]) -> list[int]:
        """Keep all of them or none (one transaction); their ids."""
        if any(not 0 <= c.label < NUM_CLASSES for c in corrections):
            raise StoreError("A correction is a digit from 0 to 9.")
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        rows = [
            (
                now,
                c.model_sha256,
                c.source,
                int(c.predicted),
                json.dumps([round(float(p), 6) for p in c.probabilities]),
                int(c.label),
                seen_bytes(c.seen),
                None if c.drawing is None else png_bytes(c.drawing),
            )
            for c in corrections
        ]
        with self._lock:
            con = self._connect()
            try:
                con.execute("BEGIN IMMEDIATE")
                count = con.execute("SELECT COUNT(*) FROM corrections").fetchone()[0]
                size = con.execute("PRAGMA page_count").fetchone()[0] * con.execute("PRAGMA page_size").fetchone()[0]
                if (
                    count + len(rows) > self.max_rows
                    or size + sum(len(r[6]) + len(r[7] or b"") for r in rows) > self.max_bytes
                ):
                    con.execute("ROLLBACK")
                    raise StoreError(
                        f"The corrections store is full ({count} digits); nothing was added. "
                        "Export and fine-tune on them, then move the file away to start a new one."
                    )
                ids = [
                    con.execute(
                        f"INSERT INTO corrections ({COLUMNS.split(', ', 1)[1]}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", r
                    ).lastrowid
                    for r in rows
                ]
                con.execute("COMMIT")
                return ids
            except sqlite3.Error as e:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise self._busy_or(e) from None
            finally:
                con.close()

    def all(self) -> list[Correction]:
        """Every correction, oldest first."""
        con = self._connect()
        try:
            rows = con.execute(f"SELECT {COLUMNS} FROM corrections ORDER BY id").fetchall()
        except sqlite3.Error as e:
            raise self._busy_or(e) from None
        finally:
            con.close()
        return [
            Correction(
                id=r[0],
                created=r[1],
                model_sha256=r[2],
                source=r[3],
                predicted=r[4],
                probabilities=json.loads(r[5]),
                label=r[6],
                seen=seen_array(r[7]).astype(np.float32) / 255,
                drawing=None if r[8] is None else 1 - np.asarray(Image.open(io.BytesIO(r[8])), np.float32) / 255,
            )
            for r in rows
        ]


class RateLimit:
    """At most `per_key` events per `window` seconds for each key (a browser session), and `total`
    for everyone; keys are forgotten oldest first past `keys`, so memory stays bounded."""

    def __init__(self, per_key: int = 10, total: int = 120, window: float = 60.0, keys: int = 4096):
        self.per_key, self.total, self.window, self.keys = per_key, total, window, keys
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def refund(self, key: str) -> None:
        """Give back `key`'s newest event: an attempt that kept nothing spends no budget."""
        with self._lock:
            mine = self._seen.get(key)
            if mine:
                when = mine.pop()
                if when in self._all:
                    self._all.remove(when)

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            for times in (self._all, self._seen.get(key, ())):
                while times and times[0] <= now - self.window:
                    times.popleft()
            mine = self._seen.pop(key, deque())
            self._seen[key] = mine
            while len(self._seen) > self.keys:
                self._seen.popitem(last=False)
            if len(mine) >= self.per_key or len(self._all) >= self.total:
                return False
            mine.append(now)
            self._all.append(now)
            return True
