"""Training one model: build and compile it from a spec, train it into a sink; a trial is one such job."""

from __future__ import annotations

from ._build import (
    build_callbacks,
    build_model,
    check_argument_name,
    check_names,
    import_builder,
    keras_reason,
    needs_every_step,
    restored_epoch,
    steps_per_execution,
)
from ._pruning import DIVERGENCE, REDUCTION, PrunePlan, Rungs, plan_pruning, pruning_check
from ._trainer import PreparedArrays, Trainer, TrainingResult, evaluate_on, train_dev_evaluation
from ._trial import Trial, run_trial

__all__ = [
    "DIVERGENCE",
    "REDUCTION",
    "PreparedArrays",
    "PrunePlan",
    "Rungs",
    "Trainer",
    "TrainingResult",
    "Trial",
    "build_callbacks",
    "build_model",
    "check_argument_name",
    "check_names",
    "evaluate_on",
    "import_builder",
    "keras_reason",
    "needs_every_step",
    "plan_pruning",
    "pruning_check",
    "restored_epoch",
    "run_trial",
    "steps_per_execution",
    "train_dev_evaluation",
]
