"""Diagnose a recorded run: its curves, Ng's gap analysis, and the evidence of dev-set reuse."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

from .._errors import ArgumentError
from .._i18n import N_, _
from ..data import HUMAN_LEVEL_ERROR, SplitManifest
from ..store import Run, RunInfo
from ._curves import MIN_EPOCHS, CurveReport, analyse_curves, best_epoch_sentence, early_stopping_sentences
from ._gaps import ACTIONS, GapReport, analyse_gaps

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
    # The epoch of the weights the error levels are of: the last, or the best one EarlyStopping restored.
    judged_epoch: int | None = None
    epochs: int = 0  # how many epochs the run has
    # Training and dev error at the best epoch, when the judged weights are another epoch's.
    best_levels: dict[str, float | None] = field(default_factory=dict)
    # Where the human-level error comes from: "given", the dataset's published figure, or None (no estimate).
    human_source: str | None = None
    # Training samples whose input occurs with another label too (the split's audit), when it was recorded.
    conflicting_labels: int | None = None

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
                "best_value": c.best_value,
                "early_stopping": [
                    {"patience": r.patience, "stopped_epoch": r.stopped_epoch, "best_epoch": r.best_epoch,
                     "kept_epoch": r.kept_epoch} for r in c.early_stopping
                ],
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
            "judged_epoch": self.judged_epoch,
            "best_epoch_errors": self.best_levels or None,
            "human_error_source": self.human_source,
            "summary": self.sentences,
        }


def _last(values: list[float] | None) -> float | None:
    if not values:
        return None
    finite = [v for v in values if math.isfinite(v)]
    return finite[-1] if finite else None


def _at(values: list[float] | None, epoch: int) -> float | None:
    if not values or not 0 <= epoch < len(values) or not math.isfinite(values[epoch]):
        return None
    return values[epoch]


def _error(accuracy: float | None) -> float | None:
    return None if accuracy is None else min(1.0, max(0.0, 1.0 - accuracy))


def _refit_has_no_validation(run: Run, info: RunInfo) -> str:
    """What to diagnose instead of a search's refit (``info`` is ``run``'s): the trial it trained again."""
    search = (info.group_id or "").removesuffix("-refit")
    refitted = [other.run_id for other in run.store.runs(group=search)
                if other.status == "finished" and other.params == info.params]  # fmt: skip
    instead = (
        f"diagnose the trial it trained again: `fitscope diagnose {refitted[0]}`" if len(refitted) == 1 else
        f"diagnose the runs of the search's winner ({len(refitted)} folds: {', '.join(refitted)})" if refitted else
        f"diagnose the search's runs (group {search})"
    )  # fmt: skip
    return (
        f"run {run.run_id} is the refit of search {search}: it trained on the training and validation data "
        f"together, so it has no validation metrics to diagnose; {instead}."
    )


def diagnose_run(run: Run, *, human_error: float | None = None, error_metric: str = "accuracy") -> Diagnosis:
    """Diagnose one run from the store.

    Errors are ``1 - accuracy`` (or the named error metric), of the weights the run
    ended with: the last epoch's, or the best epoch's when EarlyStopping restored them
    (the epoch the latest validation evaluation names). Training and train-dev error
    come from that epoch's metrics, dev error from the validation evaluation (else that
    epoch's), test error from the latest test evaluation in the ledger. The levels at
    the best epoch are given beside them. Without ``human_error``, a built-in dataset's
    published human-level error is used (its source is said).

    Raises:
        ArgumentError: the run has no validation data at all.
    """
    info = run.info()
    history = run.history()
    if not history:
        raise ArgumentError(f"run {run.run_id} has no epochs{info.why_it_ended()}, so there is nothing to diagnose.")
    if not any(name.startswith("val_") for name in history):
        if info.trial.get("refit"):  # (its bookkeeping says so, as for `errors`)
            raise ArgumentError(_refit_has_no_validation(run, info))
        raise ArgumentError(
            f"run {run.run_id} has no validation metrics, so there is nothing to diagnose; "
            "train with validation data (fitscope run always has a val split)."
        )
    is_error = error_metric != "accuracy"
    epochs = len(next(iter(history.values())))
    val_evals = run.evaluations("val")
    test_evals = run.evaluations("test")
    ended = val_evals[-1].get("epoch") if val_evals else None
    judged = ended if isinstance(ended, int) and 0 <= ended < epochs else epochs - 1

    def level(prefix: str, epoch: int) -> float | None:
        value = _at(history.get(prefix + error_metric), epoch)
        return value if is_error else _error(value)

    dev = level("val_", judged)
    if val_evals and error_metric in val_evals[-1]["metrics"]:
        v = float(val_evals[-1]["metrics"][error_metric])
        dev = v if is_error else _error(v)
    test = None
    if test_evals and error_metric in test_evals[-1]["metrics"]:
        t = float(test_evals[-1]["metrics"][error_metric])
        test = t if is_error else _error(t)
    manifest = info.manifest
    human_source = "given" if human_error is not None else None
    if human_error is None and manifest is not None and manifest.dataset in HUMAN_LEVEL_ERROR and not is_error:
        human_error, human_source = HUMAN_LEVEL_ERROR[manifest.dataset]
    errors = {"human": human_error, "train": level("", judged), "train_dev": level("train_dev_", judged), "dev": dev,
              "test": test}  # fmt: skip
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
            note = _("curve verdicts need at least {needed} epochs; this run has {epochs}.").format(
                needed=MIN_EPOCHS, epochs=info.epochs
            )

    configurations = 1
    if manifest and manifest.index_hash:
        same = run.store.params_on_split(manifest.index_hash)
        configurations = len({json.dumps(params, sort_keys=True) for params in same}) or 1
    explained = _explained_variance(info.spec or {}, manifest, history, val_evals, test_evals)
    best_levels: dict[str, float | None] = {}
    if curve is not None and curve.best_epoch is not None and curve.best_epoch != judged:
        best_levels = {"train": level("", curve.best_epoch), "dev": level("val_", curve.best_epoch)}
    diagnosis = Diagnosis(
        gaps, curve, note, configurations, len(test_evals), error_metric=error_metric, explained=explained,
        judged_epoch=judged, epochs=epochs, best_levels=best_levels, human_source=human_source,
        conflicting_labels=((manifest.audit or {}).get("conflicting_labels") or {}).get("train") if manifest else None,
    )  # fmt: skip
    return replace(diagnosis, sentences=explain(diagnosis, history))


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


def explain(d: Diagnosis, history: dict[str, list[float]] | None = None) -> list[str]:
    """One account: the best epoch, what the curves show, the error levels, the problems in Ng's order, what to do.

    The curve verdict and the error analysis are told together: a model that both
    underfits and overfits is said to, with which to fix first (bias first, as Ng
    orders them), and one list of actions follows from both. Said in the language in
    use (:mod:`fitscope._i18n`).
    """
    history = history or {}
    out: list[str] = []
    curve = d.curve
    if curve is not None:
        best = best_epoch_sentence(curve)
        out.extend([best] if best else [])
        out.extend(f[:1].upper() + f[1:] for f in curve.findings)
        if curve.underfitting and curve.verdict != "stalled":
            out.append(_suspect_the_data(d.conflicting_labels))
    elif d.curve_note:
        out.append(d.curve_note)
    shown = {part: value for part, value in d.explained.items() if value is not None}
    if shown:  # a regression's counterpart of error levels
        parts = ", ".join(f"{_(_PARTS.get(part, part))} {value:.2f}" for part, value in shown.items())
        out.append(
            _(
                "Explained variance (R², from the mean squared error): {parts}. 0 is what predicting the mean "
                "scores, 1 a perfect fit."
            ).format(parts=parts)
        )
        if (shown.get("val") or 0.0) < 0:
            out.append(_("On validation data the model does worse than predicting the mean: it has not learned yet."))
    elif not d.has_error_levels:  # a regression, or a metric other than accuracy: there are no error rates to compare
        out.append(
            _(
                "No error levels: the run records no {metric}, so the error analysis (avoidable bias, variance, data "
                "mismatch), which compares error rates, is left out."
            ).format(metric=d.error_metric)
        )
    else:
        out.extend(_levels_sentences(d))
        out.extend(_problems_sentences(d))
        out.extend(d.gaps.notes)
    if d.configurations_on_split > 1:
        out.append(
            _(
                "{count} different configurations were scored on this validation split: the more you tune on it, "
                "the more optimistic its score becomes."
            ).format(count=d.configurations_on_split)
        )
    if d.test_evaluations > 1:
        out.append(
            _("The test set of this run was evaluated {count} times: it is no longer unseen.").format(
                count=d.test_evaluations
            )
        )
    if curve is not None:
        out.extend(early_stopping_sentences(curve, history))
    if d.has_error_levels:
        out.append(_("Next: {actions}.").format(actions="; ".join(_actions(d))))
    return out


_PARTS = {"train": N_("train"), "val": N_("val"), "test": N_("test")}


def _suspect_the_data(conflicting: int | None) -> str:
    """What else keeps a model from fitting its training data, beside its size (the book's checklist)."""
    if conflicting:
        return _(
            "The data may be part of it: {count} training sample(s) share their input with a sample of another "
            "label, and no model can fit both. Check those labels (the split's audit lists examples)."
        ).format(count=conflicting)
    return _(
        "If a bigger model cannot fit the training data either, suspect the data: the same input with different "
        "labels, or input columns on very different scales (`data.scale: standardize`)."
    )


def _levels_sentences(d: Diagnosis) -> list[str]:
    """The error levels, of which weights, and beside them the best epoch's."""
    levels = d.gaps.levels_text()
    if d.judged_epoch is None:
        said = _("Error levels: {levels}.").format(levels=levels)
    elif d.judged_epoch == d.epochs - 1:
        said = _("Error levels (the weights after epoch {epoch}, the last): {levels}.").format(
            epoch=d.judged_epoch, levels=levels
        )
    else:
        said = _("Error levels (the weights of epoch {epoch}, which the run ended with): {levels}.").format(
            epoch=d.judged_epoch, levels=levels
        )
    out = [said]
    if d.human_source not in (None, "given"):
        human = d.gaps.errors.get("human") or 0.0
        out.append(
            _("Human-level error {human} is {source}; give your own estimate to replace it.").format(
                human=f"{human:.1%}", source=_(d.human_source) if d.human_source else ""
            )
        )
    train, dev = d.best_levels.get("train"), d.best_levels.get("dev")
    if d.curve is not None and d.curve.best_epoch is not None and train is not None and dev is not None:
        out.append(
            _(
                "At the best epoch ({epoch}) they were train {train}, dev {dev}: a model stopped there would be "
                "judged by these."
            ).format(epoch=d.curve.best_epoch, train=f"{train:.1%}", dev=f"{dev:.1%}")
        )
    return out


_NAMES = {
    "avoidable_bias": N_("avoidable bias (the model underfits its training data)"),
    "variance": N_("variance (the model does much worse on data it was not trained on)"),
    "data_mismatch": N_("data mismatch (the dev data differs from the training data)"),
    "dev_overfitting": N_("overfitting of the dev set (tuned on it too often)"),
}
_SHORT_NAMES = {
    "avoidable_bias": N_("avoidable bias"),
    "variance": N_("variance"),
    "data_mismatch": N_("data mismatch"),
    "dev_overfitting": N_("overfitting of the dev set"),
}


def _overfits(d: Diagnosis) -> bool:
    return d.curve is not None and d.curve.overfit_onset is not None


def _problems_sentences(d: Diagnosis) -> list[str]:
    gaps = d.gaps
    if gaps.primary == "none":
        if gaps.within_noise:
            return [_("No gap stands out beyond the sampling noise of the held-out sets.")]
        return [_("No gap stands out: the model is close to the best this data and estimate allow.")]
    primary = gaps.gaps[gaps.primary] or 0.0
    out = [_("Primary problem: {problem}, {gap}.").format(problem=_(_NAMES[gaps.primary]), gap=f"{primary:.1%}")]
    onset = d.curve.overfit_onset if d.curve is not None else None
    if gaps.primary == "avoidable_bias" and ("variance" in gaps.problems or onset is not None):
        variance = gaps.gaps.get("variance")
        if onset is not None:
            said = _("The model both underfits and overfits from about epoch {epoch}{size}.")
        else:
            said = _("The model both underfits and overfits{size}.")
        size = _(" (variance {gap})").format(gap=f"{variance:.1%}") if variance is not None and variance > 0 else ""
        out.append(
            said.format(epoch=onset, size=size)
            + " "
            + _(
                "Fix the bias first, in Ng's order: a bigger model lowers the training error; the overfitting it may "
                "bring is then met with regularisation, more data, or stopping at the best epoch."
            )
        )
    elif len(gaps.problems) > 1:
        others = ", ".join(_(_SHORT_NAMES[name]) for name in gaps.problems[1:])
        out.append(_("Also large: {others}; fix them in this order, after the primary problem.").format(others=others))
    if "dev_overfitting" in gaps.problems:
        test, dev = gaps.errors.get("test") or 0.0, gaps.errors.get("dev") or 0.0
        tuned = d.configurations_on_split
        if tuned > 1:
            why = _(
                "{count} configurations were scored on this validation split, so its score flatters the chosen one"
            ).format(count=tuned)
        else:
            why = _("only one configuration was scored on the validation split, so tuning on it explains little")
        out.append(
            _(
                "The test error ({test}) is well above the validation error ({dev}), beyond the sets' sampling "
                "noise: training and validation look fine but the test does not. Either the validation set was "
                "tuned on too often ({why}), or the test data differs from the validation data (a mismatch: compare "
                "a few of each by hand)."
            ).format(test=f"{test:.1%}", dev=f"{dev:.1%}", why=why)
        )
    return out


_STALLED_ACTIONS = [
    N_("make the model learn first: scale the inputs or lower the learning rate, and train again"),
    N_("then read the error levels"),
]
_STOP_AT_BEST = N_("stop at the best epoch (the EarlyStopping above)")
_STOP_EARLY = ACTIONS["variance"][2]  # (replaced by the EarlyStopping the account shows)


def _actions(d: Diagnosis) -> list[str]:
    """One ordered list: the problems in Ng's order, each one's first actions, and stopping at the best epoch."""
    if d.curve is not None and d.curve.verdict == "stalled":
        return [_(action) for action in _STALLED_ACTIONS]  # (a model that never learned: its gaps say little)
    if d.gaps.primary == "none":
        first = list(d.gaps.actions)
        return [_(_STOP_AT_BEST), *first] if _overfits(d) else first
    steps: list[str] = []
    for number, name in enumerate(d.gaps.problems):
        wanted = ACTIONS[name] if number == 0 else ACTIONS[name][:2]
        if name == "variance" or (number == 0 and _overfits(d) and "variance" not in d.gaps.problems):
            wanted = [action for action in wanted if action != _STOP_EARLY]
        for i, action in enumerate(wanted):
            steps.append(_("then {action}").format(action=_(action)) if number and i == 0 else _(action))
    if _overfits(d) or "variance" in d.gaps.problems:
        stop = _(_STOP_AT_BEST)
        steps.append(_("then {action}").format(action=stop) if d.gaps.primary != "variance" else stop)
    return steps
