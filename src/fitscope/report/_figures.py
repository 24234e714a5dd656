"""The figures: the book's twin-axis curves, run comparisons, cross-validation bands.

Built with matplotlib's object API on the Agg canvas (no pyplot, no display), so
they work headless. :func:`save_figure` writes atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .._atomic import write_atomically
from .._errors import ArgumentError, DataError
from .._i18n import _
from ._fonts import with_korean_fonts

__all__ = [
    "CurveSet", "band_figure", "book_figure", "check_figure_name", "compare_figure", "grid_figure",
    "learning_curve_figure", "param_figure", "save_figure",
]  # fmt: skip

# The book's colours: loss yellow (train) and red (validation), accuracy blue and green.
BOOK_COLOURS = {"loss": "y", "val_loss": "r", "accuracy": "b", "val_accuracy": "g"}
FORMATS = (".png", ".svg", ".pdf")


@dataclass
class CurveSet:
    """One run's curves for a comparison: a label, its history, its split and parameters.

    ``pruned``: a search stopped the run early (its curve ends with a cross, and the legend says at which epoch).
    """

    label: str
    history: dict[str, list[float]]
    split_hash: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    pruned: bool = False


def _figure(width: float = 8.0, height: float = 5.0) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _epochs(values: Sequence[float]) -> np.ndarray:
    return np.arange(len(values))


def check_metrics(history: dict[str, list[float]], wanted: Sequence[str], *, where: str) -> None:
    """Raise a clear error for a run with no epochs or a metric it does not have."""
    if not history or not any(history.values()):
        raise DataError(f"{where} has no epochs yet: there is nothing to draw. Train it first.")
    missing = [m for m in wanted if m not in history]
    if missing:
        raise ArgumentError(
            f"{where} has no metric {', '.join(map(repr, missing))}; it has {', '.join(sorted(history))}."
        )


@with_korean_fonts
def book_figure(
    history: dict[str, list[float]],
    *,
    title: str = "",
    best_epoch: int | None = None,
    onset: int | None = None,
) -> Any:
    """The book's figure: loss on the left axis, accuracy on the right, epochs along x.

    Training loss yellow, validation loss red (legend upper left); training accuracy
    blue, validation accuracy green (legend lower left). A run without accuracy (a
    regression's ``mae``, say) shows its first other metric on the right instead, and
    one with no other metric has no right axis. The best epoch and the overfitting
    onset are marked when given.
    """
    figure = _figure()
    loss_ax = figure.add_subplot(1, 1, 1)
    labels = {
        "loss": _("train loss"), "val_loss": _("val loss"), "accuracy": _("train acc"), "val_accuracy": _("val acc"),
    }  # fmt: skip
    for metric in ("loss", "val_loss"):
        if metric in history:
            loss_ax.plot(_epochs(history[metric]), history[metric], BOOK_COLOURS[metric], label=labels[metric])
    right = second_metric(history)
    if right is not None:
        right_ax = loss_ax.twinx()
        for metric, colour in ((right, BOOK_COLOURS["accuracy"]), (f"val_{right}", BOOK_COLOURS["val_accuracy"])):
            if metric in history:
                named = _("val {metric}") if metric.startswith("val_") else _("train {metric}")
                label = labels.get(metric, named.format(metric=right))
                right_ax.plot(_epochs(history[metric]), history[metric], colour, label=label)
        right_ax.set_ylabel(right)
        right_ax.legend(loc="lower left")
    _mark_epochs(loss_ax, best_epoch, onset)
    _epoch_axis(loss_ax)
    loss_ax.set_ylabel("loss")
    loss_ax.legend(loc="upper left")
    if title:
        loss_ax.set_title(title)
    return figure


def second_metric(history: dict[str, list[float]]) -> str | None:
    """The metric beside the loss: accuracy, as in the book; else another, one with a validation curve first.

    The book figure's right axis, and (among validation curves all runs share) the
    second panel of a comparison. A logged learning rate has no validation curve.
    """
    names = [name.removeprefix("val_") for name in history if not name.startswith("train_dev_")]
    others = [name for name in dict.fromkeys(names) if name != "loss"]
    paired = [name for name in others if f"val_{name}" in history]
    return "accuracy" if "accuracy" in others else next(iter(paired or others), None)


def _epoch_axis(ax: Any) -> None:
    """Label the x axis and keep its ticks on whole epochs (no "epoch 2.5" on short runs)."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel(_("epoch"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


@with_korean_fonts
def grid_figure(history: dict[str, list[float]], metrics: Sequence[str], *, title: str = "") -> Any:
    """One panel per metric (training and validation together)."""
    base = [m for m in dict.fromkeys(m.removeprefix("val_") for m in metrics)]
    figure = _figure(width=4.0 * len(base) + 1, height=4.0)
    for i, name in enumerate(base):
        ax = figure.add_subplot(1, len(base), i + 1)
        for metric, style in ((name, "-"), (f"val_{name}", "--")):
            if metric in history:
                ax.plot(_epochs(history[metric]), history[metric], style, label=metric)
        _epoch_axis(ax)
        ax.set_title(name)
        ax.legend()
    if title:
        figure.suptitle(title)
    return figure


# Bookkeeping that fitscope adds to a trial's params; not worth a legend entry.
def _differing(sets: Sequence[CurveSet]) -> list[str]:
    keys = sorted({k for s in sets for k in s.params})
    return [k for k in keys if len({repr(s.params.get(k)) for s in sets}) > 1]


def comparison_metrics(histories: Sequence[dict[str, list[float]]]) -> list[str]:
    """``val_loss`` and the second metric (:func:`second_metric`) among the validation curves every run has."""
    shared = {n: v for n, v in histories[0].items() if n.startswith("val_") and all(n in h for h in histories)}
    second = second_metric(shared)
    return ["val_loss", f"val_{second}"] if second else ["val_loss"]


@with_korean_fonts
def compare_figure(sets: Sequence[CurveSet], *, metrics: Sequence[str] | None = None, title: str = "") -> Any:
    """Overlaid validation curves of several runs, labelled with the parameters that differ.

    By default ``val_loss`` and ``val_accuracy``, or for runs without accuracy (a
    regression's ``val_mae``) the :func:`comparison_metrics` they share. Runs scored on
    different validation sets (different split manifests) are flagged on the figure:
    their numbers are not comparable.
    """
    if metrics is None:
        metrics = comparison_metrics([s.history for s in sets])
    figure = _figure(width=5.0 * len(metrics) + 1, height=4.6 + 0.25 * len(sets))
    differing = _differing(sets)
    axes = [figure.add_subplot(1, len(metrics), i + 1) for i in range(len(metrics))]
    for curve in sets:
        label = curve.label
        if differing:
            label += " (" + ", ".join(f"{k}={curve.params.get(k)}" for k in differing) + ")"
        if curve.pruned:
            last = len(next(iter(curve.history.values()), [])) - 1
            label += " — " + _("pruned at epoch {epoch}").format(epoch=last)
        for ax, metric in zip(axes, metrics):
            if metric in curve.history:
                values = curve.history[metric]
                (line,) = ax.plot(_epochs(values), values, label=label)
                if curve.pruned and values:
                    ax.plot([len(values) - 1], [values[-1]], marker="x", markersize=8, color=line.get_color())
    for ax, metric in zip(axes, metrics):
        _epoch_axis(ax)
        ax.set_title(metric)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:  # one legend under the panels: long parameter labels never cover the curves
        figure.legend(handles, labels, loc="outside lower center", fontsize="small", ncols=1 if len(sets) > 3 else 2)
    hashes = {s.split_hash for s in sets}
    if len(hashes) > 1:
        figure.suptitle(
            _("warning: these runs were scored on different validation sets — compare with care"), color="tab:red"
        )
    elif title:
        figure.suptitle(title)
    return figure


def _mark_epochs(ax: Any, best_epoch: int | None, onset: int | None) -> None:
    """Vertical lines at the best epoch and at the overfitting onset (when it is another epoch)."""
    if best_epoch is not None:
        label = _("best epoch {epoch}").format(epoch=best_epoch)
        ax.axvline(best_epoch, color="0.35", linestyle="--", linewidth=1, label=label)
    if onset is not None and onset != best_epoch:
        label = _("overfitting starts ~{epoch} (smoothed)").format(epoch=onset)
        ax.axvline(onset, color="0.55", linestyle=":", linewidth=1.5, label=label)


@with_korean_fonts
def band_figure(histories: Sequence[dict[str, list[float]]], *, title: str = "", members: str = "folds") -> Any:
    """Cross-validation folds: mean ± standard deviation per epoch, training and validation.

    The loss, and beside it the book figure's second metric (accuracy; a regression's mae).
    The loss panel marks the best epoch and the overfitting onset of the mean curves,
    as ``fitscope cv`` names them.
    """
    from ..analysis import diagnose_folds, epoch_bands

    bands = epoch_bands(histories)
    curve = diagnose_folds(bands, []).curve
    second = second_metric(histories[0]) if histories else None  # accuracy; a regression's mae
    names = ["loss", *([second] if second else [])]
    figure = _figure(width=5.5 * len(names), height=4.6)
    for i, name in enumerate(names):
        ax = figure.add_subplot(1, len(names), i + 1)
        for metric, colour in ((name, "tab:blue"), (f"val_{name}", "tab:orange")):
            band = bands.get(metric)
            if band is None:
                continue
            mean, std = np.array(band.mean), np.array(band.std)
            epochs = np.arange(len(mean))
            label = _mean_label(metric, band.runs, members)
            ax.plot(epochs, mean, color=colour, label=label)
            label = _("{metric} ± 1 std").format(metric=metric)
            ax.fill_between(epochs, mean - std, mean + std, color=colour, alpha=0.25, label=label)
        if name == "loss" and curve is not None:
            _mark_epochs(ax, curve.best_epoch, curve.overfit_onset)
        _epoch_axis(ax)
        ax.set_title(name)
        if ax.get_lines():
            ax.legend(fontsize="small")
    if title:
        figure.suptitle(title)
    return figure


@with_korean_fonts
def learning_curve_figure(
    points: Sequence[Any], curves: Mapping[int, Mapping[str, Sequence[float]]], *, desired: float | None = None,
    title: str = "",
) -> Any:  # fmt: skip
    """A learning curve: training and validation error against the training-set size, and each size's curves.

    Left, the error (1 - accuracy; a regression's loss) at each size's best epoch, mean ±
    standard deviation over its runs, on a log axis when the sizes span a decade, with
    the desired (human-level) error as a line. Right, each size's mean validation loss
    per epoch, its best epoch marked. ``points`` are :class:`fitscope.analysis.SizePoint`.
    """
    figure = _figure(width=11.5, height=4.6)
    left, right = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    sizes = np.array([p.size for p in points], dtype=float)
    measure = points[0].measure if points else "error"
    for part, colour, label in (("train", "tab:blue", _("training error")), ("val", "tab:orange",
                                                                           _("validation error"))):  # fmt: skip
        mean = np.array([getattr(p, f"{part}_error") for p in points])
        std = np.array([getattr(p, f"{part}_error_std") for p in points])
        left.plot(sizes, mean, "o-", color=colour, label=label)
        if any(p.runs > 1 for p in points):
            left.fill_between(sizes, mean - std, mean + std, color=colour, alpha=0.2)
    if desired is not None:
        left.axhline(desired, color="0.3", linestyle=":", label=_("desired (human-level) error {error}").format(
            error=f"{desired:.1%}" if measure == "error" else f"{desired:.4g}"))  # fmt: skip
    if len(sizes) and sizes.max() >= 10 * sizes.min():
        left.set_xscale("log")
    left.set_xlabel(_("training-set size"))
    left.set_ylabel(_("error (1 - accuracy) at the best epoch") if measure == "error" else _("loss at the best epoch"))
    left.legend(fontsize="small")
    colours = _colours(len(curves))
    for colour, (size, curve) in zip(colours, sorted(curves.items())):
        values = curve.get("val_loss")
        if not values:
            continue
        best = int(np.nanargmin(values))
        right.plot(_epochs(values), values, color=colour, label=_("{size} samples").format(size=size))
        right.plot([best], [values[best]], "o", color=colour)
    _epoch_axis(right)
    right.set_ylabel(_("mean validation loss (o: best epoch)"))
    if right.get_lines():
        right.legend(fontsize="small")
    if title:
        figure.suptitle(title)
    return figure


def _colours(count: int) -> list[Any]:
    """``count`` colours of one sequential map, light to dark: small to large training sets."""
    from matplotlib import colormaps

    return [colormaps["viridis"](0.9 * i / max(count - 1, 1)) for i in range(count)]


@with_korean_fonts
def param_figure(
    values: Sequence[Any], scores: Sequence[float], *, param: str, metric: str, lower_is_better: bool,
    title: str = "",
) -> Any:  # fmt: skip
    """A search's validation metric against one hyperparameter: each trial a point, the best marked.

    Numbers on a number axis, a log one when they are positive and span two decades or
    more (a learning rate); anything else (an optimizer's name, a whole layer) as one
    column per value, in the order the trials came.
    """
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    names = [] if numeric else list(dict.fromkeys(_value_text(v) for v in values))
    xs = [float(v) for v in values] if numeric else [float(names.index(_value_text(v))) for v in values]
    figure = _figure(width=6.5, height=4.6)
    ax = figure.add_subplot(1, 1, 1)
    ax.plot(xs, scores, "o", color="tab:blue", alpha=0.75, label=_("trials"))
    best = int(np.argmin(scores) if lower_is_better else np.argmax(scores))
    shown = f"{xs[best]:.3g}" if numeric else names[int(xs[best])]
    ax.plot([xs[best]], [scores[best]], "*", color="tab:red", markersize=14,
            label=_("best: {value}").format(value=shown))  # fmt: skip
    if numeric and min(xs) > 0 and max(xs) >= 100 * min(xs):
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(range(len(names)), names, rotation=20 if max(map(len, names)) > 8 else 0)
        ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_xlabel(param)
    ax.set_ylabel(metric)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return figure


def _value_text(value: Any) -> str:
    """A searched value as an axis label: a word as it is, anything else as compact JSON (cut at 40 characters)."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 40 else text[:39] + "…"


def _mean_label(name: str, count: int, members: str) -> str:
    """A mean curve's label: over a cross-validation's folds, or over repeated runs (``members="runs"``)."""
    if members == "runs":
        return _("{name} (mean of {count} runs)").format(name=name, count=count)
    return _("{name} (mean of {folds} folds)").format(name=name, folds=count)


def check_figure_name(path: str | os.PathLike[str]) -> Path:
    """``path`` as a figure file fitscope can write (.png, .svg, .pdf): checked before any work that draws it."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ArgumentError(f"cannot write {path}: use a .png, .svg or .pdf file name.")
    return path


def save_figure(figure: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``figure`` to ``path`` (.png, .svg or .pdf) atomically.

    Raises:
        ArgumentError: an unknown format, or a folder that does not exist or cannot be written.
    """
    path = check_figure_name(path)
    suffix = path.suffix.lower()
    return write_output(path, lambda handle: figure.savefig(handle, format=suffix[1:]), example=f"curves{suffix}")


def write_output(path: Path, write: Callable[[BinaryIO], object], *, example: str) -> Path:
    """Write a figure or report the user named, atomically; a path that cannot be written is one clear error.

    Raises:
        ArgumentError: the path is a folder, its folder does not exist, or it cannot be written.
    """
    if path.is_dir():
        raise ArgumentError(f"cannot write {path}: it is a folder. Give a file name, such as {path / example}.")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ArgumentError(f"cannot write {path}: the folder {folder} does not exist. Create it first.")
    try:
        write_atomically(path, write)
    except OSError as exc:
        raise ArgumentError(f"cannot write {path}: {exc.strerror}. Choose a writable folder.") from exc
    return path
