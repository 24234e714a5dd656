"""Cross-validation and hyperparameter search over a spec.

Both build a list of :class:`Trial` objects, give them to an executor, and read the
results back from the store. Re-running the same command skips the trials that
already finished (same group, same trial key), so an interrupted search resumes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..._errors import argument_error, invalid_argument
from ..._i18n import STATUS_NAMES, _, prefer_language
from ...analysis import FoldsDiagnosis, diagnose_folds, epoch_bands, lowest_epoch, standard_error
from ...store import Store, normalize_metric_name
from ..executors import Driver, Executor, TrialOutcome, start_executor
from ..preparing import FoldPlans, fold_pool, group_labels, warn_about_split
from ..spec import Spec, as_spec, validate_spec
from ..training import REDUCTION, PrunePlan, Trial, plan_pruning
from ._distributions import Distribution, narrowed
from ._groups import standing_runs
from ._model_based import ModelBasedSearch
from ._space import check_distinct, check_keras_names, check_new_arguments, parse_param, set_path

__all__ = ["CVResult", "SearchResult", "cross_validate", "search"]


@dataclass
class CVResult:
    """A cross-validation group's summary."""

    group_id: str
    folds: list[dict[str, Any]]
    mean: dict[str, float]
    std: dict[str, float]
    spread: dict[str, float]
    curves: dict[str, dict[str, list[float]]] = field(default_factory=dict, repr=False)  # (long: every epoch)
    diagnosis: FoldsDiagnosis = field(default_factory=lambda: FoldsDiagnosis(None))

    def to_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "folds": self.folds, "mean": self.mean, "std": self.std,
                "spread": self.spread, "curves": self.curves, "diagnosis": self.diagnosis.to_dict()}  # fmt: skip

    def __str__(self) -> str:
        """The summary `fitscope cv` prints (for ``print`` in a notebook)."""
        lines = [_("cross-validation group {group}, validation metrics:").format(group=self.group_id)]
        for fold in self.folds:
            final = ", ".join(f"val_{k} {v:.4f}" for k, v in fold["val"].items())
            status = _(STATUS_NAMES.get(fold["status"], fold["status"]))
            if fold["attempts"] > 1:
                status = _("{status} (attempt {attempt})").format(status=status, attempt=fold["attempts"])
            line = "  " + _("fold {fold}: {status}").format(fold=fold["fold"], status=status)
            line += _(", final {metrics}").format(metrics=final) if final else ""
            if fold["best_epoch"] is not None:
                best = ", ".join(f"{k} {v:.4f}" for k, v in fold["best"].items())
                line += _("; best at epoch {epoch}: {metrics}").format(epoch=fold["best_epoch"], metrics=best)
            lines.append(line)
        for name in self.mean:
            lines.append("  " + _("final {metric}: {mean} ± {std} over the folds (spread {spread})").format(
                metric=f"val_{name}", mean=f"{self.mean[name]:.4f}", std=f"{self.std[name]:.4f}",
                spread=f"{self.spread[name]:.4f}"))  # fmt: skip
        if self.diagnosis.sentences:
            lines += ["", _("diagnosis of the folds' mean curves:"), *(f"  {s}" for s in self.diagnosis.sentences)]
        return "\n".join(lines)


@dataclass
class SearchResult:
    """A search group's ranking and winner."""

    group_id: str
    metric: str
    ranking: list[dict[str, Any]]
    winner: dict[str, Any] | None
    configurations_on_split: int
    test: dict[str, float] | None = None
    # With --select val: how precisely the validation split measures accuracy (see _split_noise).
    split_noise: dict[str, Any] | None = None
    select: str = "val"  # how the configurations were scored: val (one split) or cv (folds)
    # A random search over ranges: the ranges that hold its best configurations (the next search's).
    narrowed: dict[str, str] = field(default_factory=dict)
    narrowed_from: int = 0
    # A pruned search: epochs trained, epochs in full, trials pruned, trials.
    epochs: dict[str, int] | None = None
    # tune --refit: the winner's run on training + validation data (run_id, status, epochs, samples).
    refit: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "metric": self.metric, "ranking": self.ranking, "winner": self.winner,
                "configurations_on_split": self.configurations_on_split, "test": self.test,
                "split_noise": self.split_noise, "narrowed": self.narrowed, "epochs": self.epochs,
                "refit": self.refit}  # fmt: skip

    def ranking_lines(self) -> list[str]:
        """The ranked configurations as `fitscope tune` prints them (written as ``--set`` takes them)."""
        lines = [_("search group {group}, ranked by {metric}:").format(group=self.group_id, metric=self.metric)]
        ranked_by = self.metric.removeprefix("val_")
        for rank, row in enumerate(self.ranking, start=1):
            score = "—" if row["score"] is None else f"{row['score']:.4f}"
            spread = f" ± {row['std']:.4f}" if row.get("std") else ""
            # The other validation metric beside the ranked one (accuracy beside the loss): scores often disagree.
            other = next((f", val_{name} {value:.4f}" for name, value in row["val"].items() if name != ranked_by), "")
            status = _(STATUS_NAMES.get(row["status"], row["status"]))
            lines.append(f"  {rank}. {score}{spread}  {' '.join(assignments(row['params']))}  ({status}{other})")
        return lines

    def noise_sentence(self) -> str | None:
        """What one validation split can tell apart: the winner's accuracy, its standard error, the runner-up's."""
        noise = self.split_noise
        if not noise:
            return None
        first, error = noise["winner_accuracy"], noise["standard_error"]
        fields = {"samples": noise["samples"], "first": f"{first:.1%}", "error": f"{error * 100:.1f}"}
        second = noise["runner_up_accuracy"]
        if second is None:
            return _(
                "The validation split has {samples} samples: the winner's validation accuracy, {first}, is uncertain "
                "by ±{error} points (one standard error)."
            ).format(**fields)
        fields |= {"second": f"{second:.1%}", "apart": f"{abs(first - second) * 100:.1f}"}
        if noise["within_noise"]:
            return _(
                "The validation split has {samples} samples: the winner's validation accuracy, {first}, is uncertain "
                "by ±{error} points (one standard error); the runner-up's is {second}, {apart} points away, within "
                "twice that: this split alone does not tell the two apart; a bigger validation split, or --select "
                "cv, would."
            ).format(**fields)
        return _(
            "The validation split has {samples} samples: the winner's validation accuracy, {first}, is uncertain by "
            "±{error} points (one standard error); the runner-up's is {second}, {apart} points away, beyond that "
            "noise."
        ).format(**fields)

    def __str__(self) -> str:
        """The ranking, the winner and how far its score can be trusted (for ``print`` in a notebook)."""
        lines = self.ranking_lines()
        if self.winner is not None:
            lines.append(
                _("winner: {configuration}").format(configuration=" ".join(assignments(self.winner["params"])))
            )
        if self.epochs is not None:
            lines.append(self.pruning_line())
        return "\n".join([*lines, *self.trust_lines()])

    def pruning_line(self) -> str:
        """What pruning saved: trials stopped early, epochs trained against the full search's."""
        spent = {"pruned": 0, "trials": 0, "trained": 0, "full": 0, **(self.epochs or {})}
        share = f"{spent['trained'] / max(1, spent['full']):.0%}"
        return _("pruning stopped {pruned} of {trials} trials early: {trained} epochs trained instead of {full} "
                 "({share}).").format(share=share, **spent)  # fmt: skip

    def trust_lines(self) -> list[str]:
        """How far the winning score can be trusted: the split's reuse, its sampling noise, the one test score."""
        where = _("the same folds") if self.select == "cv" else _("this validation split")
        if self.test:
            advice = _("the test score below is the unbiased one.")
        elif self.select == "cv":
            advice = _("confirm on the test set once (--test-best).")
        else:
            advice = _("confirm on the test set once (--test-best) or with cross-validation (--select cv).")
        lines = [
            _(
                "{count} configuration(s) in this store were scored on {where}: the best score is optimistic; {advice}"
            ).format(count=self.configurations_on_split, where=where, advice=advice)
        ]
        lines += [sentence] if (sentence := self.noise_sentence()) else []
        if self.test:
            lines.append(_("test (evaluated once): {metrics}").format(
                metrics=", ".join(f"{k} {v:.4f}" for k, v in self.test.items())))  # fmt: skip
        return lines


def assignments(params: dict[str, Any]) -> list[str]:
    """A configuration as ``--set`` takes it: ``model[0].Dense.units=512``, ``compile.optimizer=sgd``."""
    from ..spec import format_override

    return [format_override(key, value) for key, value in params.items()]


def _group_id(kind: str, name: str, described: Any) -> str:
    digest = hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{kind}-{name}-{digest}"


def _check_folds(plans: FoldPlans, spec: Spec, folds: int, stratify: bool, group_by: str | None = None) -> None:
    """Check the fold settings against the data before any trial starts (the folds then split the same data)."""
    if spec.data.target is not None:
        raise argument_error(
            "cross-validation folds one dataset, and this spec trains on data.dataset and validates on "
            "data.target (a train-dev split): tune it with <<select=val>>, or run it alone."
        )
    holdout = plans.holdout(spec)
    pool = fold_pool(holdout)
    labels = holdout.dataset.y[pool]
    if folds > len(pool):
        raise invalid_argument("folds", folds, f"Only {len(pool)} samples can be folded.")
    if stratify and holdout.dataset.is_regression:
        raise argument_error(
            "<<stratify>> keeps class shares in every fold, and a regression's targets have no classes: drop it."
        )
    if stratify:
        counts = np.bincount(labels)
        smallest = int(counts[counts > 0].min())
        if folds > smallest:
            raise invalid_argument(
                "folds",
                folds,
                f"With stratified folds every class needs at least {folds} samples; "
                f"the smallest class has {smallest}. Use at most {smallest} folds.",
            )
    if group_by is not None:
        distinct = len(np.unique(group_labels(holdout.dataset, group_by)[pool]))
        if folds > distinct:
            raise invalid_argument("folds", folds, f"There are only {distinct} groups.")


def _check_fold_count(folds: int) -> None:
    if folds < 2:
        raise invalid_argument("folds", folds, "Expected 2 or more.")


def _fold_trials(spec: Spec, name: str, folds: int, stratify: bool, group_by: str | None,
                 params: dict[str, Any], *, prune: dict[str, Any] | None = None) -> list[Trial]:  # fmt: skip
    data = spec.model_dump(mode="json")
    return [Trial(spec=data, name=f"{name}-fold{k}", fold=k, folds=folds, stratify=stratify, group_by=group_by,
                  params=params, prune=prune) for k in range(folds)]  # fmt: skip


def _summarise_metrics(values: list[dict[str, float]]) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    names = sorted({k for v in values for k in v})
    mean, std, spread = {}, {}, {}
    for name in names:
        column = np.array([v[name] for v in values if name in v], dtype=float)
        mean[name] = float(column.mean())
        std[name] = float(column.std(ddof=1)) if len(column) > 1 else 0.0
        spread[name] = float(column.max() - column.min())
    return mean, std, spread


def cross_validate(
    spec: Spec | dict[str, Any] | str | Path,
    *,
    folds: int,
    stratify: bool = False,
    group_by: str | None = None,
    overrides: list[str] | None = None,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    runs: str | Path | None = None,
    say: Any = print,
) -> CVResult:
    """K-fold cross-validation of a spec: a fresh model per fold, the test split untouched.

    The folds cover the spec's training and validation parts (after any subsample);
    each fold is a run in one group. Returns per-fold final and best validation
    metrics, their mean, standard deviation and spread, and per-epoch mean ± std curves.
    """
    spec_obj = as_spec(spec, overrides)
    prefer_language(spec_obj.lang)
    check_new_arguments(spec, overrides)
    plans = FoldPlans()
    _check_fold_count(folds)
    # Started before the data is loaded: a process pool's workers import Keras meanwhile.
    with start_executor(executor, workers=workers, address=address, trials=folds, say=say) as started:
        _check_folds(plans, spec_obj, folds, stratify, group_by)
        check_keras_names(spec_obj, [], executor)
        warn_about_split(plans.holdout(spec_obj).audit.warnings)  # the folds re-split its train and val parts
        trials = _fold_trials(spec_obj, spec_obj.name, folds, stratify, group_by, {})
        resumed = _("{done} fold(s) already finished in group {group}; running the other {todo}.")
        driver = _run_group(started, "cv", spec_obj.name, trials, Store(runs), plans, say, resumed)
    return summarise_cv(driver.store, driver.group)


def _run_group(started: Executor, kind: str, name: str, trials: list[Trial], store: Store, plans: FoldPlans,
               say: Any, resumed: str, prune: PrunePlan | None = None, seed: int = 0) -> Driver:  # fmt: skip
    """Train the trials of a new or resumed group that are not finished yet (``resumed`` says how many are).

    With ``prune``, the driver judges the trials at its rungs (and pruned ones count as done),
    and they run in an order shuffled with ``seed``: asynchronous successive halving lets
    the first trials at a rung through easily, and a grid lists its weakest corner first
    (on the book's toy search, 44% of the full epochs in grid order, 21% on average shuffled).
    """
    group = _group_id(kind, name, [t.key for t in trials])
    driver = Driver(store, group, trials, say=say, plans=plans, kind=kind, prune=prune)
    todo = driver.pending()
    if len(todo) < len(trials):
        pruned = sum(outcome.skipped and outcome.status == "pruned" for outcome in driver.outcomes.values())
        say(resumed.format(done=len(trials) - len(todo) - pruned, pruned=pruned, group=group, todo=len(todo)))
    if prune is not None:
        todo = random.Random(seed).sample(todo, len(todo))
    started.run(driver, todo)
    return driver


def summarise_cv(store: Store, group: str) -> CVResult:
    """The summary of a cross-validation group from the store."""
    standing = sorted(standing_runs(store.runs(group=group)), key=lambda t: t.info.trial.get("fold", 0))
    folds: list[dict[str, Any]] = []
    finals: list[dict[str, float]] = []
    histories: list[dict[str, list[float]]] = []
    for info, attempts in ((t.info, t.attempts) for t in standing):
        run = store.run(info.run_id)
        history = run.history()
        evals = run.evaluations("val")
        val = evals[-1]["metrics"] if evals else {}
        best_epoch = lowest_epoch(history.get("val_loss", []))
        best = {k: v[best_epoch] for k, v in history.items() if k.startswith("val_")} if best_epoch is not None else {}
        folds.append({"run_id": info.run_id, "fold": info.trial.get("fold"), "status": info.status,
                      "best_epoch": best_epoch, "val": val, "best": best, "attempts": attempts})  # fmt: skip
        if info.status == "finished":
            finals.append(val)
            histories.append(history)
    mean, std, spread = _summarise_metrics(finals)
    bands = epoch_bands(histories)
    curves = {name: {"mean": band.mean, "std": band.std} for name, band in bands.items()}
    manifest = next((t.info.manifest for t in standing if t.info.manifest), None)
    classes = manifest.num_classes if manifest else None
    return CVResult(group, folds, mean, std, spread, curves, diagnose_folds(bands, finals, num_classes=classes))


def _reported_metrics(spec: Spec) -> list[str]:
    """The validation metrics a spec's runs report (``val_loss``, ``val_accuracy``, ...)."""
    names = ["loss", *(normalize_metric_name(m) for m in spec.compile.metrics)]
    return [f"val_{name}" for name in dict.fromkeys(names)]


def _check_metric(spec: Spec, metric: str) -> str:
    """The selection metric, normalised (``val_acc`` -> ``val_accuracy``); an error if runs will not report it."""
    reported = _reported_metrics(spec)
    normalized = normalize_metric_name(metric if metric.startswith("val_") else f"val_{metric}")
    if normalized not in reported:
        raise invalid_argument("metric", metric, f"This spec's runs report {', '.join(reported)}.")
    return normalized


def search(
    spec: Spec | dict[str, Any] | str | Path,
    params: list[str],
    *,
    method: str = "grid",
    trials: int | None = None,
    select: str = "val",
    folds: int | None = None,
    metric: str = "val_loss",
    stratify: bool = False,
    group_by: str | None = None,
    test_best: bool = False,
    seed: int | None = None,
    repeats: int | None = None,
    prune: bool = False,
    prune_grace: int | None = None,
    prune_reduction: int | None = None,
    refit: bool = False,
    overrides: list[str] | None = None,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    runs: str | Path | None = None,
    say: Any = print,
) -> SearchResult:
    """Grid or random search over spec values, selected on validation or by k-fold CV.

    Every trial is a run in one search group with its parameters; configurations are
    ranked by ``metric`` (mean over folds with ``select="cv"``; ``group_by`` keeps the
    samples of a group in one fold, as in :func:`cross_validate`). Only with
    ``test_best`` is the winner evaluated, once, on the sealed test split. ``repeats`` trains
    each configuration that many times with other initial weights (``select="val"``) and
    ranks the configurations by the mean, with its spread. ``prune`` stops hopeless trials
    early (see :mod:`fitscope.experiment.training._pruning`): a NaN or diverging loss at
    once, and at rungs of ``prune_grace``, ``prune_grace * prune_reduction``, ... epochs
    all but the best ``1 / prune_reduction`` of the trials that reached the rung so far,
    judged by ``metric``; those trials are recorded as pruned. ``refit`` trains the winner
    once more on the training and validation parts together, for as many epochs as its
    validation loss took to reach its lowest (the mean over its folds or repeats): a run
    of its own, the one ``test_best`` then evaluates. ``seed`` (0 unless given) draws a
    random or TPE search's configurations and orders a pruned search's trials.
    """
    spec_obj = as_spec(spec, overrides)
    prefer_language(spec_obj.lang)
    check_new_arguments(spec, overrides)
    base = spec_obj.model_dump(mode="json")
    base.pop("search", None)  # (what a configuration trains; the space is not part of it)
    if not params and spec_obj.search:  # the spec holds its search space
        params = [f"{key}={value}" if isinstance(value, str) else f"{key}={', '.join(json.dumps(v) for v in value)}"
                  for key, value in spec_obj.search.items()]  # fmt: skip
    if not params:
        raise argument_error("the search space is empty: give at least one <<params>> entry key.path=v1,v2 (or "
                             "write a search: section in the spec).")  # fmt: skip
    parsed = [parse_param(p, base) for p in params]
    check_distinct([key for key, _ in parsed])
    space = dict(parsed)
    ranges = {key: value for key, value in space.items() if isinstance(value, Distribution)}
    if ranges and method == "grid":
        key, spread = next(iter(ranges.items()))
        raise argument_error(f"<<params>> {key}={spread}: a range is sampled, not listed: search it with "
                             "<<method=random>> and <<trials=N>>.")  # fmt: skip
    listed = [values for values in space.values() if not isinstance(values, Distribution)]
    grid = [dict(zip(space, combo)) for combo in itertools.product(*listed)] if not ranges else []
    if method == "grid" and trials is not None:
        raise argument_error(f"<<trials>> only applies with <<method=random>> or <<method=tpe>>; a grid search "
                             f"tries all {len(grid)} combinations.")  # fmt: skip
    if (folds is not None or stratify or group_by is not None) and select != "cv":
        option = "folds" if folds is not None else "stratify" if stratify else "group_by"
        raise argument_error(f"<<{option}>> only applies with <<select=cv>> (cross-validated selection).")
    folds = 5 if folds is None else folds
    if seed is not None and method == "grid" and not prune:
        raise argument_error("<<seed>> goes with <<method=random>> or <<method=tpe>> (what is drawn), or with "
                             "<<prune>> (the order the trials run in): a grid search tries every combination in "
                             "order.")  # fmt: skip
    seed = 0 if seed is None else seed
    proposals = None
    if method == "tpe":  # Optuna proposes the configurations as the search goes
        if not trials or trials < 1:
            raise argument_error("<<method=tpe>> needs <<trials=N>> (1 or more).")
        lower = "loss" in metric or "error" in metric
        proposals = ModelBasedSearch(space, seed=seed, lower_is_better=lower)
    elif method == "random":
        if not trials or trials < 1:
            raise argument_error("<<method=random>> needs <<trials=N>> (1 or more).")
        if ranges:
            grid = _sampled(space, trials, seed)
        else:
            if trials > len(grid):
                say(_("note: --trials {trials} is more than the {count} configurations of the search space; each "
                      "is tried once.").format(trials=trials, count=len(grid)))  # fmt: skip
            grid = random.Random(seed).sample(grid, min(trials, len(grid)))
    elif method != "grid":
        raise invalid_argument("method", method, "Expected 'grid', 'random' or 'tpe'.")
    if select not in ("val", "cv"):
        raise invalid_argument("select", select, "Expected 'val' or 'cv'.")
    metric = _check_metric(spec_obj, metric)
    if select == "cv":
        _check_fold_count(folds)
    if repeats is not None:
        if repeats < 2:
            raise invalid_argument(
                "repeats", repeats, "Expected 2 or more; leave it out for one run per configuration."
            )
        if select == "cv":
            raise argument_error("<<repeats>> goes with <<select=val>>: a cross-validated selection already trains "
                                 "each configuration once per fold.")  # fmt: skip
    plan = None
    if prune:
        if repeats is not None:
            raise argument_error("<<prune>> goes with one run per configuration (or one per fold, with "
                                 "<<select=cv>>), not with <<repeats>>: it compares trials on one validation split "
                                 "at each rung.")  # fmt: skip
        plan = plan_pruning(spec_obj.fit.epochs, metric, grace=prune_grace, reduction=prune_reduction or REDUCTION)
        rungs = ", ".join(map(str, plan.rungs))
        if select == "cv":
            say(_("pruning: the trials are compared at {rungs} epochs by {metric}, each fold with the same fold of "
                  "the others; at each rung the best 1/{reduction} go on, and a configuration with a pruned fold "
                  "stops.").format(rungs=rungs, metric=metric, reduction=plan.reduction))  # fmt: skip
        else:
            say(_("pruning: the trials are compared at {rungs} epochs by {metric}; at each rung the best 1/{reduction} "
                  "go on.").format(rungs=rungs, metric=metric, reduction=plan.reduction))  # fmt: skip
    elif prune_grace is not None or prune_reduction is not None:
        raise argument_error("<<prune_grace>> and <<prune_reduction>> go with <<prune>>.")
    configurations = trials if proposals is not None and trials else len(grid)
    count = configurations * (folds if select == "cv" else repeats or 1)
    # Started before the data is loaded: a process pool's workers import Keras meanwhile.
    with start_executor(executor, workers=workers, address=address, trials=count, say=say) as started:
        plans = FoldPlans()
        if select == "cv":
            _check_folds(plans, spec_obj, folds, stratify, group_by)
            warn_about_split(plans.holdout(spec_obj).audit.warnings)  # (a holdout selection's trials: the driver)
        else:
            plans.holdout(spec_obj)  # missing or bad data is one error now, not a failed trial each (kept for them)
        check_keras_names(spec_obj, [(k, v.endpoints() if isinstance(v, Distribution) else v) for k, v in parsed],
                          executor)  # fmt: skip
        lower_is_better = "loss" in metric or "error" in metric
        short = metric.removeprefix("val_")

        def trials_of(number: int, values: dict[str, Any]) -> list[Trial]:
            """The trials of one configuration: its folds, its repeats, or one run."""
            data = base
            for key, value in values.items():
                data = set_path(data, key, value)
            config_spec = validate_spec(data)
            name = f"{spec_obj.name}-trial{number}"
            if select == "cv":
                return _fold_trials(config_spec, name, folds, stratify, group_by, values,
                                    prune=plan.to_dict() if plan else None)  # fmt: skip
            if repeats:
                return [Trial(spec=config_spec.model_dump(mode="json"), name=f"{name}-r{k}", params=values,
                              repeat=k) for k in range(repeats)]  # fmt: skip
            return [Trial(spec=config_spec.model_dump(mode="json"), name=name, params=values,
                          prune=plan.to_dict() if plan else None)]  # fmt: skip

        store = Store(runs)
        if proposals is not None:
            described = {"tpe": params, "seed": seed, "trials": trials, "spec": base, "select": select,
                         "folds": folds if select == "cv" else None, "repeats": repeats}  # fmt: skip
            group, outcomes, configs = _propose_and_train(
                proposals, configurations, trials_of, started, Driver(store, _group_id("search", spec_obj.name,
                described), [], say=say, plans=plans, kind="search", prune=plan), short,
                batch=1 if executor == "local" else started.workers,
            )  # fmt: skip
        else:
            configs = [(values, trials_of(number, values)) for number, values in enumerate(grid)]
            driver = _run_group(started, "search", spec_obj.name, [t for _v, tl in configs for t in tl], store,
                                plans, say, _("{done} trial(s) already finished and {pruned} pruned in group {group}; "
                                              "running {todo}.") if plan else
                                _("{done} trial(s) already finished in group {group}; running {todo}."),
                                plan, seed)  # fmt: skip
            group, outcomes = driver.group, driver.outcomes

    ranking = [_configuration_row(values, trial_list, outcomes, short) for values, trial_list in configs]
    scored = [r for r in ranking if r["score"] is not None]
    scored.sort(key=lambda r: float(r["score"]) if lower_is_better else -float(r["score"]))
    ranking = scored + [r for r in ranking if r["score"] is None]
    winner = scored[0] if scored else None
    manifest_hashes = set()
    for info in store.runs(group=group):
        if info.manifest and info.manifest.index_hash:
            manifest_hashes.add(info.manifest.index_hash)
    on_split = 0
    for index_hash in manifest_hashes:
        on_split = max(on_split, len({json.dumps(p, sort_keys=True) for p in store.params_on_split(index_hash)}))
    result = SearchResult(group, metric, ranking, winner, on_split, select=select)
    if plan is not None:
        result.epochs = _epochs_trained(store, [t for _values, trial_list in configs for t in trial_list], outcomes)
    if ranges and scored:  # Deep Learning from Scratch 6.5: search again inside the ranges of the best
        best = [row["params"] for row in scored[: max(3, len(scored) // 5)]]
        result.narrowed = {key: str(spread) for key, spread in narrowed(ranges, best).items()}
        result.narrowed_from = len(best)
    if select == "val":
        result.split_noise = _split_noise(store, scored)
    if refit and winner is not None:
        result.refit = _refit_winner(store, group, winner, base, say)
    if test_best and winner is not None:
        if result.refit is not None:
            from ..sealed import test_run

            result.test = test_run(result.refit["run_id"], runs=store.root).metrics
        else:
            result.test = _test_winner(store, winner, select, spec_obj, configs, say)
    return result


def _refit_winner(store: Store, group: str, winner: dict[str, Any], base: dict[str, Any], say: Any) -> dict[str, Any]:
    """Train the winner once more on training + validation data, for the epochs its validation loss took at best."""
    from ..executors import execute

    bests = [lowest_epoch(store.run(run_id).history().get("val_loss") or []) for run_id in winner["run_ids"]]
    found = [epoch + 1 for epoch in bests if epoch is not None]
    data = base
    for key, value in winner["params"].items():
        data = set_path(data, key, value)
    epochs = max(1, round(float(np.mean(found)))) if found else int(data["fit"]["epochs"])
    data = set_path(data, "fit.epochs", epochs)
    spec = validate_spec(data)
    trial = Trial(spec=spec.model_dump(mode="json"), name=f"{spec.name}-refit", params=winner["params"], refit=True)
    say(_("refit: the winner trained once more on training + validation data for {epochs} epochs (where its "
          "validation loss was lowest)").format(epochs=epochs))  # fmt: skip
    driver = Driver(store, f"{group}-refit", [trial], say=say, kind="refit")
    todo = driver.pending()
    if todo:
        execute(driver, todo)
    outcome = driver.outcomes[trial.key]
    samples = None
    if outcome.run_id is not None and (manifest := store.run(outcome.run_id).info().manifest) is not None:
        samples = manifest.sizes.get("train")
    return {"run_id": outcome.run_id, "status": outcome.status, "epochs": epochs, "samples": samples}


def _configuration_row(values: dict[str, Any], trials: list[Trial], outcomes: dict[str, TrialOutcome],
                       short: str) -> dict[str, Any]:  # fmt: skip
    """One configuration's line of the ranking: its score (the mean of its folds or repeats), status, runs, metrics."""
    ended = [outcomes[t.key] for t in trials]
    scores = [float(o.val[short]) for o in ended if o.status == "finished" and short in o.val]
    status = "finished" if len(scores) == len(trials) else "failed"
    if any(o.status == "pruned" for o in ended):
        status = "pruned"
    score = float(np.mean(scores)) if scores and status == "finished" else None
    finals = [o.val for o in ended if o.status == "finished"]
    val = _summarise_metrics(finals)[0] if status == "finished" else {}  # every validation metric (mean of folds)
    return {"params": values, "score": score, "status": status, "run_ids": [o.run_id for o in ended], "val": val,
            "std": float(np.std(scores, ddof=1)) if len(scores) > 1 else None}  # fmt: skip


def _propose_and_train(
    proposals: ModelBasedSearch, count: int, trials_of: Any, started: Executor, first: Driver, short: str, *,
    batch: int,
) -> tuple[str, dict[str, TrialOutcome], list[tuple[dict[str, Any], list[Trial]]]]:  # fmt: skip
    """Ask for ``batch`` configurations at a time, train them, tell their scores; until ``count`` were proposed.

    ``first`` is an empty driver of the search's group: each batch gets one like it (the
    same rung records, when pruning). Returns the group, every trial's outcome and the
    configurations in the order proposed (one proposed twice is trained and listed once).
    """
    outcomes: dict[str, TrialOutcome] = {}
    configs: list[tuple[dict[str, Any], list[Trial]]] = []
    number = 0
    while number < count:
        asked = proposals.ask(min(batch, count - number))
        batch_configs = [(values, trials_of(number + i, values)) for i, (_proposal, values) in enumerate(asked)]
        driver = Driver(first.store, first.group, [t for _v, tl in batch_configs for t in tl], say=first.say,
                        plans=first.plans, kind=first.kind)  # fmt: skip
        if first.rungs is not None:
            driver.share_rungs(first.rungs)  # (one set of rung records for the whole search)
        todo = driver.pending()
        number += len(asked)
        started.run(driver, todo, last=number >= count)
        outcomes.update(driver.outcomes)
        for (proposal, _values), (values, trial_list) in zip(asked, batch_configs, strict=True):
            row = _configuration_row(values, trial_list, outcomes, short)
            proposals.tell(proposal, row["status"], row["score"])
            if all(values != listed for listed, _trials in configs):
                configs.append((values, trial_list))
    return first.group, outcomes, configs


def _epochs_trained(store: Store, trials: list[Trial], outcomes: dict[str, TrialOutcome]) -> dict[str, int]:
    """The epochs a pruned search trained, the epochs its trials would have trained in full, and how many it pruned."""
    trained = full = pruned = 0
    for trial in trials:
        outcome = outcomes[trial.key]
        full += int(trial.spec["fit"]["epochs"])
        if outcome.run_id is not None:
            trained += store.run(outcome.run_id).info().epochs
        pruned += outcome.status == "pruned"
    return {"trained": trained, "full": full, "pruned": pruned, "trials": len(trials)}


def _sampled(space: dict[str, Any], trials: int, seed: int) -> list[dict[str, Any]]:
    """``trials`` configurations drawn from ranges and lists with ``seed`` (numbers kept to 4 significant digits)."""
    rng = random.Random(seed)
    drawn = []
    for _number in range(trials):
        values = {}
        for key, spread in space.items():
            value = spread.sample(rng) if isinstance(spread, Distribution) else rng.choice(spread)
            values[key] = float(f"{value:.4g}") if isinstance(value, float) else value
        drawn.append(values)
    return drawn


def _split_noise(store: Store, scored: list[dict[str, Any]]) -> dict[str, Any] | None:
    """How precisely one validation split measures accuracy, against the gap between the first two configurations.

    Each configuration's validation accuracy is an estimate from the split's samples,
    with a binomial standard error (:func:`standard_error`); a lead within twice that
    may not hold on new data. ``None`` when the runs record no accuracy.
    """
    ranked = [row for row in scored if "accuracy" in row["val"]]
    if not ranked or ranked[0] is not scored[0]:
        return None
    manifest = store.run(ranked[0]["run_ids"][0]).info().manifest
    samples = manifest.sizes.get("val") if manifest else None
    if not samples:
        return None
    first = float(ranked[0]["val"]["accuracy"])
    second = float(ranked[1]["val"]["accuracy"]) if len(ranked) > 1 else None
    error = standard_error(1 - first, samples)
    return {
        "samples": samples, "winner_accuracy": first, "runner_up_accuracy": second, "standard_error": error,
        "within_noise": None if second is None else abs(first - second) < 2 * error,
    }  # fmt: skip


def _test_winner(store: Store, winner: dict[str, Any], select: str, spec: Spec, configs: list, say: Any) -> dict:
    """Evaluate the winner once on the sealed test split (retrained on its holdout split after CV)."""
    from .._runner import run_spec
    from ..sealed import test_run

    if select == "val":
        return test_run(winner["run_ids"][0], runs=store.root).metrics
    data = spec.model_dump(mode="json")
    for key, value in winner["params"].items():
        data = set_path(data, key, value)
    say(_("retraining the winner on its holdout split to evaluate it once on the test set"))
    # (its split's audit was shown when the search began)
    result = run_spec(data, runs=store.root, name=f"{spec.name}-winner", test=True, progress=False, warn_split=False)
    return result.test or {}
