"""``fitscope export mlflow``: the store's runs written into an MLflow tracking store, with MLflow's own client.

Each fitscope run becomes one MLflow run: its parameters, every epoch's metrics with
``step`` = epoch (and the evaluations of the ledger as ``evaluation/test_accuracy``...), tags (fitscope's
own under ``fitscope.``, the user's tags as they are, the note as MLflow's description),
and as artifacts the split manifest, the HTML report, the learning-curve figure and the
``.keras`` models. fitscope's run id is kept in the tag ``fitscope.run_id``: exporting
again finds the run and adds only what changed, so nothing is duplicated; a run that did
not change since it was exported (the tag ``fitscope.exported``) is left alone. The
runs of a group (a cross-validation's folds, a search's trials) are nested under one
MLflow run named after the group, as MLflow nests runs. The store is only read.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ArgumentError, argument_error
from .._i18n import _
from ..store import MODELS, CheckpointDir

if TYPE_CHECKING:
    from ..store import Run, RunInfo, Store

__all__ = ["MlflowExport", "export_to_mlflow", "mlflow_key"]

RUN_ID_TAG = "fitscope.run_id"
EXPORTED_TAG = "fitscope.exported"  # what the run was when last exported: unchanged runs are skipped
TAGS_TAG = "fitscope.tags"  # the user's tags, comma-separated (so that a removed tag is removed in MLflow too)
NOTE_TAG = "mlflow.note.content"  # MLflow shows it as the run's description
GROUP_TAG = "fitscope.group_id"  # on the MLflow run a group's runs are nested under
PARENT_TAG = "mlflow.parentRunId"  # MLflow's own tag for a nested run
_FORMAT = 1  # bump when what an exported run holds changes: every run is exported again
_STATUS = {"finished": "FINISHED", "failed": "FAILED", "interrupted": "KILLED", "pruned": "KILLED",
           "running": "RUNNING", "pending": "SCHEDULED"}  # fmt: skip
_METRICS_PER_BATCH, _ENTRIES_PER_BATCH = 1000, 100  # MLflow's limits for one log_batch: metrics; params or tags
_PARAM_LENGTH = 6000  # MLflow keeps this much of a parameter's value


@dataclass
class MlflowExport:
    """What ``export_to_mlflow`` did: fitscope run ids mapped to MLflow run ids, by outcome."""

    experiment_id: str
    experiment_name: str
    tracking_uri: str
    groups: dict[str, str] = field(default_factory=dict)  # fitscope group id to the MLflow run of the group
    created: dict[str, str] = field(default_factory=dict)
    updated: dict[str, str] = field(default_factory=dict)
    unchanged: dict[str, str] = field(default_factory=dict)

    @property
    def mlflow_ids(self) -> dict[str, str]:
        """Every exported run: fitscope's run id to MLflow's."""
        return self.created | self.updated | self.unchanged

    def to_dict(self) -> dict[str, Any]:
        return {"experiment_id": self.experiment_id, "experiment": self.experiment_name,
                "tracking_uri": self.tracking_uri, "groups": self.groups, "created": self.created,
                "updated": self.updated, "unchanged": self.unchanged}  # fmt: skip


def mlflow_key(name: str) -> str:
    """A fitscope name as an MLflow key: ``model[0].Dense.units`` is ``model.0.Dense.units``.

    MLflow's keys hold letters, digits, ``_ - . / :`` and spaces; anything else becomes ``_``.
    """
    key = re.sub(r"\[(\d+)\]", r".\1", name)
    return re.sub(r"[^/\w.\- :]", "_", key).strip("/") or "_"


def export_to_mlflow(
    store: Store,
    infos: Sequence[RunInfo],
    *,
    tracking_uri: str,
    experiment: str = "fitscope",
    artifact_location: str | None = None,
    artifacts: bool = True,
    progress: Callable[[RunInfo], None] | None = None,
) -> MlflowExport:
    """Write runs into the MLflow tracking store at ``tracking_uri``, in the experiment named ``experiment``.

    Args:
        store: the store the runs come from (opened read-only is enough).
        infos: the runs (``store.runs(where=...)``).
        tracking_uri: any URI MLflow's client takes (``sqlite:///mlflow.db``, ``http://host:5000``...).
        experiment: the MLflow experiment; made when missing.
        artifact_location: where a new experiment keeps its artifacts (default: the tracking store's).
        artifacts: also upload the manifest, report, figure and models.
        progress: called with each run once it is exported.

    Raises:
        ArgumentError: mlflow missing, or the tracking store refused something (its words follow).
    """
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise argument_error("Exporting to MLflow needs mlflow: pip install 'fitscope[mlflow]'.") from None
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        experiment_id = _experiment(client, experiment, artifact_location)
        done = MlflowExport(experiment_id, experiment, tracking_uri)
        exported = _exported(client, experiment_id, RUN_ID_TAG)
        parents = _exported(client, experiment_id, GROUP_TAG)
        for group in dict.fromkeys(info.group_id for info in infos if info.group_id):
            done.groups[group] = _write_parent(client, experiment_id, store, group, parents.get(group))
        for info in infos:
            mlflow_run = exported.get(info.run_id)
            run = store.run(info.run_id)
            parent = done.groups.get(info.group_id or "")
            fingerprint = _fingerprint(run, info, artifacts, parent)
            if mlflow_run is not None and mlflow_run.data.tags.get(EXPORTED_TAG) == fingerprint:
                done.unchanged[info.run_id] = mlflow_run.info.run_id
            else:
                mlflow_id = _write_run(client, experiment_id, run, info, mlflow_run, artifacts, fingerprint, parent)
                (done.created if mlflow_run is None else done.updated)[info.run_id] = mlflow_id
            if progress is not None:
                progress(info)
    except MlflowException as exc:
        refused = _("MLflow at {uri} refused: {error}").format(uri=tracking_uri, error=exc.message.strip())
        raise ArgumentError(refused) from None
    except OSError as exc:  # an artifact folder that cannot be written, a full disk
        failed = _("MLflow at {uri} could not write: {error}").format(uri=tracking_uri, error=exc)
        raise ArgumentError(failed) from None
    return done


def _experiment(client: Any, name: str, artifact_location: str | None) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return str(client.create_experiment(name, artifact_location=artifact_location))
    if found.lifecycle_stage == "deleted":
        raise argument_error(f"<<experiment>> {name!r} was deleted in MLflow: restore it there, or name another.")
    if artifact_location is not None and _place(found.artifact_location) != _place(artifact_location):
        raise argument_error(f"<<artifact_location>> {artifact_location}: the experiment {name!r} keeps its artifacts "
                             f"in {found.artifact_location}, and an existing experiment's place cannot change; leave "
                             "it out, or name another experiment.")  # fmt: skip
    return str(found.experiment_id)


def _place(location: str) -> str:
    """An artifact location as one spelling: a folder (``art``, ``/x/art``, ``file:///x/art``) as its full path."""
    if location.startswith("file://"):
        location = location[len("file://") :]
    return str(Path(location).resolve()) if "://" not in location else location.rstrip("/")


def _exported(client: Any, experiment_id: str, tag: str) -> dict[str, Any]:
    """The experiment's MLflow runs that carry ``tag`` (fitscope's runs, or its groups), by its value."""
    found: dict[str, Any] = {}
    token = None
    while True:
        page = client.search_runs([experiment_id], filter_string=f"tags.`{tag}` != ''", max_results=1000,
                                  page_token=token)  # fmt: skip
        for mlflow_run in page:
            found.setdefault(mlflow_run.data.tags[tag], mlflow_run)
        token = page.token
        if not token:
            return found


def _write_parent(client: Any, experiment_id: str, store: Store, group: str, existing: Any) -> str:
    """A group (a cross-validation, a search...) as the MLflow run its runs are nested under.

    It starts with its first run and ends with its last; it is running while one of them is.
    """
    members = store.runs(group=group)
    if existing is None:
        kind = store.group_kind(group) or ""
        existing = client.create_run(experiment_id, start_time=_ms(min(m.started_at for m in members)),
                                     run_name=group, tags={GROUP_TAG: group, "fitscope.kind": kind})  # fmt: skip
    mlflow_id = str(existing.info.run_id)
    if all(member.ended_at is not None for member in members):
        end = _ms(max(member.ended_at or 0.0 for member in members))
        if (existing.info.status, existing.info.end_time) != ("FINISHED", end):
            client.set_terminated(mlflow_id, "FINISHED", end_time=end)
    elif existing.info.status != "RUNNING":
        client.update_run(mlflow_id, status="RUNNING")
    return mlflow_id


def _fingerprint(run: Run, info: RunInfo, artifacts: bool, parent: str | None) -> str:
    """What an exported run holds, hashed: a run whose hash did not change is not written again."""
    models = CheckpointDir(run.checkpoint_dir)
    paths = [models.model_path(which) for which in MODELS]
    stamps = {path.name: path.stat().st_mtime_ns for path in paths if path.is_file()}
    held = [_FORMAT, info.status, info.reason, info.ended_at, info.tags, info.note, info.params, run.epochs(),
            [e["id"] for e in run.evaluations()], artifacts and stamps, parent]  # fmt: skip
    return hashlib.sha256(json.dumps(held, default=str).encode()).hexdigest()[:16]


def _write_run(
    client: Any, experiment_id: str, run: Run, info: RunInfo, existing: Any, artifacts: bool, fingerprint: str,
    parent: str | None,
) -> str:  # fmt: skip
    from mlflow.entities import Metric, Param, RunTag

    if existing is None:
        existing = client.create_run(experiment_id, start_time=_ms(info.started_at), run_name=info.name,
                                     tags={RUN_ID_TAG: info.run_id})  # fmt: skip
    mlflow_id = existing.info.run_id
    had_params = existing.data.params
    params = []
    for name, value in info.params.items():
        key, text = mlflow_key(name), _param_text(value)
        if key not in had_params:
            params.append(Param(key, text))
        elif had_params[key] != text[:_PARAM_LENGTH]:
            said = _("run {run}: the parameter {name} changed since it was exported; MLflow keeps a run's parameters "
                     "as first written").format(run=info.run_id, name=name)  # fmt: skip
            warnings.warn(said, stacklevel=4)
    for first in range(0, len(params), _ENTRIES_PER_BATCH):
        client.log_batch(mlflow_id, params=params[first : first + _ENTRIES_PER_BATCH])
    tags = _tags(info) | ({PARENT_TAG: parent} if parent else {})
    old_user_tags = [t for t in existing.data.tags.get(TAGS_TAG, "").split(",") if t]
    for gone in [t for t in old_user_tags if t not in info.tags and mlflow_key(t) in existing.data.tags]:
        client.delete_tag(mlflow_id, mlflow_key(gone))
    if not info.note and NOTE_TAG in existing.data.tags:
        client.delete_tag(mlflow_id, NOTE_TAG)
    changed = [RunTag(k, v) for k, v in tags.items() if existing.data.tags.get(k) != v]
    for first in range(0, len(changed), _ENTRIES_PER_BATCH):
        client.log_batch(mlflow_id, tags=changed[first : first + _ENTRIES_PER_BATCH])
    metrics = [Metric(key, value, stamp, step) for key, value, stamp, step in _metrics(run)]
    if existing.data.metrics:  # only what MLflow does not have yet: exporting twice duplicates nothing
        have = {(key, point.step, point.timestamp) for key in existing.data.metrics
                for point in client.get_metric_history(mlflow_id, key)}  # fmt: skip
        metrics = [m for m in metrics if (m.key, m.step, m.timestamp) not in have]
    for first in range(0, len(metrics), _METRICS_PER_BATCH):
        client.log_batch(mlflow_id, metrics=metrics[first : first + _METRICS_PER_BATCH])
    if artifacts:
        _log_artifacts(client, mlflow_id, run, info)
    status = _STATUS.get(info.status, "RUNNING")
    if status in ("RUNNING", "SCHEDULED"):
        client.update_run(mlflow_id, status=status)
    else:
        client.set_terminated(mlflow_id, status, end_time=_ms(info.ended_at) if info.ended_at else None)
    client.set_tag(mlflow_id, EXPORTED_TAG, fingerprint)  # last: a run cut off half-way is written again next time
    return str(mlflow_id)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _tags(info: RunInfo) -> dict[str, str]:
    """The MLflow tags of a run: fitscope's facts, the user's tags and note, and where the code came from."""
    environment = info.environment
    git = environment.get("git") or {}
    tags = {
        RUN_ID_TAG: info.run_id, "fitscope.status": info.status, "fitscope.reason": info.reason or "",
        "fitscope.group": info.group_id or "", "fitscope.kind": info.group_kind or "",
        "fitscope.split": info.manifest.index_hash if info.manifest else "", "fitscope.backend": info.backend or "",
        "fitscope.seed": "" if info.seed is None else str(info.seed),
        "fitscope.command": environment.get("command") or "",
        TAGS_TAG: ",".join(info.tags),
    }  # fmt: skip
    tags |= {f"fitscope.versions.{mlflow_key(k)}": str(v) for k, v in info.libraries.items()}
    if git.get("commit"):
        tags["mlflow.source.git.commit"] = str(git["commit"])
        tags["fitscope.git.diff"] = str(git.get("diff") or "") if git.get("dirty") else ""
    if environment.get("platform"):
        tags["fitscope.machine"] = f"{environment['platform']}, {environment.get('cores')} cores"
    tags |= {mlflow_key(tag): "" for tag in info.tags}
    if info.note:
        tags[NOTE_TAG] = info.note
    return tags


def _metrics(run: Run) -> list[tuple[str, float, int, int]]:
    """``(key, value, timestamp ms, step)``: every epoch's metrics (stamped when the epoch ended) and evaluations."""
    ended = {epoch: started + duration for epoch, started, duration in run.epochs()}
    rows = [(mlflow_key(name), value, _ms(ended[epoch]), epoch) for epoch, name, value in run.metric_values()
            if epoch in ended]  # fmt: skip
    for evaluation in run.evaluations():
        for name, value in evaluation["metrics"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                key = mlflow_key(f"evaluation/{evaluation['split']}_{name}")
                rows.append((key, float(value), _ms(evaluation["at"]), int(evaluation["epoch"] or 0)))
    return rows


def _log_artifacts(client: Any, mlflow_id: str, run: Run, info: RunInfo) -> None:
    """The split manifest, the HTML report, the learning curves and the ``.keras`` models."""
    from ._html import render_report
    from ._plot import plot_history

    with tempfile.TemporaryDirectory(prefix="fitscope-mlflow-") as folder:
        here = Path(folder)
        if info.manifest is not None:
            (here / "split.json").write_text(json.dumps(info.manifest.to_dict(), indent=1, ensure_ascii=False))
        (here / "report.html").write_text(render_report(run), encoding="utf-8")
        history = run.history()
        if any(values for values in history.values()):
            import matplotlib.pyplot as plt

            figure = plot_history(run, here / "curves.png")
            plt.close(figure)
        for path in sorted(here.iterdir()):
            client.log_artifact(mlflow_id, str(path))
    models = CheckpointDir(run.checkpoint_dir)
    for which in MODELS:
        path = models.model_path(which)
        if path.is_file():
            client.log_artifact(mlflow_id, str(path), artifact_path="models")
