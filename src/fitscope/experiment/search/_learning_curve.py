"""A learning curve over the training-set size: the spec trained on growing subsets of its training part.

Each size is trained on a nested subset of the training part (the smaller sizes' samples
are in every larger one, drawn with the spec's seed), against the same validation part,
with a fresh model; over ``folds`` (a cross-validation per size, each fold's training
part subsampled) or ``repeats`` (other subsets, and other initial weights, of the one
holdout split). Every (size, fold or repeat) is a trial, a recorded run in one group,
trained through the executors like a cross-validation's folds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..._errors import argument_error, invalid_argument
from ..._i18n import STATUS_NAMES, _, prefer_language
from ...analysis import LearningCurveVerdict, SizePoint, epoch_bands, judge_learning_curve, size_point
from ...data import HUMAN_LEVEL_ERROR
from ...store import Store
from ..executors import start_executor
from ..preparing import FoldPlans, fold_pool, warn_about_split
from ..spec import Spec, as_spec
from ..training import Trial
from ._groups import standing_runs
from ._search import _check_fold_count, _check_folds, _run_group
from ._space import check_keras_names, check_new_arguments

__all__ = [
    "LearningCurveResult",
    "learning_curve",
    "learning_curve_groups",
    "learning_curve_sizes",
    "summarise_learning_curve",
]

KIND = "learning-curve"
DEFAULT_STEPS = 5


@dataclass
class LearningCurveResult:
    """A learning-curve group's summary: one point per training-set size, the verdict, the mean curves."""

    group_id: str
    points: list[SizePoint]
    verdict: LearningCurveVerdict | None
    desired: float | None = None
    desired_source: str | None = None
    curves: dict[int, dict[str, list[float]]] = field(default_factory=dict, repr=False)  # (long: every epoch)
    unfinished: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "sizes": [point.to_dict() for point in self.points],
                "verdict": self.verdict.to_dict() if self.verdict else None, "desired_error": self.desired,
                "desired_error_source": self.desired_source, "unfinished": self.unfinished,
                "curves": {str(size): curve for size, curve in self.curves.items()}}  # fmt: skip

    def __str__(self) -> str:
        """The summary `fitscope learning-curve` prints."""
        lines = [_("learning curve {group}:").format(group=self.group_id)]
        for p in self.points:
            lines.append("  " + _("{size} samples ({runs} run(s)): train {train}{train_std}, validation {val}{val_std} "
                                  "at best epoch ~{epoch:.0f}; last epoch: train {final_train}, validation {final_val}")
                         .format(size=p.size, runs=p.runs, train=_shown(p, p.train_error),
                                 train_std=_spread(p, p.train_error_std), val=_shown(p, p.val_error),
                                 val_std=_spread(p, p.val_error_std), epoch=p.best_epoch,
                                 final_train=_shown(p, p.final_train_error),
                                 final_val=_shown(p, p.final_val_error)))  # fmt: skip
        for run in self.unfinished:
            status = _(STATUS_NAMES.get(run["status"], run["status"]))
            lines.append("  " + _("{name}: {status}, left out").format(name=run["name"], status=status))
        if self.verdict is not None:
            lines += ["", *self.verdict.sentences]
        return "\n".join(lines)


def _shown(point: SizePoint, value: float) -> str:
    return f"{value:.1%}" if point.measure == "error" else f"{value:.4g}"


def _spread(point: SizePoint, std: float) -> str:
    return f" ± {_shown(point, std)}" if point.runs > 1 else ""


def learning_curve_sizes(train_size: int, steps: int = DEFAULT_STEPS) -> list[int]:
    """``steps`` sizes spaced evenly on a log scale from a tenth of ``train_size`` (at least 2) to all of it."""
    if steps < 2:
        raise invalid_argument("steps", steps, "A learning curve needs 2 sizes or more.")
    smallest = max(2, train_size // 10)
    return sorted({round(float(v)) for v in np.geomspace(smallest, train_size, steps)})


def learning_curve(
    spec: Spec | dict[str, Any] | str | Path,
    *,
    sizes: list[int] | None = None,
    steps: int | None = None,
    folds: int | None = None,
    repeats: int | None = None,
    stratify: bool = False,
    overrides: list[str] | None = None,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    runs: str | Path | None = None,
    say: Any = print,
) -> LearningCurveResult:
    """Train ``spec`` at each training-set size and say whether more data is likely to help.

    Args:
        sizes: the training-set sizes (two or more, each at most the training part's size);
            default ``steps`` sizes from a tenth of the training part to all of it.
        steps: how many sizes when ``sizes`` is not given (default 5).
        folds: k-fold cross-validation at each size (each fold's training part subsampled).
        repeats: instead of folds, this many draws of each size from the one holdout split
            (other subsets, other initial weights; 2 or more).
    """
    spec_obj = as_spec(spec, overrides)
    prefer_language(spec_obj.lang)
    check_new_arguments(spec, overrides)
    if sizes is not None and steps is not None:
        raise argument_error("give <<sizes>> or <<steps>>, not both.")
    if folds is not None and repeats is not None:
        raise argument_error("give <<folds>> (a cross-validation at each size) or <<repeats>> (draws from one "
                             "holdout split), not both.")  # fmt: skip
    if folds is not None:
        _check_fold_count(folds)
    if repeats is not None and repeats < 2:
        raise invalid_argument("repeats", repeats, "Expected 2 or more; leave it out for one run per size.")
    if stratify and folds is None:
        raise argument_error("<<stratify>> goes with <<folds>>: it keeps class shares in every fold.")
    plans = FoldPlans()
    draws = folds or repeats or 1
    count = draws * (len(set(sizes)) if sizes else steps or DEFAULT_STEPS)
    with start_executor(executor, workers=workers, address=address, trials=count, say=say) as started:
        holdout = plans.holdout(spec_obj)
        if folds is not None:
            _check_folds(plans, spec_obj, folds, stratify, None)
            pool = len(fold_pool(holdout))
            available = pool - math.ceil(pool / folds)  # the smallest fold's training part
        else:
            available = len(holdout.parts["train"])
        chosen = _checked_sizes(sizes, available, folds) if sizes is not None else learning_curve_sizes(
            available, DEFAULT_STEPS if steps is None else steps)  # fmt: skip
        check_keras_names(spec_obj, [], executor)
        warn_about_split(holdout.audit.warnings)
        data = spec_obj.model_dump(mode="json")
        trials = [
            Trial(spec=data, name=f"{spec_obj.name}-n{size}" + (f"-fold{k}" if folds else f"-r{k}" if repeats else ""),
                  fold=k if folds else None, folds=folds, stratify=stratify, train_size=size,
                  repeat=k if repeats else None)
            for size in chosen for k in range(draws)
        ]  # fmt: skip
        resumed = _("{done} run(s) already finished in group {group}; running the other {todo}.")
        driver = _run_group(started, KIND, spec_obj.name, trials, Store(runs), plans, say, resumed)
    return summarise_learning_curve(driver.store, driver.group)


def _checked_sizes(sizes: list[int], available: int, folds: int | None) -> list[int]:
    where = ("each fold's" if folds else "the") + f" training part has {available} samples"
    if len(set(sizes)) < 2:
        raise invalid_argument("sizes", sizes[0] if sizes else None,
                               "A learning curve needs two different sizes or more (e.g. 100,200,400).")  # fmt: skip
    for size in sizes:
        if size < 2:
            raise invalid_argument("sizes", size, "Each size must be 2 samples or more.")
        if size > available:
            raise invalid_argument("sizes", size, f"It is larger than the data: {where}. Use sizes up to {available}.")
    return sorted(set(sizes))


def summarise_learning_curve(store: Store, group: str, human_error: float | None = None) -> LearningCurveResult:
    """The summary of a learning-curve group from the store (its finished runs, grouped by size)."""
    standing = standing_runs(store.runs(group=group))
    by_size: dict[int, list[dict[str, list[float]]]] = {}
    unfinished = []
    val_size = None
    dataset = None
    for trial in standing:
        info = trial.info
        size = info.trial.get("train_size")
        if size is None:
            continue
        history = store.run(info.run_id).history() if info.status == "finished" else {}
        if info.status != "finished" or "val_loss" not in history:
            unfinished.append({"run_id": info.run_id, "name": info.name, "status": info.status})
            continue
        by_size.setdefault(int(size), []).append(history)
        if info.manifest is not None:
            val_size = info.manifest.sizes.get("val", val_size)
            dataset = info.manifest.dataset
    points = [size_point(size, histories) for size, histories in sorted(by_size.items())]
    desired, source = human_error, None
    if desired is None and dataset in HUMAN_LEVEL_ERROR and points and points[0].measure == "error":
        desired, source = HUMAN_LEVEL_ERROR[dataset]
    verdict = judge_learning_curve(points, desired=desired, val_size=val_size) if len(points) >= 2 else None
    curves = {size: {name: band.mean for name, band in epoch_bands(histories).items()}
              for size, histories in sorted(by_size.items())}  # fmt: skip
    return LearningCurveResult(group, points, verdict, desired, source, curves, unfinished)


def learning_curve_groups(store: Store, spec: dict[str, Any]) -> list[str]:
    """The learning-curve groups of the store whose runs trained ``spec`` (newest last)."""
    wanted = {key: value for key, value in spec.items() if key not in ("lang", "name")}
    found = []
    for group in store.groups():
        if store.group_kind(group.group_id) != KIND:
            continue
        runs = store.runs(group=group.group_id)
        theirs = runs[0].spec if runs else None
        if theirs is not None and {k: v for k, v in theirs.items() if k not in ("lang", "name")} == wanted:
            found.append(group.group_id)
    return found
