"""One trial: a model built fresh from a spec, trained on one split, reported as messages.

A trial runs wherever an executor puts it (this process, a worker process, a Ray
task). It never touches the run store: it trains like any model fitscope trains
(:mod:`._training`) into a :class:`~fitscope.store.QueueSink`, whose bundles of typed
events reach the driver, which alone owns the store and writes them. So workers need no access to the
driver's disk, and the store stays current while they train.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..data import SplitManifest
from ..store import Bundle, Ended, QueueSink, Started

__all__ = ["FoldPlans", "Trial", "TrialData", "TrialDataCache", "fold_pool", "group_labels", "run_trial", "trial_data"]

Put = Callable[[Bundle], Any]


@dataclass(frozen=True)
class Trial:
    """What to train: a spec (overrides applied), which fold, and how the data is folded.

    Attributes:
        spec: the validated spec as a JSON-ready dict.
        name: the run name.
        fold: the fold number, or ``None`` for the spec's own holdout split.
        folds: the number of folds (cross-validation), or ``None``.
        stratify: stratified folds.
        group_by: a CSV column whose values keep samples together in one fold.
        params: the searched parameters of this trial (``{"model[0].Dense.units": 32}``).
    """

    spec: dict[str, Any]
    name: str
    fold: int | None = None
    folds: int | None = None
    stratify: bool = False
    group_by: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A stable identity: the same command re-run finds the trials it already finished."""
        return _digest({"spec": self.spec, "fold": self.fold, "folds": self.folds, "stratify": self.stratify,
                        "group_by": self.group_by})  # fmt: skip

    @property
    def data_key(self) -> str:
        """Trials with the same data key train and validate on the same arrays."""
        loss = self.spec.get("compile", {}).get("loss")  # the default one-hot encoding follows the loss
        return _digest({**self._folding(), "fold": self.fold, "loss": loss})

    @property
    def folding_key(self) -> str:
        """Trials with the same folding key fold the same data the same way (any fold of one cross-validation)."""
        return _digest(self._folding())

    def _folding(self) -> dict[str, Any]:
        return {**_holdout_described(self.spec), "folds": self.folds, "stratify": self.stratify,
                "group_by": self.group_by}  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _digest(described: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _holdout_described(spec: dict[str, Any]) -> dict[str, Any]:
    """What decides a spec's holdout split: its data, split and seed."""
    return {"data": spec.get("data"), "split": spec.get("split"), "seed": spec.get("seed")}


@dataclass(frozen=True)
class TrialData:
    """A trial's prepared training and validation arrays, with what the run records about them.

    The test part is never included: wherever a trial runs, it cannot touch the
    sealed test set.
    """

    arrays: dict[str, tuple[Any, Any]]
    manifest: SplitManifest
    num_classes: int
    one_hot: bool

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(a, "nbytes", 0)) for pair in self.arrays.values() for a in pair)

    def read_only(self) -> TrialData:
        """Make the arrays read-only, so no trial can change data another trial uses; returns ``self``."""
        for pair in self.arrays.values():
            for array in pair:
                array.setflags(write=False)
        return self


class TrialDataCache:
    """The data one process prepared for a search's trials, kept for the next trial that shares it.

    A search over model settings trains every configuration on the same arrays, and
    cross-validation cycles through the same k folds; without this each trial loads,
    splits, audits and preprocesses its data again (0.7 s for the book's full MNIST
    spec). Lives for one search, so a data file changed between two searches in one
    Python session is read again. Holds at most ``max_bytes`` (least recently used go
    first); the arrays are read-only, so no trial can change another's data.
    """

    def __init__(self, max_bytes: int = 512 * 2**20, plans: FoldPlans | None = None) -> None:
        self.max_bytes = max_bytes
        self._kept: OrderedDict[str, TrialData] = OrderedDict()
        self._plans = plans or FoldPlans()

    def get(self, trial: Trial, spec: Any) -> TrialData:
        """The data of ``trial`` (``spec`` is its validated spec), prepared now or earlier."""
        found = self._kept.get(trial.data_key)
        if found is not None:
            self._kept.move_to_end(trial.data_key)
            return found
        data = _trial_data(trial, spec, self._plans).read_only()
        if data.nbytes <= self.max_bytes:
            while self._kept and sum(kept.nbytes for kept in self._kept.values()) + data.nbytes > self.max_bytes:
                self._kept.popitem(last=False)
            self._kept[trial.data_key] = data
        return data


def trial_data(trial: Trial, plans: FoldPlans | None = None) -> TrialData:
    """Load, split and preprocess a trial's data (the pool's driver does this, so workers need no data files).

    ``plans`` keeps a cross-validation's folds for the command's next fold.
    """
    from ._spec import validate_spec

    return _trial_data(trial, validate_spec(trial.spec), plans)


def _trial_data(trial: Trial, spec: Any, plans: FoldPlans | None = None) -> TrialData:
    prepared = prepare_trial(trial, spec, plans)
    return TrialData(
        arrays={part: arrays for part, arrays in prepared.arrays.items() if part != "test"},
        manifest=prepared.split.manifest.with_audit(prepared.split.audit.to_dict()),
        num_classes=prepared.num_classes, one_hot=prepared.one_hot,
    )  # fmt: skip


def prepare_trial(trial: Trial, spec: Any, plans: FoldPlans | None = None) -> Any:
    """The trial's data (``spec`` is the validated ``trial.spec``), split by fold when cross-validating.

    Folds are deterministic, so any worker agrees.
    """
    from ._runner import prepare, prepare_parts

    plans = plans or FoldPlans()
    if trial.fold is None or trial.folds is None:
        return prepare(spec, plans.holdout(spec))  # (a search's check of its data made it already)
    plan = plans.get(trial, spec)
    parts = {name: plan.pool[idx] for name, idx in plan.folds[trial.fold].parts.items()}
    if "test" in plan.holdout.parts:
        parts["test"] = plan.holdout.parts["test"]
    return prepare_parts(spec, plan.holdout.dataset, parts, kind="kfold", fold=trial.fold, folds=trial.folds)


@dataclass(frozen=True)
class FoldPlan:
    """How a cross-validation folds the spec's data: its holdout split, the pool it folds and the folds."""

    holdout: Any
    pool: Any
    folds: list[Any]


class FoldPlans:
    """The folds of a command's cross-validation, made once and kept for its next fold.

    Every fold starts from the same loaded data, holdout split and k-fold plan; made
    again for each fold they cost 0.6 s of the 0.8 s a fold of the book's full MNIST
    spec takes to prepare. The command's check of its fold settings reads the same
    holdout split. Keeps only the latest split and plan (a command folds its data one
    way), so at most one dataset stays in memory.
    """

    def __init__(self) -> None:
        self._holdout: tuple[str, Any] | None = None
        self._plan: tuple[str, FoldPlan] | None = None

    def holdout(self, spec: Any) -> Any:
        """The holdout split of ``spec`` (a validated spec), whose parts but the test one are folded."""
        key = _digest(_holdout_described(spec.model_dump(mode="json")))
        if self._holdout is None or self._holdout[0] != key:
            self._holdout = self._plan = None  # let go of the old data before loading new
            from ._runner import split_of

            self._holdout = (key, split_of(spec))
        return self._holdout[1]

    def get(self, trial: Trial, spec: Any) -> FoldPlan:
        """The fold plan of ``trial`` (a fold trial; ``spec`` is its validated spec)."""
        holdout = self.holdout(spec)
        if self._plan is None or self._plan[0] != trial.folding_key:
            self._plan = (trial.folding_key, _fold_plan(trial, spec, holdout))
        return self._plan[1]


def fold_pool(holdout: Any) -> Any:
    """The indices a cross-validation folds: every part of the holdout split but the test part."""
    import numpy as np

    return np.concatenate([indices for name, indices in holdout.parts.items() if name != "test"])


def _fold_plan(trial: Trial, spec: Any, holdout: Any) -> FoldPlan:
    from ..data import Dataset, kfold_dataset

    assert trial.folds is not None
    pool = fold_pool(holdout)
    dataset = holdout.dataset
    groups = group_labels(dataset, trial.group_by)[pool] if trial.group_by else None
    sub = Dataset(
        name=dataset.name, x=dataset.x[pool], y=dataset.y[pool], class_names=dataset.class_names,
        source=dataset.source, value_max=dataset.value_max,
    )  # fmt: skip
    folds = kfold_dataset(sub, trial.folds, shuffle=True, seed=spec.seed or 0, stratify=trial.stratify, groups=groups)
    return FoldPlan(holdout=holdout, pool=pool, folds=folds)


def group_labels(dataset: Any, group_by: str) -> Any:
    """The dataset's group labels for ``--group-by``, refused unless the spec's data carries that group column."""
    if dataset.groups is None or dataset.group_column != group_by:
        from .._errors import SpecError

        raise SpecError(
            f"--group-by {group_by!r}: the dataset has no such group column. Group labels come from a CSV "
            f"column or an .npz array: set data.group_column: {group_by} in the spec."
        )
    return dataset.groups


def run_trial(
    trial: Trial,
    put: Put,
    data: TrialData | None = None,
    *,
    cache: TrialDataCache | None = None,
    interval: float = 0.25,
) -> None:
    """Train one trial from scratch and report it as :class:`~fitscope.store.Bundle` s through ``put``.

    ``data`` is the trial's prepared data when the caller made it (see
    :func:`trial_data`); without it, the trial takes it from ``cache`` or loads it itself.
    Epochs are bundled at most every ``interval`` seconds (see :class:`~fitscope.store.QueueSink`).

    The events are those of any training (:class:`._training.Trainer`): ``Started``
    (manifest, initial weights fingerprint), the epochs and checkpoints, the final
    validation, ``Ended``. A Python exception in the trial ends it as ``failed`` with
    the reason; it does not escape.
    """
    sink = QueueSink(trial.key, put, interval=interval)
    try:
        _run(trial, sink, data, cache)
    except KeyboardInterrupt:
        sink.send(Ended("interrupted", "interrupted (Ctrl-C)"))
        raise
    except Exception as exc:  # the trial fails, the search goes on
        sink.send(Ended("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5)))
    finally:
        sink.close()


def _run(trial: Trial, sink: QueueSink, data: TrialData | None, cache: TrialDataCache | None) -> None:
    from ..keras_glue import weights_fingerprint
    from ._spec import validate_spec
    from ._training import Trainer

    spec = validate_spec(trial.spec)
    if data is None:
        data = cache.get(trial, spec) if cache is not None else _trial_data(trial, spec)
    trainer = Trainer(spec, data, one_of_many=True)
    start = Started(manifest=data.manifest, initial=weights_fingerprint(trainer.model))
    trainer.fit(sink, start=start, handle_signals=False)  # (the driver handles Ctrl-C)
