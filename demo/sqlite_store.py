"""Corrections in one SQLite file: the store for one machine (demo.correction_store has the rows and bounds)."""

from __future__ import annotations

import secrets
import sqlite3
import threading
from pathlib import Path

from demo.correction_store import (
    COLUMNS,
    CREATE,
    CREATE_INDEX,
    CREATE_META,
    DEFAULT_STORE,
    INSERT,
    MAX_BYTES,
    MAX_ROWS,
    MIGRATIONS,
    NOT_KEPT,
    SCHEMA,
    STORE_BUSY,
    WAIT,
    Correction,
    StoreError,
    decoded,
    encoded,
    make_room,
    marking,
    visitor_key,
)


class Store:
    """One SQLite file. A connection per call (threads and processes alike), WAL so readers never
    block the writer, and a short wait for the write lock, after which the person gets a sentence."""

    def __init__(
        self, path: str | Path = DEFAULT_STORE, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES, wait: float = WAIT
    ):
        self.path, self.max_rows, self.max_bytes, self.wait = Path(path), max_rows, max_bytes, wait
        self.where, self.name = str(self.path), self.path.name
        self._lock = threading.Lock()  # one writer at a time in this process; SQLite orders the processes
        self._salt = ""

    def exists(self) -> bool:
        return self.path.is_file()

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
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA:
                con.execute("BEGIN IMMEDIATE")
                version = con.execute("PRAGMA user_version").fetchone()[0]
                for step in range(version or SCHEMA, SCHEMA):  # a new file is created whole
                    con.execute(MIGRATIONS[step])
                for statement in (CREATE, CREATE_META, CREATE_INDEX):
                    con.execute(statement)
                con.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (secrets.token_hex(16),))
                con.execute(f"PRAGMA user_version={SCHEMA}")
                con.execute("COMMIT")
            if not self._salt:
                self._salt = con.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]
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
            return StoreError(STORE_BUSY)
        return StoreError(
            f"The corrections file {self.path} could not be written ({e}); check the disk and its permissions.",
            NOT_KEPT,
        )

    def check(self) -> None:
        """Raise StoreError now if the file cannot be used (the app says so at start and keeps serving)."""
        self._connect().close()

    def visitor(self, address: str) -> str:
        """The key this store keeps for a visitor's address."""
        if not self._salt:
            self.check()
        return visitor_key(self._salt, address)

    def add(self, corrections: list[Correction], address: str = "", per_day: int = 0) -> list[int]:
        """Keep all of them or none (one transaction); their ids. With an `address`, at most `per_day` rows
        of that visitor's in a day, counted in the same transaction (so across processes too)."""
        with self._lock:
            con = self._connect()
            rows = encoded(corrections, visitor_key(self._salt, address))
            try:
                con.execute("BEGIN IMMEDIATE")
                pages = (
                    con.execute("PRAGMA page_count").fetchone()[0] - con.execute("PRAGMA freelist_count").fetchone()[0]
                )
                size = pages * con.execute("PRAGMA page_size").fetchone()[0]
                try:
                    make_room(lambda q, p: con.execute(q, p).fetchone()[0], con.execute, rows, per_day, self, size)
                except StoreError:
                    con.execute("ROLLBACK")
                    raise
                ids = [con.execute(INSERT, r).lastrowid for r in rows]
                con.execute("COMMIT")
                return ids
            except sqlite3.Error as e:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise self._busy_or(e) from None
            finally:
                con.close()

    def mark(self, status: str, ids: list[int] = (), visitor: str = "", digit: int | None = None) -> int:
        """Review: `status` for the rows named by id, visitor and/or digit; how many changed."""
        sql, params = marking(status, ids, visitor, digit)
        with self._lock:
            con = self._connect()
            try:
                return con.execute(sql, params).rowcount
            except sqlite3.Error as e:
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
        return [decoded(r) for r in rows]
