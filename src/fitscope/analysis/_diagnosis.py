"""Diagnose a recorded run: its curves, Ng's gap analysis, and the evidence of dev-set reuse."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

from .._errors import ArgumentError
from ..data import SplitManifest
from ..store import Run
from ._curves import MIN_EPOCHS, CurveReport, analyse_curves, curve_sentences
from ._gaps import GapReport, analyse_gaps

__all__ = ["Diagnosis", "diagnose_run"]


@dataclass(frozen=True)
class Diagnosis:
    """A run's curve verdict, gap analysis and dev-set reuse, with the sentences to print."""

    gaps: GapReport
    curve: CurveReport | None
    curve_note: str | None
    configurations_on_split: int
    test_evaluations: int
    sentences: list[str] = field(default_factory=list)
    error_metric: str = "accuracy"  # what the error levels are read from (error = 1 - accuracy)
    # A regression's R² per part (train, val, test) from its mean squared error and the part's target variance.
    explained: dict[str, float | None] = field(default_factory=dict)

    @property
    def has_error_levels(self) -> bool:
        """Whether the run gave any error level (a regression, or a run without the error metric, gives none)."""
        return any(self.gaps.errors[level] is not None for level in ("train", "train_dev", "dev", "test"))

    def __str__(self) -> str:
        """The sentences `fitscope diagnose` prints, one per line (for ``print`` in a notebook)."""
        return "\n".join(self.sentences)

    def to_dict(self) -> dict[str, Any]:
        curve = None
        if self.curve is not None:
            c = self.curve
            curve = {
                "best_epoch": c.best_epoch, "overfit_onset": c.overfit_onset, "verdict": c.verdict,
                "suggested_patience": c.suggested_patience, "suggested_epochs": c.suggested_epochs,
                "gap_at_best": c.gap_at_best, "findings": c.findings, "monitor": c.monitor,
            }  # fmt: skip
        return {
            **self.gaps.to_dict(),
            "curve": curve,
            "curve_note": self.curve_note,
            "dev_reuse": {
                "configurations_on_split": self.configurations_on_split,
                "test_evaluations": self.test_evaluations,
            },
            "explained_variance": self.explained or None,
            "summary": self.sentences,
        }


def _last(values: list[float] | None) -> float | None:
    if not values:
        return None
    finite = [v for v in values if math.isfinite(v)]
    return finite[-1] if finite else None


def _error(accuracy: float | None) -> float | None:
    return None if accuracy is None else min(1.0, max(0.0, 1.0 - accuracy))


def diagnose_run(run: Run, *, human_error: float | None = None, error_metric: str = "accuracy") -> Diagnosis:
    """Diagnose one run from the store.

    Errors are ``1 - accuracy`` (or the named error metric): training and dev from
    the last epoch (dev from the latest validation evaluation when there is one),
    train-dev from a ``train_dev_`` metric when recorded, test from the latest test
    evaluation in the ledger.

    Raises:
        ArgumentError: the run has no validation data at all.
    """
    info = run.info()
    history = run.history()
    if not history:
        raise ArgumentError(f"run {run.run_id} has no epochs{info.why_it_ended()}, so there is nothing to diagnose.")
    if not any(name.startswith("val_") for name in history):
        raise ArgumentError(
            f"run {run.run_id} has no validation metrics, so there is nothing to diagnose; "
            "train with validation data (fitscope run always has a val split)."
        )
    is_error = error_metric != "accuracy"

    def level(prefix: str) -> float | None:
        value = _last(history.get(prefix + error_metric))
        return value if is_error else _error(value)

    val_evals = run.evaluations("val")
    test_evals = run.evaluations("test")
    dev = level("val_")
    if val_evals and error_metric in val_evals[-1]["metrics"]:
        v = float(val_evals[-1]["metrics"][error_metric])
        dev = v if is_error else _error(v)
    test = None
    if test_evals and error_metric in test_evals[-1]["metrics"]:
        t = float(test_evals[-1]["metrics"][error_metric])
        test = t if is_error else _error(t)
    errors = {"human": human_error, "train": level(""), "train_dev": level("train_dev_"), "dev": dev, "test": test}
    manifest = info.manifest
    parts = manifest.sizes if manifest else {}  # the split's part sizes: how noisy each held-out level is
    sizes = {"train_dev": parts.get("train_dev"), "dev": parts.get("val"), "test": parts.get("test")}
    gaps = analyse_gaps(errors, sizes)

    classes = manifest.num_classes if manifest else None
    curve: CurveReport | None = None
    note = None
    try:
        curve = analyse_curves(history, num_classes=classes)
    except ArgumentError as exc:
        note = str(exc)
        if len(next(iter(history.values()), [])) < MIN_EPOCHS:
            note = f"curve verdicts need at least {MIN_EPOCHS} epochs; this run has {info.epochs}."

    configurations = 1
    if manifest and manifest.index_hash:
        same = run.store.params_on_split(manifest.index_hash)
        configurations = len({json.dumps(params, sort_keys=True) for params in same}) or 1
    explained = _explained_variance(info.spec or {}, manifest, history, val_evals, test_evals)
    diagnosis = Diagnosis(
        gaps, curve, note, configurations, len(test_evals), error_metric=error_metric, explained=explained
    )
    return replace(diagnosis, sentences=explain(diagnosis))


_MSE = ("mse", "mean_squared_error")


def _explained_variance(
    spec: dict[str, Any], manifest: SplitManifest | None, history: dict[str, list[float]],
    val_evals: list[dict[str, Any]], test_evals: list[dict[str, Any]],
) -> dict[str, float | None]:  # fmt: skip
    """R² = 1 - MSE / variance of a regression's targets, per part, where the run records its MSE.

    The mean squared error is the loss (``compile.loss: mse``) or an ``mse`` metric; the
    variances are the split manifest's (what predicting a constant scores on each part).
    """
    stats = manifest.target_stats if manifest else None
    if not stats:
        return {}
    key = next((name for name in _MSE if name in history), None)
    if key is None and (spec.get("compile") or {}).get("loss") in _MSE:
        key = "loss"
    if key is None:
        return {}

    def r2(mse: float | None, part: str) -> float | None:
        variance = (stats.get(part) or {}).get("variance")
        if mse is None or not variance or not math.isfinite(mse):
            return None
        return 1.0 - mse / variance

    def evaluated(rows: list[dict[str, Any]]) -> float | None:
        return float(rows[-1]["metrics"][key]) if rows and key in rows[-1]["metrics"] else None

    val = evaluated(val_evals)
    return {
        "train": r2(_last(history.get(key)), "train"),
        "val": r2(val if val is not None else _last(history.get(f"val_{key}")), "val"),
        "test": r2(evaluated(test_evals), "test"),
    }


_STALLED_ACTIONS = [
    "make the model learn first: scale the inputs or lower the learning rate, and train again",
    "then read the error levels",
]

_NAMES = {
    "avoidable_bias": "avoidable bias (the model underfits its training data)",
    "variance": "variance (the model does much worse on data it was not trained on)",
    "data_mismatch": "data mismatch (the dev data differs from the training data)",
    "dev_overfitting": "overfitting of the dev set (tuned on it too often)",
}


def explain(d: Diagnosis) -> list[str]:
    """Plain sentences: curve verdict, error levels, primary problem, what to do."""
    out: list[str] = []
    if d.curve is not None:
        out.extend(curve_sentences(d.curve))
    elif d.curve_note:
        out.append(d.curve_note)
    shown = {part: value for part, value in d.explained.items() if value is not None}
    if shown:  # a regression's counterpart of error levels
        parts = ", ".join(f"{part} {value:.2f}" for part, value in shown.items())
        out.append(
            f"Explained variance (R², from the mean squared error): {parts}. 0 is what predicting the mean scores, "
            "1 a perfect fit."
        )
        if (shown.get("val") or 0.0) < 0:
            out.append("On validation data the model does worse than predicting the mean: it has not learned yet.")
    elif not d.has_error_levels:  # a regression, or a metric other than accuracy: there are no error rates to compare
        out.append(
            f"No error levels: the run records no {d.error_metric}, so the error analysis (avoidable bias, "
            "variance, data mismatch), which compares error rates, is left out."
        )
    else:
        out.append(f"Error levels: {d.gaps.levels_text()}.")
        if d.gaps.primary == "none" and d.gaps.within_noise:
            out.append("No gap stands out beyond the sampling noise of the held-out sets.")
        elif d.gaps.primary == "none":
            out.append("No gap stands out: the model is close to the best this data and estimate allow.")
        else:
            gap = d.gaps.gaps[d.gaps.primary] or 0.0
            out.append(f"Primary problem: {_NAMES[d.gaps.primary]}, {gap:.1%}.")
        out.extend(d.gaps.notes)
    if d.configurations_on_split > 1:
        out.append(
            f"{d.configurations_on_split} different configurations were scored on this validation split: "
            "the more you tune on it, the more optimistic its score becomes."
        )
    if d.test_evaluations > 1:
        out.append(f"The test set of this run was evaluated {d.test_evaluations} times: it is no longer unseen.")
    if d.has_error_levels:
        # The bias and variance of a model that never learned say little: first make it learn.
        stalled = d.curve is not None and d.curve.verdict == "stalled"
        out.append("Next: " + ("; ".join(_STALLED_ACTIONS if stalled else d.gaps.actions)) + ".")
    return out
