"""SQLite connections of the run store, whose damage reads as one clear :class:`StoreError`.

A damaged page deep inside the file is found only when a query reaches it, from any
command; SQLite then says ``database disk image is malformed``. Every query of the
store goes through :class:`StoreConnection`, which words that (and a garbled header,
``file is not a database``) once: what is damaged, where, and what to run next.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._errors import StoreError

__all__ = ["StoreConnection", "connect", "damaged", "is_damage"]

_CORRUPT, _NOTADB = 11, 26  # SQLite's primary result codes SQLITE_CORRUPT and SQLITE_NOTADB


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


class StoreCursor(sqlite3.Cursor):
    """A cursor whose damage errors, raised while stepping through rows too, are :func:`damaged`."""

    path: Path

    def execute(self, sql: str, parameters: Any = (), /) -> StoreCursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise _worded(self.path, exc) from exc

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> StoreCursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise _worded(self.path, exc) from exc

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as exc:
            raise _worded(self.path, exc) from exc

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size if size is not None else self.arraysize)
        except sqlite3.DatabaseError as exc:
            raise _worded(self.path, exc) from exc

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as exc:
            raise _worded(self.path, exc) from exc

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.DatabaseError as exc:
            raise _worded(self.path, exc) from exc


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
