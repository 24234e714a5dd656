"""fitscope: honest, visible Keras training.

Split data reproducibly (with a manifest and a leakage audit), record every epoch
of every run in a crash-proof store, watch and draw the curves, diagnose them,
keep the test set sealed, and search hyperparameters.

Importing ``fitscope`` does not import Keras; the Keras parts load on first use.
It does choose Keras's backend (JAX) when the user has chosen none, so import
fitscope before Keras, or set ``KERAS_BACKEND`` yourself.
"""

from __future__ import annotations

from ._backend import choose_default_backend
from ._errors import ArgumentError, DataError, FitscopeError, Interrupted, SpecError, StoreError
from ._i18n import set_language
from ._version import __version__
from .data import (
    AuditReport,
    Dataset,
    HoldoutSplit,
    KFoldSplit,
    Preprocessing,
    Split,
    SplitManifest,
    Subsample,
    ValidationSplit,
    kfold_dataset,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_file,
    load_mnist,
    split_dataset,
    train_dev_split,
)
from .store import Run, RunInfo, Store

# Only sets KERAS_BACKEND (to JAX) when the user chose no backend; imports nothing.
choose_default_backend()

__all__ = [
    "ArgumentError",
    "AuditReport",
    "DataError",
    "Dataset",
    "FitscopeError",
    "HoldoutSplit",
    "Interrupted",
    "KFoldSplit",
    "LivePlot",
    "Preprocessing",
    "Recorder",
    "Run",
    "RunInfo",
    "SpecError",
    "Split",
    "SplitManifest",
    "Store",
    "StoreError",
    "Subsample",
    "ValidationSplit",
    "__version__",
    "kfold_dataset",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_file",
    "load_mnist",
    "plot_history",
    "reset_stateful_layers",
    "resume_model",
    "run_spec",
    "set_language",
    "split_dataset",
    "train_dev_split",
]

# The Keras parts load on first use, so `import fitscope` stays light.
_KERAS_GLUE = {"LivePlot", "Recorder", "reset_stateful_layers", "resume_model"}


def __getattr__(name: str) -> object:
    if name in _KERAS_GLUE:
        from . import keras_glue

        return getattr(keras_glue, name)
    if name == "run_spec":
        from .experiment import run_spec

        return run_spec
    raise AttributeError(f"module 'fitscope' has no attribute {name!r}")


def plot_history(source: object, output: object = None, **options: object) -> object:
    """Draw a training history (see :func:`fitscope.report.plot_history`)."""
    from .report import plot_history as _plot_history

    return _plot_history(source, output, **options)  # type: ignore[arg-type]
