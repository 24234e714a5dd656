"""The analysis layer: pure functions over recorded numbers (curves, Ng's gap analysis).

Never imports Keras.
"""

from __future__ import annotations

from ._bands import EpochBand, epoch_bands
from ._compare import Comparison, ScoreSummary, compare_scores, summarise_scores
from ._curves import MIN_EPOCHS, CurveReport, analyse_curves, lowest_epoch
from ._diagnosis import Diagnosis, diagnose_run
from ._errors import ConfusedPair, ErrorAnalysis, analyse_errors
from ._folds import FoldsDiagnosis, diagnose_folds
from ._gaps import (
    ACTIONS,
    ERROR_LEVELS,
    GAP_NAMES,
    GAPS,
    LEVEL_NAMES,
    GapReport,
    analyse_gaps,
    parse_errors,
    parse_sizes,
    standard_error,
)
from ._learning_curve import LearningCurveVerdict, SizePoint, judge_learning_curve, size_point

__all__ = [
    "ACTIONS",
    "ERROR_LEVELS",
    "GAPS",
    "GAP_NAMES",
    "LEVEL_NAMES",
    "MIN_EPOCHS",
    "Comparison",
    "ConfusedPair",
    "CurveReport",
    "Diagnosis",
    "EpochBand",
    "ErrorAnalysis",
    "FoldsDiagnosis",
    "GapReport",
    "LearningCurveVerdict",
    "ScoreSummary",
    "SizePoint",
    "analyse_curves",
    "analyse_errors",
    "analyse_gaps",
    "compare_scores",
    "diagnose_folds",
    "diagnose_run",
    "epoch_bands",
    "judge_learning_curve",
    "lowest_epoch",
    "parse_errors",
    "parse_sizes",
    "size_point",
    "standard_error",
    "summarise_scores",
]
