"""High-level plotting: one call from a history source (or runs) to a figure file."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._errors import ArgumentError, DataError
from ..analysis import analyse_curves, epoch_bands
from ..store import Run
from ._figures import (
    CurveSet,
    _mean_label,
    band_figure,
    book_figure,
    check_metrics,
    compare_figure,
    comparison_metrics,
    grid_figure,
    save_figure,
)
from ._history import as_history

__all__ = ["plot_group", "plot_history", "plot_runs"]


def _marks(history: dict[str, list[float]]) -> tuple[int | None, int | None]:
    """Best epoch and overfitting onset (when the curve analysis can tell)."""
    try:
        report = analyse_curves(history)
    except ArgumentError:
        return None, None
    return report.best_epoch, report.overfit_onset


def plot_history(
    source: Any,
    output: str | os.PathLike[str] | None = None,
    *,
    style: str = "book",
    metrics: Sequence[str] | None = None,
    title: str = "",
) -> Any:
    """Draw one history: the book's twin-axis figure, or one panel per metric (``style="grid"``).

    Args:
        source: a Keras ``History``, a ``history.history`` dict, a stored :class:`Run`,
            or the path of a ``CSVLogger`` file.
        output: write the figure there (.png, .svg, .pdf), atomically.
        style: ``"book"`` or ``"grid"``.
        metrics: the metrics to draw with ``style="grid"`` (default: all).
        title: a title (Korean works when a CJK font is installed).

    Returns:
        The matplotlib ``Figure``.
    """
    if style not in ("book", "grid"):
        raise ArgumentError(
            f"Invalid value for argument `style`. Received: style={style!r}. Expected 'book' or 'grid'."
        )
    history = as_history(source)
    where = f"run {source.run_id}" if isinstance(source, Run) else "the history"
    wanted = list(metrics) if metrics else []
    check_metrics(history, wanted, where=where)
    if not title and isinstance(source, Run):
        title = source.info().name
    if style == "grid" or (metrics and not set(metrics) <= {"loss", "val_loss", "accuracy", "val_accuracy"}):
        figure = grid_figure(history, wanted or sorted(history), title=title)
    else:
        best, onset = _marks(history)
        figure = book_figure(history, title=title, best_epoch=best, onset=onset)
    if output is not None:
        save_figure(figure, output)
    return figure


def plot_runs(runs: Sequence[Run], output: str | os.PathLike[str], *, metrics: Sequence[str] | None = None) -> Path:
    """Overlay the validation curves of several runs.

    By default ``val_loss`` and ``val_accuracy``; runs without accuracy (regressions)
    get the first other validation metric they all recorded instead, if any.
    """
    histories = [(run, run.info(), run.history()) for run in runs]
    wanted = list(metrics) if metrics else comparison_metrics([history for _run, _info, history in histories])
    names = [info.name for _run, info, _history in histories]
    sets = []
    for run, info, history in histories:
        check_metrics(history, wanted, where=f"run {run.run_id}")
        name = info.name if names.count(info.name) == 1 else run.run_id  # two runs of one script: tell them apart
        sets.append(CurveSet(name, history, info.manifest.index_hash if info.manifest else None, info.params))
    return save_figure(compare_figure(sets, metrics=wanted), output)


def plot_group(runs: Sequence[Run], output: str | os.PathLike[str], *, title: str = "", members: str = "folds") -> Path:
    """A group's figure.

    The folds of one configuration (a cross-validation group), or its repeated runs
    (``members="runs"``), are drawn as mean ± std bands. Several configurations (a
    search group) are drawn side by side as validation curves, each the mean over its
    folds (or repeats). Runs without epochs (trials that failed before training) are left out.
    """
    configurations: dict[str, list[tuple[Any, dict[str, list[float]]]]] = {}
    drawn = [run for run in runs if run.next_epoch > 0]  # a trial that failed before training has no curve
    if not drawn:
        ended = ", ".join(f"{info.name} {info.status}" for info in (run.info() for run in runs))
        raise DataError(f"no run of {title or 'the group'} has epochs yet ({ended}): there is nothing to draw.")
    for run in drawn:
        info, history = run.info(), run.history()
        check_metrics(history, [], where=f"run {run.run_id}")
        configurations.setdefault(json.dumps(info.params, sort_keys=True, default=str), []).append((info, history))
    if len(configurations) == 1:
        (group,) = configurations.values()
        return save_figure(band_figure([history for _info, history in group], title=title, members=members), output)
    sets = []
    for group in configurations.values():
        infos = [info for info, _history in group]
        label = infos[0].name
        if len(group) > 1:
            label = _mean_label(re.sub(r"-(fold|r)\d+$", "", label), len(group), members)
        split = "+".join(sorted(str(info.manifest.index_hash if info.manifest else None) for info in infos))
        history = _mean_history([history for _info, history in group])
        pruned = any(info.status == "pruned" for info in infos)
        sets.append(CurveSet(label, history, split, infos[0].params, pruned=pruned))
    return save_figure(compare_figure(sets, title=title), output)


def _mean_history(histories: Sequence[dict[str, list[float]]]) -> dict[str, list[float]]:
    """Per-epoch means over runs (as long as the shortest); one run's history as it is."""
    if len(histories) == 1:
        return histories[0]
    return {name: band.mean for name, band in epoch_bands(histories).items()}
