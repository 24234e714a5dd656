"""``fitscope diagnose``: what a run's curves and error levels mean, and what to do next."""

from __future__ import annotations

import argparse
from typing import Any

from .._errors import ArgumentError
from .._i18n import _
from ._output import HelpFormatter, print_json
from ._runs import GROUP_HELP, add_run_argument, add_runs_option, open_store


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "diagnose",
        help=_("say in words what a run's curves and errors mean, and what to do"),
        description=_(
            "Diagnose a run (overfitting and its onset, underfitting, divergence; Andrew Ng's "
            "avoidable bias / variance / data mismatch / dev-set overfitting), a cross-validation's folds together, "
            "or a table of error levels."
        ),
        epilog=_(
            "examples:\n  fitscope diagnose RUN --human-error 0.005\n  fitscope diagnose --group last\n"
            "  fitscope diagnose --errors human=0.01,train=0.08,train_dev=0.09,dev=0.10,test=0.11 --json\n"
            "  fitscope diagnose --errors train=0.02,dev=0.05,test=0.09 --sizes dev=200,test=200"
        ),
        formatter_class=HelpFormatter,
    )
    add_run_argument(parser, optional=True)
    parser.add_argument("--group", help=_("a cross-validation's folds together: {what}").format(what=_(GROUP_HELP)))
    parser.add_argument(
        "--errors", metavar="NAME=E,...", help=_("error levels alone: human, train, train_dev, dev, test")
    )
    parser.add_argument("--sizes", metavar="NAME=N,...", help=_("with --errors: the samples each held-out level was "
                        "measured on (train_dev, dev, test), to weigh gaps against their sampling noise"))  # fmt: skip
    parser.add_argument("--human-error", type=float, metavar="E", help=_("estimated human-level (optimal) error, 0..1"))
    parser.add_argument("--json", action="store_true", help=_("print JSON"))
    add_runs_option(parser)
    parser.set_defaults(handler=run_diagnose)


def run_diagnose(args: argparse.Namespace) -> int:
    from ..analysis import GAP_NAMES, analyse_gaps, diagnose_run, parse_errors, parse_sizes

    if [args.run, args.group, args.errors].count(None) != 2:
        raise ArgumentError("give a RUN to diagnose, a cv group (--group GROUP), or --errors NAME=VALUE,... (one).")
    if args.group is not None:
        return _diagnose_folds(args)
    if args.sizes is not None and args.errors is None:
        raise ArgumentError("--sizes goes with --errors; a recorded run knows the sizes of its sets.")
    if args.errors is not None:
        errors: dict[str, float | None] = dict(parse_errors(args.errors))
        if args.human_error is not None:
            errors["human"] = args.human_error
        report = analyse_gaps(errors, parse_sizes(args.sizes) if args.sizes else None)
        payload = {**report.to_dict(), "curve": None}
        if args.json:
            print_json(payload)
            return 0
        print(_("Error levels: {levels}.").format(levels=report.levels_text()))
        gaps = ", ".join(f"{_(GAP_NAMES[k])} {v:+.1%}" for k, v in report.gaps.items() if v is not None)
        print(_("Gaps: {gaps}.").format(gaps=gaps))
        print(_("Primary problem: {problem}.").format(problem=_(GAP_NAMES[report.primary])))
        for note in report.notes:
            print(note)
        print(_("Next: {actions}.").format(actions="; ".join(report.actions)))
        return 0
    if args.human_error is not None and not 0 <= args.human_error <= 1:
        raise ArgumentError(f"--human-error {args.human_error} is outside [0, 1]; give it as a fraction.")
    store = open_store(args)
    run = store.run(args.run)
    diagnosis = diagnose_run(run, human_error=args.human_error)
    info = run.info()
    curve = _learning_curve_of(store, info.spec, args.human_error)
    warnings = []
    if curve is not None:
        from ..experiment import code_warning

        warnings.append(code_warning(run.run_id, [info], (curve.group_id, store.runs(group=curve.group_id))))
    if args.json:
        print_json({**diagnosis.to_dict(), "learning_curve": curve.to_dict() if curve else None,
                    "warnings": [w for w in warnings if w]})  # fmt: skip
    else:
        for sentence in diagnosis.sentences:
            print(sentence)
        if curve is not None and curve.verdict is not None:
            print(_("Would more data help? The learning curve of this spec ({group}):").format(group=curve.group_id))
            for sentence in curve.verdict.sentences:
                print(sentence)
        for warning in filter(None, warnings):
            print(warning)
    return 0


def _learning_curve_of(store: Any, spec: dict[str, Any] | None, human_error: float | None) -> Any:
    """The latest learning-curve group of the store that trained ``spec`` (this run's configuration), summarised."""
    if not spec:
        return None
    from ..experiment import learning_curve_groups, summarise_learning_curve

    groups = learning_curve_groups(store, spec)
    return summarise_learning_curve(store, groups[-1], human_error) if groups else None


def _diagnose_folds(args: argparse.Namespace) -> int:
    """``--group``: the folds of a cross-validation together, as ``fitscope cv`` ends."""
    from ..experiment import code_warning, summarise_cv

    if args.human_error is not None or args.sizes is not None:
        raise ArgumentError("--human-error and --sizes go with a RUN or --errors, not with --group.")
    store = open_store(args)
    group = store.group(args.group)
    if store.group_kind(group) != "cv":
        raise ArgumentError(
            f"{group} is a search, not a cross-validation: diagnose its winner's run (`fitscope runs --group "
            f"{group}` lists them), or re-run the same tune command to see its ranking."
        )
    result = summarise_cv(store, group)
    warning = code_warning(group, store.runs(group=group))
    if args.json:
        print_json({"group_id": group, **result.diagnosis.to_dict(), "warnings": [warning] if warning else []})
        return 0
    print(_("diagnosis of the folds' mean curves ({group}):").format(group=group))
    for sentence in result.diagnosis.sentences:
        print(f"  {sentence}")
    if warning:
        print(warning)
    return 0
