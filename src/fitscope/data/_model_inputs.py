"""What a trained model takes: the raw samples it was trained on and how they were preprocessed.

Recorded with a run's ``.keras`` models, so new data can be fed to them as the
training data was (``fitscope predict``), and the predictions given back as class
names, without the training data at hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError
from ._preprocess import Preprocessing

__all__ = ["ModelInputs", "read_inputs"]


@dataclass(frozen=True)
class ModelInputs:
    """A model's inputs: one raw sample's shape, the preprocessing, and what its outputs mean.

    Attributes:
        sample_shape: one raw sample's shape before preprocessing (``(28, 28)``, or
            ``(n_columns,)`` for a table).
        preprocessing: the training preprocessing, fitted (``"standardize"`` keeps the training part's statistics).
        value_max: what ``scale: true`` divided by (the training data's largest possible value).
        class_names: the name of each output class, in order (empty for a regression).
        feature_names: a table's input columns, in the order the model takes them.
        task: ``classification`` or ``regression``.
    """

    sample_shape: tuple[int, ...]
    preprocessing: Preprocessing
    value_max: float | None
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...] = ()
    task: str = "classification"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample_shape": list(self.sample_shape), "preprocessing": self.preprocessing.to_dict(),
            "value_max": self.value_max, "class_names": list(self.class_names),
            "feature_names": list(self.feature_names), "task": self.task,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelInputs:
        return cls(
            sample_shape=tuple(int(n) for n in data["sample_shape"]),
            preprocessing=Preprocessing.from_dict(dict(data["preprocessing"])),
            value_max=data.get("value_max"), class_names=tuple(str(c) for c in data.get("class_names", ())),
            feature_names=tuple(str(c) for c in data.get("feature_names", ())),
            task=str(data.get("task", "classification")),
        )  # fmt: skip

    def transform(self, x: np.ndarray, *, source: str) -> np.ndarray:
        """``x`` preprocessed as the training inputs were.

        Raises:
            DataError: the samples have another shape than the training samples.
        """
        if tuple(x.shape[1:]) != self.sample_shape:
            raise DataError(
                f"{source}: holds samples of shape {tuple(x.shape[1:])}, but the model was trained on samples of "
                f"shape {self.sample_shape}. Give the same kind of samples (the same image size, or the same columns)."
            )
        if not np.issubdtype(x.dtype, np.number) and x.dtype != bool:
            raise DataError(f"{source}: holds {x.dtype} values; the model takes numbers.")
        inputs, _labels = self.preprocessing.apply(x, np.zeros(len(x), dtype=np.int64), value_max=self.value_max,
                                                   num_classes=max(len(self.class_names), 1))  # fmt: skip
        return inputs


def read_inputs(path: str | Path, *, feature_names: Sequence[str] = ()) -> np.ndarray:
    """The samples in a file to predict on: an ``.npy`` array, an ``.npz`` archive or a ``.csv`` table.

    An ``.npz`` holds them as ``x`` (or ``x_test``, ``x_train``, or its only array). A
    ``.csv`` with a header row gives the model's input columns by name (others, such as
    a label column, are left out); one without a header gives exactly those columns, in order.

    Raises:
        DataError: the file is missing, of another format, or lacks the model's columns.
    """
    from ._readers import decode_csv, read_npz, sniff

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file. Give an .npy, .npz or .csv file of samples.")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: not a readable .npy array ({exc}).") from None
    if suffix == ".npz":
        arrays = read_npz(path)
        name: str | None = next((n for n in ("x", "x_test", "x_train") if n in arrays), None)
        if name is None and len(arrays) == 1:
            name = next(iter(arrays))
        if name is None:
            raise DataError(f"{path}: cannot tell which array holds the samples (arrays: {', '.join(arrays)}). "
                            "Name it x.")  # fmt: skip
        return arrays[name]
    if suffix not in (".csv", ".txt"):
        raise DataError(f"{path}: unknown format {suffix or '(no extension)'!r}. Give an .npy, .npz or .csv file.")
    import csv
    import io

    sniff(path)
    rows = [row for row in csv.reader(io.StringIO(decode_csv(path))) if row and any(c.strip() for c in row)]
    if not rows:
        raise DataError(f"{path}: has no rows. A CSV needs one row per sample.")
    header = [cell.strip() for cell in rows[0]]
    if feature_names and set(feature_names) <= set(header):
        at, body, first = [header.index(name) for name in feature_names], rows[1:], 2
    elif feature_names and not _all_numbers(rows[0]):
        missing = [name for name in feature_names if name not in header]
        raise DataError(f"{path}: lacks the column(s) the model was trained on: {', '.join(missing)} (its columns: "
                        f"{', '.join(header)}).")  # fmt: skip
    else:
        body, first = (rows[1:], 2) if not _all_numbers(rows[0]) else (rows, 1)
        at = list(range(len(body[0]) if body else 0))
    if not body:
        raise DataError(f"{path}: has a header but zero data rows.")
    x = np.empty((len(body), len(at)), dtype=np.float32)
    for offset, row in enumerate(body):
        try:
            x[offset] = [float(row[i]) for i in at]
        except (ValueError, IndexError):
            raise DataError(f"{path}, row {first + offset}: the model's input cells must be numbers, one per "
                            f"column ({len(header)} columns).") from None  # fmt: skip
    return x


def _all_numbers(row: Sequence[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True
