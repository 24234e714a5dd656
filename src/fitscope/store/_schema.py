"""The SQLite schema of the run store and its migrations (``PRAGMA user_version``).

A store says it is fitscope's with SQLite's ``PRAGMA application_id`` (stores
written before schema 4 have none, and are told apart by their ``runs`` table).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from urllib.parse import quote

from ._sqlite import immediate

__all__ = [
    "APPLICATION_ID", "LEGACY_TRIAL_KEYS", "SCHEMA_VERSION", "backup_path", "create_schema", "migrate", "too_new",
]  # fmt: skip

# "FSCP": what ``PRAGMA application_id`` holds in a fitscope store (schema 4 on).
APPLICATION_ID = 0x46534350

_V1 = """
CREATE TABLE runs (
    run_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
    reason      TEXT,
    started_at  REAL NOT NULL,
    ended_at    REAL,
    params      TEXT NOT NULL DEFAULT '{}',
    spec        TEXT,
    manifest    TEXT,
    versions    TEXT,
    backend     TEXT,
    seed        INTEGER,
    group_id    TEXT,
    resume_key  TEXT,
    owner       TEXT,
    checkpoint_epoch INTEGER
);
CREATE INDEX runs_group ON runs (group_id);
CREATE TABLE epochs (
    run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    epoch       INTEGER NOT NULL CHECK (epoch >= 0),
    started_at  REAL NOT NULL,
    duration    REAL NOT NULL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE metrics (
    run_id      TEXT NOT NULL,
    epoch       INTEGER NOT NULL,
    name        TEXT NOT NULL,
    value       REAL,
    special     TEXT CHECK (special IN ('nan', 'inf', '-inf')),
    PRIMARY KEY (run_id, epoch, name),
    FOREIGN KEY (run_id, epoch) REFERENCES epochs (run_id, epoch) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE batches (
    run_id      TEXT NOT NULL,
    epoch       INTEGER NOT NULL,
    batch       INTEGER NOT NULL,
    name        TEXT NOT NULL,
    value       REAL,
    special     TEXT CHECK (special IN ('nan', 'inf', '-inf')),
    PRIMARY KEY (run_id, epoch, batch, name),
    FOREIGN KEY (run_id) REFERENCES runs (run_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE evaluations (
    id          INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    split       TEXT NOT NULL CHECK (split IN ('val', 'test', 'other')),
    at          REAL NOT NULL,
    epoch       INTEGER,
    fingerprint TEXT,
    metrics     TEXT NOT NULL
);
CREATE INDEX evaluations_run ON evaluations (run_id, split);
"""

# Removed runs leave their configuration and split behind: a tuning round whose trials
# were deleted still counts as scored on that validation split.
_V2 = """
CREATE TABLE removed_runs (
    run_id      TEXT PRIMARY KEY,
    index_hash  TEXT,
    params      TEXT NOT NULL,
    removed_at  REAL NOT NULL
);
CREATE INDEX removed_runs_split ON removed_runs (index_hash);
"""

# What kind of group a run belongs to (cv, tune, ...), stored rather than read from the id's prefix.
_V3 = """
ALTER TABLE runs ADD COLUMN group_kind TEXT;
UPDATE runs SET group_kind = CASE WHEN group_id LIKE 'cv-%' THEN 'cv' WHEN group_id LIKE 'tune-%' THEN 'tune' END
    WHERE group_id IS NOT NULL
"""

# Schema 4 also records a heartbeat of the process training a run (see _owner.py).
# Before schema 4, what a cv or search driver kept about a trial (its key, fold and the
# fingerprint of its initial weights) was mixed into the run's params under these names;
# schema 4 keeps it in its own column (``trial``) under the names on the right.
LEGACY_TRIAL_KEYS = {"trial_key": "key", "fold": "fold", "initial_weights": "initial_weights"}
_TRIAL_FROM_PARAMS = (
    "json_object("
    + ", ".join(f"'{new}', json_extract(params, '$.{old}')" for old, new in LEGACY_TRIAL_KEYS.items())
    + ")"
)
_PARAMS_WITHOUT_TRIAL = "json_remove(params, " + ", ".join(f"'$.{old}'" for old in LEGACY_TRIAL_KEYS) + ")"
_V4 = f"""
ALTER TABLE runs ADD COLUMN trial TEXT;
ALTER TABLE runs ADD COLUMN heartbeat REAL;
ALTER TABLE removed_runs ADD COLUMN trial TEXT;
UPDATE runs SET trial = {_TRIAL_FROM_PARAMS}, params = {_PARAMS_WITHOUT_TRIAL}
    WHERE json_extract(params, '$.trial_key') IS NOT NULL;
UPDATE removed_runs SET trial = {_TRIAL_FROM_PARAMS}, params = {_PARAMS_WITHOUT_TRIAL}
    WHERE json_extract(params, '$.trial_key') IS NOT NULL
"""

# Schema 5: a trial a search stopped early on evidence from its curves is "pruned" (neither
# failed nor resumable). SQLite cannot change a CHECK constraint in place: the table is
# made anew and its rows copied (with foreign keys off, so the drop removes no epochs).
_RUN_COLUMNS = (
    "run_id, name, status, reason, started_at, ended_at, params, spec, manifest, versions, backend, seed, group_id, "
    "resume_key, owner, checkpoint_epoch, group_kind, trial, heartbeat"
)
_V5 = f"""
CREATE TABLE runs_v5 (
    run_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted', 'pruned')),
    reason      TEXT,
    started_at  REAL NOT NULL,
    ended_at    REAL,
    params      TEXT NOT NULL DEFAULT '{{}}',
    spec        TEXT,
    manifest    TEXT,
    versions    TEXT,
    backend     TEXT,
    seed        INTEGER,
    group_id    TEXT,
    resume_key  TEXT,
    owner       TEXT,
    checkpoint_epoch INTEGER,
    group_kind  TEXT,
    trial       TEXT,
    heartbeat   REAL
);
INSERT INTO runs_v5 ({_RUN_COLUMNS}) SELECT {_RUN_COLUMNS} FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v5 RENAME TO runs;
CREATE INDEX runs_group ON runs (group_id)
"""

# Schema 6: a run's tags and note (fitscope runs tag / note), for finding and annotating runs.
_V6 = """
ALTER TABLE runs ADD COLUMN note TEXT;
CREATE TABLE tags (
    run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_tag ON tags (tag)
"""

# Each entry upgrades the schema from version i to i + 1.
_MIGRATIONS = [_V1, _V2, _V3, _V4, _V5, _V6]
SCHEMA_VERSION = len(_MIGRATIONS)


def backup_path(path: Path, version: int) -> Path:
    """Where the copy of a store of schema ``version`` is kept before it is upgraded."""
    return path.with_name(f"{path.name}.bak-{version}")


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the database at ``path`` to :data:`SCHEMA_VERSION`; returns the version found.

    An existing store is first copied to :func:`backup_path` (kept if one is already
    there: the first copy is the untouched one), then upgraded in one transaction:
    a crash leaves either the old store or the new one, never a mix.
    """
    enforced = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")  # (schema 5 drops a parent table: its children's rows must stay)
    try:
        with immediate(conn):  # (held from the check to the commit: one process upgrades, once)
            found = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if found > SCHEMA_VERSION:
                raise too_new(conn, path, found)
            if 0 < found < SCHEMA_VERSION:
                _back_up(path, backup_path(path, found))
            _upgrade(conn, found, SCHEMA_VERSION)
    finally:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if enforced else 'OFF'}")
    return found


def create_schema(conn: sqlite3.Connection, version: int) -> None:
    """Make an empty database a store of schema ``version`` (a repair copies an old store's rows into one)."""
    with immediate(conn):
        _upgrade(conn, 0, version)


def _upgrade(conn: sqlite3.Connection, found: int, version: int) -> None:
    for step in range(found, version):
        for statement in _MIGRATIONS[step].split(";"):
            if statement.strip():
                conn.execute(statement)
    if found < version:
        conn.execute(f"PRAGMA user_version = {version}")
        if version >= 4:  # (the application id came with schema 4)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def too_new(conn: sqlite3.Connection, path: Path, found: int) -> Exception:
    """The error for a store of a schema newer than this fitscope's, naming both fitscope versions."""
    from .._errors import StoreError
    from .._version import __version__

    try:  # (which fitscope started its latest run; a future schema may have moved it)
        row = conn.execute(
            "SELECT json_extract(versions, '$.fitscope') FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        writer = f"fitscope {row[0]}" if row and row[0] else "a newer fitscope"
    except sqlite3.DatabaseError:
        writer = "a newer fitscope"
    return StoreError(
        f"the run store {path} was written by {writer} (schema {found}); this is fitscope {__version__} "
        f"(schema {SCHEMA_VERSION}). Upgrade fitscope to use it; it was left as it was."
    )


def _back_up(path: Path, target: Path) -> None:
    """A consistent copy of the store (SQLite's backup API, through its own reader), written then renamed."""
    if target.exists():
        return
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
        shutil.move(partial, target)
    finally:
        source.close()
        partial.unlink(missing_ok=True)
