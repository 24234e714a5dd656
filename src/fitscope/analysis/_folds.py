"""What the folds of a cross-validation say together.

The verdict of the folds' mean curves (steadier than any one split's), and how far a
single validation split could have misled: the book's reason for cross-validating.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._i18n import _
from ._bands import EpochBand
from ._curves import MIN_EPOCHS, CurveReport, analyse_curves, curve_sentences

__all__ = ["FoldsDiagnosis", "diagnose_folds"]


@dataclass(frozen=True)
class FoldsDiagnosis:
    """A cross-validation's diagnosis.

    Attributes:
        curve: the verdict of the folds' mean curves, or ``None`` (no ``val_loss``, or
            fewer than 3 epochs in the shortest fold).
        sentences: plain sentences to print, the curve's first.
    """

    curve: CurveReport | None
    sentences: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"curve": None if self.curve is None else self.curve.to_dict(), "sentences": self.sentences}


def diagnose_folds(
    bands: Mapping[str, EpochBand], finals: Sequence[Mapping[str, float]], *, num_classes: int | None = None
) -> FoldsDiagnosis:
    """Diagnose the finished folds of one model.

    Args:
        bands: the folds' per-epoch bands (:func:`epoch_bands` of their histories).
        finals: each finished fold's final validation metrics (``{"accuracy": ..., "loss": ...}``).
        num_classes: for classification, the chance-level loss is ``ln(num_classes)``.
    """
    sentences: list[str] = []
    curve = None
    mean_history = {name: list(band.mean) for name, band in bands.items()}
    if len(mean_history.get("val_loss", [])) >= MIN_EPOCHS:
        curve = analyse_curves(mean_history, num_classes=num_classes)
        sentences.extend(curve_sentences(curve, mean_history))
    metric = "accuracy" if finals and all("accuracy" in f for f in finals) else "loss"
    values = np.array([f[metric] for f in finals if metric in f], dtype=float)
    if len(values) >= 2:
        error = values.std(ddof=1) / math.sqrt(len(values))
        sentences.append(
            _(
                "One validation split alone could have read a final {metric} anywhere from {low} to {high} (the "
                "folds' range); the mean over the {folds} folds, {mean} ± {error} (its standard error), is the figure "
                "to compare models by."
            ).format(
                metric=f"val_{metric}",
                low=f"{values.min():.4f}",
                high=f"{values.max():.4f}",
                folds=len(values),
                mean=f"{values.mean():.4f}",
                error=f"{error:.4f}",
            )
        )
    return FoldsDiagnosis(curve, sentences)
