"""The analysis layer: pure functions over recorded numbers (curves, Ng's gap analysis).

Never imports Keras.
"""

from __future__ import annotations

from ._bands import EpochBand, epoch_bands
from ._curves import MIN_EPOCHS, CurveReport, analyse_curves
from ._diagnosis import Diagnosis, diagnose_run
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

__all__ = [
    "ACTIONS",
    "ERROR_LEVELS",
    "GAPS",
    "GAP_NAMES",
    "LEVEL_NAMES",
    "MIN_EPOCHS",
    "CurveReport",
    "Diagnosis",
    "EpochBand",
    "FoldsDiagnosis",
    "GapReport",
    "analyse_curves",
    "analyse_gaps",
    "diagnose_folds",
    "diagnose_run",
    "epoch_bands",
    "parse_errors",
    "parse_sizes",
    "standard_error",
]
