"""The Keras glue layer: the recorder callback, model state helpers, backend choice.

This is where Keras is imported; the layers below never do.
"""

from __future__ import annotations

from .._backend import choose_default_backend
from .._process import import_keras

choose_default_backend()
import_keras()

from ._extra import EvaluateEachEpoch, StopWhenTold  # noqa: E402
from ._fused import fuse_steps  # noqa: E402
from ._fused_metrics import fuse_metric_resets, results_from_step_logs  # noqa: E402
from ._initial_weights import shared_weight_programs  # noqa: E402
from ._liveplot import LivePlot  # noqa: E402
from ._progress import LiveView, ProgressLine, progress_callback  # noqa: E402
from ._recorder import Recorder, check_resumable, resume_model  # noqa: E402
from ._saving import keras_file_bytes  # noqa: E402
from ._speedups import OFF_SWITCH, accelerate, speedups_on, weight_programs  # noqa: E402
from ._stacked_epochs import fit_arguments  # noqa: E402
from ._state import (  # noqa: E402
    architecture_fingerprint,
    model_state,
    reset_stateful_layers,
    restore_state,
    weights_fingerprint,
)
from ._stateful import STATEFUL_RNN, carry_rnn_states  # noqa: E402
from ._sync import SynchronousCallbacks, inline_callbacks  # noqa: E402

__all__ = [
    "OFF_SWITCH",
    "STATEFUL_RNN",
    "EvaluateEachEpoch",
    "LivePlot",
    "LiveView",
    "ProgressLine",
    "Recorder",
    "StopWhenTold",
    "SynchronousCallbacks",
    "accelerate",
    "architecture_fingerprint",
    "carry_rnn_states",
    "check_resumable",
    "fit_arguments",
    "fuse_metric_resets",
    "fuse_steps",
    "inline_callbacks",
    "keras_file_bytes",
    "model_state",
    "progress_callback",
    "reset_stateful_layers",
    "restore_state",
    "results_from_step_logs",
    "resume_model",
    "shared_weight_programs",
    "speedups_on",
    "weight_programs",
    "weights_fingerprint",
]
