"""What training reports, as typed events: the contract between a trainer and its sink.

A trainer (:class:`fitscope.keras_glue.Recorder` and the experiment layer's
``train``) never knows where its epochs go; it hands these events to a
:class:`~fitscope.store.Sink`. In a worker process or a Ray task the sink sends them,
bundled, to the driver (:class:`Bundle`), which hands them to the same local sink a
single run writes with. Plain dataclasses of numbers, strings and numpy arrays, so
they pickle across processes and Ray's object store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..data import SplitManifest
from ._store import EpochRecord

__all__ = [
    "Bundle",
    "Checkpointed",
    "Ended",
    "EpochEnded",
    "Evaluated",
    "Event",
    "ModelSaved",
    "Ready",
    "Rewound",
    "Started",
    "Status",
]

Status = Literal["finished", "failed", "interrupted", "pruned"]


@dataclass(frozen=True)
class Started:
    """Training of a model begins (a single run's ``fit`` call, or a trial).

    Attributes:
        backend: the Keras backend that trains it.
        manifest: the split manifest (with its audit) of the data it trains on; a
            driver creates the trial's run from it.
        initial: the fingerprint of the initial weights (for trials: seeds give the same ones).
    """

    backend: str | None = None
    manifest: SplitManifest | None = None
    initial: str | None = None


@dataclass(frozen=True)
class Rewound:
    """Training starts again at ``epoch``, before the run's last recorded one.

    Keras says so (``fit(initial_epoch=k)``, or ``BackupAndRestore`` replaying from its
    last backup): the run's epochs from ``epoch`` on, and the checkpoints and best
    weights of those epochs, belong to training that is being redone.
    """

    epoch: int


@dataclass(frozen=True)
class EpochEnded:
    """One epoch: its metrics, its batches when per-batch recording is on, and whether a checkpoint covers it."""

    record: EpochRecord
    batches: tuple[tuple[int, Mapping[str, float]], ...] = ()
    checkpointed: bool = False


@dataclass(frozen=True)
class Checkpointed:
    """A checkpoint of the model's state at ``epoch`` (and of the best epoch's weights, when they changed).

    Sent before the :class:`EpochEnded` of the same epoch, which then says
    ``checkpointed``; ``after_epoch`` marks one taken after its epoch was recorded
    (at the end of ``fit``, on interruption).
    """

    epoch: int
    state: Mapping[str, Any]
    meta: Mapping[str, Any]
    best_epoch: int | None = None
    best_weights: Mapping[str, Any] | None = None
    best_meta: Mapping[str, Any] | None = None
    after_epoch: bool = False


@dataclass(frozen=True)
class Evaluated:
    """A ledger row: the model's metrics on one split, with the weights' fingerprint and epoch."""

    split: str
    metrics: Mapping[str, float]
    fingerprint: str | None = None
    epoch: int | None = None


@dataclass(frozen=True)
class ModelSaved:
    """The model as a ``.keras`` file's bytes: ``final`` (the weights training ended with) or ``best`` (by val_loss).

    Bytes, not a path: a worker never writes on the driver's disk.
    """

    which: Literal["final", "best"]
    data: bytes
    epoch: int


@dataclass(frozen=True)
class Ended:
    """Training ended: ``finished``, ``failed`` (with the reason), ``interrupted`` or ``pruned`` (by a search)."""

    status: Status
    reason: str | None = None
    traceback: str | None = None


Event = Started | Rewound | EpochEnded | Checkpointed | Evaluated | ModelSaved | Ended


@dataclass(frozen=True)
class Bundle:
    """Events of one trial (``key``) in the order they happened, as a worker sends them to the driver."""

    key: str
    events: tuple[Event, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Ready:
    """A pool worker started (imported Keras) and takes trials."""

    worker: int
