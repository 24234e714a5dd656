"""The store layer: the SQLite run store (source of truth), checkpoints, TensorBoard files.

Plain stdlib, numpy and the ``tensorboard`` package; never imports Keras.
"""

from __future__ import annotations

from ._checkpoints import MODEL_RECORD, MODELS, Checkpoint, CheckpointDir, custom_objects_in, model_record
from ._doctor import DoctorReport, Finding, doctor
from ._environment import code_differs, describe_code, environment
from ._events import (
    Bundle,
    Checkpointed,
    Ended,
    EpochEnded,
    Evaluated,
    Event,
    ModelSaved,
    Ready,
    Rewound,
    Started,
    Status,
)
from ._export import EXPORT_FORMATS, epoch_rows, run_rows, write_rows
from ._predictions import PredictionsDir
from ._sinks import QueueSink, RunSink, Sink
from ._store import (
    DB_NAME,
    DEFAULT_ROOT,
    EpochRecord,
    GroupInfo,
    Run,
    RunInfo,
    Store,
    default_root,
    library_versions,
)
from ._tensorboard import TensorBoardWriter, scalar_tag
from ._values import normalize_metric_name

__all__ = [
    "DB_NAME",
    "DEFAULT_ROOT",
    "EXPORT_FORMATS",
    "MODELS",
    "MODEL_RECORD",
    "Bundle",
    "Checkpoint",
    "CheckpointDir",
    "Checkpointed",
    "DoctorReport",
    "Ended",
    "EpochEnded",
    "EpochRecord",
    "Evaluated",
    "Event",
    "Finding",
    "GroupInfo",
    "ModelSaved",
    "PredictionsDir",
    "QueueSink",
    "Ready",
    "Rewound",
    "Run",
    "RunInfo",
    "RunSink",
    "Sink",
    "Started",
    "Status",
    "Store",
    "TensorBoardWriter",
    "code_differs",
    "custom_objects_in",
    "default_root",
    "describe_code",
    "doctor",
    "environment",
    "epoch_rows",
    "library_versions",
    "model_record",
    "normalize_metric_name",
    "run_rows",
    "scalar_tag",
    "write_rows",
]
