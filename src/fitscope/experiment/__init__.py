"""The experiment layer: spec files, the runner, cross-validation, search and executors."""

from __future__ import annotations

from ._runner import RunResult, run_spec
from ._search import CVResult, SearchResult, cross_validate, search, summarise_cv
from ._spec import Spec, load_spec

__all__ = [
    "CVResult",
    "RunResult",
    "SearchResult",
    "Spec",
    "cross_validate",
    "load_spec",
    "run_spec",
    "search",
    "summarise_cv",
]
