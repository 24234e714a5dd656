"""Several runs of one model (the folds of a cross-validation) as per-epoch bands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["EpochBand", "epoch_bands"]


@dataclass(frozen=True)
class EpochBand:
    """One metric across runs, epoch by epoch, as long as the shortest run.

    Attributes:
        mean: the mean per epoch (NaN values left out).
        std: the standard deviation per epoch (NaN values left out).
        runs: how many runs recorded the metric.
    """

    mean: list[float]
    std: list[float]
    runs: int


def epoch_bands(histories: Sequence[Mapping[str, Sequence[float]]]) -> dict[str, EpochBand]:
    """Mean ± std per epoch of every metric the runs recorded (each over the runs that have it)."""
    series: dict[str, list[Sequence[float]]] = {}
    for history in histories:
        for name, values in history.items():
            series.setdefault(name, []).append(values)
    bands = {}
    for name, runs in series.items():
        length = min(len(values) for values in runs)
        stacked = np.array([list(values[:length]) for values in runs], dtype=float)
        mean, std = np.nanmean(stacked, axis=0), np.nanstd(stacked, axis=0)
        bands[name] = EpochBand([float(v) for v in mean], [float(v) for v in std], len(runs))
    return bands
