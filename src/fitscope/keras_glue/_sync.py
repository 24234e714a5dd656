"""Keep Keras from handing batch-end callbacks to a thread pool, where that only costs.

When no callback overrides a batch-end hook, Keras 3 dispatches each execution's
``on_*_batch_end`` to a ``ThreadPoolExecutor``. In a process with a spare core and
JAX's asynchronous dispatch (a local run) that overlaps work and helps: 4 toy
trials take ~26 s with it, ~30 s without. In a single-threaded worker (JAX
computing on the calling thread, see ``experiment._workers``) the helper threads
must wait for a core and the hand-offs only cost: ~15 % of a small model's
training. A callback with (empty) batch-end hooks makes Keras call them inline.
"""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["SynchronousCallbacks", "inline_callbacks"]


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


def inline_callbacks() -> list[keras.callbacks.Callback]:
    """``[SynchronousCallbacks()]`` where JAX computes on the calling thread (fitscope's workers), else ``[]``."""
    if keras.backend.backend() != "jax":
        return []
    import jax

    return [] if jax.config.read("jax_cpu_enable_async_dispatch") else [SynchronousCallbacks()]
