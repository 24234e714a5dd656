"""Keep Keras from handing batch-end callbacks to a thread pool.

When no callback overrides a batch-end hook, Keras 3 dispatches each execution's
``on_*_batch_end`` to a ``ThreadPoolExecutor``: a thread hand-off per execution and
per evaluation, and the GIL passed back and forth. With fused epochs on a small
model that costs more than the work it moves (measured on the book's toy model:
~0.3 s of 7 per 1000 epochs alone; in a single-threaded worker, whose helper
threads must wait for a core, ~1.5 s of 8.5). A callback with (empty) batch-end
hooks makes Keras call the hooks inline, as it does for any such callback.
"""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["SynchronousCallbacks"]


class SynchronousCallbacks(keras.callbacks.Callback):
    """Add to ``fit``/``evaluate`` callbacks to run every callback hook on the calling thread."""

    # It needs no single steps: fitscope keeps fusing steps with it (see needs_every_step).
    coarse_batches = True

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass
