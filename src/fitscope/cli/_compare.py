"""``fitscope compare A B``: do two runs, or two groups of runs, differ beyond what seeds and the set explain?"""

from __future__ import annotations

import argparse
from typing import Any

from .._i18n import _
from ._output import HelpFormatter, print_json
from ._runs import add_runs_option


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "compare",
        help=_("do two runs or two groups differ beyond what seeds and the validation set explain?"),
        description=_(
            "Compare the final validation score of two runs, or of two groups of runs (`fitscope run "
            "--repeats`, cv, tune): a t-test over their seeds (paired when both ran the same seeds on the same split) "
            "and the validation set's own sampling noise, in plain words with the numbers."
        ),
        epilog=_("examples:\n  fitscope compare repeats-toy-2u repeats-toy-32u\n  fitscope compare RUN_A RUN_B --json"),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("a", metavar="A", help=_("a run (id, prefix, name or `last`) or a group id (or prefix)"))
    parser.add_argument("b", metavar="B", help=_("the other run or group"))
    parser.add_argument("--metric", help=_("the validation metric (default: val_accuracy, else val_loss)"))
    parser.add_argument("--json", action="store_true", help=_("print JSON"))
    add_runs_option(parser)
    parser.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from ..experiment import compare_runs

    found = compare_runs(args.a, args.b, metric=args.metric, runs=getattr(args, "runs", None))
    if args.json:
        print_json(found.to_dict())
        return 0
    for sentence in found.sentences:
        print(sentence)
    return 0
