"""Run each execution's training steps as one compiled XLA loop (JAX backend).

With ``steps_per_execution=K``, Keras's JAX trainer still calls the jitted step
from Python K times. For small models (the book's 2-unit network, batches of 10)
each call costs far more than its arithmetic: JAX's dispatch, the transfer of
every batch, handing the step to a thread pool. :func:`fuse_steps` stacks the K
batches on the host and runs them through ``jax.lax.scan`` over the model's own
``train_step``/``test_step`` in one call: the same steps in the same order on the
same state (the history matches plain ``fit`` to float rounding): the book's toy
model trains 1000 epochs in 4.7 s instead of 7.9 s (BENCHMARKS.md). Batches that
arrive stacked already (:class:`StackedBatches`, from :mod:`._stacked_epochs`) go to
the scan as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["StackedBatches", "chunk_length", "fuse_steps", "is_fused"]

# A stacked execution copies its batches; past this size, it runs in several scans.
MAX_STACK_BYTES = 32 * 2**20


def fuse_steps(model: Any) -> bool:
    """Make ``model.fit``/``evaluate`` run their steps in fused loops; return whether they will.

    Call after ``compile``. Nothing changes (and ``False`` is returned) off the
    JAX backend, with ``steps_per_execution`` 1, run_eagerly, jit_compile off, a
    distribution or Flax NNX: there Keras's own step functions run.
    """
    import keras

    if (
        keras.backend.backend() != "jax"
        or getattr(model, "steps_per_execution", 1) <= 1
        or model.run_eagerly
        or not model.jit_compile
        or keras.distribution.distribution() is not None
        or keras.config.is_nnx_enabled()
    ):
        return False
    model.make_train_function = functools.partial(_make, model, "train")
    model.make_test_function = functools.partial(_make, model, "test")
    model.train_function = model.test_function = None
    return True


def is_fused(model: Any) -> bool:
    """Whether :func:`fuse_steps` made this model's steps run in fused loops."""
    return getattr(model.make_train_function, "func", None) is _make


class StackedBatches(np.ndarray):
    """A run of batches stacked on a new first axis, handed out whole (see :mod:`._stacked_epochs`)."""


def _make(model: Any, kind: str, force: bool = False) -> None:
    attribute = f"{kind}_function"
    if getattr(model, attribute) is not None and not force:
        return
    step = model.train_step if kind == "train" else model.test_step
    setattr(model, attribute, _FusedSteps(step, model.steps_per_execution))


class _FusedSteps:
    """``(state, iterator) -> (logs, state)`` as Keras's trainer calls it, K steps per call."""

    def __init__(self, step: Callable[[Any, Any], tuple[Any, Any]], steps: int):
        import jax

        def scanned(state: Any, stacked: Any) -> tuple[Any, Any]:
            def body(carry: Any, data: Any) -> tuple[Any, Any]:
                logs, carry = step(carry, data)
                return carry, logs

            state, logs = jax.lax.scan(body, state, stacked)
            return jax.tree.map(lambda values: values[-1], logs), state  # the last step's logs, as Keras reports

        self.steps = steps
        self._scanned = jax.jit(scanned, donate_argnums=0)
        self._single = jax.jit(step, donate_argnums=0)
        self._chunk: int | None = None

    def __call__(self, state: Any, iterator: Any) -> tuple[Any, Any]:
        batches = [next(iterator)]  # StopIteration here ends the epoch, as in Keras
        taken = _batches_in(batches[0])
        try:
            while taken < self.steps:
                batches.append(next(iterator))
                taken += _batches_in(batches[-1])
        except StopIteration:
            pass
        logs = None
        for group in _same_shape_runs(batches):
            if _is_stacked(group[0]):  # stacked already: one scan
                logs, state = self._scanned(state, tuple(leaf.view(np.ndarray) for leaf in group[0]))
                continue
            if len(group) == 1:
                logs, state = self._single(state, group[0])
                continue
            chunk = self._chunk_length(group[0])
            for start in range(0, len(group), chunk):
                part = group[start : start + chunk]
                if len(part) == 1:
                    logs, state = self._single(state, part[0])
                else:
                    logs, state = self._scanned(state, _stack(part))
        return logs, state

    def _chunk_length(self, batch: Any) -> int:
        if self._chunk is None:
            from keras import tree

            self._chunk = chunk_length(self.steps, sum(getattr(leaf, "nbytes", 0) for leaf in tree.flatten(batch)))
        return self._chunk


def chunk_length(steps: int, batch_bytes: int) -> int:
    """How many batches one scan stacks: an execution's ``steps``, fewer past ``MAX_STACK_BYTES``."""
    return max(1, min(steps, MAX_STACK_BYTES // max(batch_bytes, 1)))


def _is_stacked(batch: Any) -> bool:
    return type(batch) is tuple and bool(batch) and type(batch[0]) is StackedBatches


def _batches_in(batch: Any) -> int:
    return len(batch[0]) if _is_stacked(batch) else 1


def _plain(batch: Any) -> bool:
    """A tuple of NumPy arrays (x, y[, sample_weight]), as Keras's array adapter yields them.

    Those are read directly; anything else goes through ``keras.tree`` (this runs for every batch).
    """
    return type(batch) is tuple and all(type(leaf) is np.ndarray for leaf in batch)


def _shapes(batch: Any) -> tuple[Any, ...]:
    if _plain(batch):
        return tuple((leaf.shape, leaf.dtype) for leaf in batch)
    from keras import tree

    leaves = tree.flatten(batch)
    return tuple((leaf.shape, leaf.dtype) if hasattr(leaf, "shape") else (None, type(leaf)) for leaf in leaves)


def _same_shape_runs(batches: list[Any]) -> list[list[Any]]:
    """Consecutive batches that can be stacked (the last batch of an epoch is often smaller); stacked ones alone."""
    runs: list[list[Any]] = []
    previous = None
    for batch in batches:
        if _is_stacked(batch):
            runs.append([batch])
            previous = None
            continue
        shapes = _shapes(batch)
        if runs and shapes == previous:
            runs[-1].append(batch)
        else:
            runs.append([batch])
        previous = shapes
    return runs


def _stack(batches: list[Any]) -> Any:
    if _plain(batches[0]):  # a run of same-shaped batches: all plain if the first is
        return tuple(np.stack([batch[i] for batch in batches]) for i in range(len(batches[0])))
    from keras import tree

    def stack(*leaves: Any) -> Any:
        return None if leaves[0] is None else np.stack([np.asarray(leaf) for leaf in leaves])

    return tree.map_structure(stack, *batches)
