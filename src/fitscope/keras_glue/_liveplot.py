"""A notebook live plot: the book's figure redrawn in place after every epoch."""

from __future__ import annotations

import io
import math
import time
from typing import Any

import keras

from ..report import book_figure
from ..store import Run, normalize_metric_name

__all__ = ["LivePlot"]


class LivePlot(keras.callbacks.Callback):
    """Redraw the book-style figure inline in Jupyter after each epoch.

    Args:
        run: read the curve from this stored run (so a resumed run's curve is whole,
            earlier ``fit`` calls included); without it the callback keeps its own
            history of this ``fit`` call.
        every_secs: redraw at most this often (the last epoch is always drawn, once
            training ends: with a ``run``, whatever the place of the recorder among the
            callbacks).
        title: the figure title (default: the run's name).

    Outside a notebook it draws nothing; the latest figure is in ``.figure``.
    """

    def __init__(self, run: Run | None = None, *, every_secs: float = 0.5, title: str = "") -> None:
        super().__init__()
        self.run = run
        self.every_secs = every_secs
        self.title = title or (run.info().name if run is not None else "")
        self.history: dict[str, list[float]] = {}
        self.figure: Any = None
        self._last = -math.inf
        self._drawn = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for key, value in (logs or {}).items():
            self.history.setdefault(normalize_metric_name(key), []).append(float(value))
        self._drawn = False
        if time.monotonic() - self._last >= self.every_secs:
            self._draw()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        # Every callback's on_epoch_end has run: the recorder wrote the last epoch, wherever it sits.
        if not self._drawn:
            self._draw()

    def _draw(self) -> None:
        history = self.run.history() if self.run is not None else self.history
        if not any(history.values()):  # the recorder, after this callback, has not written an epoch yet
            return
        self._last = time.monotonic()
        self.figure = book_figure(history, title=self.title)
        self._drawn = True
        _show(self.figure)


def _show(figure: Any) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import Image, clear_output, display
    except ImportError:
        return
    if get_ipython() is None:
        return
    # PNG bytes, not the Figure: a figure made without pyplot has no inline formatter.
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    clear_output(wait=True)
    display(Image(data=buffer.getvalue(), format="png"))
