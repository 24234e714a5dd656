"""``fitscope run SPEC`` and ``fitscope test RUN``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from .._errors import ArgumentError, StoreError
from .._i18n import N_, STATUS_NAMES, _
from ._output import HelpFormatter, console, print_json
from ._runs import (
    add_data_dir_option,
    add_run_argument,
    add_runs_option,
    add_set_option,
    add_spec_argument,
    runs_option,
    spec_overrides,
)


def add_parser(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help=_("run an experiment from a YAML spec, recording every epoch"),
        description=_(
            "Split the data, build and train the model with the recorder, evaluate on the "
            "validation set, and print a summary. The test split stays sealed unless --test is given."
        ),
        epilog=_("examples:\n  fitscope run digits_quick\n  fitscope run book_toy --set fit.epochs=100 --json"),
        formatter_class=HelpFormatter,
    )
    add_spec_argument(run)
    add_set_option(run)
    run.add_argument("--name", help=_("run name (default: the spec's name)"))
    run.add_argument("--resume", metavar="RUN", help=_("continue this run from its last checkpoint"))
    run.add_argument("--from-scratch", action="store_true", help=_("with --resume: train the run again from epoch "
                     "0, keeping its epochs in the store as an earlier attempt (RUN-earlier)"))  # fmt: skip
    run.add_argument("--force", action="store_true", help=_("with --resume: take the run even though the process "
                     "recorded as training it may be alive (you know it is gone: its machine was switched off, "
                     "say)"))  # fmt: skip
    run.add_argument("--test", action="store_true", help=_("also evaluate once on the sealed test split"))
    run.add_argument("--repeats", type=int, metavar="N", help=_("train N runs of the spec with other seeds (initial "
                     "weights; the same split), as one group, and summarise how their scores vary"))  # fmt: skip
    run.add_argument("--vary-split", action="store_true", help=_("with --repeats: a new split for each repeat too"))
    run.add_argument("--executor", choices=("local", "process", "ray"), help=_("with --repeats: where they train "
                     "(default: local)"))  # fmt: skip
    run.add_argument("--workers", type=int, help=_("with --repeats and --executor process or ray (default: 2)"))
    run.add_argument("--address", metavar="RAY_ADDRESS", help=_("with --repeats --executor ray: a running cluster"))
    run.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    run.add_argument("--quiet", action="store_true", help=_("print only the summary"))
    add_data_dir_option(run)
    add_runs_option(run)
    run.set_defaults(handler=run_run, trains=True)

    test = commands.add_parser(
        "test",
        help=_("evaluate a run on its sealed test split (counted in the ledger)"),
        description=_(
            "Evaluate a run's final weights (those EarlyStopping restored, if it did) on its test split "
            "once, record it in the evaluations ledger, and warn when the test set of that run was already used."
        ),
    )
    add_run_argument(test)
    test.add_argument(
        "--best", action="store_true", help=_("use the best-epoch weights (lowest val_loss), not the final")
    )
    test.add_argument("--json", action="store_true", help=_("print JSON"))
    add_data_dir_option(test)
    add_runs_option(test)
    test.set_defaults(handler=run_test)


def run_run(args: argparse.Namespace) -> int:
    from ..experiment import resume_command, run_spec

    if args.repeats is not None:
        return _run_repeats(args)
    for flag, given in (("--vary-split", args.vary_split), ("--executor", args.executor), ("--workers", args.workers),
                        ("--address", args.address)):  # fmt: skip
        if given:
            raise ArgumentError(f"{flag} goes with --repeats N (several runs of the spec); one run trains here.")

    try:
        result = run_spec(
            args.spec, overrides=spec_overrides(args), runs=getattr(args, "runs", None), name=args.name,
            resume=args.resume, from_scratch=args.from_scratch, force=args.force, test=args.test,
            progress=not (args.quiet or args.json),
        )  # fmt: skip
    except StoreError as exc:
        if exc.run_id is None:
            raise
        again = resume_command(args.spec, spec_overrides(args), exc.run_id, getattr(args, "runs", None))
        raise StoreError(f"{exc}\n" + _("resume: {command}").format(command=again)) from exc
    if args.json:
        print_json(result.to_dict())
        return 0 if result.status == "finished" else 1
    out = console()
    status = _(STATUS_NAMES.get(result.status, result.status))
    out.print(_("run {run_id}: {status}, {epochs} epochs").format(run_id=result.run_id, status=status,
                                                                   epochs=result.epochs))  # fmt: skip
    if result.extra.get("reason"):
        out.print(_("reason: {reason}").format(reason=result.extra["reason"]), markup=False)
    history = result.history
    if result.best_epoch is not None:
        best = result.best_epoch
        acc = history.get("val_accuracy", [None] * (best + 1))[best]
        shown = f", val_accuracy {acc:.4f}" if acc is not None else ""
        metrics = f"val_loss {history['val_loss'][best]:.4f}{shown}"
        out.print(_("best epoch {epoch}: {metrics}").format(epoch=best, metrics=metrics))
    held = result.weights_epoch
    restored = held is not None and held != result.epochs - 1
    if result.val:
        label = _("validation (weights of epoch {epoch}, restored by EarlyStopping)") if restored else _(
            "final validation")  # fmt: skip
        out.print(f"{label.format(epoch=held)}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.val.items()))
    if result.test:
        label = _("test (weights of epoch {epoch}, restored by EarlyStopping)") if restored else _("test")
        out.print(f"{label.format(epoch=held)}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.test.items()))
    out.print(_("run folder: {path}").format(path=result.run_dir), markup=False)  # paths may hold [brackets]
    if result.report:
        out.print(_("report: {path}").format(path=result.report), markup=False)
    out.print(_("tensorboard: {path}  ({command})").format(path=result.tensorboard_dir,
                                                           command=f"fitscope board{runs_option(args)}"),
              markup=False)  # fmt: skip
    if result.status == "interrupted":
        again = resume_command(args.spec, spec_overrides(args), result.run_id, getattr(args, "runs", None))
        out.print(_("resume: {command}").format(command=again), markup=False)
    return 0 if result.status == "finished" else 1


def _run_repeats(args: argparse.Namespace) -> int:
    from ..experiment import repeat_runs

    for flag, given in (("--resume", args.resume), ("--from-scratch", args.from_scratch), ("--force", args.force),
                        ("--test", args.test)):  # fmt: skip
        if given:
            raise ArgumentError(f"{flag} does not go with --repeats: it takes one run (`fitscope test RUN` for the "
                                "test set of the run you choose).")  # fmt: skip
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print
    result = repeat_runs(
        args.spec, repeats=args.repeats, vary_split=args.vary_split, overrides=spec_overrides(args), name=args.name,
        executor=args.executor or "local", workers=args.workers, address=args.address,
        runs=getattr(args, "runs", None), say=say,
    )  # fmt: skip
    if args.json:
        print_json(result.to_dict())
    else:
        print(f"\n{result}")
        print(_("bands: {command}").format(command=f"fitscope plot --group {result.group_id}{runs_option(args)}"))
    return 0 if not result.unfinished else 1


# Which weights `fitscope test` evaluated (TestResult.weights), as its line says it.
_WEIGHTS = {"restored": N_("weights restored by EarlyStopping"), "best": N_("best weights"),
            "last saved": N_("last saved weights")}  # fmt: skip


def run_test(args: argparse.Namespace) -> int:
    import sys

    from ..experiment import test_run

    tested = test_run(args.run, runs=getattr(args, "runs", None), best=args.best, data_dir=args.data_dir)
    if tested.earlier:
        dates = ", ".join(time.strftime("%Y-%m-%d %H:%M", time.localtime(e["at"])) for e in tested.earlier)
        print(_("warning: this run's test set was already evaluated {count} time(s) ({dates}). Each look at the "
                "test set makes it a less honest estimate.").format(count=len(tested.earlier), dates=dates),
              file=sys.stderr)  # fmt: skip
    if tested.note:
        print(_("note: {note}").format(note=tested.note), file=sys.stderr)
    if args.json:
        print_json({"run_id": tested.run_id, "epoch": tested.epoch, "weights": tested.weights,
                    "test": tested.metrics, "test_evaluations": len(tested.earlier) + 1})  # fmt: skip
    else:
        which = _(_WEIGHTS.get(tested.weights, tested.weights))
        scores = ", ".join(f"{k} {v:.4f}" for k, v in tested.metrics.items())
        print(_("test ({weights}, epoch {epoch}): {scores}").format(weights=which, epoch=tested.epoch, scores=scores))
    return 0


# Measured (`/usr/bin/time fitscope demo --quick`, 2026-12-05: 9.5 s); the README says the same.
QUICK_DEMO_TIME = N_("about 10 s on 2 CPU cores")


def add_demo_parser(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help=_("run the book's two MNIST experiments and explain them"),
        description=_(
            "Reproduce the book's two MNIST experiments (the 2-unit sgd model on 700/300 "
            "images for 1000 epochs, and the 512-unit rmsprop model on all images for 5 epochs), evaluate "
            "each once on the sealed test set, and explain what happened."
        ),
    )
    demo.add_argument(
        "--quick", action="store_true", help=_("fewer epochs (300 and 3): {time}").format(time=_(QUICK_DEMO_TIME))
    )
    add_data_dir_option(demo)
    demo.add_argument("--quiet", action="store_true", help=_("no progress lines"))
    add_runs_option(demo)
    demo.set_defaults(handler=run_demo_command, trains=True)


def run_demo_command(args: argparse.Namespace) -> int:
    from ..experiment import run_demo

    results = run_demo(
        quick=args.quick, runs=getattr(args, "runs", None), data_dir=args.data_dir, progress=not args.quiet
    )
    toy, store = results["book_toy"], runs_option(args)
    print(
        _("Look next: `{diagnose}`, `{show}`, `{board}` (TensorBoard), run folder {folder}.").format(
            diagnose=f"fitscope diagnose {toy.run_id}{store}",
            show=f"fitscope runs show {toy.run_id}{store}",
            board=f"fitscope board{store}",
            folder=toy.run_dir,
        )
    )
    return 0 if all(r.status == "finished" for r in results.values()) else 1
