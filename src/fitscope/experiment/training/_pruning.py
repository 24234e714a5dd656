"""Stopping hopeless trials early (``tune --prune``): successive halving at rungs, as ASHA does.

A trial is stopped at once when its loss is NaN or diverges. Otherwise, at each rung
(a growing number of epochs: ``grace``, ``grace * reduction``, ...) its validation
metric is compared with those of the trials that reached the same rung before it: it
goes on only while it is among the best ``1 / reduction`` of them (Li et al., "A
System for Massively Parallel Hyperparameter Tuning", 2020: asynchronous successive
halving, which decides as each trial arrives instead of waiting for a whole rung).

:class:`Rungs` keeps the records and decides; it lives with the driver (or, on Ray,
in an actor), and a trial asks it at each rung epoch (:func:`pruning_check`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..._errors import argument_error, invalid_argument

__all__ = ["DIVERGENCE", "REDUCTION", "Ask", "PrunePlan", "Rungs", "plan_pruning", "pruning_check"]

DIVERGENCE = 4.0  # a training loss this many times its lowest so far diverges
REDUCTION = 4  # keep the best quarter at each rung (the default of Ray's ASHA and Optuna's successive halving)

# How a trial asks whether it may go on at a rung: (trial key, epochs trained, value) -> why to stop, or None.
Ask = Callable[[str, int, float], "str | None"]


@dataclass(frozen=True)
class PrunePlan:
    """Where and by what a search's trials are judged.

    Attributes:
        metric: the validation metric compared at the rungs (``val_loss``).
        lower_is_better: whether a lower value is better (a loss, an error).
        rungs: the numbers of epochs trained at which trials are compared, increasing.
        reduction: at each rung, the best ``1 / reduction`` of the trials go on.
    """

    metric: str
    lower_is_better: bool
    rungs: tuple[int, ...]
    reduction: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrunePlan:
        return cls(str(data["metric"]), bool(data["lower_is_better"]), tuple(int(n) for n in data["rungs"]),
                   int(data["reduction"]))  # fmt: skip


def plan_pruning(epochs: int, metric: str, *, grace: int | None = None, reduction: int = REDUCTION) -> PrunePlan:
    """The rungs for trials of ``epochs`` epochs: ``grace`` epochs, then ``reduction`` times as many, and so on.

    A rung is kept while the survivors still have ``reduction`` times its epochs to
    train (a rung at the last epoch would save nothing). ``grace`` defaults to
    ``epochs / reduction**3`` (at least 1), so a long training gets three rungs.

    Raises:
        ArgumentError: ``reduction`` below 2, ``grace`` below 1, or too few epochs for one rung.
    """
    if reduction < 2:
        raise invalid_argument("prune_reduction", reduction, "Expected 2 or more (4 keeps the best quarter).")
    grace = max(1, epochs // reduction**3) if grace is None else grace
    if grace < 1:
        raise invalid_argument("prune_grace", grace, "Expected 1 or more epochs.")
    rungs = []
    rung = grace
    while rung * reduction <= epochs:
        rungs.append(rung)
        rung *= reduction
    if not rungs:
        raise argument_error(
            f"<<prune>> needs at least {grace * reduction} epochs (a first rung after {grace} and {reduction} times "
            f"as many for the trials that go on), and the spec trains {epochs}. Raise fit.epochs or lower "
            "<<prune_grace>>."
        )
    lower = "loss" in metric or "error" in metric
    return PrunePlan(metric, lower, tuple(rungs), reduction)


@dataclass
class Rungs:
    """The values trials reached at each rung, and the decision for the next one to arrive.

    In a cross-validated search (``folds``: trial key -> its fold and configuration) a
    trial is compared with the trials of its own fold only (the same validation data),
    and once one fold of a configuration is pruned, the configuration's other folds stop
    at their next rung: its mean over the folds can no longer be had.
    """

    plan: PrunePlan
    records: dict[int, dict[str, float]] = field(default_factory=dict)  # rung -> trial key -> value
    folds: dict[str, tuple[int, str]] = field(default_factory=dict)  # trial key -> (fold, configuration)
    pruned: dict[str, int] = field(default_factory=dict)  # configuration -> the fold that was pruned

    def place(self, key: str, fold: int, configuration: str) -> None:
        """Say that trial ``key`` is fold ``fold`` of ``configuration`` (any text that names it)."""
        self.folds[key] = (fold, configuration)

    def remember(self, key: str, history: Mapping[str, Sequence[float]], *, pruned: bool = False) -> None:
        """Take the values an ended trial (an earlier run of the search) had at each rung it reached."""
        values = history.get(self.plan.metric) or []
        for rung in self.plan.rungs:
            if len(values) >= rung and math.isfinite(values[rung - 1]):
                self.records.setdefault(rung, {})[key] = float(values[rung - 1])
        if pruned:
            self._prune(key)

    def decide(self, key: str, epochs: int, value: float) -> str | None:
        """Why the trial ``key`` stops after ``epochs`` epochs with ``value``, or ``None``: it goes on."""
        plan = self.plan
        fold, configuration = self.folds.get(key, (None, key))
        if configuration in self.pruned:
            return f"fold {self.pruned[configuration]} of this configuration was pruned"
        if not math.isfinite(value):
            self._prune(key)
            return f"{plan.metric} was {value} after {epochs} epochs"
        here = self.records.setdefault(epochs, {})
        here[key] = value
        ranked = sorted((v for k, v in here.items() if self.folds.get(k, (None,))[0] == fold),
                        reverse=not plan.lower_is_better)  # fmt: skip
        kept = max(1, len(ranked) // plan.reduction)
        cutoff = ranked[kept - 1]
        if value <= cutoff if plan.lower_is_better else value >= cutoff:
            return None
        self._prune(key)
        among = "trials" if fold is None else f"trials of fold {fold}"
        return (
            f"{plan.metric} {value:.4f} after {epochs} epochs was not among the best {kept} of the {len(ranked)} "
            f"{among} at that rung (cutoff {cutoff:.4f})"
        )

    def _prune(self, key: str) -> None:
        if key in self.folds:
            fold, configuration = self.folds[key]
            self.pruned.setdefault(configuration, fold)


def pruning_check(plan: PrunePlan, key: str, ask: Ask) -> Callable[[int, Mapping[str, float]], str | None]:
    """What a trial checks after each epoch: a NaN or diverging loss, then at each rung, ``ask``."""
    lowest = math.inf
    rungs = set(plan.rungs)

    def check(epoch: int, logs: Mapping[str, float]) -> str | None:
        nonlocal lowest
        loss = logs.get("loss")
        if loss is not None:
            if not math.isfinite(loss):
                return f"the loss became {loss} at epoch {epoch}"
            if loss > DIVERGENCE * lowest:
                return (f"the loss diverged at epoch {epoch}: {loss:.4g}, over {DIVERGENCE:g} times its lowest, "
                        f"{lowest:.4g}")  # fmt: skip
            lowest = min(lowest, loss)
        trained = epoch + 1
        if trained in rungs and plan.metric in logs:
            return ask(key, trained, float(logs[plan.metric]))
        return None

    return check
