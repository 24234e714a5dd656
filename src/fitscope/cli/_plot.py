"""``fitscope plot`` and ``fitscope report``: figures and the HTML report of stored runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._errors import ArgumentError, DataError
from .._i18n import _
from ._output import HelpFormatter
from ._runs import GROUP_HELP, RUN_IDS_HELP, add_run_argument, add_runs_option, open_store, runs_of_group


def add_parser(commands: Any) -> None:
    plot = commands.add_parser(
        "plot",
        help=_("draw a run's curves (the book's figure), compare runs, or a group (CV bands, search curves)"),
        description=_(
            "One run: the book's twin-axis figure (loss left, accuracy right) with the best epoch "
            "and the overfitting onset marked. Several runs: their validation curves overlaid. --group: a "
            "cross-validation group as mean ± std bands over its folds; a search group as its configurations' "
            "validation curves side by side (each the mean over its folds with --select cv)."
        ),
        epilog=_(
            "examples:\n  fitscope plot RUN\n  fitscope plot RUN1 RUN2 -o compare.svg\n"
            "  fitscope plot RUN --style grid --metric loss --metric accuracy\n  fitscope plot --group GROUP"
        ),
        formatter_class=HelpFormatter,
    )
    plot.add_argument("run", nargs="*", metavar="RUN", help=_(RUN_IDS_HELP))
    plot.add_argument("--group", help=_(GROUP_HELP))
    plot.add_argument(
        "-o", "--output", type=Path, help=_("file to write (.png, .svg, .pdf); default in the run folder")
    )
    plot.add_argument("--metric", action="append", default=[], metavar="NAME", help=_("metric(s) to draw (repeatable)"))
    plot.add_argument("--style", choices=("book", "grid"), default="book", help=_("figure style (default: book)"))
    plot.add_argument("--vs", metavar="PARAM", help=_("with --group of a search: the validation metric against this "
                      "searched parameter, each trial a point: its final val_accuracy when recorded, else "
                      "val_loss (--metric picks another)"))  # fmt: skip
    add_runs_option(plot)
    plot.set_defaults(handler=run_plot)

    report = commands.add_parser(
        "report",
        help=_("write a run's self-contained HTML report"),
        description=_(
            "Write one HTML file (figures inlined, no external files) with the spec and environment, "
            "the split and its audit, the curves, the diagnosis, the evaluation ledger, and how to reproduce the run."
        ),
    )
    add_run_argument(report)
    report.add_argument("-o", "--output", type=Path, help=_("the .html file (default: <run folder>/report.html)"))
    add_runs_option(report)
    report.set_defaults(handler=run_report)


def _plot_vs(store: Any, group: str, param: str, metrics: list[str], output: Path) -> int:
    from ..experiment import run_scores, standing_runs
    from ..report import param_figure, save_figure

    if store.group_kind(group) != "search":
        raise ArgumentError(f"--vs {param}: {group} is not a search (`fitscope tune` makes one).")
    rows: list[tuple[Any, dict[str, Any]]] = []
    for trial in standing_runs(store.runs(group=group)):
        scores = run_scores(store, trial.info)
        if scores is not None:
            rows.append((trial.info, scores))
    searched = sorted({key for info, _scores in rows for key in info.params})
    if param not in searched:
        raise ArgumentError(f"--vs {param}: not a parameter of {group}; it searched {', '.join(searched) or 'none'}.")
    wanted = metrics[0] if metrics else None
    reported = set.intersection(*(set(scores["final"]) for _info, scores in rows)) if rows else set()
    metric = (wanted if wanted is None or wanted.startswith("val_") else f"val_{wanted}") or (
        "val_accuracy" if "val_accuracy" in reported else "val_loss")  # fmt: skip
    points = [(info.params[param], scores["final"][metric]) for info, scores in rows
              if param in info.params and metric in scores["final"]]  # fmt: skip
    if not points:
        raise ArgumentError(f"--vs {param}: needs finished trials with a value for it and {metric} ({group}).")
    xs, ys = [x for x, _y in points], [float(y) for _x, y in points]
    figure = param_figure(xs, ys, param=param, metric=metric, lower_is_better="loss" in metric, title=group)
    print(save_figure(figure, output))
    return 0


def _plot_learning_curve(store: Any, group: str, output: Path) -> int:
    from ..experiment import summarise_learning_curve
    from ..report import learning_curve_figure, save_figure

    result = summarise_learning_curve(store, group)
    if not result.points:
        raise DataError(f"no run of {group} has finished yet: there is nothing to draw.")
    print(save_figure(learning_curve_figure(result.points, result.curves, desired=result.desired, title=group), output))
    return 0


def run_plot(args: argparse.Namespace) -> int:
    from ..report import plot_group, plot_history, plot_runs

    store = open_store(args)
    if args.group:
        from ..experiment import standing_runs

        infos = runs_of_group(store, args.group)
        group = infos[0].group_id  # the whole id, where a prefix or `last` was given
        if args.vs is not None:
            return _plot_vs(store, group, args.vs, args.metric, args.output or store.root / f"{group}-vs.png")
        if store.group_kind(group) == "learning-curve":
            return _plot_learning_curve(store, group, args.output or store.root / f"{group}.png")
        runs = [store.run(trial.info.run_id) for trial in standing_runs(infos)]
        output = args.output or store.root / f"{group}.png"
        members = "runs" if store.group_kind(group) == "repeats" else "folds"
        print(plot_group(runs, output, title=group, members=members))
        left_out = [run.info() for run in runs if run.next_epoch == 0]
        if left_out:
            names = ", ".join(f"{info.name} ({info.status})" for info in left_out)
            print(
                _("note: left out {count} run(s) without epochs: {names}.").format(count=len(left_out), names=names),
                file=sys.stderr,
            )
        return 0
    if args.vs is not None:
        raise ArgumentError(f"--vs {args.vs} goes with --group GROUP of a search: it draws each of its trials "
                            "against the parameter.")  # fmt: skip
    if not args.run:
        raise ArgumentError("name at least one RUN to plot (or --group GROUP); see `fitscope runs`.")
    runs = [store.run(run_id) for run_id in args.run]
    if len(runs) == 1:
        run = runs[0]
        output = args.output
        if output is None:
            (run.dir / "figures").mkdir(parents=True, exist_ok=True)
            output = run.dir / "figures" / "curves.png"
        plot_history(run, output, style=args.style, metrics=args.metric or None)
        print(output)
        return 0
    output = args.output or Path("fitscope-compare.png")
    print(plot_runs(runs, output, metrics=args.metric or None))
    return 0


def run_report(args: argparse.Namespace) -> int:
    from ..report import write_report

    store = open_store(args)
    print(write_report(store.run(args.run), args.output))
    return 0
