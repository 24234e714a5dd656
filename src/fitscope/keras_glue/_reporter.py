"""Report each epoch as a message, for trials that run away from the store (worker processes, Ray)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras

from ..store import normalize_metric_name

__all__ = ["EpochReporter"]


class EpochReporter(keras.callbacks.Callback):
    """Send each epoch's metrics to ``send`` as a plain dict (epoch hooks only: steps stay fused).

    A NaN or infinite loss stops training and is kept in ``failed`` as the reason.
    """

    def __init__(self, key: str, send: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self.key = key
        self.send = send
        self.epochs = 0
        self.failed: str | None = None
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.time()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        metrics = {normalize_metric_name(k): float(v) for k, v in (logs or {}).items()}
        self.send({"type": "epoch", "key": self.key, "epoch": epoch, "metrics": metrics,
                   "started_at": self._start, "duration": time.time() - self._start})  # fmt: skip
        self.epochs = epoch + 1
        loss = metrics.get("loss", 0.0)
        if not math.isfinite(loss):
            self.failed = f"loss became {loss} at epoch {epoch}; training stopped."
            self.model.stop_training = True
