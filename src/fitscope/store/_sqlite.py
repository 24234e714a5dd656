"""SQLite connections of the run store, whose damage reads as one clear :class:`StoreError`.

A damaged page deep inside the file is found only when a query reaches it, from any
command; SQLite then says ``database disk image is malformed``. Every query of the
store goes through :class:`StoreConnection`, which words that (and a garbled header,
``file is not a database``) once: what is damaged, where, and what to run next.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._errors import StoreError

__all__ = ["StoreConnection", "connect", "damaged", "id_chunks", "immediate", "is_damage"]

_CORRUPT, _NOTADB = 11, 26  # SQLite's primary result codes SQLITE_CORRUPT and SQLITE_NOTADB


IDS_PER_QUERY = 500  # within SQLite's limit on a query's parameters


def id_chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """Run ids in lists short enough for one ``IN (?, ...)`` each."""
    ids = list(ids)
    for first in range(0, len(ids), IDS_PER_QUERY):
        yield ids[first : first + IDS_PER_QUERY]


def is_damage(exc: BaseException) -> bool:
    """Whether a SQLite error says the file is damaged (not busy, full or read-only)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_CORRUPT, _NOTADB)
    text = str(exc)
    return "malformed" in text or "not a database" in text  # pragma: no cover - SQLite without error codes


def damaged(path: Path, exc: BaseException) -> StoreError:
    """The error every command gives for a damaged store."""
    return StoreError(
        f"the run store {path} is damaged: SQLite cannot read part of it ({exc}). Run `fitscope doctor` on "
        f"{path.parent} to see what is damaged and to copy what can still be read into a fresh store "
        "(the damaged file is kept aside, never edited). Each run's TensorBoard files remain readable."
    )


def _wording_damage(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` of a cursor, its damage errors worded by :func:`damaged` (the rest as SQLite raises them)."""

    @functools.wraps(method)
    def worded(self: StoreCursor, *args: Any) -> Any:
        try:
            return method(self, *args)
        except sqlite3.DatabaseError as exc:
            raise _worded(self.path, exc) from exc

    return worded


class StoreCursor(sqlite3.Cursor):
    """A cursor whose damage errors, raised while stepping through rows too, are :func:`damaged`."""

    path: Path
    execute = _wording_damage(sqlite3.Cursor.execute)
    executemany = _wording_damage(sqlite3.Cursor.executemany)
    fetchone = _wording_damage(sqlite3.Cursor.fetchone)
    fetchmany = _wording_damage(sqlite3.Cursor.fetchmany)
    fetchall = _wording_damage(sqlite3.Cursor.fetchall)
    __next__ = _wording_damage(sqlite3.Cursor.__next__)


class StoreConnection(sqlite3.Connection):
    """A connection to ``path`` whose queries word damage as :func:`damaged`."""

    path: Path

    def cursor(self, factory: Any = None) -> StoreCursor:  # type: ignore[override]
        cursor = super().cursor(factory or StoreCursor)
        cursor.path = self.path
        return cursor

    def execute(self, sql: str, parameters: Any = (), /) -> StoreCursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> StoreCursor:
        return self.cursor().executemany(sql, parameters)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``) on an autocommit connection, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # (a commit that failed on a full disk has rolled back already)
            conn.execute("ROLLBACK")
        raise


def _worded(path: Path, exc: sqlite3.DatabaseError) -> Exception:
    return damaged(path, exc) if is_damage(exc) else exc


def connect(database: str | Path, path: Path, *, uri: bool = False, timeout: float = 60.0) -> StoreConnection:
    """A :class:`StoreConnection` in autocommit mode (fitscope opens its transactions itself)."""
    try:
        conn = sqlite3.connect(
            database, uri=uri, timeout=timeout, isolation_level=None, check_same_thread=False, factory=StoreConnection
        )
    except sqlite3.DatabaseError as exc:
        raise _worded(path, exc) from exc
    conn.path = path
    return conn
