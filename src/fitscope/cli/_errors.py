"""``fitscope errors``: where a classifier's errors are (confusion matrix, per-class scores, its surest mistakes)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from .._i18n import _
from ._output import HelpFormatter, console, print_json
from ._runs import add_data_dir_option, add_run_argument, add_runs_option


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "errors",
        help=_("where a run's errors are: confusion matrix, per-class scores, the surest mistakes"),
        description=_(
            "Error analysis of the weights a run ended with (Andrew Ng: look at the mistakes, count what "
            "they share, fix the biggest group first): the confusion matrix, each class's error, precision and recall, "
            "the most confused pairs, and the misclassified samples, most confident first, as a gallery for images "
            "or rows for tables. The predictions are kept with the run; the test split only when asked, counted as a "
            "look at it."
        ),
        epilog=_("examples:\n  fitscope errors last\n  fitscope errors RUN --json\n  fitscope errors RUN --split test"),
        formatter_class=HelpFormatter,
    )
    add_run_argument(parser)
    parser.add_argument("--split", choices=("val", "test"), default="val",
                        help=_("val (default) or test (the sealed test set: counted in the run's ledger)"))  # fmt: skip
    parser.add_argument("--top", type=int, default=10, metavar="N", help=_("mistakes to list (default: 10)"))
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help=_("the gallery of mistakes, .png/.svg/.pdf (default: the run's figures "
                               "folder)"))  # fmt: skip
    parser.add_argument("--json", action="store_true", help=_("print JSON"))
    add_data_dir_option(parser)
    add_runs_option(parser)
    parser.set_defaults(handler=run_errors_command)


def run_errors_command(args: argparse.Namespace) -> int:
    from .._errors import ArgumentError
    from ..experiment import run_errors
    from ..report import check_figure_name, confusion_figure, gallery_figure, image_shape, save_figure

    if args.top < 0:
        raise ArgumentError(f"--top {args.top}: give how many mistakes to list, 0 or more.")
    if args.output is not None:
        check_figure_name(args.output)  # (before predicting)
    found = run_errors(args.run, split=args.split, runs=getattr(args, "runs", None), data_dir=args.data_dir)
    analysis = found.analysis
    figures = Path(found.path).parent.parent / "figures"
    with contextlib.suppress(OSError):  # (a trial's run has none yet; one that cannot be made: save_figure says so)
        figures.mkdir(exist_ok=True)
    pictures = len(found.gallery) > 0 and image_shape(found.gallery[0]) is not None
    written = [save_figure(confusion_figure(analysis, title=found.run_id), figures / f"confusion-{args.split}.png")]
    if pictures:
        gallery = args.output or figures / f"errors-{args.split}.png"
        written.append(save_figure(gallery_figure(found.gallery, analysis.mistakes, title=found.run_id), gallery))
    if args.json:
        print_json({**found.to_dict(), "figures": [str(path) for path in written]})
        return 0
    if args.split == "test":
        print(_("note: a look at the sealed test set, counted in the run's ledger."), file=sys.stderr)
    if found.note:
        print(_("note: {note}").format(note=found.note), file=sys.stderr)
    _print(found, args.top, pictures)
    for path in written:
        print(_("figure: {path}").format(path=path))
    return 0


def _print(found: Any, top: int, pictures: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    analysis = found.analysis
    out.print(_("errors of run {run} (the weights of epoch {epoch}):").format(run=found.run_id, epoch=found.epoch),
              markup=False)  # fmt: skip
    for sentence in analysis.sentences:
        out.print(sentence, markup=False)
    table = Table(title=_("per class"))
    for column in (_("class"), _("samples"), _("error"), _("precision"), _("recall")):
        table.add_column(column, justify="right" if column != _("class") else "left")
    for row in analysis.per_class:
        table.add_row(escape(row["name"]), str(row["support"]), f"{row['error']:.1%}", f"{row['precision']:.1%}",
                      f"{row['recall']:.1%}")  # fmt: skip
    out.print(table)
    shown = analysis.mistakes[:top]
    if not shown:
        return
    mistakes = Table(title=_("the surest mistakes"))
    for column in ("#", _("true class"), _("predicted class"), _("confidence")):
        mistakes.add_column(column)
    if not pictures:  # a table's rows: their features beside them
        width = found.gallery.shape[1] if found.gallery.ndim == 2 else 0
        names = found.features or [f"x{i}" for i in range(width)]
        for name in names:
            mistakes.add_column(escape(str(name)), justify="right")
    for i, mistake in enumerate(shown):
        cells = [str(mistake["index"]), escape(mistake["true"]), escape(mistake["predicted"]),
                 f"{mistake['confidence']:.1%}"]  # fmt: skip
        if not pictures and i < len(found.gallery):
            cells += [f"{value:.4g}" for value in found.gallery[i]]
        mistakes.add_row(*cells)
    out.print(mistakes)
