"""Groups of trials: cross-validation and hyperparameter search, their summaries and standing runs."""

from __future__ import annotations

from ._groups import TrialRun, standing_runs
from ._search import CVResult, SearchResult, assignments, cross_validate, search, summarise_cv

__all__ = [
    "CVResult",
    "SearchResult",
    "TrialRun",
    "assignments",
    "cross_validate",
    "search",
    "standing_runs",
    "summarise_cv",
]
