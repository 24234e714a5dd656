"""Would more data help? The verdict of a learning curve over the training-set size.

Andrew Ng's Machine Learning Yearning, chapters 28-32: train the same model on growing
subsets of the training data and look at the training and validation error at each
size. A validation error still falling at the largest size, far above the training
error, says more data helps (variance); both errors flat and close together, above
the desired error, say it will not (bias: a bigger model or better features). The
errors here are those of the best epoch (the weights early stopping would keep), the
mean over the folds or repeats of each size; the verdict weighs every difference
against the points' standard errors, so a fall within the noise is not called one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .._i18n import _
from ._curves import lowest_epoch

__all__ = ["LearningCurveVerdict", "SizePoint", "judge_learning_curve", "size_point"]


@dataclass(frozen=True)
class SizePoint:
    """One training-set size: the mean and standard deviation of its runs' errors.

    ``train_error`` / ``val_error`` are at each run's best epoch (lowest validation
    loss); ``final_*`` at its last epoch. An error is 1 - accuracy for a classifier
    and the loss otherwise (``SizePoint.measure`` says which).
    """

    size: int
    runs: int
    train_error: float
    train_error_std: float
    val_error: float
    val_error_std: float
    final_train_error: float
    final_val_error: float
    best_epoch: float
    measure: str = "error"
    final_train_error_std: float = 0.0
    final_val_error_std: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def size_point(size: int, runs: Sequence[Mapping[str, list[float]]]) -> SizePoint:
    """The point of one size from its runs' histories (``loss``, ``val_loss`` and, for a classifier, accuracy)."""
    import numpy as np

    measure = "error" if all("val_accuracy" in h and "accuracy" in h for h in runs) else "loss"

    def error(history: Mapping[str, list[float]], part: str, epoch: int) -> float:
        name = f"{part}accuracy" if measure == "error" else f"{part}loss"
        value = history[name][epoch]
        return 1.0 - value if measure == "error" else value

    best, final_train, final_val, train, val = [], [], [], [], []
    for history in runs:
        losses = history["val_loss"]
        found = lowest_epoch(losses)
        epoch = len(losses) - 1 if found is None else found
        best.append(epoch)
        train.append(error(history, "", epoch))
        val.append(error(history, "val_", epoch))
        final_train.append(error(history, "", len(losses) - 1))
        final_val.append(error(history, "val_", len(losses) - 1))

    def spread(values: list[float]) -> float:
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    return SizePoint(
        size=size, runs=len(runs), train_error=float(np.mean(train)), train_error_std=spread(train),
        val_error=float(np.mean(val)), val_error_std=spread(val), final_train_error=float(np.mean(final_train)),
        final_val_error=float(np.mean(final_val)), best_epoch=float(np.mean(best)), measure=measure,
        final_train_error_std=spread(final_train), final_val_error_std=spread(final_val),
    )  # fmt: skip


@dataclass(frozen=True)
class LearningCurveVerdict:
    """Whether more data is likely to help, how sure that is, and the sentences that say it.

    ``kind``: ``"variance"`` (more data helps), ``"bias"`` (it will not: a bigger model
    or better features), ``"both"`` (more data lowers the validation error, and the
    training error is too high as well), ``"plateau"`` (a wide gap, but the validation
    error stopped falling), ``"converged"`` (flat and close, at the desired error).
    ``certainty``: ``"sure"``, ``"likely"`` or ``"unsure"``.
    """

    kind: str
    certainty: str
    sentences: list[str]
    fall: float
    fall_noise: float
    gap: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _noise(point: SizePoint, val_size: int | None) -> float:
    """The standard error of a point's mean validation error: its runs' spread, or binomial on the sets' sizes."""
    spread = point.val_error_std / math.sqrt(point.runs) if point.runs > 1 else 0.0
    binomial = 0.0
    if point.measure == "error" and val_size:
        p = min(max(point.val_error, 0.0), 1.0)
        binomial = math.sqrt(p * (1 - p) / (val_size * point.runs))
    return max(spread, binomial)


def _fall_per_doubling(points: Sequence[SizePoint], val_size: int | None) -> tuple[float, float]:
    """How much the validation error falls per doubling of the data, and its standard error.

    A weighted least-squares line through the points against log2(size), each weighed by
    its noise: the trend over every size, not the last two points' difference alone.
    """
    x = [math.log2(p.size) for p in points]
    noise = [_noise(p, val_size) for p in points]
    floor = max([n for n in noise if n > 0], default=1e-6) * 1e-3  # (a point without noise gets a finite weight)
    w = [1.0 / max(n, floor) ** 2 for n in noise]
    mean_x = sum(wi * xi for wi, xi in zip(w, x)) / sum(w)
    mean_y = sum(wi * p.val_error for wi, p in zip(w, points)) / sum(w)
    spread = sum(wi * (xi - mean_x) ** 2 for wi, xi in zip(w, x))
    slope = sum(wi * (xi - mean_x) * (p.val_error - mean_y) for wi, xi, p in zip(w, x, points)) / spread
    return -slope, (1.0 / math.sqrt(spread) if any(n > 0 for n in noise) else 0.0)


def judge_learning_curve(
    points: Sequence[SizePoint], *, desired: float | None = None, val_size: int | None = None
) -> LearningCurveVerdict:
    """The verdict of ``points`` (two sizes or more, smallest first).

    ``desired`` is the error the model should reach (the human-level error; 0 for a
    classifier when unknown); ``val_size`` the size of each run's validation set, for the
    binomial noise of an error rate measured on it.
    """
    if len(points) < 2:
        raise ValueError("a learning curve needs two sizes or more")
    first, last = points[0], points[-1]
    pct = (lambda v: f"{v:.1%}") if last.measure == "error" else (lambda v: f"{v:.4g}")
    fall, fall_noise = _fall_per_doubling(points, val_size)
    noise_last = _noise(last, val_size)
    gap = last.val_error - last.train_error
    # Falling: clear of the noise, and by enough to matter against the gap it should close.
    falling = fall > 2 * fall_noise and fall >= max(0.1 * gap, 0.002 if last.measure == "error" else 0.0)
    wide = gap > max(2 * noise_last, 0.1 * abs(last.val_error))
    target = desired if desired is not None else (0.0 if last.measure == "error" else None)
    train_noise = last.train_error_std / math.sqrt(last.runs) if last.runs > 1 else 0.0
    # Bias counts when it is clear of the noise and at least half the size of the gap (Ng: fix the larger first).
    bias = last.train_error - target if target is not None else 0.0
    floor = 0.01 if last.measure == "error" else 0.1 * abs(last.train_error)
    above = target is not None and bias > max(2 * train_noise, floor) and bias >= 0.5 * gap
    fields = {"small": first.size, "large": last.size, "before": pct(first.val_error), "after": pct(last.val_error),
              "fall": pct(fall), "train": pct(last.train_error), "gap": pct(gap),
              "desired": pct(target or 0.0)}  # fmt: skip
    said = [
        _("Validation error from {small} to {large} training samples: {before} -> {after} ({fall} less per doubling "
          "of the data); training error at {large}: {train} (errors at the best epoch, mean over the runs of each "
          "size).").format(**fields)
    ]  # fmt: skip
    if falling:
        certainty = "sure" if fall > 3 * fall_noise else "likely"
        kind = "both" if above else "variance"
        if kind == "both":
            said.append(_("More data helps: the validation error still falls with the training-set size. But the "
                          "training error stays at {train}, above the desired {desired}: the model cannot fit even "
                          "its training data (bias), so more data alone will not bring it there. Fix the bias "
                          "first (a bigger model), then add data.").format(**fields))  # fmt: skip
        else:
            said.append(_("More data is likely to help: the validation error still falls with the training-set size, "
                          "and the gap to the training error is {gap} (variance).").format(**fields))  # fmt: skip
        times = fall / fall_noise if fall_noise else math.inf
        said.append(_("How sure: the fall per doubling is {times:.1f} times its standard error.").format(times=times))
    else:
        # Sure of "flat" only when a fall that mattered (a tenth of what is left to close) is beyond the noise.
        stake = gap if wide else last.val_error - (target if target is not None else 0.0)
        steady = 2 * fall_noise <= max(0.1 * abs(stake), 0.002 if last.measure == "error" else 0.0)
        certainty = "likely" if steady else "unsure"
        if wide:
            kind = "plateau"
            said.append(_("The validation error hardly falls any more with the training-set size ({fall} per "
                          "doubling) while the gap to the training error stays wide ({gap}): more data of this kind "
                          "helps little now. Regularise (L2, dropout, early stopping), or gather data closer to what "
                          "the model meets.")
                        .format(**fields))  # fmt: skip
        elif above:
            kind = "bias"
            said.append(_("More data is unlikely to help: both curves are flat and close together (gap {gap}), above "
                          "the desired {desired}. This is bias: train a bigger model, train longer, or find better "
                          "features.").format(**fields))  # fmt: skip
        else:
            kind = "converged"
            said.append(_("Both curves are flat and close together at the desired error: this model has learnt what "
                          "this data can teach it.").format(**fields))  # fmt: skip
        if not steady:
            said.append(_("How sure: not very; the fall per doubling has a standard error of {noise}, wide against "
                          "the differences. More folds or repeats would tell.")
                        .format(noise=pct(fall_noise)))  # fmt: skip
    return LearningCurveVerdict(kind, certainty, said, fall, fall_noise, gap)
