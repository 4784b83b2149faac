"""`--corrections`: which store a path or URL names."""

from __future__ import annotations

from pathlib import Path

from demo.correction_store import DEFAULT_STORE, WAIT, CorrectionStore
from demo.pg_store import PgStore
from demo.sqlite_store import Store


def open_store(where: str | Path = DEFAULT_STORE, wait: float = WAIT) -> CorrectionStore:
    """A PostgreSQL URL (one store for every replica) or a SQLite file (one machine)."""
    if str(where).startswith(("postgresql://", "postgres://")):
        return PgStore(str(where), wait=wait)
    return Store(where, wait=wait)
