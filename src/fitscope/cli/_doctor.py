"""``fitscope doctor``: check the run store and, with ``--repair``, recover what can be recovered."""

from __future__ import annotations

import argparse
from typing import Any

from .._i18n import _
from ._output import HelpFormatter, print_json
from ._runs import add_runs_option, runs_option

EXIT_PROBLEMS = 1  # problems found and left (fsck's convention: 0 clean, 1 and up something to see)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "doctor",
        help=_("check the run store; --repair recovers what can be recovered"),
        description=_(
            "Check the run store: SQLite's integrity and foreign keys, runs marked running whose process "
            "is gone, run folders without rows and rows without folders, unreadable checkpoints and best weights, "
            "TensorBoard files that disagree with the store, temporary files left by a kill. Checking only reads."
        ),
        epilog=_(
            "what --repair does:\n"
            "  a damaged database: the rows SQLite can still read are copied into a fresh store, which takes its\n"
            "    place; the damaged file is kept beside it (fitscope.db.damaged-TIME), never edited\n"
            "  TensorBoard files that disagree with the store are rebuilt from it\n"
            "  temporary files are removed; unreadable checkpoints are set aside (.unreadable)\n"
            "  runs whose process is gone are marked interrupted (resume or re-run them)\n"
            "It refuses while a live process is training in the store.\n\n"
            "exit status: 0 nothing wrong (or all of it repaired), 1 problems left, 2 bad input\n\n"
            "examples:\n  fitscope doctor\n  fitscope doctor --runs ~/runs --json\n  fitscope doctor --repair"
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--repair", action="store_true", help=_("recover what can be recovered (see below)"))
    parser.add_argument("--json", action="store_true", help=_("print JSON"))
    add_runs_option(parser)
    parser.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from ..store import doctor

    report = doctor(getattr(args, "runs", None), repair=args.repair)
    if args.json:
        print_json(report.to_dict())
        return 0 if report.healthy else EXIT_PROBLEMS
    counted = "" if report.runs is None else f": {report.runs} run(s)"
    print(f"run store {report.root / 'fitscope.db'}{counted}")
    for finding in report.findings:
        print(f"- {finding.problem}: {finding.where}")
        print(f"    {finding.detail}")
        if finding.repaired:
            print(f"    repaired: {finding.repaired}")
    for note in report.notes:
        print(f"  note: {note}")
    repaired = [f for f in report.findings if f.repaired]
    left = [f for f in report.findings if not f.repaired and f.repairable]
    yours = [f for f in report.findings if not f.repaired and not f.repairable]
    said = [f"{len(repaired)} repaired"] if repaired else []
    if left:
        said.append(f"{len(left)} to repair with `fitscope doctor --repair{runs_option(args)}`")
    if yours:
        said.append(f"{len(yours)} left to you (see above)")
    print("; ".join(said) + "." if said else "no problems found")
    return 0 if report.healthy else EXIT_PROBLEMS
