"""Runs as tables to take elsewhere: ``fitscope runs export`` and :meth:`Store.to_dataframe`.

One row per run (its parameters flattened to ``params.KEY`` columns, each metric's best
and final value as ``best.METRIC`` and ``final.METRIC``, status, tags, split hash...),
or with ``epochs``, one row per run and epoch (the long form plotting libraries take).
Read in a few SQL queries for all the runs at once, not run by run.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import write_atomically
from .._errors import argument_error, invalid_argument
from ._query import lower_is_better
from ._sqlite import id_chunks

if TYPE_CHECKING:
    from ._store import RunInfo, Store

__all__ = ["EXPORT_FORMATS", "as_dataframe", "columns_of", "epoch_rows", "run_rows", "write_rows"]

EXPORT_FORMATS = ("csv", "json", "parquet")


def _when(stamp: float | None) -> str | None:
    return None if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def run_rows(store: Store, infos: Sequence[RunInfo]) -> list[dict[str, Any]]:
    """One row per run, in the order given."""
    best: dict[str, dict[str, float | None]] = {}
    final: dict[str, dict[str, float | None]] = {}
    for chunk in id_chunks(info.run_id for info in infos):
        holes = ", ".join("?" * len(chunk))
        for run_id, name, low, high in store._conn.execute(
            f"SELECT run_id, name, MIN(value), MAX(value) FROM metrics WHERE run_id IN ({holes}) GROUP BY run_id, name",
            chunk,
        ):
            best.setdefault(run_id, {})[name] = low if lower_is_better(name) else high
        for run_id, name, value in store._conn.execute(
            "SELECT m.run_id, m.name, m.value FROM metrics m JOIN (SELECT run_id, name, MAX(epoch) AS last FROM metrics"
            f" WHERE run_id IN ({holes}) GROUP BY run_id, name) l"
            " ON m.run_id = l.run_id AND m.name = l.name AND m.epoch = l.last",
            chunk,
        ):
            final.setdefault(run_id, {})[name] = value
    rows = []
    for info in infos:
        row: dict[str, Any] = {
            "run_id": info.run_id, "name": info.name, "status": info.status, "reason": info.reason,
            "group": info.group_id, "kind": info.group_kind, "started": _when(info.started_at),
            "ended": _when(info.ended_at), "epochs": info.epochs, "seed": info.seed, "backend": info.backend,
            "split": info.manifest.index_hash if info.manifest else None, "tags": ";".join(info.tags),
            "note": info.note,
        }  # fmt: skip
        row |= {f"params.{key}": _flat(value) for key, value in info.params.items()}
        row |= {f"best.{name}": value for name, value in sorted(best.get(info.run_id, {}).items())}
        row |= {f"final.{name}": value for name, value in sorted(final.get(info.run_id, {}).items())}
        rows.append(row)
    return rows


def epoch_rows(store: Store, infos: Sequence[RunInfo]) -> list[dict[str, Any]]:
    """One row per run and epoch: ``run_id``, ``name``, ``epoch`` and each metric's value."""
    names = {info.run_id: info.name for info in infos}
    by_epoch: dict[tuple[str, int], dict[str, Any]] = {}
    ids = list(names)
    for chunk in id_chunks(ids):
        holes = ", ".join("?" * len(chunk))
        for run_id, epoch, name, value in store._conn.execute(
            f"SELECT run_id, epoch, name, value FROM metrics WHERE run_id IN ({holes}) ORDER BY run_id, epoch", chunk
        ):
            row = by_epoch.setdefault((run_id, epoch), {"run_id": run_id, "name": names[run_id], "epoch": epoch})
            row[name] = value
    order = {run_id: number for number, run_id in enumerate(ids)}
    return [by_epoch[key] for key in sorted(by_epoch, key=lambda key: (order[key[0]], key[1]))]


def _flat(value: Any) -> Any:
    """A parameter as one cell: numbers and text as they are, anything else (a list, a layer) as JSON."""
    return value if value is None or isinstance(value, (str, int, float, bool)) else json.dumps(value)


def columns_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every column of the rows, in the order they first appear."""
    return list(dict.fromkeys(name for row in rows for name in row))


def write_rows(rows: Sequence[dict[str, Any]], path: str | Path, fmt: str | None = None) -> Path:
    """Write rows as ``csv``, ``json`` or ``parquet`` (by default the file's suffix), atomically.

    Raises:
        ArgumentError: an unknown format, or parquet without pandas and pyarrow.
    """
    path = Path(path)
    fmt = fmt or path.suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise invalid_argument("format", fmt, f"Expected one of {', '.join(EXPORT_FORMATS)} (or a file ending so).")
    if not path.parent.is_dir():
        raise argument_error(f"<<output>> {path}: the folder {path.parent} does not exist.")
    columns = columns_of(rows)
    if fmt == "parquet":
        frame = as_dataframe(rows, columns, needs="<<format=parquet>>", parquet=True)
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        data = buffer.getvalue()
    elif fmt == "json":
        data = json.dumps(list(rows), indent=1, ensure_ascii=False).encode()
    else:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        data = text.getvalue().encode()
    write_atomically(path, lambda handle: handle.write(data))
    return path


def as_dataframe(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, needs: str, parquet: bool = False) -> Any:
    """The rows as a pandas DataFrame with these columns (pandas, and for parquet pyarrow, are optional extras)."""
    try:
        import pandas as pd

        if parquet:
            import pyarrow  # noqa: F401
    except ImportError:
        what = "pandas and pyarrow" if parquet else "pandas"
        raise argument_error(f"{needs} needs {what}: pip install 'fitscope[export]'.") from None
    return pd.DataFrame(list(rows), columns=list(columns))
