"""A run's kept predictions: one ``.npz`` per split and set of weights, in ``<run>/predictions/``.

``<split>-<weights fingerprint>.npz`` holds the class probabilities, the labels, the
class names and the inputs of the most confident mistakes (for the gallery), so an error
analysis or a report reads them instead of predicting again. Written atomically; a torn
or foreign file reads as absent (the predictions are made again).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import write_atomically

__all__ = ["PredictionsDir"]


class PredictionsDir:
    """The predictions kept in one run's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, split: str, fingerprint: str) -> Path:
        return self.folder / f"{split}-{fingerprint[:16]}.npz"

    def load(self, path: Path) -> dict[str, np.ndarray] | None:
        """The arrays of ``path``, or ``None`` when it is missing or cannot be read."""
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError, KeyError, EOFError):
            return None

    def save(self, path: Path, arrays: dict[str, Any]) -> Path:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        self.folder.mkdir(parents=True, exist_ok=True)
        return write_atomically(path, lambda handle: handle.write(buffer.getvalue()))

    def latest(self, split: str) -> dict[str, np.ndarray] | None:
        """The newest readable predictions on ``split``, or ``None``."""
        if not self.folder.is_dir():
            return None
        for path in sorted(self.folder.glob(f"{split}-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True):
            found = self.load(path)
            if found is not None:
                return found
        return None
