"""Corrections in PostgreSQL (psycopg 3): one store for every replica of the app.

The same rows, bounds and per-visitor day as the SQLite store (demo.correction_store), enforced inside
one transaction that holds the table's write lock, so a cap holds across replicas and a correction the
page says was kept is committed. A connection per call: when the database restarts, the calls in that
moment get a sentence and nothing half-written, and the next call connects again by itself.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import psycopg

from demo.correction_store import (
    COLUMNS,
    CREATE,
    CREATE_INDEX,
    CREATE_META,
    INSERT,
    MAX_BYTES,
    MAX_ROWS,
    MIGRATIONS,
    NOT_KEPT,
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

CREATE_PG = CREATE.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY").replace("BLOB", "BYTEA")
ADD_COLUMNS = [m.replace("ADD COLUMN", "ADD COLUMN IF NOT EXISTS") for m in MIGRATIONS.values()]
SCHEMA_LOCK = 7_263_001  # an advisory lock: two replicas starting at once create the tables once
UNREACHABLE = "Not kept: the corrections store cannot be reached right now; try again in a moment."


def pg(sql: str) -> str:
    """The SQLite statements' placeholders as psycopg's."""
    return sql.replace("?", "%s")


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{parts.scheme}://{parts.username + '@' if parts.username else ''}{host}:{parts.port or 5432}{parts.path}"


class PgStore:
    """`--corrections postgresql://user:password@host:port/database`."""

    def __init__(self, url: str, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES, wait: float = WAIT):
        self.url, self.max_rows, self.max_bytes, self.wait = url, max_rows, max_bytes, wait
        self.where, self.name = redacted(url), "PostgreSQL"
        self._salt = ""

    def _connect(self) -> psycopg.Connection:
        try:
            con = psycopg.connect(self.url, connect_timeout=max(2, round(self.wait)), autocommit=True)
        except psycopg.Error as e:
            raise StoreError(f"The corrections database {self.where} cannot be reached ({e}).", UNREACHABLE) from None
        try:
            if not self._salt:
                with con.transaction():
                    con.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                    con.execute(CREATE_PG)
                    for statement in (*ADD_COLUMNS, CREATE_META, CREATE_INDEX):  # a table of an earlier schema grows
                        con.execute(statement)
                    con.execute(
                        "INSERT INTO meta VALUES ('salt', %s) ON CONFLICT (key) DO NOTHING", (secrets.token_hex(16),)
                    )
                self._salt = con.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]
        except psycopg.Error as e:
            con.close()
            raise self._failed(e) from None
        return con

    def _failed(self, e: psycopg.Error) -> StoreError:
        if isinstance(e, (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled)):
            return StoreError(STORE_BUSY)
        if isinstance(e, psycopg.OperationalError):
            return StoreError(f"The corrections database {self.where} went away ({e}).", UNREACHABLE)
        return StoreError(f"The corrections database {self.where} refused a write ({e}).", NOT_KEPT)

    def exists(self) -> bool:
        """True when the database answers and holds a corrections table."""
        try:
            with psycopg.connect(self.url, connect_timeout=max(2, round(self.wait))) as con:
                return con.execute("SELECT to_regclass('corrections') IS NOT NULL").fetchone()[0]
        except psycopg.Error as e:
            raise StoreError(f"The corrections database {self.where} cannot be reached ({e}).", UNREACHABLE) from None

    def check(self) -> None:
        self._connect().close()

    def visitor(self, address: str) -> str:
        if not self._salt:
            self.check()
        return visitor_key(self._salt, address)

    def add(self, corrections: list[Correction], address: str = "", per_day: int = 0) -> list[int]:
        """All of them or none, in one transaction under the table's write lock (readers go on); their ids.
        With an `address`, at most `per_day` of that visitor's rows in a day, whichever replica took them."""
        con = self._connect()
        rows = encoded(corrections, visitor_key(self._salt, address))
        try:
            with con.transaction():
                con.execute(f"SET LOCAL lock_timeout = '{round(self.wait * 1000)}ms'")
                con.execute("LOCK TABLE corrections IN SHARE ROW EXCLUSIVE MODE")
                size = con.execute(
                    "SELECT COALESCE(SUM(octet_length(seen) + COALESCE(octet_length(drawing), 0)), 0) FROM corrections"
                ).fetchone()[0]
                one = lambda q, p: con.execute(pg(q), p).fetchone()[0]  # noqa: E731
                make_room(one, lambda q, p: con.execute(pg(q), p), rows, per_day, self, size)
                return [con.execute(pg(INSERT) + " RETURNING id", r).fetchone()[0] for r in rows]
        except psycopg.Error as e:
            raise self._failed(e) from None
        finally:
            con.close()

    def mark(self, status: str, ids: list[int] = (), visitor: str = "", digit: int | None = None) -> int:
        """Review: `status` for the rows named by id, visitor and/or digit; how many changed."""
        sql, params = marking(status, ids, visitor, digit)
        con = self._connect()
        try:
            return con.execute(pg(sql), params).rowcount
        except psycopg.Error as e:
            raise self._failed(e) from None
        finally:
            con.close()

    def all(self) -> list[Correction]:
        """Every correction, oldest first."""
        con = self._connect()
        try:
            return [decoded(r) for r in con.execute(f"SELECT {COLUMNS} FROM corrections ORDER BY id").fetchall()]
        except psycopg.Error as e:
            raise self._failed(e) from None
        finally:
            con.close()
