"""Turn anything that holds a training history into ``{metric: [values]}``."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any

from .._errors import ArgumentError, DataError
from ..store import Run, normalize_metric_name

__all__ = ["as_history"]


def _normalise(history: dict[str, Any]) -> dict[str, list[float]]:
    return {normalize_metric_name(str(k)): [float(v) for v in values] for k, values in history.items()}


def _from_csv(path: Path) -> dict[str, list[float]]:
    """Read a Keras ``CSVLogger`` file (an ``epoch`` column, then one column per metric)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror}).") from exc
    if not rows:
        raise DataError(f"{path}: has no epochs; a CSVLogger file has a header and one row per epoch.")
    history: dict[str, list[float]] = {}
    for line, row in enumerate(rows, start=2):
        for key, value in row.items():
            if key is None or key == "epoch":
                continue
            try:
                history.setdefault(key, []).append(float(value) if value not in ("", None) else math.nan)
            except ValueError:
                raise DataError(f"{path}, row {line}, column {key!r}: {value!r} is not a number.") from None
    return _normalise(history)


def as_history(source: Any) -> dict[str, list[float]]:
    """A history from a Keras ``History``, a ``history.history`` dict, a stored run, or a CSVLogger file.

    ``acc``/``accuracy`` and ``val_acc``/``val_accuracy`` are read as the same metric.

    Raises:
        ArgumentError: ``source`` is none of these.
        DataError: the CSV file is missing or malformed.
    """
    if isinstance(source, Run):
        return source.history()
    if hasattr(source, "history") and isinstance(source.history, dict):
        return _normalise(source.history)
    if isinstance(source, dict):
        return _normalise(source)
    if isinstance(source, (str, os.PathLike)):
        return _from_csv(Path(source))
    raise ArgumentError(
        f"Invalid value for argument `history`. Received: {type(source).__name__}. Expected a Keras History, "
        "a history dict, a fitscope Run, or the path of a CSVLogger file."
    )
