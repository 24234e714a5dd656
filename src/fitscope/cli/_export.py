"""``fitscope export mlflow``: runs into an MLflow tracking store (the store is only read)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from .._errors import argument_error
from .._i18n import _
from ._output import HelpFormatter, print_json
from ._runs import GROUP_HELP, add_runs_option, open_store


def add_parser(commands: Any) -> None:
    export = commands.add_parser(
        "export", help=_("send runs to another tracker (MLflow)"), formatter_class=HelpFormatter,
        description=_("Send the store's runs to another experiment tracker. To write runs to a CSV, JSON or Parquet "
        "file, see `fitscope runs export`."),
    )  # fmt: skip
    targets = export.add_subparsers(dest="target", metavar="TARGET", required=True)
    mlflow = targets.add_parser(
        "mlflow", help=_("write runs into an MLflow tracking store"), formatter_class=HelpFormatter,
        description=_("Write runs into any MLflow tracking store with MLflow's own client: each run's parameters, "
        "every epoch's metrics (step = epoch) and its evaluations (evaluation/test_accuracy...), its tags "
        "and note, the code it came from, and as artifacts the split manifest, the HTML report, the learning "
        "curves and the .keras models; the runs of a group (cv folds, search trials) are nested under an MLflow "
        "run named after the group. "
        "fitscope's run id is kept as the MLflow tag fitscope.run_id: exporting again updates those runs with "
        "what changed and duplicates nothing. Parameter names become MLflow keys: model[0].Dense.units is "
        "model.0.Dense.units. Needs mlflow (pip install 'fitscope[mlflow]')."),
        epilog=_("examples:\n  fitscope export mlflow --tracking-uri sqlite:///mlflow.db\n"
        "  fitscope export mlflow --tracking-uri http://localhost:5000 --experiment book \\\n"
        "      --where \"'baseline' in tags\"\n"
        "  mlflow ui --backend-store-uri sqlite:///mlflow.db     # then look at them in MLflow"),
    )  # fmt: skip
    mlflow.add_argument("--tracking-uri", metavar="URI", default=os.environ.get("MLFLOW_TRACKING_URI"),
                        help=_("the MLflow tracking store: sqlite:///FILE, http://HOST:PORT, postgresql://... "
                        "(default: $MLFLOW_TRACKING_URI)"))  # fmt: skip
    mlflow.add_argument("--experiment", metavar="NAME", default="fitscope",
                        help=_("the MLflow experiment the runs go to, made when missing (default: "
                               "fitscope)"))  # fmt: skip
    mlflow.add_argument("--artifact-location", metavar="URI",
                        help=_("where a new experiment keeps its artifacts (default: the tracking store's "
                        "choice)"))  # fmt: skip
    mlflow.add_argument("--no-artifacts", dest="artifacts", action="store_false",
                        help=_("leave out the files (manifest, report, figure, models): quicker"))  # fmt: skip
    mlflow.add_argument("--where", metavar="EXPR", help=_("only the runs for which EXPR holds (as `runs --where`)"))
    mlflow.add_argument("--group", help=_("only the runs of this group: {what}").format(what=_(GROUP_HELP)))
    mlflow.add_argument("--json", action="store_true", help=_("print the MLflow run id of each run as JSON"))
    add_runs_option(mlflow)
    mlflow.set_defaults(handler=run_mlflow)


def run_mlflow(args: argparse.Namespace) -> int:
    from ..report import export_to_mlflow

    if not args.tracking_uri:
        raise argument_error("<<tracking_uri>> is needed: where the runs go, e.g. sqlite:///mlflow.db "
                             "(or set MLFLOW_TRACKING_URI).")  # fmt: skip
    store = open_store(args)
    infos = store.runs(group=store.group(args.group) if args.group else None, where=args.where)
    # MLflow's own INFO lines (its database's creation...) would drown fitscope's one line.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # (read when mlflow is imported)
    logging.getLogger("mlflow").setLevel(os.environ["MLFLOW_LOGGING_LEVEL"].upper())  # (when it already was)
    with _ProgressBar(len(infos)) as advance:
        done = export_to_mlflow(store, infos, tracking_uri=args.tracking_uri, experiment=args.experiment,
                                artifact_location=args.artifact_location, artifacts=args.artifacts,
                                progress=advance)  # fmt: skip
    if args.json:
        print_json(done.to_dict())
        return 0
    print(_("{runs} run(s) in MLflow experiment {name!r} ({id}) at {uri}: {created} new, {updated} updated, "
            "{unchanged} unchanged").format(runs=len(done.mlflow_ids), name=done.experiment_name,
                                            id=done.experiment_id, uri=done.tracking_uri, created=len(done.created),
                                            updated=len(done.updated), unchanged=len(done.unchanged)))  # fmt: skip
    if done.groups:
        print(_("the runs of {count} group(s) nested under an MLflow run named after the group: {groups}").format(
            count=len(done.groups), groups=", ".join(sorted(done.groups))))  # fmt: skip
    return 0


class _ProgressBar:
    """A progress bar on standard error while runs are exported (nothing when it is not a terminal)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not sys.stderr.isatty() or self.total < 2:
            return None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task(_("exporting"), total=self.total)
        return lambda _info: self.bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
