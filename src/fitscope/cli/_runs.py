"""``fitscope runs`` (list, show, rm) and ``fitscope board``: read the store, no Keras."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .._i18n import N_, STATUS_NAMES, _
from ._output import HelpFormatter, console, print_json

RUNS_HELP = N_("the run store folder (default: $FITSCOPE_HOME or ./fitscope-runs)")


def add_runs_option(parser: argparse.ArgumentParser, *, help_text: str = RUNS_HELP, uses_store: bool = True) -> None:
    """``--runs DIR``; a command that uses no store takes it too (hidden), so that it can say it does not apply."""
    # SUPPRESS: an option given before the command or a sub-action (`fitscope --runs D
    # runs show X`) is not reset to None by the later parser.
    parser.add_argument("--runs", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                        help=_(help_text) if uses_store else argparse.SUPPRESS)  # fmt: skip
    if uses_store:
        parser.set_defaults(uses_store=True)


def runs_option(args: argparse.Namespace) -> str:
    """`` --runs DIR`` as the user gave it (quoted), for the commands fitscope suggests next; else nothing."""
    import shlex

    runs = getattr(args, "runs", None)
    return f" --runs {shlex.quote(str(runs))}" if runs else ""


RUN_IDS_HELP = N_("run ids (unique prefixes are enough; `last` is the most recent run)")


def add_run_argument(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    """The ``RUN`` positional every per-run command takes."""
    parser.add_argument("run", nargs="?" if optional else None, metavar="RUN",
                        help=_("a run id (a unique prefix is enough), or `last` for the most recent run"))  # fmt: skip


SPEC_HELP = N_("a YAML experiment spec, or a spec fitscope ships: book_toy, book_full, digits_quick")


def add_spec_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", type=Path, metavar="SPEC.yaml", help=_(SPEC_HELP))


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """``--set key.path=value``, repeatable: overrides for a spec (run, cv, tune)."""
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help=_("override a spec value, e.g. fit.epochs=5 (repeatable)"))  # fmt: skip


DATA_DIR_HELP = N_("the folder holding the built-in datasets' files, e.g. mnist.npz (default: $FITSCOPE_DATA)")


def add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    """``--data-dir DIR``: where the spec's built-in dataset lies (the spec's ``data.data_dir``)."""
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help=_(DATA_DIR_HELP))


def spec_overrides(args: argparse.Namespace) -> list[str]:
    """The ``--set`` overrides, with ``--data-dir`` as the spec's ``data.data_dir``."""
    from ..experiment.spec import data_dir_override

    data_dir = getattr(args, "data_dir", None)
    return [*args.overrides, *([data_dir_override(data_dir)] if data_dir is not None else [])]


def open_store(args: argparse.Namespace) -> Any:
    from ..store import Store

    # These commands only look at runs (`runs rm` opens the store to write: see run_rm).
    return Store(getattr(args, "runs", None), readonly=True)


GROUP_HELP = N_(
    "a group id (cv, tune, learning-curve and run --repeats print it; a unique prefix is enough; `last` is "
    "the most recent)"
)


def runs_of_group(store: Any, group: str) -> list[Any]:
    """The runs of a group (named by its id, a unique prefix or ``last``); an error when there is none."""
    return list(store.runs(group=store.group(group)))


def add_parser(commands: Any) -> None:
    runs = commands.add_parser(
        "runs",
        help=_("list recorded runs; show or remove them"),
        description=_(
            "List the runs in the store (id, name, status, epochs, best validation metric), filtered and "
            "sorted in the store: --where takes an expression over the fields name, status, group, "
            "kind, backend, seed, "
            "note, started, ended, split, epochs, params.KEY (a recorded parameter), best.METRIC (its best value over "
            "the epochs: the lowest loss, the highest accuracy), final.METRIC (its last epoch's) "
            "and tags ('x' in tags), "
            "joined by and, or, not."
        ),
        epilog=_(
            "examples:\n  fitscope runs\n  fitscope runs --group GROUP    # the folds or trials of one cv/tune\n"
            '  fitscope runs --where "params.model[0].Dense.units >= 16 and best.val_accuracy > 0.5" '
            "--sort -best.val_accuracy\n"
            "  fitscope runs --where \"'baseline' in tags\" --columns name,params.batch_size,final.val_loss\n"
            '  fitscope runs tag RUN baseline   # and runs untag, runs note RUN "text"\n'
            "  fitscope runs --last 10       # the ten most recent\n  fitscope runs groups          "
            "# every cv and tune\n"
            "  fitscope runs show 20261128-1012 --json\n  fitscope runs rm RUN [RUN ...]\n"
            "  fitscope runs rm --group GROUP"
        ),
        formatter_class=HelpFormatter,
    )
    add_runs_option(runs)
    runs.add_argument("--group", help=_("only the runs of this group: {what}").format(what=_(GROUP_HELP)))
    runs.add_argument("--last", type=int, metavar="N",
                      help=_("only N runs: the N most recent (with --sort, the first N in its order)"))  # fmt: skip
    runs.add_argument("--where", metavar="EXPR", help=_("only the runs for which EXPR holds (see above)"))
    runs.add_argument("--sort", metavar="KEY[,KEY...]",
                      help=_("sort by these fields, - first for descending (-best.val_accuracy); default: when "
                      "started"))  # fmt: skip
    runs.add_argument("--columns", metavar="FIELD[,FIELD...]",
                      help=_("the columns beside the run id (default: name, status, epochs, best val)"))  # fmt: skip
    runs.add_argument("--json", action="store_true", help=_("print JSON instead of a table"))
    runs.add_argument("--ids", action="store_true",
                      help=_("print only the run ids, one a line (for scripts and shell completion)"))  # fmt: skip
    runs.set_defaults(handler=run_list)
    actions = runs.add_subparsers(dest="runs_command", metavar="ACTION")
    show = actions.add_parser(
        "show", help=_("params, split manifest, per-epoch table and evaluations of a run"),
        description=_("Show one run: its parameters, split, epochs (the last 20 unless --tail or --epochs says "
        "otherwise) and the evaluations ledger. --json gives everything, every epoch included."),
    )  # fmt: skip
    add_run_argument(show)
    add_runs_option(show)
    which = show.add_mutually_exclusive_group()
    which.add_argument("--tail", type=_positive, metavar="N", help=_("the last N epochs (default: 20)"))
    which.add_argument("--epochs", type=_epoch_range, metavar="A:B", help=_("epochs A to B-1, as Python slices them "
                       "(A: or :B too)"))  # fmt: skip
    show.add_argument("--json", action="store_true", help=_("print JSON"))
    show.set_defaults(handler=run_show)
    groups = actions.add_parser(
        "groups", help=_("the cv and tune groups: their ids, runs and when they ran"),
        description=_("List the store's cross-validation and search groups, the oldest first: each id (what "
        "`runs --group`, `plot --group` and `runs rm --group` take), its runs by status, and when it ran."),
    )  # fmt: skip
    add_runs_option(groups)
    groups.add_argument("--json", action="store_true", help=_("print JSON"))
    groups.set_defaults(handler=run_groups)
    rm = actions.add_parser(
        "rm", help=_("delete runs' records and folders"), formatter_class=HelpFormatter,
        description=_("Delete the runs' records and folders: all of them, or none when one is unknown or "
        "still trained by another process."),
        epilog=_("examples:\n  fitscope runs rm RUN\n  fitscope runs rm RUN1 RUN2\n"
        "  fitscope runs rm --group GROUP    # every fold or trial of one cv/tune"),
    )  # fmt: skip
    rm.add_argument("run", nargs="*", metavar="RUN", help=_(RUN_IDS_HELP))
    rm.add_argument("--group", help=_("every run of this group: {what}").format(what=_(GROUP_HELP)))
    rm.add_argument("--force", action="store_true", help=_("remove runs even when the process recorded as training "
                    "them looks alive (you know it is gone: its machine was switched off, say)"))  # fmt: skip
    add_runs_option(rm)
    rm.set_defaults(handler=run_rm)
    tag_texts = {
        "tag": (_("label runs to find them again (--where \"'TAG' in tags\")"), _("the tags to add"),
                _("Add tags: a word or a few words each, shown by runs show and the report, found by --where.")),
        "untag": (_("take tags off a run"), _("the tags to take off"),
                  _("Take tags off: a word or a few words each, shown by runs show and the report, found by --where.")),
    }  # fmt: skip
    for action, (text, tags_help, description) in tag_texts.items():
        tagging = actions.add_parser(action, help=text, description=description)
        add_run_argument(tagging)
        tagging.add_argument("tags", nargs="+", metavar="TAG", help=tags_help)
        add_runs_option(tagging)
        tagging.set_defaults(handler=run_tag, untag=action == "untag")
    export = actions.add_parser(
        "export", help=_("write runs to a CSV, JSON or Parquet file"), formatter_class=HelpFormatter,
        description=_("Write the runs (all, or those --where selects) as a table: one row per run with its "
        "parameters (params.KEY columns), each metric's best and final value (best.METRIC, final.METRIC), status, "
        "group, tags, note and split hash; or with --epochs one row per run and epoch. Parquet needs pandas and "
        "pyarrow (pip install 'fitscope[export]'); from Python, Store(...).to_dataframe() gives the same table."),
        epilog=_("examples:\n  fitscope runs export -o runs.csv\n"
        "  fitscope runs export --where \"'baseline' in tags\" --epochs -o curves.parquet"),
    )  # fmt: skip
    export.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help=_("the file to write"))
    export.add_argument("--format", choices=("csv", "json", "parquet"),
                        help=_("the file's format (default: its suffix's)"))  # fmt: skip
    export.add_argument("--epochs", action="store_true", help=_("one row per run and epoch (long form)"))
    export.add_argument("--where", metavar="EXPR", help=_("only the runs for which EXPR holds (as `runs --where`)"))
    export.add_argument("--sort", metavar="KEY[,KEY...]", help=_("the rows' order (as `runs --sort`)"))
    export.add_argument("--group", help=_("only the runs of this group: {what}").format(what=_(GROUP_HELP)))
    add_runs_option(export)
    export.set_defaults(handler=run_export)
    note = actions.add_parser("note", help=_("write a note on a run (\"\" removes it)"),
                              description=_("Set a run's note, shown by runs show and the report, found by --where "
                              "(note == '...')."))  # fmt: skip
    add_run_argument(note)
    note.add_argument("text", metavar="TEXT", help=_('the note ("" removes it)'))
    add_runs_option(note)
    note.set_defaults(handler=run_note)

    board = commands.add_parser(
        "board",
        help=_("start TensorBoard on the store's event files"),
        description=_(
            "Serve TensorBoard on every run's event files and print its URL and the "
            "equivalent `tensorboard --logdir` command."
        ),
    )
    add_runs_option(board)
    board.add_argument("--port", type=int, default=6006, help=_("port to serve on (default: 6006; 0 picks a free one)"))
    board.add_argument("--host", default="127.0.0.1", help=_("address to bind (default: 127.0.0.1)"))
    board.set_defaults(handler=run_board)


def _summary(info: Any, best: tuple[str, float, int] | None) -> dict[str, Any]:
    return {
        "run_id": info.run_id,
        "name": info.name,
        "status": info.status,
        "epochs": info.epochs,
        "best": None if best is None else {"metric": best[0], "value": best[1], "epoch": best[2]},
        "group_id": info.group_id,
        "started_at": info.started_at,
    }


def run_list(args: argparse.Namespace) -> int:
    from ..store import DB_NAME, Store, default_root

    group = getattr(args, "group", None)
    runs = getattr(args, "runs", None)
    if runs is not None and not Path(runs).is_dir():  # a typo, or a file: not "no runs yet"
        Store(runs, readonly=True)  # raises the error that names it
    ids = getattr(args, "ids", False)
    if ids and (args.json or getattr(args, "columns", None)):
        from .._errors import ArgumentError

        raise ArgumentError("--ids prints only the run ids: leave out --json and --columns.")
    if not group and not Store.exists(runs):  # nothing trained there yet: say so, create nothing
        if ids:
            return 0
        if args.json:
            print_json([])
        else:
            root = runs or default_root()
            console().print(_("no runs in {root} yet (no {file} there; check --runs or FITSCOPE_HOME)").format(
                root=root, file=DB_NAME), markup=False)  # fmt: skip
        return 0
    store = open_store(args)
    where, sort = getattr(args, "where", None), getattr(args, "sort", None)
    infos = store.runs(group=store.group(group) if group else None, where=where, sort=sort)
    last = getattr(args, "last", None)
    if last is not None and last < 1:
        from .._errors import ArgumentError

        raise ArgumentError(f"--last {last}: give the number of recent runs to show, 1 or more.")
    if sort and last:  # the first N in the order asked for
        infos = infos[:last]
    shown_from = max(0, len(infos) - last) if last and not sort else 0  # oldest first: the last N rows
    if ids:
        print("".join(f"{info.run_id}\n" for info in infos[shown_from:]), end="")
        return 0
    columns = [name.strip() for name in (getattr(args, "columns", None) or "").split(",") if name.strip()]
    if columns:
        return _list_columns(store, infos[shown_from:], columns, args.json, shown_from, last)
    best = store.best_epochs([info.run_id for info in infos[shown_from:]])  # the rows shown only
    rows = [_summary(info, best.get(info.run_id)) for info in infos]
    if group:
        _mark_superseded(rows, infos)  # earlier attempts of trials that ran again
    older, rows = shown_from, rows[shown_from:]
    if args.json:
        print_json(rows)
        return 0
    out = console()
    if not rows:
        if where:
            out.print(_("no run in {root} matches --where {where}").format(root=store.root, where=where), markup=False)
        else:
            out.print(_("no runs in {root} yet").format(root=store.root), markup=False)
        return 0
    from rich.markup import escape

    table = _store_table(store, _("run id"), (_("name"), _("status"), _("epochs"), _("best val")))
    for row in rows:
        best = row["best"]
        shown = "" if best is None else f"{best['metric']} {best['value']:.4g} @ {best['epoch']}"
        status = _(STATUS_NAMES.get(row["status"], row["status"]))
        status += _(", ran again") if row.get("superseded_by") else ""
        table.add_row(row["run_id"], escape(row["name"]), status, str(row["epochs"]), shown)
    out.print(table)
    if older:
        out.print(_("{count} older run(s) not shown (--last {last})").format(count=older, last=last))
    return 0


def _list_columns(store: Any, infos: list[Any], columns: list[str], as_json: bool, older: int,
                  last: int | None) -> int:  # fmt: skip
    """The runs with the columns asked for (``--columns``), as a table or JSON."""
    values = store.columns([info.run_id for info in infos], columns)
    rows = [{"run_id": info.run_id, **values[info.run_id]} for info in infos]
    if as_json:
        print_json(rows)
        return 0
    from rich.markup import escape

    table = _store_table(store, _("run id"), tuple(columns))
    for row in rows:
        table.add_row(row["run_id"], *(escape(_cell(row[name])) for name in columns))
    out = console()
    out.print(table)
    if older:
        out.print(_("{count} older run(s) not shown (--last {last})").format(count=older, last=last))
    return 0


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def run_export(args: argparse.Namespace) -> int:
    from ..store import epoch_rows, run_rows, write_rows

    store = open_store(args)
    infos = store.runs(group=store.group(args.group) if args.group else None, where=args.where, sort=args.sort)
    rows = epoch_rows(store, infos) if args.epochs else run_rows(store, infos)
    write_rows(rows, args.output, args.format)
    print(_("{count} row(s) of {runs} run(s) written to {path}").format(count=len(rows), runs=len(infos),
                                                                         path=args.output))  # fmt: skip
    return 0


def run_tag(args: argparse.Namespace) -> int:
    from ..store import Store

    store = Store(getattr(args, "runs", None), create=False)  # (it writes)
    run = store.run(args.run)
    (run.untag if args.untag else run.tag)(*args.tags)
    tags = run.info().tags
    print(_("{run}: tags {tags}").format(run=run.run_id, tags=", ".join(tags) if tags else "—"))
    return 0


def run_note(args: argparse.Namespace) -> int:
    from ..store import Store

    store = Store(getattr(args, "runs", None), create=False)  # (it writes)
    run = store.run(args.run)
    run.set_note(args.text)
    print(_("{run}: note {note}").format(run=run.run_id, note=repr(args.text) if args.text else "—"))
    return 0


def _mark_superseded(rows: list[dict[str, Any]], infos: list[Any]) -> None:
    """In a cv/tune group, name on each other attempt of a trial the run that stands for it."""
    from ..experiment import standing_runs

    stands_for = {other: trial.info.run_id for trial in standing_runs(infos) for other in trial.others}
    for row in rows:
        if row["run_id"] in stands_for:
            row["superseded_by"] = stands_for[row["run_id"]]


_SHOWN = 20  # epochs `runs show` prints unless asked for others


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of epochs, 1 or more; got {text!r}")
    return value


def _epoch_range(text: str) -> slice:
    start, colon, stop = text.partition(":")
    try:
        if not colon:
            raise ValueError
        bounds = [int(part) if part.strip() else None for part in (start, stop)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected A:B (epochs A to B-1, either side may be left out); got {text!r}"
        ) from None
    if any(bound is not None and bound < 0 for bound in bounds):
        raise argparse.ArgumentTypeError(f"epochs are counted from 0; got {text!r}")
    return slice(*bounds)


def _shown_epochs(numbers: list[int], tail: int | None, epochs: slice | None) -> list[int]:
    """The positions of the epochs to print: a range of epoch numbers, the last ``tail``, or the last 20."""
    if epochs is not None:
        start, stop = epochs.start or 0, numbers[-1] + 1 if epochs.stop is None else epochs.stop
        return [i for i, number in enumerate(numbers) if start <= number < stop]
    return list(range(max(0, len(numbers) - (tail or _SHOWN)), len(numbers)))


def run_show(args: argparse.Namespace) -> int:
    store = open_store(args)
    run = store.run(args.run)
    info = run.info()
    epochs = run.epochs()  # before the history: a run still training only adds epochs after these
    history = run.history()
    evaluations = run.evaluations()
    test_count = sum(1 for e in evaluations if e["split"] == "test")
    if args.json:
        print_json(
            {
                **info.to_dict(),
                "epochs": info.epochs,
                "history": history,
                "evaluations": evaluations,
                "test_evaluations": test_count,
                "tensorboard_dir": str(run.tensorboard_dir),
                "models": {which: str(path) for which, path in _models(run).items()},
            }
        )
        return 0
    from rich.markup import escape
    from rich.table import Table

    out = console()
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.started_at))
    status = _(STATUS_NAMES.get(info.status, info.status))
    out.print(f"[bold]{escape(info.run_id)}[/]  {escape(info.name)}  ({status})  "
              + escape(_("started {when}").format(when=started)))  # fmt: skip
    if info.reason:
        out.print(_("reason: {reason}").format(reason=info.reason), markup=False)
    if info.tags:
        out.print(_("tags: {tags}").format(tags=", ".join(info.tags)), markup=False)
    if info.note:
        out.print(_("note: {note}").format(note=info.note), markup=False)
    _print_environment(out, info.environment)
    out.print(_("params: {params}").format(params=info.params), markup=False)
    if info.group_id:
        fold = _(", fold {fold}").format(fold=info.trial["fold"]) if "fold" in info.trial else ""
        command = f"fitscope runs --group {info.group_id}"
        out.print(_("group: {group}{fold}  ({command})").format(group=info.group_id, fold=fold, command=command),
                  markup=False)  # fmt: skip
    if info.trial.get("initial_weights"):
        out.print(_("initial weights: fingerprint {fingerprint}…").format(
            fingerprint=str(info.trial["initial_weights"])[:16]), markup=False)  # fmt: skip
    if info.manifest:
        m = info.manifest
        out.print(_("split: {sizes}  seed {seed}  index hash {hash}…").format(
            sizes=dict(m.sizes), seed=m.seed, hash=m.index_hash[:16]), markup=False)  # fmt: skip
    if epochs:
        shown = _shown_epochs([number for number, _started, _metrics in epochs], args.tail, args.epochs)
        if shown:
            title = _("{count} epochs").format(count=len(epochs))
            if len(shown) < len(epochs):
                title += _(", epochs {first}–{last} shown").format(first=epochs[shown[0]][0], last=epochs[shown[-1]][0])
            table = Table(title=title)
            table.add_column(_("epoch"), justify="right")
            names = sorted(history)
            for name in names:
                table.add_column(name, justify="right")
            for i in shown:
                table.add_row(str(epochs[i][0]), *(f"{history[n][i]:.4f}" for n in names))
            out.print(table)
            if len(shown) < len(epochs) and args.tail is None and args.epochs is None:
                out.print(_("(--tail N or --epochs A:B for others, --json for every epoch)"), markup=False)
        else:
            wanted = f"{args.epochs.start or ''}:{'' if args.epochs.stop is None else args.epochs.stop}"
            out.print(_("no epochs in {wanted} (the run has epochs {first}–{last})").format(
                wanted=wanted, first=epochs[0][0], last=epochs[-1][0]))  # fmt: skip
    else:
        out.print(_("no epochs recorded"))
    out.print(_("test set evaluated {count} time(s); {total} evaluation(s) in all").format(
        count=test_count, total=len(evaluations)))  # fmt: skip
    for e in evaluations:
        at = time.strftime("%Y-%m-%d %H:%M", time.localtime(e["at"]))
        weights = "" if e["epoch"] is None else _(", weights of epoch {epoch}").format(epoch=e["epoch"])
        scores = ", ".join(f"{name} {value:.4f}" if isinstance(value, float) else f"{name} {value}"
                           for name, value in e["metrics"].items())  # fmt: skip
        out.print("  " + _("{split} at {when}{weights}: {scores}").format(split=e["split"], when=at, weights=weights,
                                                                          scores=scores), markup=False)  # fmt: skip
    models = _models(run)
    for which, path in models.items():
        label = _("final model") if which == "final" else _("best model")
        out.print(_("{label} (keras.saving.load_model): {path}").format(label=label, path=path), markup=False)
    from ..store import custom_objects_in

    needed = sorted({name for path in models.values() for name in custom_objects_in(path)})
    if needed:
        out.print(_("loading it needs these classes importable or as custom_objects: {names}").format(
            names=", ".join(needed)), markup=False)  # fmt: skip
    out.print(_("tensorboard: {path}").format(path=run.tensorboard_dir), markup=False)
    return 0


def _print_environment(out: Any, environment: dict[str, Any]) -> None:
    """Where the run came from: its code (git commit, uncommitted changes), command and machine."""
    from ..store import describe_code

    code = describe_code(environment)
    if code:
        out.print(code, markup=False)
    if environment.get("command"):
        out.print(_("command: {command}").format(command=environment["command"]), markup=False)
    if environment.get("platform"):
        machine = _("machine: {platform}, {cores} cores").format(platform=environment["platform"],
                                                                 cores=environment.get("cores"))  # fmt: skip
        accelerators = environment.get("accelerators")
        out.print(machine + (f" ({', '.join(accelerators)})" if accelerators else ""), markup=False)


def _models(run: Any) -> dict[str, Any]:
    """The run's models in Keras's format that are on disk (a finished run with checkpoints keeps them)."""
    from ..store import MODELS, CheckpointDir

    folder = CheckpointDir(run.checkpoint_dir)
    return {which: folder.model_path(which) for which in MODELS if folder.model_path(which).is_file()}


def _store_table(store: Any, key: str, columns: tuple[str, ...]) -> Any:
    """A table of the store's runs or groups: ``key`` (an id) first, never wrapped, as it is copied into commands."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(str(store.root)))
    table.add_column(key, no_wrap=True)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def run_groups(args: argparse.Namespace) -> int:
    store = open_store(args)
    groups = store.groups()
    if args.json:
        print_json([group.to_dict() for group in groups])
        return 0
    out = console()
    if not groups:
        out.print(_("no cv or tune groups in {root} yet").format(root=store.root), markup=False)
        return 0
    from rich.markup import escape

    table = _store_table(store, _("group id"), (_("runs"), _("status"), _("started"), _("last run started")))
    for group in groups:
        statuses = ", ".join(f"{count} {_(STATUS_NAMES.get(status, status))}"
                             for status, count in sorted(group.statuses.items()))  # fmt: skip
        first, last = (time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) for t in (group.first_started,
                                                                                  group.last_started))  # fmt: skip
        table.add_row(escape(group.group_id), str(group.runs), statuses, first, last)
    out.print(table)
    return 0


def run_rm(args: argparse.Namespace) -> int:
    from .._errors import ArgumentError

    if bool(args.run) == bool(args.group):
        raise ArgumentError("give the runs to remove (RUN ...) or --group GROUP, not both and not neither.")
    from ..store import Store

    store = Store(getattr(args, "runs", None), create=False)  # (it writes: removes runs)
    ids = [info.run_id for info in runs_of_group(store, args.group)] if args.group else args.run
    for run_id in store.delete(*ids, force=args.force):
        print(_("removed {run_id}").format(run_id=run_id))
    return 0


def run_board(args: argparse.Namespace) -> int:
    from ..report import board_command, start_board

    store = open_store(args)
    url, _server = start_board(store.root, port=args.port, host=args.host)
    print(_("TensorBoard at {url} (Ctrl-C to stop)").format(url=url))
    print(_("equivalent: {command}").format(command=board_command(store.root, args.port)))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
