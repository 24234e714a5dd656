"""The sealed test set: looked at only on request, each look counted in the run's ledger."""

from __future__ import annotations

from ._test import SealedEvaluation, evaluate_test, test_run

__all__ = ["SealedEvaluation", "evaluate_test", "test_run"]
