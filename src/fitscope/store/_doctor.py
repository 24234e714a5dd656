"""Check a run store, and recover what can be recovered (``fitscope doctor [--repair]``).

Checking only reads. Repairing never edits a damaged database in place: the rows
SQLite can still read are copied into a fresh store, which takes the old file's
place while the old file is kept beside it (``fitscope.db.damaged-<time>``). The
other repairs are small and safe: TensorBoard files rebuilt from the store,
temporary files of an interrupted write removed, unreadable checkpoints set aside
(``.unreadable``), runs whose process is gone marked interrupted.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .._errors import StoreError
from ._checkpoints import CheckpointDir, unreadable
from ._owner import owner_state
from ._schema import APPLICATION_ID, create_schema
from ._sqlite import immediate, is_damage
from ._store import _GONE_REASON, _RUN_FOLDER, DB_NAME, RunInfo, Store, _holds, _root, _trained_elsewhere

__all__ = ["DoctorReport", "Finding", "doctor"]

# The files an interrupted write leaves: atomic writes' temporaries, a backup or a repair cut short.
_TEMPORARY = (".tmp-*", f"{DB_NAME}.bak-*.partial", f"{DB_NAME}.repairing", f"{DB_NAME}.repairing-source*")
# The tables copied out of a damaged store, parents first; each child row belongs to one run.
_CHILD_TABLES = ("epochs", "metrics", "batches", "evaluations")


@dataclass(frozen=True)
class Finding:
    """One problem: what it is, where, the detail, and what a repair did about it (``None``: nothing).

    ``repairable`` is false for what a repair reports and leaves to the user (it never
    deletes a run's files or rows).
    """

    problem: str
    where: str
    detail: str
    repaired: str | None = None
    repairable: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class DoctorReport:
    """What :func:`doctor` found in a store and, with ``repair``, what it did."""

    root: Path
    findings: tuple[Finding, ...]
    repair: bool
    runs: int | None = None  # (unknown while a damaged database is only checked)
    damaged_copy: Path | None = None  # where a damaged database was kept when it was replaced
    notes: tuple[str, ...] = field(default=())  # what a repair mended in its copy, and what it could not read

    @property
    def healthy(self) -> bool:
        """Nothing found but what a repair leaves to the user, or everything found repaired."""
        return all(finding.repaired or not finding.repairable for finding in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root), "healthy": self.healthy, "repair": self.repair, "runs": self.runs,
            "findings": [finding.to_dict() for finding in self.findings],
            "damaged_copy": None if self.damaged_copy is None else str(self.damaged_copy), "notes": list(self.notes),
        }  # fmt: skip


def doctor(root: str | os.PathLike[str] | None = None, *, repair: bool = False) -> DoctorReport:
    """Check the store at ``root``: integrity, foreign keys, runs whose process is gone, run
    folders without rows and rows without folders, unreadable checkpoints and best weights,
    TensorBoard files that disagree with the store, temporary files left by a kill.

    Args:
        root: the store folder (default as for :class:`~fitscope.store.Store`).
        repair: also recover what can be recovered (see the module's documentation).

    Raises:
        StoreError: there is no store at ``root``, or it is another program's database;
            or, with ``repair``, a run in it is still being trained by a live process.
    """
    folder = _root(root)
    path = folder / DB_NAME
    if not path.is_file():
        Store(folder, readonly=True)  # (raises the usual "no run store" error)
    findings: list[Finding] = []
    notes: list[str] = []
    damaged_copy = None
    damage = _damage(path)
    if damage:
        if not repair:
            findings.append(Finding("damaged database", str(path), damage))
        else:
            _refuse_while_training(_live_owners(path))
            damaged_copy, lost = _salvage(path, folder)
            findings.append(Finding("damaged database", str(path), damage,
                                    f"copied the readable rows into a fresh store; the damaged file is kept as "
                                    f"{damaged_copy.name}"))  # fmt: skip
            notes.extend(lost)
    findings.extend(_temporary_files(folder, repair))
    runs = None
    if not damage or repair:
        store = Store(folder, readonly=not repair)
        try:
            infos = store.runs()
            if repair:
                _refuse_while_training((info.run_id, info.owner, info.heartbeat) for info in infos)
            runs = len(infos)
            findings.extend(_foreign_keys(store, repair))
            findings.extend(_orphaned_runs(store, repair))
            findings.extend(_folders(infos, folder))
            findings.extend(_unreadable_weights(store, infos, repair))
            findings.extend(_tensorboard(store, infos, repair))
        finally:
            store.close()
    return DoctorReport(folder, tuple(findings), repair, runs, damaged_copy, tuple(notes))


def _connect_raw(path: Path) -> sqlite3.Connection:
    """A plain read-only connection (errors as SQLite raises them), reading a writer's log when there is one."""
    logged = path.with_name(path.name + "-wal").exists()
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("" if logged else "&immutable=1")
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def _damage(path: Path) -> str | None:
    """What SQLite's integrity check says is wrong with the database, or ``None`` when it is sound."""
    if path.stat().st_size == 0:
        return "the file is empty (0 bytes): it was truncated or lost; no row can be recovered from it"
    try:
        conn = _connect_raw(path)
    except sqlite3.DatabaseError as exc:
        return str(exc)
    try:
        application = int(conn.execute("PRAGMA application_id").fetchone()[0])
        if application not in (0, APPLICATION_ID):
            Store(path.parent, readonly=True)  # (raises: another program's database)
        messages = [str(row[0]) for row in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return None if messages == ["ok"] else "; ".join(messages[:5]) + ("; ..." if len(messages) > 5 else "")


def _live_owners(path: Path) -> list[tuple[str, str | None, float | None]]:
    """The runs of a damaged store that read as running, with their owners, as far as they can be read."""
    for heartbeat in ("heartbeat", "NULL"):  # (stores before schema 4 kept no heartbeat)
        try:
            conn = _connect_raw(path)
            try:
                return list(conn.execute(f"SELECT run_id, owner, {heartbeat} FROM runs WHERE status = 'running'"))
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            continue
    return []


def _refuse_while_training(runs: Iterable[tuple[str, str | None, float | None]]) -> None:
    """A repair moves and rewrites files: never while another live process writes to the store."""
    for run_id, owner, heartbeat in runs:
        if _holds(owner, heartbeat):
            raise StoreError(
                f"{_trained_elsewhere(run_id, owner, heartbeat)} Repair the store once nothing is training in it "
                "(checking it is fine meanwhile)."
            )


def _temporary_files(folder: Path, repair: bool) -> Iterator[Finding]:
    found = sorted({path for pattern in _TEMPORARY for path in folder.rglob(pattern) if path.is_file()})
    for path in found:
        if repair:
            path.unlink(missing_ok=True)
        yield Finding("temporary file", str(path), "left by a write that was cut short (a kill or a full disk)",
                      "removed" if repair else None)  # fmt: skip


def _foreign_keys(store: Store, repair: bool) -> Iterator[Finding]:
    rows = store._conn.execute("PRAGMA foreign_key_check").fetchall()
    tables: dict[str, int] = {}
    for table, *_ in rows:
        tables[table] = tables.get(table, 0) + 1
    removed = _drop_orphan_rows(store._conn) if repair and rows else {}
    for table, count in sorted(tables.items()):
        yield Finding("rows without their run or epoch", f"table {table}", f"{count} row(s)",
                      f"removed {removed.get(table, 0)} row(s)" if repair else None)  # fmt: skip


def _drop_orphan_rows(conn: sqlite3.Connection) -> dict[str, int]:
    """Delete child rows whose run (or, for metrics, whose epoch) is missing; how many per table."""
    statements = {
        "metrics": "DELETE FROM metrics WHERE NOT EXISTS (SELECT 1 FROM epochs e"
        " WHERE e.run_id = metrics.run_id AND e.epoch = metrics.epoch)",
        **{
            table: f"DELETE FROM {table} WHERE run_id NOT IN (SELECT run_id FROM runs)"
            for table in ("epochs", "batches", "evaluations")
        },
    }
    with immediate(conn):
        removed = {table: conn.execute(sql).rowcount for table, sql in statements.items()}
    return {table: count for table, count in removed.items() if count}


def _orphaned_runs(store: Store, repair: bool) -> Iterator[Finding]:
    heartbeat = "heartbeat" if store.schema >= 4 else "NULL"
    rows = store._conn.execute(f"SELECT run_id, owner, {heartbeat} FROM runs WHERE status = 'running'").fetchall()
    for run_id, owner, beat in rows:
        if owner_state(owner, beat) != "gone":
            continue
        if repair:
            with store.transaction() as conn:  # (only if nothing claimed it meanwhile)
                conn.execute(
                    "UPDATE runs SET status = 'interrupted', reason = ?, ended_at = ?, owner = NULL"
                    " WHERE run_id = ? AND status = 'running' AND owner IS ?",
                    (_GONE_REASON, time.time(), run_id, owner),
                )
        yield Finding("run marked running, its process gone", run_id, f"owner {owner} no longer runs",
                      "marked interrupted (resume or re-run it)" if repair else None)  # fmt: skip


def _folders(infos: Sequence[RunInfo], folder: Path) -> Iterator[Finding]:
    ids = {info.run_id for info in infos}
    on_disk = {path.name for path in folder.iterdir() if path.is_dir() and _RUN_FOLDER.match(path.name)}
    for name in sorted(on_disk - ids):
        yield Finding("run folder without a row", str(folder / name),
                      "its files are kept; remove the folder if you do not need them", repairable=False)  # fmt: skip
    for run_id in sorted(ids - on_disk):
        yield Finding("run without its folder", run_id, "its epochs are in the store, its checkpoints and "
                      "TensorBoard files are gone; `fitscope runs rm` removes it", repairable=False)  # fmt: skip


def _unreadable_weights(store: Store, infos: Sequence[RunInfo], repair: bool) -> Iterator[Finding]:
    for info in infos:
        checkpoints = CheckpointDir(store.run(info.run_id).checkpoint_dir)
        paths = [path for _, path in checkpoints.paths()]
        if (checkpoints.folder / "best.npz").is_file():
            paths.append(checkpoints.folder / "best.npz")
        for path in paths:
            problem = unreadable(path)
            if problem is None:
                continue
            if repair:
                os.replace(path, path.with_name(path.name + ".unreadable"))
            what = "best weights" if path.name == "best.npz" else "checkpoint"
            yield Finding(f"unreadable {what}", str(path), problem,
                          f"set aside as {path.name}.unreadable" if repair else None)  # fmt: skip


def _tensorboard(store: Store, infos: Sequence[RunInfo], repair: bool) -> Iterator[Finding]:
    for info in infos:
        run = store.run(info.run_id)
        train = run.tensorboard_dir / "train"
        if not train.is_dir():
            continue  # (recorded without TensorBoard)
        expected = [epoch for epoch, _, _ in run.epochs()]
        steps = _logged_steps(train)
        if sorted(steps) == expected:
            continue
        missing = sorted(set(expected) - set(steps))
        doubled = sorted({step for step in steps if steps.count(step) > 1})
        extra = sorted(set(steps) - set(expected))
        kinds = (("missing epochs", missing), ("epochs twice", doubled), ("epochs not in the store", extra))
        said = [f"{label} {_epochs_text(values)}" for label, values in kinds if values]
        if repair:
            run.rebuild_tensorboard()
        yield Finding("TensorBoard files disagree with the store", info.run_id, "; ".join(said),
                      "rebuilt from the store" if repair else None)  # fmt: skip


def _logged_steps(folder: Path) -> list[int]:
    """The steps of the ``epoch_loss`` scalar in a TensorBoard folder's event files (torn records skipped)."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    steps = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.tag == "epoch_loss":
                    steps.append(int(event.step))
    return steps


def _epochs_text(epochs: Sequence[int]) -> str:
    shown = ", ".join(map(str, epochs[:8]))
    return shown + (f", ... ({len(epochs)} in all)" if len(epochs) > 8 else "")


def _salvage(path: Path, folder: Path) -> tuple[Path, list[str]]:
    """Copy the rows SQLite can still read into a fresh store that replaces the damaged one.

    Returns where the damaged file was kept and what could not be read. Rows are read run
    by run, so a damaged page costs only the rows stored in it.
    """
    fresh = path.with_name(path.name + ".repairing")
    fresh.unlink(missing_ok=True)
    scratch = path.with_name(path.name + ".repairing-source")
    lost = _readable_copy(path, scratch)
    source = _connect_raw(scratch)
    target = sqlite3.connect(fresh, isolation_level=None)
    try:
        version = _read_version(source)
        create_schema(target, version)
        target.execute("BEGIN")
        run_ids = _copy_runs(source, target, folder, lost)
        for table in _CHILD_TABLES:
            columns = _shared_columns(source, target, table)
            if columns is None:
                lost.append(f"table {table}: unreadable")
                continue
            for run_id in run_ids:
                rows, error = _read(source, f"SELECT {columns} FROM {table} WHERE run_id = ?", (run_id,))
                if error and table in ("metrics", "batches"):  # epoch by epoch: only those on damaged pages are lost
                    rows, unread = _read_by_epoch(source, target, table, columns, run_id)
                    error = f"epochs {_epochs_text(unread)}" if unread else None
                _insert(target, table, columns, rows)
                if error:
                    lost.append(f"run {run_id}: {table} unreadable ({error})")
        columns = _shared_columns(source, target, "removed_runs")
        if columns is not None:
            rows, error = _read(source, f"SELECT {columns} FROM removed_runs")
            _insert(target, "removed_runs", columns, rows)
            if error:
                lost.append(f"removed runs: unreadable after {len(rows)} row(s) ({error})")
        columns = _shared_columns(source, target, "tags")  # (schema 6 on)
        if columns is not None:
            rows, error = _read(source, f"SELECT {columns} FROM tags")
            _insert(target, "tags", columns, [row for row in rows if row[0] in set(run_ids)])
            if error:
                lost.append(f"tags: unreadable after {len(rows)} row(s) ({error})")
        target.execute("COMMIT")
        dropped = _drop_orphan_rows(target)
        lost.extend(f"{count} {table} row(s) without their run or epoch dropped" for table, count in dropped.items())
        if target.execute("PRAGMA integrity_check").fetchone()[0] != "ok":  # pragma: no cover - a fresh file
            raise StoreError(f"the store rebuilt in {fresh} fails SQLite's integrity check; nothing was replaced.")
    except BaseException:
        target.close()
        fresh.unlink(missing_ok=True)
        raise
    finally:
        source.close()
        for suffix in ("", "-wal", "-shm"):
            scratch.with_name(scratch.name + suffix).unlink(missing_ok=True)
    target.close()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    for number in range(2, 1000):  # (never over an earlier repair's copy)
        if not kept.exists():
            break
        kept = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    for suffix in ("-wal", "-shm", ""):  # (the log and its index go with the file they belong to)
        part = path.with_name(path.name + suffix)
        if part.exists():
            os.replace(part, kept.with_name(kept.name + suffix))
    os.replace(fresh, path)
    return kept, lost


def _readable_copy(path: Path, scratch: Path) -> list[str]:
    """Copy the damaged file (and its log) to ``scratch``, mending what keeps SQLite from opening it at all.

    A garbled header gets a plain one (the page size assumed SQLite's default); a
    truncated file is padded with empty pages to the size its header states, so that
    the tables on the pages still there can be read. Returns what was mended.
    """
    import shutil
    import struct

    shutil.copyfile(path, scratch)
    logged = path.with_name(path.name + "-wal")
    if logged.exists():
        shutil.copyfile(logged, scratch.with_name(scratch.name + "-wal"))
    mended = []
    size = scratch.stat().st_size
    with scratch.open("r+b") as handle:
        header = handle.read(100)
        if header[:16] == _MAGIC and len(header) == 100:
            page_size = struct.unpack(">H", header[16:18])[0] or 65536
            page_size = 65536 if page_size == 1 else page_size
            stated = struct.unpack(">I", header[28:32])[0]
        else:
            page_size, stated = 4096, 0
            pages = max(1, -(-size // page_size))
            version = 2 if logged.exists() else 1
            handle.seek(0)
            handle.write(_plain_header(page_size, pages, version))
            mended.append("the file's header was unreadable: a plain one was written in the copy read from "
                          f"(page size {page_size} assumed)")  # fmt: skip
        whole = max(stated, -(-size // page_size)) * page_size
        if whole > size:
            handle.truncate(whole)  # (zeros: the missing pages read as damaged, the others as they are)
            mended.append(f"the file was cut short ({size} of {whole} bytes): the missing pages are lost")
    return mended


_MAGIC = b"SQLite format 3\x00"


def _plain_header(page_size: int, pages: int, version: int) -> bytes:
    """An SQLite file header (the first 100 bytes of page 1) describing ``pages`` pages of ``page_size``."""
    import struct

    major, minor, patch = sqlite3.sqlite_version_info
    header = (
        _MAGIC
        + struct.pack(">HBBBBBB", page_size if page_size < 65536 else 1, version, version, 0, 64, 32, 32)
        + struct.pack(">12I", 1, pages, 0, 0, 1, 4, 0, 0, 1, 0, 0, APPLICATION_ID)
        + bytes(20)
        + struct.pack(">II", 1, major * 1_000_000 + minor * 1000 + patch)
    )
    assert len(header) == 100
    return header


def _read_by_epoch(
    source: sqlite3.Connection, target: sqlite3.Connection, table: str, columns: str, run_id: str
) -> tuple[list[tuple[Any, ...]], list[int]]:
    """A run's rows of ``table`` read epoch by epoch (the epochs as copied already); the epochs left unread."""
    rows: list[tuple[Any, ...]] = []
    unread = []
    for (epoch,) in target.execute("SELECT epoch FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,)).fetchall():
        found, error = _read(source, f"SELECT {columns} FROM {table} WHERE run_id = ? AND epoch = ?", (run_id, epoch))
        rows.extend(found)
        if error:
            unread.append(epoch)
    return rows, unread


def _read_version(source: sqlite3.Connection) -> int:
    from ._schema import SCHEMA_VERSION

    try:
        found = int(source.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError:
        return SCHEMA_VERSION  # (a garbled header: assume this fitscope's own layout)
    return found if 0 < found <= SCHEMA_VERSION else SCHEMA_VERSION


def _copy_runs(source: sqlite3.Connection, target: sqlite3.Connection, folder: Path, lost: list[str]) -> list[str]:
    """Copy the runs' rows: all at once, else one by one for every id known from the rows read and the folders."""
    columns = _shared_columns(source, target, "runs")
    if columns is None:
        lost.append("table runs: unreadable; no run could be recovered")
        return []
    rows, error = _read(source, f"SELECT {columns} FROM runs")
    if error:
        read = {row[0] for row in rows}  # (run_id is the first column of every schema)
        folders = {p.name for p in folder.iterdir() if p.is_dir() and _RUN_FOLDER.match(p.name)}
        for run_id in sorted(folders - read):
            for hint in ("", " NOT INDEXED"):
                found, _ = _read(source, f"SELECT {columns} FROM runs{hint} WHERE run_id = ?", (run_id,))
                if found:
                    rows.extend(found)
                    break
            else:
                lost.append(f"run {run_id}: its row is unreadable (its folder is kept)")
    _insert(target, "runs", columns, rows)
    return [row[0] for row in rows]


def _shared_columns(source: sqlite3.Connection, target: sqlite3.Connection, table: str) -> str | None:
    """The columns of ``table`` both stores have, as SQL (``run_id`` first), or ``None`` if unreadable."""
    try:
        had = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
    except sqlite3.DatabaseError:
        return None
    wanted = [row[1] for row in target.execute(f"PRAGMA table_info({table})")]
    shared = [name for name in wanted if name in had]
    if not shared:
        return None
    shared.sort(key=lambda name: name != "run_id")
    return ", ".join(shared)


def _read(
    source: sqlite3.Connection, sql: str, parameters: Sequence[Any] = ()
) -> tuple[list[tuple[Any, ...]], str | None]:
    """The rows read before SQLite met damage, and what it said then (``None`` when all were read)."""
    rows: list[tuple[Any, ...]] = []
    try:
        for row in source.execute(sql, parameters):
            rows.append(row)
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        return rows, str(exc)
    return rows, None


def _insert(target: sqlite3.Connection, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" for _ in columns.split(", "))
    target.executemany(f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})", rows)
