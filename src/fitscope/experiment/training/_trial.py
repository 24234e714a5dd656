"""One trial: a model built fresh from a spec, trained on one split, reported as messages.

A trial runs wherever an executor puts it (this process, a worker process, a Ray
task). It never touches the run store: it trains like any model fitscope trains
(:mod:`._trainer`) into a :class:`~fitscope.store.QueueSink`, whose bundles of typed
events reach the driver, which alone owns the store and writes them. So workers need no access to the
driver's disk, and the store stays current while they train.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ...store import Bundle, Ended, QueueSink, Started
from ..preparing import TrialData, TrialDataCache, describe_holdout, digest
from ._pruning import Ask, PrunePlan, pruning_check

__all__ = ["Trial", "run_trial"]

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
        train_size: train on this many samples of the training part (a learning curve), a
            subset nested in every larger one of the same fold or repeat.
        repeat: another draw of the same configuration: its subset and initial weights are
            drawn with the spec's seed plus ``repeat`` (the split stays the spec's).
        prune: the search's :class:`PrunePlan` (as a dict) when it stops hopeless trials early;
            not part of the key (the same trial, judged or not).
        refit: train on the training and validation parts together (``tune --refit``: the
            winner once more, for its final model); nothing is left to validate on.
    """

    spec: dict[str, Any]
    name: str
    fold: int | None = None
    folds: int | None = None
    stratify: bool = False
    group_by: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    train_size: int | None = None
    repeat: int | None = None
    prune: dict[str, Any] | None = None
    refit: bool = False

    @property
    def key(self) -> str:
        """A stable identity: the same command re-run finds the trials it already finished."""
        spec = {key: value for key, value in self.spec.items() if key != "lang"}  # the same trial in either language
        return digest({"spec": spec, "fold": self.fold, "folds": self.folds, "stratify": self.stratify,
                       "group_by": self.group_by, **self._draw()})  # fmt: skip

    @property
    def data_key(self) -> str:
        """Trials with the same data key train and validate on the same arrays."""
        loss = self.spec.get("compile", {}).get("loss")  # the default one-hot encoding follows the loss
        return digest({**self._folding(), "fold": self.fold, "loss": loss, **self._draw()})

    def _draw(self) -> dict[str, int]:
        """A learning curve's subset, a repeat's number, a refit (none for other trials: their keys stay the same)."""
        drawn = {name: value for name, value in (("train_size", self.train_size), ("repeat", self.repeat))
                 if value is not None}  # fmt: skip
        return drawn | ({"refit": 1} if self.refit else {})

    @property
    def folding_key(self) -> str:
        """Trials with the same folding key fold the same data the same way (any fold of one cross-validation)."""
        return digest(self._folding())

    def _folding(self) -> dict[str, Any]:
        return {**describe_holdout(self.spec), "folds": self.folds, "stratify": self.stratify,
                "group_by": self.group_by}  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_trial(
    trial: Trial,
    put: Put,
    data: TrialData | None = None,
    *,
    cache: TrialDataCache | None = None,
    interval: float = 0.25,
    ask: Ask | None = None,
) -> None:
    """Train one trial from scratch and report it as :class:`~fitscope.store.Bundle` s through ``put``.

    ``data`` is the trial's prepared data when the caller made it (see
    :func:`trial_data`); without it, the trial takes it from ``cache`` or loads it itself.
    Epochs are bundled at most every ``interval`` seconds (see :class:`~fitscope.store.QueueSink`).
    A trial with a pruning plan asks ``ask`` at each rung whether it goes on (its
    executor's way to the search's :class:`Rungs`); without ``ask`` it is not judged.

    The events are those of any training (:class:`._trainer.Trainer`): ``Started``
    (manifest, initial weights fingerprint), the epochs and checkpoints, the final
    validation, ``Ended``. A Python exception in the trial ends it as ``failed`` with
    the reason; it does not escape. One that ``put`` raises is the taker's, and goes up.
    """
    sink = QueueSink(trial.key, put, interval=interval)
    try:
        _run(trial, sink, data, cache, ask)
    except KeyboardInterrupt:
        sink.send(Ended("interrupted", "interrupted (Ctrl-C)"))
        raise
    except Exception as exc:
        if sink.refused is not None:  # ``put`` failed (the driver's output closed, say): that goes up
            raise
        sink.send(Ended("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5)))  # the search goes on
    finally:
        sink.close()


def _run(trial: Trial, sink: QueueSink, data: TrialData | None, cache: TrialDataCache | None, ask: Ask | None) -> None:
    from ...keras_glue import weights_fingerprint
    from ..preparing import trial_data_for
    from ..spec import validate_spec
    from ._trainer import Trainer

    spec = validate_spec(trial.spec)
    if data is None:
        data = cache.get(trial, spec) if cache is not None else trial_data_for(trial, spec)
    if trial.repeat:  # another draw: other initial weights (its data was drawn above, the split is the spec's)
        spec = spec.model_copy(update={"seed": (spec.seed or 0) + trial.repeat})
    trainer = Trainer(spec, data, one_of_many=True)
    start = Started(manifest=data.manifest, initial=weights_fingerprint(trainer.model))
    check = pruning_check(PrunePlan.from_dict(trial.prune), trial.key, ask) if trial.prune and ask else None
    trainer.fit(sink, start=start, handle_signals=False, stop_check=check)  # (the driver handles Ctrl-C)
