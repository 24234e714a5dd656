"""A compact live view: one line every few seconds with the latest and best metrics."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

import keras
import numpy as np

from .._i18n import _

__all__ = ["LiveView", "ProgressLine", "progress_callback"]


class ProgressLine(keras.callbacks.Callback):
    """Print ``N/M epochs  loss ..  val_loss ..  best val_loss .. at epoch E  ETA ..`` every ``every_secs``.

    Works without a terminal (CI, pipes): plain lines, never control codes. The
    first and last epochs are always printed. ``N/M`` counts epochs; ``epoch E``
    names one as the store, the figures and TensorBoard do (from 0, as Keras's history).
    """

    def __init__(self, total_epochs: int, *, every_secs: float = 2.0, stream: TextIO | None = None) -> None:
        super().__init__()
        self.total = total_epochs
        self.every_secs = every_secs
        self.stream = stream or sys.stderr
        self._first_end = 0.0  # the rate counts from here: the first epoch also compiles
        self._last = 0.0
        self._best: tuple[float, int] | None = None
        self._done = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._last = time.monotonic()
        self._done = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        self._done += 1
        if self._done == 1:
            self._first_end = time.monotonic()
        val_loss = logs.get("val_loss")
        if val_loss is not None and math.isfinite(val_loss) and (self._best is None or val_loss < self._best[0]):
            self._best = (float(val_loss), epoch)
        now = time.monotonic()
        last = epoch + 1 >= self.total
        if not (self._done == 1 or last or now - self._last >= self.every_secs):
            return
        self._last = now
        shown = _shown(logs)
        best = "  " + _best_text(self._best) if self._best else ""
        eta = ""
        if not last and self._done > 1:  # after the first epoch only: it includes compiling the model
            rate = (now - self._first_end) / (self._done - 1)
            eta = f"  ETA {rate * max(self.total - epoch - 1, 0):.0f}s"
        done = _("{done}/{total} epochs").format(done=epoch + 1, total=self.total)
        print(f"{done}  {shown}{best}{eta}", file=self.stream, flush=True)


def _best_text(best: tuple[float, int]) -> str:
    return _("best val_loss {value} at epoch {epoch}").format(value=f"{best[0]:.4f}", epoch=best[1])


def _shown(logs: dict[str, Any]) -> str:
    """``accuracy .. loss .. val_accuracy .. val_loss ..``: the loss and the first metric (mae for a regression).

    One metric keeps the line short when a spec compiles several (precision, recall, auc).
    """
    scalars = {k: v for k, v in logs.items() if np.ndim(v) == 0}  # (a per-class F1 score is an array)
    names = [k for k in scalars if not k.startswith("val_") and k not in ("learning_rate", "lr")]
    kept = {"loss", *[k for k in names if k != "loss"][:1]}
    return "  ".join(f"{k} {float(v):.4f}" for k, v in scalars.items() if k.removeprefix("val_") in kept)


class LiveView(keras.callbacks.Callback):
    """A rich display for a terminal: an epoch bar with ETA, and a line of latest and best metrics.

    When epochs are long it also shows progress within the epoch. It only needs a
    batch report now and then, so the runner can still fuse steps (a few reports per
    epoch): ``coarse_batches`` tells :func:`needs_every_step` so.
    """

    coarse_batches = True

    def __init__(self, total_epochs: int, *, stream: TextIO | None = None) -> None:
        super().__init__()
        self.total = total_epochs
        self.stream = stream or sys.stderr
        self._live: Any = None
        self._progress: Any = None
        self._task: Any = None
        self._metrics: Any = None
        self._best: tuple[float, int] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        from rich.console import Console, Group
        from rich.live import Live
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        from rich.text import Text

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
            TimeRemainingColumn(),
        )  # fmt: skip
        self._task = self._progress.add_task("epochs", total=self.total)
        steps = (self.params or {}).get("steps")
        self._batches = self._progress.add_task("batch", total=steps, visible=False) if steps else None
        self._metrics = Text("")
        self._live = Live(Group(self._progress, self._metrics), console=Console(file=self.stream), refresh_per_second=4)
        self._live.start()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        val_loss = logs.get("val_loss")
        if val_loss is not None and math.isfinite(val_loss) and (self._best is None or val_loss < self._best[0]):
            self._best = (float(val_loss), epoch)
        shown = _shown(logs)
        if self._best:
            shown += "  | " + _best_text(self._best)
        if self._live is not None:
            self._progress.update(self._task, completed=epoch + 1)
            if self._batches is not None:
                self._progress.update(self._batches, visible=False)
            self._metrics.plain = shown

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._live is not None and self._batches is not None:
            self._progress.reset(self._batches, visible=False)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._live is not None and self._batches is not None:
            steps = (self.params or {}).get("steps") or 0
            if batch + 1 < steps:  # shown only while an epoch is under way
                self._progress.update(self._batches, completed=batch + 1, visible=True)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None


def progress_callback(total_epochs: int, *, stream: TextIO | None = None) -> keras.callbacks.Callback:
    """A live view on a terminal, compact lines every few seconds elsewhere (CI, pipes)."""
    stream = stream or sys.stderr
    if getattr(stream, "isatty", lambda: False)():
        return LiveView(total_epochs, stream=stream)
    return ProgressLine(total_epochs, stream=stream)
