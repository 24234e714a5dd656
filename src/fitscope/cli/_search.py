"""``fitscope cv`` and ``fitscope tune``: cross-validation and hyperparameter search."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from .._i18n import STATUS_NAMES, _
from ._output import HelpFormatter, print_json
from ._runs import add_data_dir_option, add_runs_option, add_set_option, add_spec_argument, runs_option, spec_overrides


def _executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--executor",
        choices=("local", "process", "ray"),
        default="local",
        help=_("local: one after another here; process: a pool of worker processes; ray: a Ray cluster"),
    )
    parser.add_argument("--workers", type=int, help=_("parallel workers, one CPU core each (default: 2)"))
    parser.add_argument("--address", metavar="RAY_ADDRESS", help=_("a running Ray cluster (with --executor ray)"))
    add_set_option(parser)
    add_data_dir_option(parser)
    parser.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    add_runs_option(parser)  # fmt: skip


def _group_by_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--group-by", metavar="COLUMN", help=help_text)


def add_parser(commands: Any) -> None:
    cv = commands.add_parser(
        "cv",
        help=_("k-fold cross-validation of a spec (a fresh model per fold)"),
        description=_(
            "Cross-validate a spec: each fold trains a freshly built model, is recorded as its own run "
            "in one group, and the test split stays untouched. Prints per-fold and mean ± std metrics, the verdict "
            "of the folds' mean curves, and how far one validation split alone could have misled."
        ),
        epilog=_("example:\n  fitscope cv digits_quick --folds 5 --stratify --executor process --workers 2"),
        formatter_class=HelpFormatter,
    )
    add_spec_argument(cv)
    cv.add_argument("--folds", type=int, required=True, metavar="K", help=_("number of folds (2 or more)"))
    cv.add_argument("--stratify", action="store_true", help=_("keep class shares in every fold"))
    _group_by_option(
        cv, _("the spec's data.group_column (a CSV column or an .npz array): samples of one group stay in one fold")
    )
    _executor_options(cv)
    cv.set_defaults(handler=run_cv, trains=True)

    tune = commands.add_parser(
        "tune",
        help=_("grid, random or TPE hyperparameter search, selected on validation or by CV"),
        description=_(
            "Search spec values: every trial is a recorded run in one group; the table ranks them by the "
            "selection metric and names the winner, and says how much the winning score can be trusted (how many "
            "configurations the split has judged, its sampling noise). The test set is used only "
            "with --test-best, once."
        ),
        epilog=_(
            "examples:\n"
            "  # the book's toy model over hidden units and optimizer\n"
            "  fitscope tune book_toy --param 'model[0].Dense.units=2,32,512' \\\n"
            "      --param compile.optimizer=sgd,rmsprop --set fit.epochs=100 --executor process\n"
            "  # learning rates of the spec's optimizer (adam), chosen by 5-fold CV\n"
            "  fitscope tune digits_quick --select cv \\\n"
            "      --param compile.optimizer.adam.learning_rate=1e-3,1e-2,1e-1\n"
            "  # values are YAML: two whole layers\n"
            "  fitscope tune digits_quick --param 'model[0]={Dense: {units: 8}},{Dense: {units: 64}}'"
        ),
        formatter_class=HelpFormatter,
    )
    add_spec_argument(tune)
    tune.add_argument("--param", dest="params", action="append", default=[], metavar="KEY.PATH=V1,V2",
                      help=_("a value list to search (repeatable)"))  # fmt: skip
    tune.add_argument(
        "--search",
        dest="method",
        choices=("grid", "random", "tpe"),
        default="grid",
        help=_(
            "grid (default), random, or tpe: Optuna's TPE sampler proposes each batch of trials from the scores "
            "of those before (pip install 'fitscope[optuna]')"
        ),
    )  # (dest: the name search() gives it, for error messages)
    tune.add_argument("--trials", type=int, help=_("configurations to draw with --search random or tpe"))
    tune.add_argument(
        "--select", choices=("val", "cv"), default="val", help=_("score on the validation split or by CV")
    )
    tune.add_argument("--folds", type=int, metavar="K", help=_("folds with --select cv (default: 5)"))
    tune.add_argument("--stratify", action="store_true", help=_("stratified folds with --select cv"))
    _group_by_option(
        tune,
        _(
            "with --select cv: the spec's data.group_column (a CSV column or an .npz array): "
            "samples of one group stay in one fold"
        ),
    )
    tune.add_argument(
        "--metric",
        default="val_loss",
        help=_("selection metric: a validation metric the spec reports, e.g. val_accuracy (default: val_loss)"),
    )
    tune.add_argument("--seed", type=int, help=_("seed for --search random or tpe (default: 0)"))
    tune.add_argument("--repeats", type=int, metavar="N", help=_("with --select val: train each configuration N "
                      "times (other initial weights) and rank by the mean"))  # fmt: skip
    tune.add_argument("--prune", action="store_true",
                      help=_("stop hopeless trials early: a NaN or diverging loss at once, and at rungs of growing "
                      "epochs all but the best quarter of the trials so far (asynchronous successive halving); "
                      "pruned trials are recorded as pruned"))  # fmt: skip
    tune.add_argument("--prune-grace", type=int, metavar="E",
                      help=_("with --prune: the first rung's epochs (default: fit.epochs / F³, at "
                             "least 1)"))  # fmt: skip
    tune.add_argument("--prune-reduction", type=int, metavar="F",
                      help=_("with --prune: keep the best 1/F at each rung, the next rung F times as many epochs "
                      "(default: 4)"))  # fmt: skip
    tune.add_argument("--refit", action="store_true",
                      help=_("train the winner once more on training + validation data, for the epochs its validation "
                      "loss took to reach its lowest: a run of its own, the one --test-best evaluates"))  # fmt: skip
    tune.add_argument("--test-best", action="store_true", help=_("evaluate the winner once on the sealed test set"))
    _executor_options(tune)
    tune.set_defaults(handler=run_tune, trains=True)

    curve = commands.add_parser(
        "learning-curve",
        help=_("would more data help? train the spec on growing subsets of its training data"),
        description=_(
            "Train the spec at each training-set size (nested subsets of its training part, drawn with the "
            "spec's seed; the validation part stays the same), each a recorded run in one group with a fresh model, "
            "and say whether more data is likely to help (Ng: variance) or not (bias). With --folds each size is "
            "cross-validated, with --repeats drawn several times; the errors are those of each run's best epoch."
        ),
        epilog=_(
            "examples:\n"
            "  fitscope learning-curve book_toy --sizes 100,200,400,700 --folds 3 --set fit.epochs=300\n"
            "  fitscope learning-curve digits_quick --steps 4 --repeats 3 --executor process -o curve.png"
        ),
        formatter_class=HelpFormatter,
    )
    add_spec_argument(curve)
    sizes = curve.add_mutually_exclusive_group()
    sizes.add_argument("--sizes", type=_sizes, metavar="N,N,...", help=_("training-set sizes (two or more)"))
    sizes.add_argument("--steps", type=int, metavar="S",
                       help=_("this many sizes from a tenth of the training part to all of it "
                              "(default: 5)"))  # fmt: skip
    draws = curve.add_mutually_exclusive_group()
    draws.add_argument("--folds", type=int, metavar="K", help=_("cross-validate each size with K folds"))
    draws.add_argument("--repeats", type=int, metavar="R",
                       help=_("draw each size R times from one split (other samples and initial weights)"))  # fmt: skip
    curve.add_argument("--stratify", action="store_true", help=_("stratified folds with --folds"))
    curve.add_argument("--human-error", type=float, metavar="E",
                       help=_("the desired (human-level) error, 0..1 (default: the dataset's "
                              "published one)"))  # fmt: skip
    curve.add_argument("-o", "--output", metavar="FILE", help=_("also draw the figure into FILE (.png, .svg, .pdf)"))
    _executor_options(curve)
    curve.set_defaults(handler=run_learning_curve, trains=True)


def _sizes(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas (100,200,400); got {text!r}"
        ) from None


def _say(args: argparse.Namespace) -> Any:
    return (lambda text: print(text, file=sys.stderr)) if args.json else print


def run_cv(args: argparse.Namespace) -> int:
    from ..experiment import cross_validate

    result = cross_validate(
        args.spec, folds=args.folds, stratify=args.stratify, group_by=args.group_by, overrides=spec_overrides(args),
        executor=args.executor, workers=args.workers, address=args.address, runs=getattr(args, "runs", None),
        say=_say(args),
    )  # fmt: skip
    finished = all(f["status"] == "finished" for f in result.folds)
    if args.json:
        print_json(result.to_dict())
        return 0 if finished else 1  # as without --json: a script can tell a failed fold
    print(f"\n{result}")
    print(_("fold bands: {command}").format(command=f"fitscope plot --group {result.group_id}{runs_option(args)}"))
    return 0 if finished else 1


def run_tune(args: argparse.Namespace) -> int:
    from ..experiment import assignments, search

    result = search(
        args.spec, args.params, method=args.method, trials=args.trials, select=args.select, folds=args.folds,
        stratify=args.stratify, group_by=args.group_by, metric=args.metric, test_best=args.test_best, seed=args.seed,
        repeats=args.repeats, prune=args.prune, prune_grace=args.prune_grace, prune_reduction=args.prune_reduction,
        refit=args.refit,
        overrides=spec_overrides(args), executor=args.executor, workers=args.workers, address=args.address,
        runs=getattr(args, "runs", None), say=_say(args),
    )  # fmt: skip
    if args.json:
        print_json(result.to_dict())
        return 0 if result.winner else 1
    print("\n" + "\n".join(result.ranking_lines()))
    if not result.winner:
        print(_("no configuration finished: see the reasons above (fitscope runs show RUN has each one)."))
        return 1
    winner = assignments(result.winner["params"])
    print(_("winner: {configuration}").format(configuration=" ".join(winner)))
    sets = " ".join(f"--set {shlex.quote(item)}" for item in [*(args.overrides or []), *winner])
    alone = f"fitscope run {shlex.quote(str(args.spec))} {sets}{runs_option(args)}"
    print(_("train it alone: {command}").format(command=alone))  # (beside the winner)
    if result.narrowed:
        kept = [f"--param {shlex.quote(f'{k}={v}')}" for k, v in result.narrowed.items()]
        listed = [
            f"--param {shlex.quote(p)}" for p in args.params if p.partition("=")[0].strip() not in result.narrowed
        ]
        given = [f"--set {shlex.quote(item)}" for item in args.overrides or []]
        again = (f"fitscope tune {shlex.quote(str(args.spec))} {' '.join([*given, *kept, *listed])} "
                 f"--search {args.method} --trials {args.trials} --seed {(args.seed or 0) + 1}"
                 f"{runs_option(args)}")  # fmt: skip
        print(_("the ranges of the best {count}, to search next: {command}").format(count=result.narrowed_from,
                                                                                    command=again))  # fmt: skip
    if result.epochs is not None:
        print(result.pruning_line())
    if result.refit is not None:
        refit = result.refit
        status = _(STATUS_NAMES.get(refit["status"], refit["status"]))
        said = _("refit on training + validation data ({samples} samples, {epochs} epochs): run {run} ({status})")
        print(said.format(samples=refit["samples"], epochs=refit["epochs"], run=refit["run_id"], status=status))
    print("\n".join(result.trust_lines()))
    print(
        _("compare the curves: {command}").format(command=f"fitscope plot --group {result.group_id}{runs_option(args)}")
    )
    if args.select == "val":  # (with --select cv the winner is several fold runs)
        diagnose = f"fitscope diagnose {result.winner['run_ids'][0]}{runs_option(args)}"
        print(_("the winner's curves in words: {command}").format(command=diagnose))
    return 0


def run_learning_curve(args: argparse.Namespace) -> int:
    from .._errors import ArgumentError
    from ..experiment import learning_curve, summarise_learning_curve
    from ..report import check_figure_name, learning_curve_figure, save_figure

    if args.human_error is not None and not 0 <= args.human_error <= 1:
        raise ArgumentError(f"--human-error {args.human_error} is outside [0, 1]; give it as a fraction.")
    if args.output is not None:
        check_figure_name(args.output)  # (before training)
    result = learning_curve(
        args.spec, sizes=args.sizes, steps=args.steps, folds=args.folds, repeats=args.repeats, stratify=args.stratify,
        overrides=spec_overrides(args), executor=args.executor, workers=args.workers, address=args.address,
        runs=getattr(args, "runs", None), say=_say(args),
    )  # fmt: skip
    if args.human_error is not None:
        from ..store import Store

        result = summarise_learning_curve(Store(getattr(args, "runs", None)), result.group_id, args.human_error)
    complete = not result.unfinished
    if args.output is not None:
        save_figure(learning_curve_figure(result.points, result.curves, desired=result.desired,
                                          title=result.group_id), args.output)  # fmt: skip
    if args.json:
        print_json(result.to_dict())
        return 0 if complete else 1
    print(f"\n{result}")
    if args.output is not None:
        print(_("figure: {path}").format(path=args.output))
    else:
        print(_("figure: {command}").format(command=f"fitscope plot --group {result.group_id} -o learning-curve.png"
                                                    f"{runs_option(args)}"))  # fmt: skip
    return 0 if complete else 1
