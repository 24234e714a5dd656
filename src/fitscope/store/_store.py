"""The run store: one SQLite database (the source of truth) and a folder per run.

Layout: ``<root>/fitscope.db`` plus ``<root>/<run-id>/`` (``tensorboard/``,
``checkpoints/``, figures). The root is ``--runs DIR``, else ``$FITSCOPE_HOME``,
else ``./fitscope-runs``.

Durability: WAL journal with ``synchronous=NORMAL`` (a commit survives a killed
process without an fsync per epoch), a busy timeout and ``BEGIN IMMEDIATE`` for
every write so several processes can share one store, one transaction per epoch,
and primary keys that make a replayed epoch replace its rows instead of adding to
them.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import os
import platform
import re
import secrets
import shutil
import socket
import sqlite3
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import OUTPUT_CLOSED, ArgumentError, Interrupted, StoreError, argument_error, invalid_argument
from ..data import Split, SplitManifest
from ._environment import environment
from ._owner import Owner, heartbeats, owner_state
from ._query import Query, compile_sort, compile_where, field_sql
from ._schema import APPLICATION_ID, LEGACY_TRIAL_KEYS, migrate, too_new
from ._sqlite import connect, id_chunks
from ._values import decode_value, encode_value, normalize_metric_name

__all__ = ["DEFAULT_ROOT", "EpochRecord", "GroupInfo", "Run", "RunInfo", "Store", "default_root"]

DEFAULT_ROOT = "fitscope-runs"
DB_NAME = "fitscope.db"
# What a user may give for a run id to mean the most recently started run.
LAST = "last"
STATUSES = ("running", "finished", "failed", "interrupted", "pruned")
_BUSY_TIMEOUT_MS = 60_000


# The folders fitscope makes for runs: YYYYmmdd-HHMMSS-<name>-<4 hex>.
_RUN_FOLDER = re.compile(r"\d{8}-\d{6}-.+-[0-9a-f]{4}$")


def default_root() -> Path:
    """``$FITSCOPE_HOME`` if set, else ``./fitscope-runs``."""
    home = os.environ.get("FITSCOPE_HOME")
    return Path(home).expanduser() if home else Path(DEFAULT_ROOT)


def _root(root: str | os.PathLike[str] | None) -> Path:
    return Path(root).expanduser() if root is not None else default_root()


def _json(value: Any) -> str:
    """JSON text that keeps NaN/inf readable (as strings) and never fails on numpy types."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if isinstance(v, Mapping):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if hasattr(v, "item") and callable(v.item):
            return clean(v.item())
        return v

    return json.dumps(clean(value), ensure_ascii=False, default=str, sort_keys=True)


def _owner_token() -> str:
    return Owner.here().token


def _holds(owner: str | None, heartbeat: float | None) -> bool:
    """Whether another process is (or, on another machine not heard from lately, may be) training the run."""
    return owner_state(owner, heartbeat) in ("alive", "unknown")


def _trained_elsewhere(run_id: str, owner: str | None, heartbeat: float | None = None) -> str:
    found = Owner.parse(owner)
    host, pid = (found.host, found.pid) if found else ("?", "?")
    elsewhere = heartbeat is not None and host != socket.gethostname()  # (this machine's processes are looked at)
    heard = f", last heard from {max(0, round(time.time() - heartbeat))} s ago" if heartbeat and elsewhere else ""
    return f"run {run_id} is still being trained by process {pid} on {host}{heard}."


def _stop_it_first(run_id: str, owner: str | None, heartbeat: float | None, then: str) -> str:
    """How to get a run that another process trains: stop that process, named for ``kill`` only when verified.

    A process of this machine recorded with its start time is certainly the owner; one on
    another machine, or recorded by an older fitscope without it, may be gone: then
    ``force`` is the way for a user who knows.
    """
    found = Owner.parse(owner)
    if found is not None and found.host == socket.gethostname() and found.started is not None:  # (verified)
        return f"{_trained_elsewhere(run_id, owner, heartbeat)} Stop it first (Ctrl-C where it runs, or " \
               f"`kill {found.pid}`), then {then}."  # fmt: skip
    return (
        f"{_trained_elsewhere(run_id, owner, heartbeat)} Stop it first (Ctrl-C where it runs), then {then}. If you "
        "know that process is gone (its machine was switched off, say), add <<force>>."
    )


# How a run whose process ended without saying so (kill -9, a crash, a power cut) reads.
_GONE_REASON = "its process ended without finishing it (killed or crashed); resume or re-run it"


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries already imported (imports nothing new)."""
    from .._version import __version__

    versions = {"python": platform.python_version(), "fitscope": __version__}
    for module in ("numpy", "keras", "jax", "tensorflow", "torch", "sklearn"):
        loaded = sys.modules.get(module)
        if loaded is not None and hasattr(loaded, "__version__"):
            versions[module] = str(loaded.__version__)
    return versions


@dataclass(frozen=True)
class EpochRecord:
    """One epoch as :meth:`Run.record_epochs` writes it (the arguments of :meth:`Run.record_epoch`)."""

    epoch: int
    metrics: Mapping[str, float]
    started_at: float
    duration: float


@dataclass(frozen=True)
class RunInfo:
    """One row of the runs table."""

    run_id: str
    name: str
    status: str
    reason: str | None
    started_at: float
    ended_at: float | None
    params: dict[str, Any]
    spec: dict[str, Any] | None
    manifest: SplitManifest | None
    versions: dict[str, Any]
    backend: str | None
    seed: int | None
    group_id: str | None
    resume_key: dict[str, Any] | None
    owner: str | None
    checkpoint_epoch: int | None
    epochs: int
    group_kind: str | None = None
    # What the program that ran the run as one trial of a group keeps about it (its key, fold...):
    # the store keeps it as given and reads nothing in it.
    trial: dict[str, Any] = field(default_factory=dict)
    heartbeat: float | None = None  # when the training process last said it lives (every minute)
    tags: tuple[str, ...] = ()  # a user's labels (fitscope runs tag), sorted
    note: str | None = None  # a user's note (fitscope runs note)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["manifest"] = None if self.manifest is None else self.manifest.to_dict()
        return out

    @property
    def environment(self) -> dict[str, Any]:
        """Where the run came from: command, working folder, git state, machine (see :func:`environment`)."""
        found = self.versions.get("environment")
        return found if isinstance(found, dict) else {}

    @property
    def libraries(self) -> dict[str, str]:
        """The versions of Python and the libraries that trained the run."""
        return {name: str(value) for name, value in self.versions.items() if name != "environment"}

    @property
    def holder(self) -> tuple[str, str] | None:
        """``(host, pid)`` of a live process other than this one that is training the run, else ``None``.

        A process on another machine holds the run until its heartbeat is older than
        :data:`~fitscope.store._owner.STALE_AFTER` (it cannot be looked at from here).
        """
        if self.status == "running" and _holds(self.owner, self.heartbeat):
            found = Owner.parse(self.owner)
            return (found.host, str(found.pid)) if found else None
        return None

    def trained_elsewhere(self) -> str | None:
        """ "run ID is still being trained by process PID on HOST." while :attr:`holder` is set, else ``None``."""
        return None if self.holder is None else _trained_elsewhere(self.run_id, self.owner, self.heartbeat)

    def why_it_ended(self) -> str:
        """ " (it failed: REASON)" for messages about a run that ended with a reason, else ``""``."""
        return f" (it {self.status}: {self.reason.rstrip('.')})" if self.reason else ""


@dataclass(frozen=True)
class GroupInfo:
    """One cv or search group: how many runs it has, in which states, and when they started."""

    group_id: str
    runs: int
    statuses: dict[str, int]
    first_started: float
    last_started: float
    kind: str | None = None  # cv, tune...

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Store:
    """The run store at ``root`` (created if missing).

    Args:
        root: the folder; default ``$FITSCOPE_HOME`` or ``./fitscope-runs``. Any path
            works, including spaces and Korean text.
        create: make the store if there is none; ``False`` for commands that only look
            at runs, so a mistyped folder is an error, not a new empty store.

    Raises:
        StoreError: the folder cannot be created or written, or the database is
            damaged or from a newer fitscope.

    Example:
        >>> store = Store(tmp)                                      # doctest: +SKIP
        >>> run = store.start_run(name="toy", params={"units": 2})  # doctest: +SKIP
        >>> model.fit(x, y, epochs=5, callbacks=[fitscope.Recorder(run)])   # doctest: +SKIP
        >>> run.finish(); run.history()["loss"]                     # doctest: +SKIP
    """

    @staticmethod
    def exists(root: str | os.PathLike[str] | None = None) -> bool:
        """Whether a store is at ``root`` (default as for :class:`Store`), without creating one."""
        return (_root(root) / DB_NAME).is_file()

    def __init__(
        self, root: str | os.PathLike[str] | None = None, *, create: bool = True, readonly: bool = False
    ) -> None:
        self.root = _root(root)
        self.readonly = readonly
        if self.root.exists() and not self.root.is_dir():
            raise argument_error(
                f"{self.root} is a file, not a run store folder. Give a folder with <<runs=DIR>> or FITSCOPE_HOME.",
                StoreError,
            )
        if (readonly or not create) and not Store.exists(root):
            raise argument_error(
                f"no run store in {self.root} (no {DB_NAME} there). Check <<runs=DIR>> or FITSCOPE_HOME; "
                "`fitscope run`, `cv`, `tune` and `demo` create one.",
                StoreError,
            )
        self.path = self.root / DB_NAME
        if readonly:
            self._conn = self._connect_readonly()
            return
        made_root = not self.root.exists()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise argument_error(
                f"cannot create the run store folder {self.root} ({exc.strerror}). "
                "Choose another folder with <<runs=DIR>> or FITSCOPE_HOME.",
                StoreError,
            ) from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise argument_error(
                f"the run store folder {self.root} is not writable. "
                "Fix its permissions or choose another folder with <<runs=DIR>> or FITSCOPE_HOME.",
                StoreError,
            )
        if self.path.exists():
            self._conn = self._connect()
            return
        try:
            self._conn = self._connect()
        except StoreError as exc:  # (a full disk, say): a store half made is no store; leave nothing behind
            for suffix in ("-wal", "-shm", ""):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            if made_root:
                with contextlib.suppress(OSError):
                    self.root.rmdir()
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            raise argument_error(
                f"cannot create the run store {self.path} ({cause}); nothing was left behind. Free some space, or "
                "choose another folder with <<runs=DIR>> or FITSCOPE_HOME.",
                StoreError,
            ) from exc

    def _connect_readonly(self) -> sqlite3.Connection:
        """Open for reading only (SQLite's ``mode=ro``): no migration, no WAL switch, nothing written.

        A store without a write-ahead log (no writer has it open) opens as ``immutable``:
        SQLite would otherwise create the log's index file beside it, and cannot on a
        read-only mount. With a log (a run is training), the log is read as it stands. A
        store of an older schema is read as it is (see :attr:`schema`).
        """
        from urllib.parse import quote

        from ._schema import SCHEMA_VERSION

        self._check_not_lost()
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        logged = self.path.with_name(self.path.name + "-wal").exists()
        conn = None
        try:
            for suffix in ("", "&immutable=1") if logged else ("&immutable=1",):
                try:
                    conn = connect(uri + suffix, self.path, uri=True, timeout=_BUSY_TIMEOUT_MS / 1000)
                    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                    self.schema = int(conn.execute("PRAGMA user_version").fetchone()[0])
                    try:
                        self._check_is_a_store(conn)
                    except StoreError:
                        conn.close()
                        raise
                    break
                except sqlite3.OperationalError:
                    if suffix:
                        raise
                    if conn is not None:
                        conn.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read the run store {self.path} ({exc}).") from exc  # (damage: worded by connect)
        assert conn is not None  # (the loop either connected or raised; for the type checker)
        if self.schema > SCHEMA_VERSION:
            error = too_new(conn, self.path, self.schema)
            conn.close()
            raise error
        return conn

    def _check_not_lost(self) -> None:
        """An empty ``fitscope.db`` beside run folders is a store that was lost, not one to start afresh."""
        if not self.path.is_file() or self.path.stat().st_size > 0:
            return
        runs = [p for p in self.root.iterdir() if p.is_dir() and _RUN_FOLDER.match(p.name)]
        if runs:
            raise StoreError(
                f"{self.path} is empty (0 bytes) but {len(runs)} run folder(s) lie beside it: the store was lost "
                "or truncated, not new. Move the file aside (the runs' TensorBoard files stay readable) or restore "
                "it from a backup; fitscope did not touch it."
            )

    def _check_is_a_store(self, conn: sqlite3.Connection) -> None:
        """Refuse another program's SQLite file before anything (a journal mode, a migration) changes it."""
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        application = int(conn.execute("PRAGMA application_id").fetchone()[0])
        tables = sorted(name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        # (stores older than schema 4 carry no application id: their runs table says what they are)
        unmarked_foreign = application == 0 and (version == 0 or "runs" not in tables)
        foreign = application not in (0, APPLICATION_ID) or unmarked_foreign
        if tables and foreign:
            shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
            raise argument_error(
                f"{self.path} is not a fitscope run store: it is another program's SQLite database (tables "
                f"{shown}). fitscope left it as it was; choose another folder with <<runs=DIR>>.",
                StoreError,
            )

    def _connect(self) -> sqlite3.Connection:
        self._check_not_lost()
        try:
            conn = connect(self.path, self.path, timeout=_BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            try:
                self._check_is_a_store(conn)
            except StoreError:
                conn.close()  # (nothing of it touched: let go of the file too)
                raise
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":  # pragma: no cover - e.g. network file systems
                raise StoreError(f"{self.path}: SQLite could not use WAL mode here ({mode}).")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, self.path)
            self.schema = int(conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the run store {self.path} ({exc}).") from exc  # (damage: worded by connect)
        return conn

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), rolled back on any error."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _store_error(self.path, exc) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise _store_error(self.path, exc) from exc
            raise

    def start_run(
        self,
        *,
        name: str = "run",
        params: Mapping[str, Any] | None = None,
        split: Split | SplitManifest | Mapping[str, Any] | None = None,
        spec: Mapping[str, Any] | None = None,
        seed: int | None = None,
        group: str | None = None,
        group_kind: str | None = None,
        resume_key: Mapping[str, Any] | None = None,
        backend: str | None = None,
        trial: Mapping[str, Any] | None = None,
    ) -> Run:
        """Create a run (status ``running``, owned by this process) and its folder.

        Args:
            name: a short name; the run id is ``YYYYmmdd-HHMMSS-<name>-<4 hex>``.
            params: hyperparameters, JSON-ready.
            split: a :class:`~fitscope.data.Split` (its manifest is recorded with its audit's findings),
                a :class:`~fitscope.data.SplitManifest`, or a manifest's JSON shape.
            spec: the full experiment spec.
            seed: the run's seed.
            group: a group id (cross-validation folds, search trials).
            group_kind: what kind of group (``cv``, ``tune``...).
            resume_key: what must match to resume (model, split, batch size).
            backend: the Keras backend.
            trial: what the program running the run as one trial of a group keeps about it (JSON-ready;
                read back as :attr:`RunInfo.trial`, never interpreted by the store).
        """
        manifest = _as_manifest(split)
        run_id = _new_run_id(name)
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO runs (run_id, name, status, started_at, params, spec, manifest, versions, backend,"
                " seed, group_id, group_kind, resume_key, owner, trial, heartbeat)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id, name, "running", time.time(), _json(params or {}),
                    None if spec is None else _json(spec), None if manifest is None else _json(manifest.to_dict()),
                    _json({**library_versions(), "environment": environment()}), backend, seed, group, group_kind,
                    None if resume_key is None else _json(resume_key), _owner_token(),
                    None if trial is None else _json(trial), time.time(),
                ),
            )  # fmt: skip
        heartbeats.add(self.path, run_id)
        run = Run(self, run_id)
        run.dir.mkdir(parents=True, exist_ok=True)
        return run

    def run(self, run_id: str) -> Run:
        """The run ``run_id`` names: its id, a unique prefix of it, its unique 4-hex suffix, its unique
        name, or ``last`` (the most recently started run).

        Raises:
            StoreError: no such run (with close matches), or the name is ambiguous (the candidates listed).
        """
        if run_id == LAST:  # run ids begin with their date, so no id begins with "last"
            row = self._conn.execute("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1").fetchone()
            if row is None:
                raise StoreError(f"no runs in {self.root} yet, so there is no last run.")
            return Run(self, row[0])
        if self._conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
            return Run(self, run_id)
        escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        for how, sql, argument in (
            ("id prefix", "SELECT run_id FROM runs WHERE run_id LIKE ? ESCAPE '\\'", escaped + "%"),
            ("suffix", "SELECT run_id FROM runs WHERE run_id LIKE ? ESCAPE '\\'", "%-" + escaped),
            ("name", "SELECT run_id FROM runs WHERE name = ?", run_id),
        ):
            if how == "suffix" and not re.fullmatch(r"[0-9a-f]{4}", run_id):
                continue
            ids = sorted(r[0] for r in self._conn.execute(sql, (argument,)).fetchall())
            if len(ids) == 1:
                return Run(self, ids[0])
            if len(ids) > 1:
                more = f", … ({len(ids)} in all)" if len(ids) > 5 else ""
                raise StoreError(
                    f"{run_id!r} names {len(ids)} runs (by {how}): {', '.join(ids[:5])}{more}. Give more of the run id."
                )
        every = [r[0] for r in self._conn.execute("SELECT run_id FROM runs").fetchall()]
        by_name = [r for r in every if run_id in r]
        close = by_name[:3] or difflib.get_close_matches(run_id, every, n=3, cutoff=0.4)
        hint = f" Did you mean {', '.join(close)}?" if close else " List runs with `fitscope runs`."
        raise StoreError(f"no run {run_id!r} in {self.root}.{hint}")

    def groups(self) -> list[GroupInfo]:
        """Every cv and search group, the oldest first."""
        rows = self._conn.execute(
            f"SELECT group_id, status, COUNT(*), MIN(started_at), MAX(started_at), MAX({_kind(self)}) FROM runs"
            " WHERE group_id IS NOT NULL GROUP BY group_id, status"
        ).fetchall()
        found: dict[str, GroupInfo] = {}
        for group_id, status, count, first, last, kind in rows:
            seen = found.get(group_id) or GroupInfo(group_id, 0, {}, first, last, kind)
            found[group_id] = GroupInfo(
                group_id, seen.runs + count, {**seen.statuses, status: count},
                min(seen.first_started, first), max(seen.last_started, last), seen.kind or kind,
            )  # fmt: skip
        return sorted(found.values(), key=lambda g: (g.first_started, g.group_id))

    def group(self, group_id: str) -> str:
        """The id of the group ``group_id`` names: the id, a unique prefix, or ``last`` (the most recent group).

        Raises:
            StoreError: no such group (with close matches), or the prefix is ambiguous.
        """
        if group_id == LAST:
            row = self._conn.execute(
                "SELECT group_id FROM runs WHERE group_id IS NOT NULL ORDER BY started_at DESC, run_id DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise StoreError(f"no cv or tune groups in {self.root} yet, so there is no last group.")
            return str(row[0])
        every = [str(r[0]) for r in self._conn.execute("SELECT DISTINCT group_id FROM runs WHERE group_id IS NOT NULL")]
        if group_id in every:
            return group_id
        matches = sorted(g for g in every if g.startswith(group_id))
        if len(matches) == 1:
            return matches[0]
        if matches:
            more = f", … ({len(matches)} in all)" if len(matches) > 5 else ""
            raise StoreError(f"group id {group_id!r} is ambiguous: {', '.join(matches[:5])}{more}. Give more of it.")
        close = [g for g in every if group_id in g][:3] or difflib.get_close_matches(group_id, every, n=3, cutoff=0.4)
        hint = f" Did you mean {', '.join(close)}?" if close else " List groups with `fitscope runs groups`."
        raise StoreError(f"no group {group_id!r} in {self.root}.{hint}")

    def group_kind(self, group_id: str) -> str | None:
        """What kind of group ``group_id`` is (``cv``, ``tune``...), as its runs recorded it."""
        row = self._conn.execute(f"SELECT MAX({_kind(self)}) FROM runs WHERE group_id = ?", (group_id,)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def runs(
        self, *, group: str | None = None, where: str | None = None, sort: str | Sequence[str] | None = None
    ) -> list[RunInfo]:
        """The runs, oldest first (optionally one group's), filtered and sorted in SQL.

        Args:
            group: only this group's runs.
            where: an expression over the runs' fields (see :mod:`._query`), e.g.
                ``'params.units >= 16 and best.val_accuracy > 0.5'`` or ``'"baseline" in tags'``.
            sort: sort keys, ``-`` for descending (``"-best.val_accuracy"``); runs without a value go last.

        Raises:
            ArgumentError: a malformed expression or key, with its position.
        """
        conditions, values = [], []
        if group:
            conditions.append("r.group_id = ?")
            values.append(group)
        if where:
            found = compile_where(where, schema=self.schema)
            conditions.append(found.sql)
            values.extend(found.values)
        order = Query("r.started_at, r.run_id")
        if sort:
            keys = compile_sort(sort, schema=self.schema)
            order = Query(f"{keys.sql}, r.started_at, r.run_id", keys.values)
        sql = _info_sql(self) + (" WHERE " + " AND ".join(conditions) if conditions else "") + f" ORDER BY {order.sql}"
        rows = self._conn.execute(sql, (*values, *order.values)).fetchall()
        return [_info(self, row) for row in rows]

    def columns(self, run_ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Each run's value of each field (``params.units``, ``best.val_accuracy``, ``tags``...), read in SQL.

        Raises:
            ArgumentError: an unknown field.
        """
        wanted = [name.strip() for name in fields if name.strip()]
        parts = [Query(_TAGS_SQL if self.schema >= 6 else "NULL") if name == "tags"
                 else field_sql(name, schema=self.schema, option="columns", expression=",".join(wanted))
                 for name in wanted]  # fmt: skip
        found: dict[str, dict[str, Any]] = {}
        for chunk in id_chunks(run_ids):
            sql = (f"SELECT r.run_id{''.join(f', ({part.sql})' for part in parts)} FROM runs r"
                   f" WHERE r.run_id IN ({', '.join('?' * len(chunk))})")  # fmt: skip
            values = [value for part in parts for value in part.values]
            for row in self._conn.execute(sql, (*values, *chunk)):
                found[row[0]] = {name: (json.loads(value or "[]") if name == "tags" else value)
                                 for name, value in zip(wanted, row[1:], strict=True)}  # fmt: skip
        return found

    def to_dataframe(
        self, *, where: str | None = None, sort: str | Sequence[str] | None = None, group: str | None = None,
        epochs: bool = False,
    ) -> Any:  # fmt: skip
        """The runs as a pandas DataFrame: one row per run (``epochs``: per run and epoch), as ``runs export`` writes.

        Raises:
            ArgumentError: pandas is not installed (``pip install 'fitscope[export]'``), or a malformed ``where``.
        """
        from ._export import as_dataframe, columns_of, epoch_rows, run_rows

        infos = self.runs(group=group, where=where, sort=sort)
        rows = epoch_rows(self, infos) if epochs else run_rows(self, infos)
        return as_dataframe(rows, columns_of(rows), needs="Store.to_dataframe")

    def best_epochs(self, run_ids: Sequence[str] | None = None) -> dict[str, tuple[str, float, int]]:
        """Each run's best validation epoch, ``{run_id: (metric, value, epoch)}``, in two queries.

        The lowest ``val_loss``, else the highest ``val_accuracy`` (the earliest epoch on a
        tie); runs with neither are left out. ``fitscope runs`` lists hundreds of runs
        without reading every history. ``run_ids`` limits it to those runs (a group, the
        last few), read through the metrics' primary key instead of the whole table.
        """
        if run_ids is None:
            return self._best_epochs("", ())
        best: dict[str, tuple[str, float, int]] = {}
        for chunk in id_chunks(run_ids):
            best.update(self._best_epochs(f" AND run_id IN ({', '.join('?' * len(chunk))})", tuple(chunk)))
        return best

    def _best_epochs(self, among: str, ids: tuple[str, ...]) -> dict[str, tuple[str, float, int]]:
        best: dict[str, tuple[str, float, int]] = {}
        for metric, pick in (("val_accuracy", "MAX"), ("val_loss", "MIN")):  # val_loss last: it wins
            rows = self._conn.execute(
                "SELECT m.run_id, m.value, MIN(m.epoch) FROM metrics m JOIN"
                f" (SELECT run_id, {pick}(value) AS value FROM metrics WHERE name = ? AND value IS NOT NULL{among}"
                "  GROUP BY run_id) b ON m.run_id = b.run_id AND m.value = b.value"
                " WHERE m.name = ? GROUP BY m.run_id",
                (metric, *ids, metric),
            )
            best.update({run_id: (metric, float(value), int(epoch)) for run_id, value, epoch in rows})
        return best

    def params_on_split(self, index_hash: str) -> list[dict[str, Any]]:
        """The params of every run scored on the split with ``index_hash``, removed runs included.

        How many configurations a validation set has judged is evidence of tuning on it;
        removing the runs does not undo that.
        """
        sql = "SELECT params FROM runs WHERE json_extract(manifest, '$.index_hash') = ?"
        arguments: tuple[str, ...] = (index_hash,)
        if self.schema >= 2:  # (removed runs are remembered from schema 2 on)
            sql += " UNION ALL SELECT params FROM removed_runs WHERE index_hash = ?"
            arguments += (index_hash,)
        return [_params_and_trial(self, row[0])[0] for row in self._conn.execute(sql, arguments)]

    def delete(self, *run_ids: str, force: bool = False) -> list[str]:
        """Delete runs' rows and folders, all of them or none; returns their full ids.

        Each run's configuration and split stay behind (see :meth:`params_on_split`).

        Raises:
            StoreError: a run is unknown, or another live process is training one (named in
                the message); then nothing is deleted.
        """
        runs = list({run.run_id: run for run in map(self.run, run_ids)}.values())  # a run named twice: once
        with self.transaction() as conn:
            for run in runs:
                info = run.info()  # read inside the transaction: no process can claim the run meanwhile
                if info.holder is not None and not force:
                    kept = " Nothing was removed." if len(runs) > 1 else ""
                    raise argument_error(
                        _stop_it_first(info.run_id, info.owner, info.heartbeat, "remove it") + kept, StoreError
                    )
            for run in runs:
                conn.execute(
                    "INSERT OR REPLACE INTO removed_runs (run_id, index_hash, params, trial, removed_at) SELECT run_id,"
                    " json_extract(manifest, '$.index_hash'), params, trial, ? FROM runs WHERE run_id = ?",
                    (time.time(), run.run_id),
                )
                for table in ("metrics", "batches", "evaluations", "epochs", "tags", "runs"):
                    conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run.run_id,))
        for run in runs:  # after the commit: a folder without rows is harmless, rows without a folder are not
            shutil.rmtree(run.dir, ignore_errors=True)
        return [run.run_id for run in runs]

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` result (``"ok"`` when healthy)."""
        return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])


_INFO_SQL = (
    "SELECT r.run_id, r.name, r.status, r.reason, r.started_at, r.ended_at, r.params, r.spec,"
    " r.manifest, r.versions, r.backend, r.seed, r.group_id, r.resume_key, r.owner,"
    " r.checkpoint_epoch, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.run_id), {kind}, {trial}, {heartbeat},"
    " {note}, {tags}"
    " FROM runs r"
)
_TAGS_SQL = "(SELECT json_group_array(tag) FROM (SELECT tag FROM tags t WHERE t.run_id = r.run_id ORDER BY tag))"
# A store of schema 2 (read, not upgraded, by a command that only reads) keeps the kind in the id's prefix.
_KIND_FROM_ID = "CASE WHEN group_id LIKE 'cv-%' THEN 'cv' WHEN group_id LIKE 'tune-%' THEN 'tune' END"


def _kind(store: Store, prefix: str = "") -> str:
    return f"{prefix}group_kind" if store.schema >= 3 else _KIND_FROM_ID.replace("group_id", f"{prefix}group_id")


def _info_sql(store: Store) -> str:
    newer = store.schema >= 4  # (the trial bookkeeping and the heartbeat came with schema 4)
    annotated = store.schema >= 6  # (tags and notes came with schema 6)
    return _INFO_SQL.format(
        kind=_kind(store, "r."), trial="r.trial" if newer else "NULL", heartbeat="r.heartbeat" if newer else "NULL",
        note="r.note" if annotated else "NULL", tags=_TAGS_SQL if annotated else "NULL",
    )  # fmt: skip


def _params_and_trial(
    store: Store, params_text: str, trial_text: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run's params and trial bookkeeping; a store older than schema 4 (read, not upgraded) mixed the two."""
    params = json.loads(params_text) or {}
    if store.schema >= 4:
        return params, json.loads(trial_text) if trial_text else {}
    if "trial_key" not in params:
        return params, {}
    return params, {new: params.pop(old) for old, new in LEGACY_TRIAL_KEYS.items() if old in params}


def _info(store: Store, row: tuple[Any, ...]) -> RunInfo:
    def load(text: str | None) -> Any:
        return None if text is None else json.loads(text)

    params, trial = _params_and_trial(store, row[6], row[18])
    status, reason = row[2], row[3]
    if status == "running" and owner_state(row[14], row[19]) == "gone":
        status, reason = "interrupted", _GONE_REASON  # read so, not written: reading never changes the store
    return RunInfo(
        run_id=row[0], name=row[1], status=status, reason=reason, started_at=row[4], ended_at=row[5],
        params=params, spec=load(row[7]), manifest=_manifest(load(row[8])), versions=load(row[9]) or {},
        backend=row[10], seed=row[11], group_id=row[12], resume_key=load(row[13]), owner=row[14],
        checkpoint_epoch=row[15], epochs=int(row[16]), group_kind=row[17], trial=trial, heartbeat=row[19],
        note=row[20], tags=tuple(load(row[21]) or ()),
    )  # fmt: skip


def _checked_tags(tags: Sequence[str]) -> list[str]:
    checked = []
    for tag in tags:
        text = str(tag).strip()
        if not text or "," in text or "\n" in text:
            raise invalid_argument("tag", tag, "Expected a word or a few words, without commas or line breaks.")
        checked.append(text)
    return checked


def _new_run_id(name: str) -> str:
    """``YYYYmmdd-HHMMSS-<name as a slug>-<4 hex>``."""
    slug = re.sub(r"[^\w.-]+", "-", name, flags=re.UNICODE).strip("-.") or "run"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug[:48]}-{secrets.token_hex(2)}"


def _as_manifest(split: Split | SplitManifest | Mapping[str, Any] | None) -> SplitManifest | None:
    if split is None or isinstance(split, SplitManifest):
        return split
    if isinstance(split, Split):
        return split.manifest.with_audit(split.audit.to_dict())
    if isinstance(split, Mapping):
        return SplitManifest.from_dict(split)
    raise ArgumentError(
        f"Invalid value for argument `split`. Received: split of type {type(split).__name__}. "
        "Expected a fitscope Split, a SplitManifest or a manifest's JSON shape (a dict)."
    )


def _manifest(recorded: dict[str, Any] | None) -> SplitManifest | None:
    return None if recorded is None else SplitManifest.from_dict(recorded)


def _store_error(path: Path, exc: sqlite3.OperationalError) -> StoreError:
    text = str(exc)
    if "full" in text:
        return StoreError(
            f"the disk holding {path} is full ({text}); nothing of this epoch was written. "
            "Free some space, then resume the run (cv and tune: run the same command again)."
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(f"{path} is read-only ({text}). Choose a writable folder for the run store.")
    return StoreError(f"{path}: {text}")


class Run:
    """A handle on one run in a :class:`Store`: write its epochs, read its history."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.in_block = False  # inside ``with run:``, whose end decides the status (see RunSink.fit_ended)

    def __repr__(self) -> str:
        return f"Run({self.run_id!r})"

    def __enter__(self) -> Run:
        self.in_block = True
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self.in_block = False
        status = self.info().status
        if status != "running":
            return
        if kind is None:
            self.finish()
            return
        try:
            if isinstance(exc, KeyboardInterrupt):
                self.interrupt(f"interrupted {Interrupted.of(exc).by}")
            elif isinstance(exc, BrokenPipeError):  # (not the training's failure: resumable)
                self.interrupt(f"interrupted ({OUTPUT_CLOSED})")
            else:
                self.fail(f"{kind.__name__}: {exc}")
        except StoreError:  # (a full disk refuses the status too: the error that stopped the run is the one to see;
            pass  # once this process ends, the run reads as interrupted and can be resumed)

    @property
    def dir(self) -> Path:
        """This run's folder."""
        return self.store.root / self.run_id

    @property
    def tensorboard_dir(self) -> Path:
        return self.dir / "tensorboard"

    @property
    def checkpoint_dir(self) -> Path:
        return self.dir / "checkpoints"

    @property
    def predictions_dir(self) -> Path:
        """Where the run's predictions are kept (:class:`~fitscope.store.PredictionsDir`)."""
        return self.dir / "predictions"

    def info(self) -> RunInfo:
        row = self.store._conn.execute(_info_sql(self.store) + " WHERE r.run_id = ?", (self.run_id,)).fetchone()
        if row is None:
            raise StoreError(f"run {self.run_id!r} no longer exists in {self.store.root}.")
        return _info(self.store, row)

    # -- writing --------------------------------------------------------------

    def record_epoch(
        self,
        epoch: int,
        metrics: Mapping[str, float],
        *,
        started_at: float,
        duration: float,
        checkpoint: bool = False,
        fresh: bool = False,
    ) -> None:
        """Write one epoch's metrics in one transaction; a replayed epoch replaces its rows.

        Args:
            epoch: the global epoch number (0-based).
            metrics: metric name to value (names are normalised; NaN/inf kept).
            started_at, duration: wall-clock start (Unix time) and seconds.
            checkpoint: a checkpoint for this epoch is durable on disk.
            fresh: the caller knows the epoch has no rows yet (skips clearing them).
        """
        with self.store.transaction() as conn:
            self._write_epochs(conn, [EpochRecord(epoch, metrics, started_at, duration)], fresh)
            if checkpoint:
                conn.execute("UPDATE runs SET checkpoint_epoch = ? WHERE run_id = ?", (epoch, self.run_id))

    def record_epochs(self, epochs: Sequence[EpochRecord], *, fresh: bool = False) -> None:
        """Write several epochs (as :meth:`record_epoch`) in one transaction: all of them or none.

        The cv/tune driver writes the epochs a worker sent together this way: one
        commit per bundle instead of one per epoch, on the cores the workers train on.
        """
        with self.store.transaction() as conn:
            self._write_epochs(conn, epochs, fresh)

    def _write_epochs(self, conn: sqlite3.Connection, epochs: Sequence[EpochRecord], fresh: bool) -> None:
        epoch_rows = []
        metric_rows = []
        for record in epochs:
            epoch_rows.append((self.run_id, record.epoch, record.started_at, record.duration))
            for name, value in record.metrics.items():
                stored, special = encode_value(value)
                metric_rows.append((self.run_id, record.epoch, normalize_metric_name(name), stored, special))
        if not fresh:
            conn.executemany("DELETE FROM metrics WHERE run_id = ? AND epoch = ?", [row[:2] for row in epoch_rows])
        conn.executemany(
            "INSERT OR REPLACE INTO epochs (run_id, epoch, started_at, duration) VALUES (?,?,?,?)", epoch_rows
        )
        conn.executemany("INSERT INTO metrics VALUES (?,?,?,?,?)", metric_rows)

    def record_batches(self, epoch: int, batches: Sequence[tuple[int, Mapping[str, float]]]) -> None:
        """Write per-batch metrics of one epoch (``[(batch, {name: value}), ...]``)."""
        rows = []
        for batch, metrics in batches:
            for name, value in metrics.items():
                stored, special = encode_value(value)
                rows.append((self.run_id, epoch, batch, normalize_metric_name(name), stored, special))
        with self.store.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO batches VALUES (?,?,?,?,?,?)", rows)

    def _set_status(self, status: str, reason: str | None) -> None:
        if status != "running":
            heartbeats.remove(self.store.path, self.run_id)
        ended = None if status == "running" else time.time()
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, reason = ?, ended_at = ?, owner = CASE WHEN ? = 'running'"
                " THEN owner ELSE NULL END WHERE run_id = ?",
                (status, reason, ended, status, self.run_id),
            )

    def finish(self, reason: str | None = None) -> None:
        """Mark the run finished and write its TensorBoard HParams summary."""
        self._set_status("finished", reason)
        if self.tensorboard_dir.is_dir():
            from ._tensorboard import TensorBoardWriter, flatten_params

            history = self.history()
            final = {k: v[-1] for k, v in history.items() if v and math.isfinite(v[-1])}
            writer = TensorBoardWriter(self.tensorboard_dir)
            try:
                writer.add_hparams(flatten_params(self.info().params), final)
            finally:
                writer.close()

    def fail(self, reason: str) -> None:
        """Mark the run failed, saying why; its epochs and checkpoints are kept."""
        self._set_status("failed", reason)

    def interrupt(self, reason: str = "interrupted") -> None:
        """Mark the run interrupted; it can be resumed."""
        self._set_status("interrupted", reason)

    def tag(self, *tags: str) -> None:
        """Add tags to the run (those it has already stay once).

        Raises:
            ArgumentError: an empty tag, or one with a comma or a line break.
        """
        with self.store.transaction() as conn:
            conn.executemany("INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)",
                             [(self.run_id, tag) for tag in _checked_tags(tags)])  # fmt: skip

    def untag(self, *tags: str) -> None:
        """Take tags off the run (ones it does not have are ignored)."""
        with self.store.transaction() as conn:
            conn.executemany("DELETE FROM tags WHERE run_id = ? AND tag = ?", [(self.run_id, tag) for tag in tags])

    def set_note(self, text: str | None) -> None:
        """Set the run's note (``None`` or ``""`` removes it)."""
        with self.store.transaction() as conn:
            conn.execute("UPDATE runs SET note = ? WHERE run_id = ?", (text or None, self.run_id))

    def prune(self, reason: str) -> None:
        """Mark the run pruned: a search stopped it early on evidence from its curves (``reason`` says which)."""
        self._set_status("pruned", reason)

    def claim(self, *, force: bool = False) -> None:
        """Take ownership of the run to resume it in this process.

        Args:
            force: take it even from a process that looks alive (one on another machine
                whose heartbeat is recent): for when you know better.

        Raises:
            StoreError: another live process is training it (named in the message).
        """
        with self.store.transaction() as conn:
            status, owner, heartbeat = conn.execute(
                "SELECT status, owner, heartbeat FROM runs WHERE run_id = ?", (self.run_id,)
            ).fetchone()
            if status == "running" and _holds(owner, heartbeat) and not force:
                raise argument_error(_stop_it_first(self.run_id, owner, heartbeat, "resume it"), StoreError)
            conn.execute(
                "UPDATE runs SET status = 'running', reason = NULL, ended_at = NULL, owner = ?, heartbeat = ?"
                " WHERE run_id = ?",
                (_owner_token(), time.time(), self.run_id),
            )
        heartbeats.add(self.store.path, self.run_id)

    def truncate_after(self, epoch: int) -> None:
        """Delete the epochs after ``epoch`` (``-1`` deletes all): they will be trained again."""
        with self.store.transaction() as conn:
            for table in ("metrics", "batches", "epochs"):
                conn.execute(f"DELETE FROM {table} WHERE run_id = ? AND epoch > ?", (self.run_id, epoch))
            conn.execute(
                "UPDATE runs SET checkpoint_epoch = NULL WHERE run_id = ? AND checkpoint_epoch > ?",
                (self.run_id, epoch),
            )

    def set_aside(self) -> str:
        """Keep this run's epochs, evaluations and files as an earlier attempt, and empty the run.

        They move, in one transaction, to a new run named ``<name>-earlier`` (status
        interrupted, its reason naming this run); this run keeps its id, parameters and
        split, and is trained again from its first epoch. Nothing is deleted. Returns the
        earlier attempt's id.
        """
        info = self.info()
        attempt_id = _new_run_id(f"{info.name}-earlier")
        attempt_dir = self.store.root / attempt_id
        if self.dir.is_dir():
            os.replace(self.dir, attempt_dir)  # (first: a crash then leaves a folder without a row, never a loss)
        self.dir.mkdir(parents=True, exist_ok=True)
        columns = [row[1] for row in self.store._conn.execute("PRAGMA table_info(runs)")]
        copied = ", ".join(columns)
        chosen = ", ".join(
            {"run_id": "?", "name": "?", "status": "'interrupted'", "reason": "?", "ended_at": "?", "owner": "NULL",
             "checkpoint_epoch": "NULL"}.get(column, column)
            for column in columns
        )  # fmt: skip
        reason = f"an earlier attempt of run {self.run_id}, set aside when that run was trained again from scratch"
        try:
            with self.store.transaction() as conn:
                conn.execute("PRAGMA defer_foreign_keys = ON")  # (the rows move table by table)
                conn.execute(
                    f"INSERT INTO runs ({copied}) SELECT {chosen} FROM runs WHERE run_id = ?",
                    (attempt_id, f"{info.name}-earlier", reason, time.time(), self.run_id),
                )
                for table in ("metrics", "batches", "epochs", "evaluations"):
                    conn.execute(f"UPDATE {table} SET run_id = ? WHERE run_id = ?", (attempt_id, self.run_id))
                conn.execute("UPDATE runs SET checkpoint_epoch = NULL WHERE run_id = ?", (self.run_id,))
        except BaseException:
            if attempt_dir.is_dir():  # (the rows stayed: so do the files)
                shutil.rmtree(self.dir, ignore_errors=True)
                os.replace(attempt_dir, self.dir)
            raise
        return attempt_id

    def note_backend(self, backend: str) -> None:
        """Record the Keras backend that trains the run, when its start did not say (``start_run()`` from Python)."""
        with self.store.transaction() as conn:
            conn.execute("UPDATE runs SET backend = ? WHERE run_id = ? AND backend IS NULL", (backend, self.run_id))

    def mark_checkpoint(self, epoch: int) -> None:
        """Note that a durable checkpoint now covers ``epoch``."""
        with self.store.transaction() as conn:
            conn.execute("UPDATE runs SET checkpoint_epoch = ? WHERE run_id = ?", (epoch, self.run_id))

    def check_resume_key(self, key: Mapping[str, Any]) -> None:
        """Refuse to resume with a different model, split or batch size, naming what differs.

        Raises:
            StoreError: a recorded value differs from ``key``'s.
        """
        recorded = self.info().resume_key or {}
        current = json.loads(_json(dict(key)))
        differs = [
            f"{name} (recorded {recorded[name]!r}, now {current[name]!r})"
            for name in sorted(current)
            if name in recorded and recorded[name] != current[name]
        ]
        if differs:
            raise StoreError(
                f"cannot resume run {self.run_id}: its {', '.join(differs)} differ. "
                "Resume with the same settings, or start a new run."
            )

    def set_params(self, params: Mapping[str, Any]) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE runs SET params = ? WHERE run_id = ?", (_json(params), self.run_id))

    def record_evaluation(
        self,
        split: str,
        metrics: Mapping[str, float],
        *,
        fingerprint: str | None = None,
        epoch: int | None = None,
    ) -> int:
        """Add a row to the evaluations ledger; returns its id."""
        if split not in ("val", "test", "other"):
            raise ArgumentError(
                f"Invalid value for argument `split`. Received: split={split!r}. Expected 'val', 'test' or 'other'."
            )
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO evaluations (run_id, split, at, epoch, fingerprint, metrics) VALUES (?,?,?,?,?,?)",
                (self.run_id, split, time.time(), epoch, fingerprint, _json(dict(metrics))),
            )
        return int(cursor.lastrowid or 0)

    # -- reading --------------------------------------------------------------

    @property
    def next_epoch(self) -> int:
        """The global number the next trained epoch gets."""
        row = self.store._conn.execute("SELECT MAX(epoch) FROM epochs WHERE run_id = ?", (self.run_id,)).fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def epochs(self) -> list[tuple[int, float, float]]:
        """``(epoch, started_at, duration)`` for every recorded epoch, in order."""
        return [
            (int(e), float(s), float(d))
            for e, s, d in self.store._conn.execute(
                "SELECT epoch, started_at, duration FROM epochs WHERE run_id = ? ORDER BY epoch",
                (self.run_id,),
            )
        ]

    def history(self) -> dict[str, list[float]]:
        """``{metric: [value per epoch]}`` in epoch order (NaN where an epoch lacks it)."""
        epochs = [e for e, _, _ in self.epochs()]
        position = {e: i for i, e in enumerate(epochs)}
        history: dict[str, list[float]] = {}
        for epoch, name, value in self.metric_values():
            if epoch not in position:  # recorded by a training process after the epochs were read: next time
                continue
            history.setdefault(name, [math.nan] * len(epochs))[position[epoch]] = value
        return history

    def metric_values(self) -> list[tuple[int, str, float]]:
        """``(epoch, metric, value)`` for every value recorded, in epoch order (a recorded NaN is kept; no gaps)."""
        return [
            (int(e), n, decode_value(v, s))
            for e, n, v, s in self.store._conn.execute(
                "SELECT epoch, name, value, special FROM metrics WHERE run_id = ? ORDER BY epoch, name", (self.run_id,)
            )
        ]

    def batches(self) -> list[tuple[int, int, str, float]]:
        """Per-batch rows ``(epoch, batch, metric, value)``."""
        return [
            (int(e), int(b), n, decode_value(v, s))
            for e, b, n, v, s in self.store._conn.execute(
                "SELECT epoch, batch, name, value, special FROM batches WHERE run_id = ? ORDER BY epoch, batch, name",
                (self.run_id,),
            )
        ]

    def evaluations(self, split: str | None = None) -> list[dict[str, Any]]:
        """Ledger rows for this run (optionally one split), oldest first."""
        sql = "SELECT id, split, at, epoch, fingerprint, metrics FROM evaluations WHERE run_id = ?"
        args: tuple[Any, ...] = (self.run_id,)
        if split is not None:
            sql += " AND split = ?"
            args += (split,)
        return [
            {"id": i, "split": s, "at": a, "epoch": e, "fingerprint": f, "metrics": json.loads(m)}
            for i, s, a, e, f, m in self.store._conn.execute(sql + " ORDER BY at, id", args)
        ]

    def rebuild_tensorboard(self) -> Path:
        """Write this run's TensorBoard event files again from the store."""
        from ._tensorboard import write_history

        epochs = self.epochs()  # before the history: a run still training only adds epochs after these
        history = self.history()
        rows = []
        for i, (epoch, started, duration) in enumerate(epochs):
            rows.append((epoch, started + duration, {k: v[i] for k, v in history.items()}))
        write_history(self.tensorboard_dir, rows, self.info().params)
        return self.tensorboard_dir
