"""Atomic checkpoints of a run's weights and optimizer state, the last two kept.

A checkpoint is an ``.npz`` of plain arrays (no pickle) plus a JSON record of what
it holds, written to a temporary file, flushed, fsynced and moved into place with
``os.replace``, so a crash leaves either the old file or the new one, never half.
"""

from __future__ import annotations

import json
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import write_atomically
from .._errors import StoreError

__all__ = ["MODELS", "MODEL_RECORD", "Checkpoint", "CheckpointDir", "custom_objects_in", "model_record", "unreadable"]

_NAME = re.compile(r"^epoch-(\d{6,})\.npz$")
KEEP = 2
MODELS = ("final", "best")  # the models a finished run keeps in Keras's format
MODEL_RECORD = "fitscope.json"  # what fitscope adds to a .keras file: the inputs the model takes


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the epoch it ends, its arrays and its metadata."""

    epoch: int
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]
    path: Path


class CheckpointDir:
    """The ``checkpoints/`` folder of one run."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def paths(self) -> list[tuple[int, Path]]:
        """``(epoch, path)`` of the checkpoints on disk, newest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            match = _NAME.match(path.name)
            if match:
                found.append((int(match.group(1)), path))
        return sorted(found, reverse=True)

    def save(self, epoch: int, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Path:
        """Write the checkpoint for ``epoch`` durably, then drop all but the newest two.

        Raises:
            StoreError: the disk is full or the folder cannot be written; the older
                checkpoints are left untouched.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"epoch-{epoch:06d}.npz"
        try:
            _write_npz(final, arrays, {**meta, "epoch": epoch})
        except OSError as exc:
            raise StoreError(
                f"cannot write checkpoint {final} ({exc.strerror or exc}). Free disk space or "
                "fix the folder's permissions, then resume the run (cv and tune: run the same command again)."
            ) from exc
        for _, old in self.paths()[KEEP:]:
            old.unlink(missing_ok=True)
        return final

    def load_latest(self, *, at_most: int | None = None) -> Checkpoint | None:
        """The newest readable checkpoint (at or before ``at_most``), or ``None``.

        A corrupt newest checkpoint falls back to the previous one with a warning.
        """
        for epoch, path in self.paths():
            if at_most is not None and epoch > at_most:
                continue
            try:
                arrays, meta = _read_npz(path)
            except _UNREADABLE as exc:
                older = any(number < epoch and (at_most is None or number <= at_most) for number, _ in self.paths())
                warnings.warn(
                    f"checkpoint {path} is unreadable ({exc})"
                    + ("; falling back to an older one." if older else "; there is no older one."),
                    RuntimeWarning,
                    stacklevel=2,
                )
                continue
            return Checkpoint(epoch=epoch, arrays=arrays, meta=meta, path=path)
        return None

    def save_best(self, epoch: int, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Path:
        """Write the best-epoch weights to ``best.npz`` (atomically; kept apart from the last two)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / "best.npz"
        try:
            _write_npz(final, arrays, {**meta, "epoch": epoch})
        except OSError as exc:
            raise StoreError(f"cannot write {final} ({exc.strerror or exc}). Free disk space and resume.") from exc
        return final

    def load_best(self, *, set_aside_unreadable: bool = False) -> Checkpoint | None:
        """The best-epoch weights saved by :meth:`save_best`, or ``None``.

        Args:
            set_aside_unreadable: a damaged ``best.npz`` is renamed ``best.npz.unreadable``
                with a warning and ``None`` returned (a resume goes on from its checkpoint),
                instead of raising.

        Raises:
            StoreError: ``best.npz`` is unreadable (unless ``set_aside_unreadable``).
        """
        path = self.folder / "best.npz"
        if not path.is_file():
            return None
        try:
            arrays, meta = _read_npz(path)
        except _UNREADABLE as exc:
            if set_aside_unreadable:
                path.replace(path.with_name("best.npz.unreadable"))
                warnings.warn(f"{path} is unreadable ({exc}); it was set aside as best.npz.unreadable and the run "
                              "goes on without it.", RuntimeWarning, stacklevel=2)  # fmt: skip
                return None
            raise StoreError(f"{path} is unreadable ({exc}).") from exc
        return Checkpoint(epoch=int(meta["epoch"]), arrays=arrays, meta=meta, path=path)

    def model_path(self, which: str) -> Path:
        """Where the run's ``final`` or ``best`` model lies in Keras's format (``final.keras``, ``best.keras``)."""
        return self.folder / f"{which}.keras"

    def save_model(self, which: str, data: bytes) -> Path:
        """Write a ``.keras`` file's bytes as the ``final`` or ``best`` model (atomically)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.model_path(which)
        try:
            write_atomically(final, lambda handle: handle.write(data), durable=True, shared=False)
        except OSError as exc:
            raise StoreError(f"cannot write {final} ({exc.strerror or exc}). Free disk space and resume.") from exc
        return final

    def drop_models(self) -> None:
        """Remove the saved ``.keras`` models (training goes on, so they no longer hold what it ends with)."""
        for which in MODELS:
            self.model_path(which).unlink(missing_ok=True)

    def discard_after(self, epoch: int) -> None:
        """Remove checkpoints newer than ``epoch`` (their epochs will be trained again)."""
        for number, path in self.paths():
            if number > epoch:
                path.unlink(missing_ok=True)


# What reading a torn, truncated or foreign .npz raises.
_UNREADABLE = (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError)


def _read_npz(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays of a checkpoint file and the JSON record of what they are."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    return arrays, json.loads(arrays.pop("__meta__").tobytes().decode())


def unreadable(path: Path) -> str | None:
    """Why a checkpoint file cannot be read (``None``: it can)."""
    try:
        _read_npz(path)
    except _UNREADABLE as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def model_record(path: Path) -> dict[str, Any]:
    """What fitscope recorded inside the ``.keras`` file at ``path`` (``{}``: nothing, a file from elsewhere).

    Raises:
        StoreError: the file is not a readable ``.keras`` archive.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            if MODEL_RECORD not in archive.namelist():
                return {}
            return dict(json.loads(archive.read(MODEL_RECORD)))
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise StoreError(f"{path} is not a readable .keras file ({exc}).") from exc


def custom_objects_in(path: Path) -> list[str]:
    """The classes from outside Keras that loading the ``.keras`` file at ``path`` needs (registered names).

    Read from the file's ``config.json`` without Keras: Keras's own classes carry no
    registered name and a ``keras`` module.
    """
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            module, registered = node.get("module"), node.get("registered_name")
            outside = isinstance(module, str) and module.split(".")[0] not in ("keras", "builtins")
            if "class_name" in node and (registered or outside):
                found.add(str(registered or node["class_name"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return sorted(found)


def _write_npz(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Arrays plus a JSON record of what they are, written durably and atomically."""
    payload = dict(arrays)
    payload["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    write_atomically(path, lambda handle: np.savez(handle, **payload), durable=True, shared=False)  # type: ignore[arg-type]
