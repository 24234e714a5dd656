"""Groups of trials: cross-validation and hyperparameter search, their summaries and standing runs."""

from __future__ import annotations

from ._groups import TrialRun, standing_runs
from ._learning_curve import (
    LearningCurveResult,
    learning_curve,
    learning_curve_groups,
    learning_curve_sizes,
    summarise_learning_curve,
)
from ._search import CVResult, SearchResult, assignments, cross_validate, search, summarise_cv

__all__ = [
    "CVResult",
    "LearningCurveResult",
    "SearchResult",
    "TrialRun",
    "assignments",
    "cross_validate",
    "learning_curve",
    "learning_curve_groups",
    "learning_curve_sizes",
    "search",
    "standing_runs",
    "summarise_cv",
    "summarise_learning_curve",
]
