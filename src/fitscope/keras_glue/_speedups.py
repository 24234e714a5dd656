"""fitscope's speed-ups of Keras on JAX: one entry point, one off-switch, each patch's private parts named.

Keras's own ``fit`` is correct and slow for small models: each step is a Python
call, each epoch resets and reads its metrics eagerly, each new model compiles its
weight initialisers again. fitscope trains the same steps faster by reaching into
Keras's and JAX's internals (the figures are in BENCHMARKS.md):

=======================  ================================================  ==============================
patch                    what it does                                      module
=======================  ================================================  ==============================
steps per execution      an epoch's steps between two callback dispatches  ``experiment`` (``_build``)
fused steps              those steps as one compiled ``lax.scan``          :mod:`._fused`
fused metric resets      every metric reset in one compiled call           :mod:`._fused_metrics`
results from step logs   epoch results from the last step's logs           :mod:`._fused_metrics`
stacked epochs           an epoch's batches gathered with one index        :mod:`._stacked_epochs`
shared weight programs   initial weights drawn by a few shared programs    :mod:`._initial_weights`
compiled-program cache   a group's trials reuse each other's XLA programs  ``fitscope._process``
=======================  ================================================  ==============================

Every one leaves the numbers as plain Keras computes them (tests compare them).
The off-switch gives plain Keras ``fit`` (``steps_per_execution=1``, nothing
patched): a spec's ``fit.accelerate: false``, or ``FITSCOPE_PLAIN_KERAS=1`` in the
environment for everything fitscope trains. A patch whose private attributes an
installed Keras or JAX no longer has is left out with a warning (never silently
training differently); :func:`missing_private_parts` names them, and the test suite
checks each patch against the installed versions.
"""

from __future__ import annotations

import importlib
import os
import warnings
from dataclasses import dataclass
from typing import Any

__all__ = ["PATCHES", "Patch", "accelerate", "missing_private_parts", "speedups_on"]

# Set to 1 (or true/yes) for plain Keras fit everywhere.
OFF_SWITCH = "FITSCOPE_PLAIN_KERAS"


@dataclass(frozen=True)
class Patch:
    """One speed-up and the private attributes of Keras or JAX it relies on (``module:Class.attribute``)."""

    name: str
    relies_on: tuple[str, ...]


PATCHES = (
    Patch("fused steps", (
        "keras.src.backend.jax.trainer:JAXTrainer.make_train_function",
        "keras.src.backend.jax.trainer:JAXTrainer.make_test_function",
        "keras.src.backend.jax.trainer:JAXTrainer.train_step",
        "keras.src.backend.jax.trainer:JAXTrainer.test_step",
    )),
    Patch("fused metric resets", (
        "keras.src.trainers.trainer:Trainer.reset_metrics",
        "keras.src.backend.common.stateless_scope:StatelessScope.get_current_value",
    )),
    Patch("results from step logs", ("keras.src.trainers.trainer:Trainer._get_metrics_result_or_logs",)),
    Patch("stacked epochs", (
        "keras.src.trainers.trainer:Trainer._symbolic_build",
        "keras.src.layers.layer:Layer._flatten_layers",
    )),
    Patch("shared weight programs", ("jax:config.jax_threefry_partitionable", "jax:random.uniform", "jax:random.normal",
                                     "jax:random.truncated_normal")),
)  # fmt: skip


def speedups_on(setting: bool | None = None) -> bool:
    """Whether fitscope's speed-ups apply: ``setting`` (a spec's ``fit.accelerate``) unless the off-switch is set."""
    if os.environ.get(OFF_SWITCH, "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    return True if setting is None else setting


def _resolve(path: str) -> bool:
    module_name, _, attributes = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError:
        return False
    for attribute in attributes.split("."):
        if not hasattr(found, attribute):
            return False
        found = getattr(found, attribute)
    return True


def missing_private_parts(patch: Patch) -> list[str]:
    """The attributes ``patch`` relies on that the installed Keras or JAX lacks (``[]``: all there)."""
    return [path for path in patch.relies_on if not _resolve(path)]


_checked: dict[str, bool] = {}


def _usable(name: str) -> bool:
    """Whether the patch called ``name`` can run here; warns once when it cannot."""
    if name not in _checked:
        patch = next(p for p in PATCHES if p.name == name)
        missing = missing_private_parts(patch)
        if missing:
            import keras

            warnings.warn(
                f"fitscope: {name} left out: Keras {keras.__version__} lacks {', '.join(missing)}. Training is "
                f"plain Keras there (slower, same numbers); please report it with your Keras and JAX versions.",
                RuntimeWarning,
                stacklevel=3,
            )
        _checked[name] = not missing
    return _checked[name]


def accelerate(model: Any) -> list[str]:
    """Apply the speed-ups that patch a compiled model; returns the names of those applied.

    Call after ``compile`` (with the ``steps_per_execution`` chosen), only when
    :func:`speedups_on`. Each patch checks the model and backend itself (JAX, compiled
    with jit, no distribution) and leaves the model alone where it does not apply.
    """
    from ._fused import fuse_steps
    from ._fused_metrics import fuse_metric_resets, results_from_step_logs

    applied = []
    if _usable("fused steps") and fuse_steps(model):
        applied.append("fused steps")
    if _usable("fused metric resets") and fuse_metric_resets(model):
        applied.append("fused metric resets")
    if _usable("results from step logs") and results_from_step_logs(model):
        applied.append("results from step logs")
    return applied


def weight_programs() -> Any:
    """The context in which a model creates its weights: shared draw programs where they can run."""
    import contextlib

    from ._initial_weights import shared_weight_programs

    return shared_weight_programs() if _usable("shared weight programs") else contextlib.nullcontext()


def stacked_epochs_usable() -> bool:
    """Whether :func:`.fit_arguments` may stack epochs with the installed Keras."""
    return _usable("stacked epochs")
