"""The SQLite schema of the run store and its migrations (``PRAGMA user_version``)."""

from __future__ import annotations

import sqlite3

__all__ = ["SCHEMA_VERSION", "migrate"]

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

# Each entry upgrades the schema from version i to i + 1.
_MIGRATIONS = [_V1, _V2, _V3]
SCHEMA_VERSION = len(_MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; returns the version found."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        from .._errors import StoreError

        raise StoreError(
            f"the run store was written by a newer fitscope (schema {found}, this one "
            f"knows {SCHEMA_VERSION}). Upgrade fitscope to read it."
        )
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) == version:
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found
