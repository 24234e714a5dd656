"""Groups of trials: cross-validation and hyperparameter search, their summaries and standing runs."""

from __future__ import annotations

from ._compare import code_warning, compare_runs
from ._groups import TrialRun, standing_runs
from ._learning_curve import (
    LearningCurveResult,
    learning_curve,
    learning_curve_groups,
    learning_curve_sizes,
    summarise_learning_curve,
)
from ._repeats import RepeatsResult, repeat_runs, run_scores, summarise_repeats
from ._search import CVResult, SearchResult, assignments, cross_validate, search, summarise_cv

__all__ = [
    "CVResult",
    "LearningCurveResult",
    "RepeatsResult",
    "SearchResult",
    "TrialRun",
    "assignments",
    "code_warning",
    "compare_runs",
    "cross_validate",
    "learning_curve",
    "learning_curve_groups",
    "learning_curve_sizes",
    "repeat_runs",
    "run_scores",
    "search",
    "standing_runs",
    "summarise_cv",
    "summarise_learning_curve",
    "summarise_repeats",
]
