"""Readers for the file formats fitscope accepts: ``.npz``, ``.csv`` and IDX.

Nothing here ever loads a pickle: ``.npz`` files are opened with
``allow_pickle=False`` and files that are not what their name says (a Git LFS
pointer, a raw pickle, a truncated download) are recognised by their first
bytes and reported with a fix.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError

_LFS_POINTER = b"version https://git-lfs"
_ZIP_MAGIC = b"PK\x03\x04"
_GZIP_MAGIC = b"\x1f\x8b"
_PICKLE_MAGIC = b"\x80"

# IDX type codes (LeCun's format): the third byte of the magic number.
_IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def sniff(path: Path) -> bytes:
    """Return the first bytes of ``path``, raising a clear error if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read(64)
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file. Check the path.") from exc
    except IsADirectoryError as exc:
        raise DataError(f"{path}: is a directory, expected a file.") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror}).") from exc


def _reject_impostors(path: Path, head: bytes, expected: str) -> None:
    if head.startswith(_LFS_POINTER):
        raise DataError(
            f"{path}: is a Git LFS pointer file, not {expected}. "
            "Fetch the real file with `git lfs pull` (or download it again)."
        )
    if head.startswith(_PICKLE_MAGIC):
        raise DataError(
            f"{path}: is a Python pickle, not {expected}. fitscope never loads pickles "
            "(they can run code); save the arrays with numpy.savez instead."
        )


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file without allowing pickled objects.

    Raises:
        DataError: the file is missing, not a zip archive, truncated, corrupt, or
            holds object arrays.
    """
    head = sniff(path)
    _reject_impostors(path, head, "an .npz archive")
    if not head.startswith(_ZIP_MAGIC):
        raise DataError(
            f"{path}: is not an .npz archive (it does not start with a zip header). "
            "Save arrays with numpy.savez or numpy.savez_compressed."
        )
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            for key in archive.files:
                arrays[key] = archive[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise DataError(
                f"{path}: holds object (pickled) arrays, which fitscope refuses to load. "
                "Convert them to numeric arrays and save again with numpy.savez."
            ) from exc
        raise DataError(f"{path}: is corrupt ({exc}). Download or save it again.") from exc
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise DataError(f"{path}: is truncated or corrupt ({exc}). Download or save it again.") from exc
    if not arrays:
        raise DataError(f"{path}: holds no arrays.")
    return arrays


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped), as used by MNIST and Fashion-MNIST."""
    head = sniff(path)
    _reject_impostors(path, head, "an IDX file")
    try:
        if head.startswith(_GZIP_MAGIC):
            with gzip.open(path, "rb") as handle:
                raw = handle.read()
        else:
            raw = Path(path).read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: is truncated or corrupt ({exc}). Download it again.") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path}: is not an IDX file (bad magic number).")
    dtype = _IDX_DTYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: IDX header is truncated.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    count = int(np.prod(shape)) if shape else 1
    if len(raw) - header != count * dtype.itemsize:
        raise DataError(
            f"{path}: IDX data is truncated: expected {count * dtype.itemsize} bytes "
            f"for shape {shape}, found {len(raw) - header}."
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=False)


def decode_csv(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError(f"{path}: is neither UTF-8 nor cp949 text. Save it as UTF-8.")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_csv(
    path: Path, *, label: str | int = "label", header: bool | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a numeric CSV file into inputs and labels.

    Args:
        path: the file; UTF-8 (with or without a byte-order mark) or cp949.
        label: the label column, by name (needs a header) or by 0-based position;
            negative positions count from the end.
        header: whether the first row names the columns; ``None`` guesses (a first
            row with a non-numeric cell is a header).

    Returns:
        ``(x, y, columns)``: float32 inputs of shape (rows, columns - 1), the labels
        (int64 when every label is a whole number, else the label strings), and the
        input column names.

    Raises:
        DataError: ragged rows, non-numeric cells, a missing label column, no rows.
    """
    sniff(path)
    text = decode_csv(path)
    rows = [row for row in csv.reader(io.StringIO(text)) if row and any(c.strip() for c in row)]
    if not rows:
        raise DataError(f"{path}: has no rows. A CSV needs one row per sample.")
    if header is None:
        header = not all(_is_number(c) for c in rows[0])
    names = [c.strip() for c in rows[0]] if header else [f"col{i}" for i in range(len(rows[0]))]
    body = rows[1:] if header else rows
    body_start = 2 if header else 1
    if not body:
        raise DataError(f"{path}: has a header but zero data rows.")
    if isinstance(label, str):
        if label not in names:
            where = "the header" if header else "a file without a header"
            raise DataError(
                f"{path}: label column {label!r} is not in {where} (columns: "
                f"{', '.join(names[:12])}{', ...' if len(names) > 12 else ''}). "
                "Name the label column, or give its position as a number."
            )
        label_at = names.index(label)
    else:
        label_at = label if label >= 0 else len(names) + label
        if not 0 <= label_at < len(names):
            raise DataError(f"{path}: label column {label} is out of range for {len(names)} columns.")
    width = len(names)
    features = np.empty((len(body), width - 1), dtype=np.float32)
    labels: list[str] = []
    for offset, row in enumerate(body):
        line = body_start + offset
        if len(row) != width:
            raise DataError(
                f"{path}, row {line}: has {len(row)} cells, expected {width}. "
                "Every row needs the same number of columns."
            )
        labels.append(row[label_at].strip())
        cells = row[:label_at] + row[label_at + 1 :]
        try:
            features[offset] = [float(c) for c in cells]
        except ValueError as exc:
            bad = next(c for c in cells if not _is_number(c))
            column = [n for i, n in enumerate(names) if i != label_at][cells.index(bad)]
            raise DataError(
                f"{path}, row {line}, column {column!r}: {bad!r} is not a number. Input columns must be numeric."
            ) from exc
    if all(_is_number(v) and float(v).is_integer() for v in labels):
        y = np.array([int(float(v)) for v in labels], dtype=np.int64)
    else:
        y = np.array(labels)
    columns = [n for i, n in enumerate(names) if i != label_at]
    return features, y, columns
