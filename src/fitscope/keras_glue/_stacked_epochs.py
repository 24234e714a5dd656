"""Hand a fused model each epoch as a few runs of batches stacked already (JAX backend).

Keras's array adapter cuts every batch out of the arrays in Python (a fancy index and
two tree walks per batch), and :class:`._fused._FusedSteps` stacks the batches of an
execution again before its scan: for the book's toy model, a third of every epoch.
:func:`fit_arguments` gives ``model.fit`` a ``PyDataset`` instead whose items are an
epoch's runs of batches, each gathered with one index: the same batches in the same
order. Shuffling draws the same permutation from NumPy's global generator, once per
epoch, as Keras's adapter does, so training is bit for bit what it was; the validation
batches are stacked once for all epochs.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from ._fused import StackedBatches, chunk_length, is_fused
from ._speedups import stacked_epochs_usable

__all__ = ["fit_arguments"]


def fit_arguments(
    model: Any, x: Any, y: Any, *, batch_size: int, shuffle: bool, validation_data: Any = None
) -> dict[str, Any]:
    """``model.fit``'s data arguments: stacked epochs where they apply, else the arrays as they are.

    They apply to a fused model (:func:`.fuse_steps`) that runs an epoch in one
    execution, on plain NumPy arrays (x, y) that Keras would not cast; anything else is
    left to Keras. Builds the model's metrics first, as ``fit`` would from a batch,
    so call it where a refused first step is handled.
    """
    plain = {"x": x, "y": y, "batch_size": batch_size, "shuffle": shuffle, "validation_data": validation_data}
    if not (is_fused(model) and isinstance(shuffle, bool) and _one_execution(model, (x, y), batch_size)):
        return plain
    if not stacked_epochs_usable():  # a Keras without the internals it needs: its own way
        return plain
    try:
        needs_build = _needs_build(model)
    except AttributeError:  # a Keras without these internals: its own way
        return plain
    if needs_build:
        # Keras builds the metrics from the first batch it draws, which costs its array
        # adapter one permutation: draw it too, so every later epoch shuffles as before.
        model._symbolic_build(data_batch=(x[:batch_size], y[:batch_size]))
        if shuffle:
            np.random.permutation(len(x))
    stacked: dict[str, Any] = {
        "x": _StackedEpochs((x, y), batch_size, shuffle, model.steps_per_execution),
        "y": None, "batch_size": None, "shuffle": False, "validation_data": None,
    }  # fmt: skip
    if isinstance(validation_data, tuple) and _one_execution(model, validation_data, batch_size):
        stacked["validation_data"] = _StackedEpochs(validation_data, batch_size, False, model.steps_per_execution)
    elif validation_data is not None:  # as it is: Keras cuts its batches, of the training's size as before
        stacked.update(validation_data=validation_data, validation_batch_size=batch_size)
    return stacked


def _one_execution(model: Any, arrays: tuple[Any, ...], batch_size: int) -> bool:
    """Two NumPy arrays of one length that Keras would not cast to ``floatx``, whose batches fit one execution.

    Keras counts one step per item of a dataset, so a pass over more batches than an
    execution takes would stop after its first execution's worth.
    """
    floatx = keras.config.floatx()
    return (
        len(arrays) == 2
        and all(type(a) is np.ndarray and a.ndim >= 1 for a in arrays)
        and len(arrays[0]) == len(arrays[1]) > 0
        and all(a.dtype.kind != "f" or a.dtype == floatx for a in arrays)
        and math.ceil(len(arrays[0]) / batch_size) <= model.steps_per_execution
    )


def _needs_build(model: Any) -> bool:
    """Whether ``fit`` would build the model, its metrics or its loss from a batch (Keras's own test)."""
    compiled = (model._compile_metrics, model._compile_loss)
    unbuilt_layers = not all(layer.built for layer in model._flatten_layers())
    return unbuilt_layers or any(part is not None and not part.built for part in compiled)


class _StackedEpochs(keras.utils.PyDataset):
    """An epoch of (x, y) batches as items: runs of up to ``steps`` full batches stacked, then any short batch."""

    def __init__(self, arrays: tuple[np.ndarray, np.ndarray], batch_size: int, shuffle: bool, steps: int) -> None:
        super().__init__()
        self._arrays, self._batch_size, self._shuffle = arrays, batch_size, shuffle
        count = len(arrays[0])
        full = count // batch_size
        chunk = chunk_length(steps, batch_size * sum(a[0].nbytes for a in arrays))
        self._spans = [(first * batch_size, min(first + chunk, full) * batch_size) for first in range(0, full, chunk)]
        if count % batch_size:
            self._spans.append((full * batch_size, count))  # the short last batch, a step of its own
        self._order: np.ndarray | None = None
        self._fixed = None if shuffle else [self._item(i) for i in range(len(self._spans))]

    def __len__(self) -> int:
        return len(self._spans)

    def on_epoch_begin(self) -> None:
        if self._shuffle:
            self._order = np.random.permutation(len(self._arrays[0]))  # as Keras's array adapter draws it

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        return self._fixed[index] if self._fixed is not None else self._item(index)

    def _item(self, index: int) -> tuple[np.ndarray, ...]:
        start, stop = self._spans[index]
        if self._shuffle and self._order is None:
            raise RuntimeError("a shuffled epoch was read before Keras began it (on_epoch_begin)")
        rows: Any = self._order[start:stop] if self._order is not None else slice(start, stop)
        parts = tuple(a[rows] for a in self._arrays)
        batches = (stop - start) // self._batch_size
        if batches <= 1:
            return parts  # one batch (or the short last one): Keras's own step
        return tuple(p.reshape(batches, self._batch_size, *p.shape[1:]).view(StackedBatches) for p in parts)
