"""Callbacks fitscope adds to a fit: extra data sets scored each epoch (Ng's train-dev set), a stop on request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras

from ..store import normalize_metric_name
from ._sync import inline_callbacks

__all__ = ["EvaluateEachEpoch", "StopWhenTold"]


class EvaluateEachEpoch(keras.callbacks.Callback):
    """Add ``<name>_<metric>`` to each epoch's logs by evaluating on ``data``.

    Put it before the recorder in ``callbacks=[...]``: Keras hands the same logs to
    the callbacks in order, so the recorder stores these curves with the others.

    Example:
        ``model.fit(..., callbacks=[EvaluateEachEpoch("train_dev", (x_td, y_td)), fitscope.Recorder(run)])``
        records ``train_dev_loss`` and ``train_dev_accuracy`` for every epoch.
    """

    def __init__(self, name: str, data: tuple[Any, Any], *, batch_size: int = 256) -> None:
        super().__init__()
        if not name.isidentifier() or name.startswith("val"):
            raise ValueError(
                f"Invalid value for argument `name`. Received: name={name!r}. "
                "Expected an identifier not starting with 'val' (e.g. 'train_dev')."
            )
        self.name = name
        self.data = data
        self.batch_size = batch_size

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None:
            return
        results = self.model.evaluate(*self.data, batch_size=self.batch_size, verbose=0, return_dict=True,
                                      callbacks=inline_callbacks())  # fmt: skip
        for key, value in results.items():
            logs[f"{self.name}_{key}"] = float(value)


class StopWhenTold(keras.callbacks.Callback):
    """Stop training after an epoch when ``check(epoch, logs)`` gives a reason (kept in :attr:`reason`).

    Put it after the recorder: the epoch that decided is recorded first.
    """

    def __init__(self, check: Callable[[int, Mapping[str, float]], str | None]) -> None:
        super().__init__()
        self.check = check
        self.reason: str | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.reason is not None:
            return
        values = {}
        for name, value in (logs or {}).items():
            try:
                values[normalize_metric_name(name)] = float(value)
            except (TypeError, ValueError):  # (not a number: nothing to judge by)
                continue
        self.reason = self.check(epoch, values)
        if self.reason is not None:
            self.model.stop_training = True
