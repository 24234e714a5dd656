"""A finished run's weights looked at again: the sealed test set (each look counted), the error analysis."""

from __future__ import annotations

from ._predictions import GALLERY_SIZE, RunErrors, run_errors
from ._test import EndedModel, SealedEvaluation, evaluate_test, load_ended_model, test_run

__all__ = [
    "GALLERY_SIZE", "EndedModel", "RunErrors", "SealedEvaluation", "evaluate_test", "load_ended_model", "run_errors",
    "test_run",
]  # fmt: skip
