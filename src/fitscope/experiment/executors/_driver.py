"""The driver: the one writer of the store, fed the events of trials wherever they run.

Also what the pools share on the driver's side: each distinct trial data prepared
once (:class:`PreparedData`), and :func:`feed`, which hands a message on and keeps
count of the trials still under way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..._errors import FitscopeError
from ..._i18n import STATUS_NAMES, _
from ...store import Bundle, Ended, EpochEnded, Evaluated, Run, RunSink, Started, Status, Store
from ..preparing import FoldPlans, TrialData, trial_data, warn_about_split
from ..training import PrunePlan, Rungs, Trial
from ._progress import TrialsProgress

__all__ = ["Driver", "PreparedData", "TrialOutcome", "feed", "ship_data"]


@dataclass
class TrialOutcome:
    """What became of one trial."""

    trial: Trial
    run_id: str | None = None
    status: str = "pending"
    reason: str | None = None
    val: dict[str, float] = field(default_factory=dict)
    skipped: bool = False


class Driver:
    """Receives trial messages and writes them into the store (one writer, many workers)."""

    def __init__(
        self, store: Store, group: str, trials: Sequence[Trial], *, say: Callable[[str], Any] = print,
        progress_every: float = 5.0, plans: FoldPlans | None = None, kind: str | None = None,
        prune: PrunePlan | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.group = group
        self.kind = kind  # the group's kind (cv, tune), recorded with each run
        self.say: Callable[[str], Any] = say if isinstance(say, _Lines) else _Lines(say)  # (a batch's: the search's)
        self.plans = plans or FoldPlans()  # the command's cross-validation folds, made once wherever trials run
        self.outcomes = {t.key: TrialOutcome(t) for t in trials}
        self.runs: dict[str, Run] = {}
        self._sinks: dict[str, RunSink] = {}  # the runs of the trials under way
        self.progress = TrialsProgress(trials, self.say, every_secs=progress_every)
        self._audited: set[str | None] = set()  # the holdout splits whose audit warnings were shown
        self.rungs: Rungs | None = None  # a pruned search's rung records and decisions
        if prune is not None:
            self.share_rungs(Rungs(prune))

    def share_rungs(self, rungs: Rungs) -> None:
        """Judge this driver's trials by ``rungs`` (a search's, shared by the drivers of its batches)."""
        self.rungs = rungs
        for outcome in self.outcomes.values():
            trial = outcome.trial
            if trial.fold is not None:  # (a cross-validated search: a configuration's folds)
                rungs.place(trial.key, trial.fold, json.dumps(trial.params, sort_keys=True, default=str))

    def pending(self) -> list[Trial]:
        """Trials not finished in an earlier run of the same command (those are skipped; pruned ones too, when pruning).

        Raises:
            FitscopeError: another live process is training one of the trials (the same
                command started twice): nothing is started, so no trial is trained twice.
        """
        done = {}
        held = {}
        for info in self.store.runs(group=self.group):
            key = info.trial.get("key")
            if key and (info.status == "finished" or (info.status == "pruned" and self.rungs is not None)):
                done[key] = info
                if self.rungs is not None:  # (the rungs it reached weigh on the trials still to come)
                    self.rungs.remember(key, self.store.run(info.run_id).history(), pruned=info.status == "pruned")
            elif key in self.outcomes and (holder := info.holder) is not None:
                held[key] = (info.name, *holder)
        for key, (name, host, pid) in held.items():
            if key not in done:
                raise FitscopeError(
                    f"{name} is being trained by process {pid} on {host} right now (this command, started "
                    "before?). Wait for that one to end, or stop it, then run this again: it skips what finished."
                )
        todo = []
        for key, outcome in self.outcomes.items():
            if key in done:
                info = done[key]
                evals = self.store.run(info.run_id).evaluations("val")
                outcome.run_id, outcome.status, outcome.skipped = info.run_id, info.status, True
                outcome.reason = info.reason if info.status == "pruned" else None
                outcome.val = evals[-1]["metrics"] if evals else {}
            else:
                todo.append(outcome.trial)
        self.progress = TrialsProgress(todo, self.say, every_secs=self.progress.every_secs)  # only what will run
        return todo

    def handle(self, bundle: Bundle) -> None:
        """Take one trial's events, in order: its run writes them (:class:`~fitscope.store.RunSink`)."""
        outcome = self.outcomes[bundle.key]
        events = bundle.events
        sink = self._sinks.get(bundle.key)
        if sink is None:  # (a trial that failed before it started has no Started: its run records the failure)
            sink = self._open(outcome, events[0] if events and isinstance(events[0], Started) else Started())
        sink.send_all(events)
        epochs = [event.record.epoch for event in events if isinstance(event, EpochEnded)]
        if epochs:
            self.progress.epoch(bundle.key, epochs[-1])
        for event in events:
            if isinstance(event, Evaluated) and event.split == "val":
                outcome.val = dict(event.metrics)
            elif isinstance(event, Ended):
                self._ended(outcome, event)

    def _open(self, outcome: TrialOutcome, started: Started) -> RunSink:
        """The trial's run, created from its first event (the split it trains on, its initial weights)."""
        trial = outcome.trial
        manifest = started.manifest
        if manifest is not None and trial.fold is None and manifest.index_hash not in self._audited:
            self._audited.add(manifest.index_hash)  # (cv: its folds' check says)
            warn_about_split(manifest.audit_warnings)
        run = self.store.start_run(
            name=trial.name, params=trial.params, split=started.manifest, spec=trial.spec, seed=trial.spec.get("seed"),
            group=self.group, group_kind=self.kind, backend=started.backend, trial=_bookkeeping(trial, started),
        )  # fmt: skip
        self.runs[trial.key] = run
        outcome.run_id, outcome.status = run.run_id, "running"
        record = trial.spec.get("record") or {}
        sink = self._sinks[trial.key] = RunSink(run, tensorboard=record.get("tensorboard", True))
        self.progress.started(trial.key)
        return sink

    def _ended(self, outcome: TrialOutcome, ended: Ended) -> None:
        key = outcome.trial.key
        self._sinks.pop(key).close()
        outcome.status, outcome.reason = ended.status, ended.reason
        if ended.status != "finished":
            outcome.val = {}
        self.progress.ended(key)
        # The metrics of the final weights on the validation split, named as in the curves.
        shown = ", ".join(f"val_{k} {v:.4f}" for k, v in outcome.val.items()) if ended.status == "finished" else None
        shown = shown or ended.reason
        status = _(STATUS_NAMES.get(ended.status, ended.status))
        self.say(f"{outcome.trial.name}: {status}" + (f" — {shown}" if shown else ""))

    def decide(self, key: str, epochs: int, value: float) -> str | None:
        """Whether a trial may go on at a rung (see :class:`~fitscope.experiment.training.Rungs`): why not, or None."""
        if self.rungs is None:
            return None
        return self.rungs.decide(key, epochs, value)

    def abandon(self, key: str, status: Status, reason: str) -> None:
        """End a trial whose worker vanished or that was cut short."""
        if self.outcomes[key].status in ("finished", "failed", "interrupted", "pruned"):
            return
        self.handle(Bundle(key, (Ended(status, reason),)))

    def interrupt_running(self, how: str = "Ctrl-C") -> None:
        """Mark the trials under way interrupted; ``how`` names what stopped them (Ctrl-C, SIGTERM)."""
        for key, outcome in self.outcomes.items():
            if outcome.status in ("running", "pending") and key in self.runs:
                self.abandon(key, "interrupted", f"interrupted ({how}); re-run the same command to finish")


class _Lines:
    """The driver's lines to ``say``; once their reader went away (a closed pipe: ``| head``), none.

    The first ``BrokenPipeError`` still goes up, to stop the command as a closed pipe stops
    Unix tools; the lines that ending says (each trial marked interrupted) are dropped.
    """

    def __init__(self, say: Callable[[str], Any]) -> None:
        self._say = say
        self.closed = False

    def __call__(self, text: str) -> None:
        if self.closed:
            return
        try:
            self._say(text)
        except BrokenPipeError:
            self.closed = True
            raise


def feed(driver: Driver, bundle: Bundle, remaining: set[str], ended: Callable[[str], Any] | None = None) -> None:
    """Hand one trial's events to the driver; an ``Ended`` takes the trial off ``remaining`` (and calls ``ended``)."""
    driver.handle(bundle)
    if any(isinstance(event, Ended) for event in bundle.events):
        remaining.discard(bundle.key)
        if ended is not None:
            ended(bundle.key)


class PreparedData:
    """Each distinct trial data, prepared once here in the driver, for the workers.

    One preparation instead of one per worker: loading, splitting and auditing the
    book's toy data costs about 1.5 CPU-seconds (scikit-learn's import
    included). The driver's plans keep the split a search or cross-validation made
    before it began (to refuse missing data at once); the rest is done while the new
    workers import Keras. ``put``
    turns the data into what reaches a worker (a Ray object reference; the data
    itself for a process pool, whose task queue pickles it).
    """

    def __init__(self, driver: Driver, put: Callable[[TrialData], Any] = lambda data: data) -> None:
        self._driver = driver
        self._put = put
        self._ready: dict[str, Any] = {}  # data key -> what put returned, or why preparing failed

    def get(self, trial: Trial) -> Any | None:
        """What ``put`` returned for the trial's data; ``None`` when that failed (the trial is then failed)."""
        if trial.data_key not in self._ready:
            try:
                self._ready[trial.data_key] = self._put(trial_data(trial, self._driver.plans))
            except Exception as exc:  # bad data fails its trials, as it would in a worker; the others go on
                self._ready[trial.data_key] = exc
        found = self._ready[trial.data_key]
        if isinstance(found, Exception):
            self._driver.abandon(trial.key, "failed", f"{type(found).__name__}: {found}")
            return None
        return found

    def keep_only(self, data_keys: set[str]) -> None:
        """Let go of the data no trial still to hand out needs."""
        for key in set(self._ready) - data_keys:
            del self._ready[key]


def ship_data(driver: Driver, trials: Sequence[Trial], put: Callable[[TrialData], Any]) -> Iterator[tuple[Trial, Any]]:
    """Each trial with what ``put`` returned for its data, as soon as that is ready.

    A trial whose data cannot be prepared is failed with the reason and not yielded.
    """
    prepared = PreparedData(driver, put)
    for trial in trials:
        data = prepared.get(trial)
        if data is not None:
            yield trial, data


def _bookkeeping(trial: Trial, started: Started) -> dict[str, Any]:
    """What a trial's run keeps beside its hyperparameters (:attr:`~fitscope.store.RunInfo.trial`).

    Its key (a later run of the same command skips it once finished), its fold (a learning curve's
    training-set size and repeat), and the
    fingerprint of its initial weights (folds that start from the same weights are not
    independent). A trial that failed before it started has a key and a fold only.
    """
    kept: dict[str, Any] = {"key": trial.key}
    for name in ("fold", "train_size", "repeat", "group_by"):  # (with the key: the data it drew can be rebuilt)
        if getattr(trial, name) is not None:
            kept[name] = getattr(trial, name)
    if trial.refit:  # (trained on training + validation data: there is no validation score)
        kept["refit"] = True
    if started.initial is not None:
        kept["initial_weights"] = started.initial
    return kept
