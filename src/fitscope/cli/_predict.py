"""``fitscope predict RUN DATA``: a finished run's model applied to new samples, class names back."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._i18n import _
from ._output import HelpFormatter, console, print_json
from ._runs import add_run_argument, add_runs_option

SHOWN = 10  # rows printed when the predictions go to the screen


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "predict",
        help=_("predict with a run's model on new samples (.npy, .npz or .csv)"),
        description=_(
            "Apply a finished run's model (its final weights, or its best epoch's with --best) to new "
            "samples, preprocessed as its training samples were (the same scaling, flattening and columns), and give "
            "back each sample's class name with the probability of every class (a regression: the predicted values). "
            "The samples: an .npy array, an .npz holding them as x, or a .csv whose header names the training columns "
            "(others, such as a label column, are left out). The model is the run's checkpoints/final.keras, which "
            "keras.saving.load_model also loads without fitscope."
        ),
        epilog=_(
            "examples:\n  fitscope predict last new_digits.npy\n"
            "  fitscope predict RUN samples.csv -o predictions.csv\n  fitscope predict RUN x.npz --best -o out.npz"
        ),
        formatter_class=HelpFormatter,
    )
    add_run_argument(parser)
    parser.add_argument("data", metavar="DATA", type=Path, help=_("the samples: an .npy, .npz or .csv file"))
    parser.add_argument("--best", action="store_true",
                        help=_("the best epoch's model (lowest val_loss) instead of the final one"))  # fmt: skip
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help=_("write every prediction to FILE (.csv or .npz); without it, the first rows are "
                        "shown"))  # fmt: skip
    parser.add_argument("--json", action="store_true", help=_("print every prediction as JSON"))
    add_runs_option(parser)
    parser.set_defaults(handler=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    from ..experiment import predict_run

    found = predict_run(args.run, args.data, runs=getattr(args, "runs", None), best=args.best, output=args.output)
    if args.json:
        print_json({"run_id": found.run_id, "model": found.which, "epoch": found.epoch, "data": found.source,
                    "columns": found.header(), "rows": found.rows()})  # fmt: skip
        return 0
    from rich.table import Table

    out = console()
    model = _("best model") if found.which == "best" else _("final model")
    epoch = "" if found.epoch is None else _(", weights of epoch {epoch}").format(epoch=found.epoch)
    rows = found.rows()
    table = Table(title=f"{found.run_id}: {model}{epoch}")
    table.add_column("#", justify="right")
    for name in found.header():
        table.add_column(name, justify="right")
    for i, row in enumerate(rows[: SHOWN if args.output is not None or len(rows) > SHOWN else len(rows)]):
        table.add_row(str(i), *row)
    out.print(table)
    if args.output is not None:
        out.print(_("{count} predictions written to {path}").format(count=len(rows), path=args.output), markup=False)
    elif len(rows) > SHOWN:
        out.print(_("{shown} of {count} shown; -o FILE (.csv or .npz) writes them all").format(
            shown=SHOWN, count=len(rows)), markup=False)  # fmt: skip
    return 0
