"""Curve analysis: best epoch, overfitting onset, underfitting, divergence, a stalled model, oscillation.

Pure functions over a history ``{metric: [value per epoch]}``; no Keras, no store.
Noise is handled by smoothing (a centred moving average) and by asking a change
to be larger than the noise around the smoothed curve and to last, so a single
uptick never counts as overfitting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._errors import ArgumentError
from .._i18n import _
from ._early_stopping import EarlyStoppingReplay, replay_early_stopping

__all__ = [
    "MIN_EPOCHS",
    "CurveReport",
    "analyse_curves",
    "best_epoch_sentence",
    "curve_sentences",
    "early_stopping_sentences",
    "lowest_epoch",
]  # fmt: skip

MIN_EPOCHS = 3
VERDICTS = ("diverging", "stalled", "overfitting", "underfitting", "still_improving", "oscillating", "good_fit")
# Training error above this, with no human-level estimate saying otherwise, is high bias.
_HIGH_TRAIN_ERROR = 0.10


@dataclass(frozen=True)
class CurveReport:
    """What the curves say.

    Attributes:
        epochs: how many epochs the history holds.
        monitor: the metric the best epoch is chosen by.
        best_epoch: the epoch with the best ``monitor`` value.
        best_value: that value.
        gap_at_best: validation minus training loss at the best epoch.
        overfit_onset: the epoch after which validation loss keeps rising while
            training loss keeps falling, or ``None``.
        verdict: one of ``diverging``, ``stalled`` (the training loss stopped moving
            altogether), ``overfitting``, ``underfitting``, ``still_improving``,
            ``oscillating``, ``good_fit``.
        findings: plain sentences, most important first.
        suggested_patience: an ``EarlyStopping`` patience fitted to this curve.
        suggested_epochs: how many epochs to train (best epoch + patience).
        early_stopping: what ``EarlyStopping`` would have done on this curve, with patience 0
            and with the suggested patience.
    """

    epochs: int
    monitor: str
    best_epoch: int | None
    best_value: float | None
    gap_at_best: float | None
    overfit_onset: int | None
    verdict: str
    findings: list[str] = field(default_factory=list)
    underfitting: bool = False
    suggested_patience: int | None = None
    suggested_epochs: int | None = None
    early_stopping: tuple[EarlyStoppingReplay, ...] = ()  # replayed with patience 0 and the suggested patience

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lowest_epoch(values: Sequence[float]) -> int | None:
    """The epoch of the lowest finite value: a run's best epoch (of its ``val_loss``), as fitscope says it everywhere.

    ``None`` when no value is finite; the first such epoch when several tie.
    """
    finite = [(value, epoch) for epoch, value in enumerate(values) if math.isfinite(value)]
    return min(finite)[1] if finite else None


def best_epoch_sentence(curve: CurveReport) -> str | None:
    """ "The lowest val_loss, V, was at epoch B (the best epoch)." : the one definition of the best epoch."""
    if curve.best_epoch is None or curve.best_value is None or curve.verdict == "stalled":
        return None  # (no best epoch of a model that never moved)
    if "loss" in curve.monitor or "error" in curve.monitor:
        said = _("The lowest {monitor}, {value}, was at epoch {epoch} (the best epoch).")
    else:
        said = _("The highest {monitor}, {value}, was at epoch {epoch} (the best epoch).")
    return said.format(monitor=curve.monitor, value=f"{curve.best_value:.4g}", epoch=curve.best_epoch)


def early_stopping_sentences(curve: CurveReport, history: dict[str, list[float]]) -> list[str]:
    """What EarlyStopping would have done on this curve, and the one that fits it."""
    if curve.best_epoch is None or curve.verdict == "stalled":
        return []
    out = [replay.sentence(history, curve.epochs) for replay in curve.early_stopping]
    out.append(
        _("A fitting EarlyStopping is {call}, or about {epochs} epochs.").format(
            call=f"EarlyStopping(monitor='{curve.monitor}', patience={curve.suggested_patience}, "
            "restore_best_weights=True)",
            epochs=curve.suggested_epochs,
        )
    )
    return out


def curve_sentences(curve: CurveReport, history: dict[str, list[float]] | None = None) -> list[str]:
    """The best epoch, the findings as sentences, then what EarlyStopping would do on the curve."""
    best = best_epoch_sentence(curve)
    out = [best] if best else []
    out.extend(f[:1].upper() + f[1:] for f in curve.findings)
    out.extend(early_stopping_sentences(curve, history or {}))
    return out


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average that keeps the length (shorter windows at the ends)."""
    if window <= 1 or len(values) < 3:
        return values.astype(float)
    half = window // 2
    padded = np.concatenate([np.full(half, values[0]), values, np.full(half, values[-1])])
    kernel = np.ones(2 * half + 1) / (2 * half + 1)
    return np.convolve(padded, kernel, mode="valid")[: len(values)]


def _window(n: int) -> int:
    return max(3, min(51, n // 15 * 2 + 1))


def analyse_curves(
    history: dict[str, list[float]],
    *,
    monitor: str = "val_loss",
    num_classes: int | None = None,
) -> CurveReport:
    """Analyse one run's curves.

    Args:
        history: ``{metric: [value per epoch]}`` with at least ``loss`` and ``val_loss``.
        monitor: the metric that picks the best epoch (lower is better for losses
            and errors, higher for anything else).
        num_classes: for classification, the chance-level loss is ``ln(num_classes)``.

    Raises:
        ArgumentError: no validation curve, or fewer than 3 epochs.
    """
    if monitor not in history:
        have = ", ".join(sorted(history)) or "none"
        raise ArgumentError(f"the run has no `{monitor}` curve (metrics: {have}); curve verdicts need validation data.")
    values = np.asarray(history[monitor], dtype=float)
    if len(values) < MIN_EPOCHS:
        raise ArgumentError(f"curve verdicts need at least {MIN_EPOCHS} epochs; the run has {len(values)}.")
    lower_is_better = "loss" in monitor or "error" in monitor
    train = np.asarray(history.get("loss", []), dtype=float)
    val_loss = np.asarray(history.get("val_loss", values), dtype=float)
    n = len(values)
    findings: list[str] = []

    finite = np.isfinite(values)
    best_epoch: int | None = None
    best_value: float | None = None
    if finite.any():
        candidates = np.where(finite, values, np.inf if lower_is_better else -np.inf)
        best_epoch = int(np.argmin(candidates) if lower_is_better else np.argmax(candidates))
        best_value = float(values[best_epoch])
    gap = None
    if best_epoch is not None and len(train) == n and math.isfinite(train[best_epoch]):
        gap = float(val_loss[best_epoch] - train[best_epoch])

    diverging = _diverging(train if len(train) == n else val_loss, findings)
    underfitting: list[str] = []
    underfit = not diverging and _underfitting(history, train, num_classes, underfitting)
    # A model that underfits because it stopped moving needs scaled inputs, not a bigger model.
    stalled = underfit and _stalled(train, findings)
    onset = None if diverging or stalled else _overfit_onset(train, val_loss, findings)
    if onset is not None and best_epoch is not None:
        _confident_mistakes(history, best_epoch, findings)
    if not stalled:
        findings.extend(underfitting)
    improving = not diverging and onset is None and _still_improving(val_loss, findings)
    oscillating = _oscillating(train if len(train) == n else val_loss, findings)

    if diverging:
        verdict = "diverging"
    elif stalled:
        verdict = "stalled"
    elif onset is not None:
        verdict = "overfitting"
    elif underfit:
        verdict = "underfitting"
    elif improving:
        verdict = "still_improving"
    elif oscillating:
        verdict = "oscillating"
    else:
        verdict = "good_fit"
        findings.append(_("training and validation curves have levelled off together: a good fit for this model."))

    patience = epochs = None
    replays: tuple[EarlyStoppingReplay, ...] = ()
    if best_epoch is not None:
        patience = int(min(50, max(3, round(0.1 * (best_epoch + 1)), _window(n))))
        epochs = best_epoch + 1 + patience
        replays = tuple(
            replay_early_stopping(list(values), patience=p, monitor=monitor, lower_is_better=lower_is_better)
            for p in (0, patience)
        )
    return CurveReport(
        epochs=n, monitor=monitor, best_epoch=best_epoch, best_value=best_value, gap_at_best=gap,
        overfit_onset=onset, verdict=verdict, findings=findings, underfitting=underfit,
        suggested_patience=patience, suggested_epochs=epochs, early_stopping=replays,
    )  # fmt: skip


def _diverging(loss: np.ndarray, findings: list[str]) -> bool:
    bad = ~np.isfinite(loss)
    if bad.any():
        first = int(np.argmax(bad))
        findings.append(
            _(
                "the loss became {value} at epoch {epoch}: training diverged. Lower the learning rate, "
                "check the inputs for extreme values, or clip gradients."
            ).format(value=loss[first], epoch=first)
        )
        return True
    if len(loss) >= MIN_EPOCHS:
        s = smooth(loss, _window(len(loss)))
        if s[-1] > s[0] * 1.05 and np.all(np.diff(s[: max(3, len(s) // 3)]) >= -1e-12):
            findings.append(
                _(
                    "the training loss rose from {first} to {last} from the start: training is diverging. "
                    "Lower the learning rate."
                ).format(first=f"{loss[0]:.4g}", last=f"{loss[-1]:.4g}")
            )
            return True
    return False


def _stalled(loss: np.ndarray, findings: list[str]) -> bool:
    """An underfitting model's training loss is the same at every one of the last epochs: its weights stopped.

    Typically a first step too large for the inputs' scale (a column in the thousands)
    left every ReLU unit dead or the softmax saturated; no bigger model or longer run helps.
    """
    tail = max(2 * MIN_EPOCHS, len(loss) // 10)
    if len(loss) < tail or not np.isfinite(loss).all() or loss[-1] < 1e-3:
        return False
    level = float(loss[-1])
    flat = np.abs(loss - level) <= 1e-6 * abs(level)
    if not flat[-tail:].all():
        return False
    since = len(loss) - int(np.argmin(flat[::-1])) if not flat.all() else 0
    findings.append(
        _(
            "the training loss has not moved since epoch {epoch} ({level} at every epoch): the model stopped "
            "learning (dead ReLU units or a saturated output, typically after a first step too large for the "
            "inputs). Scale the inputs (`data.scale: standardize` for columns of different ranges) or lower the "
            "learning rate."
        ).format(epoch=since, level=f"{level:.4g}")
    )
    return True


def _overfit_onset(train: np.ndarray, val: np.ndarray, findings: list[str]) -> int | None:
    n = len(val)
    if n < 2 * MIN_EPOCHS or len(train) != n:
        return None
    window = _window(n)
    sv, st = smooth(val, window), smooth(train, window)
    noise = float(np.std(val - sv)) if n > window else 0.0
    low = int(np.argmin(sv))
    after = n - 1 - low
    patience = max(MIN_EPOCHS, window)
    if after < patience:
        return None
    rise = float(sv[-1] - sv[low])
    # Large next to the noise and to the level, and lasting: the last `patience` epochs stay
    # above the minimum. (Not every epoch from `low + patience` on: a slow, U-shaped rise, the
    # common case, is still near the minimum then.)
    threshold = max(2.0 * noise, 0.02 * abs(sv[low]), 1e-3)
    tail = sv[-patience:]
    train_falling = st[-1] < st[low] - max(noise * 0.5, 1e-4)
    if rise > threshold and tail.size and float(tail.min()) > sv[low] + threshold / 2 and train_falling:
        findings.append(
            _(
                "overfitting starts around epoch {epoch} (on the smoothed curve): from there validation loss rose, "
                "to {last} at the last epoch, while training loss kept falling."
            ).format(epoch=low, last=f"{val[-1]:.4g}")
        )
        return low
    return None


def _accuracy_curve(history: dict[str, list[float]], prefix: str = "val_") -> np.ndarray | None:
    values = history.get(f"{prefix}accuracy", history.get(f"{prefix}acc"))
    return None if not values else np.asarray(values, dtype=float)


def _confident_mistakes(history: dict[str, list[float]], best: int, findings: list[str]) -> None:
    """Validation loss rising after the best epoch while validation accuracy holds: the book's lesson on it."""
    accuracy = _accuracy_curve(history)
    loss = np.asarray(history.get("val_loss", []), dtype=float)
    if accuracy is None or len(accuracy) != len(loss) or best >= len(loss) - 1:
        return
    window = _window(len(accuracy))
    smoothed = smooth(np.nan_to_num(accuracy, nan=0.0), window)
    held = float(smoothed[-1]) >= float(smoothed[best]) - 0.02  # (within two points: flat, or better)
    if held:
        findings.append(
            _(
                "after epoch {epoch} validation loss rose ({loss_then} -> {loss_last}) while validation accuracy "
                "stayed about the same ({accuracy_then} -> {accuracy_last}): the model grows more confident in its "
                "wrong answers. The loss weighs how sure each answer is; accuracy counts only whether the "
                "top-scoring class is right."
            ).format(
                epoch=best,
                loss_then=f"{loss[best]:.4g}",
                loss_last=f"{loss[-1]:.4g}",
                accuracy_then=f"{accuracy[best]:.1%}",
                accuracy_last=f"{accuracy[-1]:.1%}",
            )
        )


def _underfitting(
    history: dict[str, list[float]], train: np.ndarray, num_classes: int | None, findings: list[str]
) -> bool:
    accuracy = history.get("accuracy")
    if accuracy:
        # The last tenth of the epochs, not the last one: a noisy curve's final epoch can mislead.
        # The sentence says so, as the error levels beside it are the last epoch's.
        last = max(1, len(accuracy) // 10)
        train_error = 1.0 - float(np.nanmean(np.asarray(accuracy[-last:], dtype=float)))
        if train_error > _HIGH_TRAIN_ERROR:
            if last == 1:
                said = _(
                    "training accuracy is only {accuracy} in the last epoch: the model cannot even fit its training "
                    "data (high bias). A bigger model, longer training or a better architecture should help."
                )
            else:
                said = _(
                    "training accuracy is only {accuracy} on average over the last {epochs} epochs: the model cannot "
                    "even fit its training data (high bias). A bigger model, longer training or a better "
                    "architecture should help."
                )
            findings.append(said.format(accuracy=f"{1 - train_error:.1%}", epochs=last))
            return True
    if num_classes and len(train) and math.isfinite(train[-1]):
        chance = math.log(num_classes)
        if train[-1] > 0.5 * chance:
            findings.append(
                _(
                    "training loss ends at {loss}, close to chance level (ln {classes} = {chance}): the model is "
                    "underfitting."
                ).format(loss=f"{train[-1]:.3g}", classes=num_classes, chance=f"{chance:.3g}")
            )
            return True
    return False


def _still_improving(val: np.ndarray, findings: list[str]) -> bool:
    n = len(val)
    s = smooth(val, _window(n))
    tail = max(MIN_EPOCHS, n // 10)
    if n <= tail:
        return bool(s[-1] < s[0])
    drop = float(s[-tail] - s[-1])
    if drop > 0.01 * abs(s[-1]) and int(np.argmin(s)) >= n - 2:
        findings.append(
            _(
                "validation loss was still falling at the last epoch ({then} -> {last} over the last {epochs} "
                "epochs): train longer."
            ).format(then=f"{s[-tail]:.4g}", last=f"{s[-1]:.4g}", epochs=tail)
        )
        return True
    return False


def _oscillating(loss: np.ndarray, findings: list[str]) -> bool:
    if len(loss) < 8 or not np.isfinite(loss).all():
        return False
    diffs = np.diff(loss)
    flips = float(np.mean(np.sign(diffs[1:]) != np.sign(diffs[:-1])))
    amplitude = float(np.median(np.abs(diffs)) / max(float(np.median(np.abs(loss))), 1e-12))
    if flips > 0.6 and amplitude > 0.10:
        findings.append(
            _(
                "the training loss jumps up and down from epoch to epoch: the learning rate may be too high or "
                "the batch too small."
            )
        )
        return True
    return False
