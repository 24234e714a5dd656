"""A trial's data: prepared once per distinct split, kept for the trials that share it.

Folds are deterministic, so every process (the driver, a worker) that prepares a
trial's data gets the same arrays.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...data import ModelInputs, SplitManifest
from ._holdout import prepare, prepare_parts, split_of

if TYPE_CHECKING:
    from ..training import Trial

__all__ = [
    "FoldPlans", "TrialData", "TrialDataCache", "describe_holdout", "digest", "fold_pool", "group_labels",
    "nested_subset", "prepare_trial", "refit_parts", "trial_data", "trial_data_for",
]  # fmt: skip


def digest(described: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:16]


def describe_holdout(spec: dict[str, Any]) -> dict[str, Any]:
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
    inputs: ModelInputs

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
        data = trial_data_for(trial, spec, self._plans).read_only()
        if data.nbytes <= self.max_bytes:
            while self._kept and sum(kept.nbytes for kept in self._kept.values()) + data.nbytes > self.max_bytes:
                self._kept.popitem(last=False)
            self._kept[trial.data_key] = data
        return data


def trial_data(trial: Trial, plans: FoldPlans | None = None) -> TrialData:
    """Load, split and preprocess a trial's data (the pool's driver does this, so workers need no data files).

    ``plans`` keeps a cross-validation's folds for the command's next fold.
    """
    from ..spec import validate_spec

    return trial_data_for(trial, validate_spec(trial.spec), plans)


def trial_data_for(trial: Trial, spec: Any, plans: FoldPlans | None = None) -> TrialData:
    prepared = prepare_trial(trial, spec, plans)
    return TrialData(
        arrays={part: arrays for part, arrays in prepared.arrays.items() if part != "test"},
        manifest=prepared.split.manifest.with_audit(prepared.split.audit.to_dict()),
        num_classes=prepared.num_classes, one_hot=prepared.one_hot, inputs=prepared.inputs,
    )  # fmt: skip


def prepare_trial(trial: Trial, spec: Any, plans: FoldPlans | None = None) -> Any:
    """The trial's data (``spec`` is the validated ``trial.spec``), split by fold when cross-validating.

    Folds are deterministic, so any worker agrees.
    """
    plans = plans or FoldPlans()
    if trial.fold is None or trial.folds is None:
        holdout = plans.holdout(spec)  # (a search's check of its data made it already)
        if trial.refit:
            return prepare_parts(spec, holdout.dataset, refit_parts(holdout.parts), kind="refit",
                                 extra={"refit": True})  # fmt: skip
        if trial.train_size is None:
            return prepare(spec, holdout)
        parts = dict(holdout.parts)
        parts["train"] = nested_subset(parts["train"], trial.train_size, seed=(spec.seed or 0, trial.repeat or 0))
        return prepare_parts(spec, holdout.dataset, parts, kind=holdout.manifest.kind,
                             extra={"train_size": trial.train_size, "repeat": trial.repeat})  # fmt: skip
    plan = plans.get(trial, spec)
    parts = {name: plan.pool[idx] for name, idx in plan.folds[trial.fold].parts.items()}
    if "test" in plan.holdout.parts:
        parts["test"] = plan.holdout.parts["test"]
    extra = {}
    if trial.train_size is not None:
        parts["train"] = nested_subset(parts["train"], trial.train_size, seed=(spec.seed or 0, trial.fold))
        extra = {"train_size": trial.train_size}
    return prepare_parts(spec, plan.holdout.dataset, parts, kind="kfold", fold=trial.fold, folds=trial.folds,
                         extra=extra)  # fmt: skip


def refit_parts(parts: dict[str, Any]) -> dict[str, Any]:
    """The holdout split's parts with validation merged into training (in index order); the test part as it was."""
    import numpy as np

    merged = {"train": np.sort(np.concatenate([parts["train"], parts["val"]]))}
    return merged | ({"test": parts["test"]} if "test" in parts else {})


def nested_subset(indices: Any, size: int, *, seed: tuple[int, int]) -> Any:
    """``size`` of ``indices``, in their order: one shuffle per seed, so a smaller size is inside every larger one."""
    import numpy as np

    if size > len(indices):
        from ..._errors import invalid_argument

        raise invalid_argument("train_size", size, f"The training part has {len(indices)} samples.")
    order = np.random.default_rng(list(seed)).permutation(len(indices))
    return indices[np.sort(order[:size])]


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
        key = digest(describe_holdout(spec.model_dump(mode="json")))
        if self._holdout is None or self._holdout[0] != key:
            self._holdout = self._plan = None  # let go of the old data before loading new
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
    from ...data import Dataset, kfold_dataset

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
    """The dataset's group labels for ``group_by``, refused unless the spec's data carries that group column."""
    if dataset.groups is None or dataset.group_column != group_by:
        from ..._errors import SpecError, argument_error

        raise argument_error(
            f"<<group_by>> {group_by!r}: the dataset has no such group column. Group labels come from a CSV "
            f"column or an .npz array: set data.group_column: {group_by} in the spec.",
            SpecError,
        )
    return dataset.groups
