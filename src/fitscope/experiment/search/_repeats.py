"""Repeated seeds: one configuration trained N times, as one group, and what its scores vary by.

``fitscope run SPEC --repeats N``: each repeat draws other initial weights (the spec's
seed plus the repeat's number) on the spec's own split, or with ``vary_split`` another
split too (the whole spec's seed moves). The summary gives the mean, standard deviation
and 95% confidence interval of each final and best validation metric: how much of a
difference between two configurations the seeds alone could make.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..._errors import argument_error, invalid_argument
from ..._i18n import STATUS_NAMES, _, prefer_language
from ...analysis import ScoreSummary, lowest_epoch, summarise_scores
from ...store import Store
from ..executors import start_executor
from ..preparing import FoldPlans, warn_about_split
from ..spec import Spec, as_spec
from ..training import Trial
from ._groups import standing_runs
from ._search import _run_group
from ._space import check_keras_names, check_new_arguments

__all__ = ["KIND", "RepeatsResult", "repeat_runs", "run_scores", "summarise_repeats"]

KIND = "repeats"


@dataclass
class RepeatsResult:
    """A repeats group's summary: each run's scores, and each metric's mean, spread and interval over the runs."""

    group_id: str
    runs: list[dict[str, Any]]
    final: dict[str, ScoreSummary]
    best: dict[str, ScoreSummary]
    split_varies: bool = False
    unfinished: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "runs": self.runs, "split_varies": self.split_varies,
                "final": {k: v.to_dict() for k, v in self.final.items()},
                "best": {k: v.to_dict() for k, v in self.best.items()}, "unfinished": self.unfinished}  # fmt: skip

    def __str__(self) -> str:
        """The summary `fitscope run --repeats` prints."""
        lines = [_("repeats group {group} ({count} finished run(s), {split}):").format(
            group=self.group_id, count=len(self.runs),
            split=_("a new split each") if self.split_varies else _("one split"))]  # fmt: skip
        for label, table in ((_("final"), self.final), (_("best epoch"), self.best)):
            for metric, s in table.items():
                lines.append("  " + _("{which} {metric}: {mean} ± {std} (95% interval {low} to {high})").format(
                    which=label, metric=metric, mean=f"{s.mean:.4f}", std=f"{s.std:.4f}", low=f"{s.low:.4f}",
                    high=f"{s.high:.4f}"))  # fmt: skip
        for run in self.unfinished:
            status = _(STATUS_NAMES.get(run["status"], run["status"]))
            lines.append("  " + _("{name}: {status}, left out").format(name=run["name"], status=status))
        return "\n".join(lines)


def repeat_runs(
    spec: Spec | dict[str, Any] | str | Path,
    *,
    repeats: int,
    vary_split: bool = False,
    overrides: list[str] | None = None,
    name: str | None = None,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    runs: str | Path | None = None,
    say: Any = print,
) -> RepeatsResult:
    """Train ``spec`` ``repeats`` times (2 or more) with other seeds, as one group, and summarise the scores."""
    spec_obj = as_spec(spec, overrides)
    prefer_language(spec_obj.lang)
    check_new_arguments(spec, overrides)
    if repeats < 2:
        raise invalid_argument("repeats", repeats, "Expected 2 or more; leave it out for one run.")
    if spec_obj.seed is None:
        raise argument_error("<<repeats>> draws each repeat's seed from the spec's: set seed (a number) in the spec.")
    plans = FoldPlans()
    title = name or spec_obj.name
    with start_executor(executor, workers=workers, address=address, trials=repeats, say=say) as started:
        warn_about_split(plans.holdout(spec_obj).audit.warnings)
        check_keras_names(spec_obj, [], executor)
        data = spec_obj.model_dump(mode="json")
        if vary_split:  # the whole spec's seed moves: split, subsample and initial weights
            trials = [Trial(spec={**data, "seed": spec_obj.seed + k}, name=f"{title}-r{k}") for k in range(repeats)]
        else:
            trials = [Trial(spec=data, name=f"{title}-r{k}", repeat=k) for k in range(repeats)]
        resumed = _("{done} repeat(s) already finished in group {group}; running the other {todo}.")
        driver = _run_group(started, KIND, title, trials, Store(runs), plans, say, resumed)
    return summarise_repeats(driver.store, driver.group)


def run_scores(store: Store, info: Any) -> dict[str, Any] | None:
    """A finished run's final validation metrics (its last validation evaluation) and those of its best epoch."""
    if info.status != "finished":
        return None
    run = store.run(info.run_id)
    history = run.history()
    evaluations = run.evaluations("val")
    final = {f"val_{k}": float(v) for k, v in (evaluations[-1]["metrics"] if evaluations else {}).items()}
    if not final:
        final = {k: v[-1] for k, v in history.items() if k.startswith("val_") and v}
    best_epoch = lowest_epoch(history.get("val_loss", []))
    best = {k: v[best_epoch] for k, v in history.items() if k.startswith("val_")} if best_epoch is not None else {}
    seed = info.trial.get("repeat")
    manifest = info.manifest
    return {"run_id": info.run_id, "name": info.name, "repeat": seed, "seed": (info.spec or {}).get("seed"),
            "split": manifest.index_hash if manifest else None, "final": final, "best": best,
            "best_epoch": best_epoch, "val_size": manifest.sizes.get("val") if manifest else None}  # fmt: skip


def summarise_repeats(store: Store, group: str) -> RepeatsResult:
    """The summary of a repeats group from the store."""
    rows, unfinished = [], []
    for trial in standing_runs(store.runs(group=group)):
        scores = run_scores(store, trial.info)
        if scores is None:
            unfinished.append({"run_id": trial.info.run_id, "name": trial.info.name, "status": trial.info.status})
        else:
            rows.append(scores)
    final = {m: summarise_scores([r["final"][m] for r in rows if m in r["final"]])
             for m in sorted({m for r in rows for m in r["final"]})}  # fmt: skip
    best = {m: summarise_scores([r["best"][m] for r in rows if m in r["best"]])
            for m in sorted({m for r in rows for m in r["best"]})}  # fmt: skip
    varies = len({r["split"] for r in rows}) > 1
    return RepeatsResult(group, rows, final, best, varies, unfinished)
