"""The experiment layer: specs, preparing data, training, the sealed test, executors, cv and search.

Sub-packages by concern: :mod:`.spec` (spec files), :mod:`.preparing` (splits and
arrays), :mod:`.training` (one model into a sink; a trial), :mod:`.sealed` (the test
set), :mod:`.executors` (where trials run, the driver that records them),
:mod:`.search` (cross-validation and search). ``run_spec`` is one trial with a local sink.
"""

from __future__ import annotations

from ._demo import explain, run_demo
from ._predict import Predictions, predict_run
from ._runner import RunResult, resume_command, run_spec
from .sealed import RunErrors, SealedEvaluation, run_errors, test_run
from .search import (
    CVResult,
    LearningCurveResult,
    RepeatsResult,
    SearchResult,
    TrialRun,
    assignments,
    code_warning,
    compare_runs,
    cross_validate,
    learning_curve,
    learning_curve_groups,
    repeat_runs,
    run_scores,
    search,
    standing_runs,
    summarise_cv,
    summarise_learning_curve,
    summarise_repeats,
)
from .spec import Spec, load_spec

__all__ = [
    "CVResult",
    "LearningCurveResult",
    "Predictions",
    "RepeatsResult",
    "RunErrors",
    "RunResult",
    "SealedEvaluation",
    "SearchResult",
    "Spec",
    "TrialRun",
    "assignments",
    "code_warning",
    "compare_runs",
    "cross_validate",
    "explain",
    "learning_curve",
    "learning_curve_groups",
    "load_spec",
    "predict_run",
    "repeat_runs",
    "resume_command",
    "run_demo",
    "run_errors",
    "run_scores",
    "run_spec",
    "search",
    "standing_runs",
    "summarise_cv",
    "summarise_learning_curve",
    "summarise_repeats",
    "test_run",
]
