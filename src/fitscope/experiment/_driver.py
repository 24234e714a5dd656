"""The driver: the one writer of the store, fed the messages of trials wherever they run.

Also what the pools share on the driver's side: each distinct trial data prepared
once (:class:`PreparedData`), and :func:`feed`, which hands a message on and keeps
count of the trials still under way.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import FitscopeError
from ..store import CheckpointDir, EpochRecord, Run, Store
from ._runner import warn_about_split
from ._trial import FoldPlans, Trial, TrialData, trial_data
from ._trial_progress import TrialsProgress

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
        progress_every: float = 5.0, plans: FoldPlans | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.group = group
        self.say = say
        self.plans = plans or FoldPlans()  # the command's cross-validation folds, made once wherever trials run
        self.outcomes = {t.key: TrialOutcome(t) for t in trials}
        self.runs: dict[str, Run] = {}
        self._tensorboard: dict[str, Any] = {}
        self.progress = TrialsProgress(trials, say, every_secs=progress_every)
        self._audited: set[str | None] = set()  # the holdout splits whose audit warnings were shown

    def pending(self) -> list[Trial]:
        """Trials not finished in an earlier run of the same command (those are skipped).

        Raises:
            FitscopeError: another live process is training one of the trials (the same
                command started twice): nothing is started, so no trial is trained twice.
        """
        done = {}
        held = {}
        for info in self.store.runs(group=self.group):
            key = info.params.get("trial_key")
            if info.status == "finished" and key:
                done[key] = info
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
                outcome.run_id, outcome.status, outcome.skipped = info.run_id, "finished", True
                outcome.val = evals[-1]["metrics"] if evals else {}
            else:
                todo.append(outcome.trial)
        self.progress = TrialsProgress(todo, self.say, every_secs=self.progress.every_secs)  # only what will run
        return todo

    def handle(self, message: dict[str, Any]) -> None:
        """Take one trial message, or a worker's bundle of them (in order)."""
        parts = message["messages"] if message["type"] == "bundle" else [message]
        for (key, kind), group in itertools.groupby(parts, key=lambda part: (part["key"], part["type"])):
            outcome = self.outcomes[key]
            if kind == "epoch":
                self._epochs(outcome, list(group))
                continue
            for part in group:
                if kind == "start":
                    self._start(outcome, part)
                elif kind == "end":
                    self._end(outcome, part)

    def _epochs(self, outcome: TrialOutcome, messages: list[dict[str, Any]]) -> None:
        """Record consecutive epochs of one trial, in one store transaction."""
        key = outcome.trial.key
        records = [EpochRecord(m["epoch"], m["metrics"], m["started_at"], m["duration"]) for m in messages]
        self.runs[key].record_epochs(records, fresh=True)
        writer = self._tensorboard.get(key)
        if writer is not None:
            for record in records:
                writer.add_scalars(record.epoch, record.metrics)
        self.progress.epoch(key, records[-1].epoch)

    def _start(self, outcome: TrialOutcome, message: dict[str, Any]) -> None:
        from ..store import TensorBoardWriter

        trial = outcome.trial
        manifest = message["manifest"] or {}
        if trial.fold is None and manifest.get("index_hash") not in self._audited:  # (cv: its folds' check says)
            self._audited.add(manifest.get("index_hash"))
            warn_about_split((manifest.get("audit") or {}).get("warnings", []))
        run = self.store.start_run(
            name=trial.name, params=_run_params(trial, initial_weights=message.get("initial")),
            split=message["manifest"], spec=trial.spec,
            seed=trial.spec.get("seed"), group=self.group, backend=message.get("backend"),
        )  # fmt: skip
        self.runs[trial.key] = run
        outcome.run_id, outcome.status = run.run_id, "running"
        self._tensorboard[trial.key] = TensorBoardWriter(run.tensorboard_dir)
        self.progress.started(trial.key)

    def _end(self, outcome: TrialOutcome, message: dict[str, Any]) -> None:
        key = outcome.trial.key
        status, reason = message["status"], message.get("reason")
        run = self.runs.get(key)
        writer = self._tensorboard.pop(key, None)
        if writer is not None:
            writer.close()
        if run is None:  # failed before it started (bad data, bad spec)
            run = self.store.start_run(name=outcome.trial.name, params=_run_params(outcome.trial),
                                       spec=outcome.trial.spec, group=self.group)  # fmt: skip
            self.runs[key] = run
            outcome.run_id = run.run_id
        if status == "finished":
            weights = message.get("weights")
            if weights is not None:
                epoch = max(run.next_epoch - 1, 0)
                CheckpointDir(run.checkpoint_dir).save(epoch, weights, {"run_id": run.run_id})
                run.mark_checkpoint(epoch)
            held = message.get("weights_epoch")  # EarlyStopping may have put an earlier epoch's weights back
            run.record_evaluation("val", message["val"], fingerprint=message.get("fingerprint"),
                                  epoch=run.next_epoch - 1 if held is None else held)  # fmt: skip
            run.finish()
            outcome.val = message["val"]
        elif status == "interrupted":
            run.interrupt(reason or "interrupted")
        else:
            run.fail(reason or "failed")
        outcome.status, outcome.reason = status, reason
        self.progress.ended(key)
        # The metrics of the final weights on the validation split, named as in the curves.
        shown = ", ".join(f"val_{k} {v:.4f}" for k, v in outcome.val.items()) if status == "finished" else reason
        self.say(f"{outcome.trial.name}: {status}" + (f" — {shown}" if shown else ""))

    def abandon(self, key: str, status: str, reason: str) -> None:
        """End a trial whose worker vanished or that was cut short."""
        outcome = self.outcomes[key]
        if outcome.status in ("finished", "failed", "interrupted"):
            return
        self._end(outcome, {"type": "end", "key": key, "status": status, "reason": reason})

    def interrupt_running(self, how: str = "Ctrl-C") -> None:
        """Mark the trials under way interrupted; ``how`` names what stopped them (Ctrl-C, SIGTERM)."""
        for key, outcome in self.outcomes.items():
            if outcome.status in ("running", "pending") and key in self.runs:
                self.abandon(key, "interrupted", f"interrupted ({how}); re-run the same command to finish")


def feed(
    driver: Driver, message: dict[str, Any], remaining: set[str], ended: Callable[[str], Any] | None = None
) -> None:
    """Hand one trial message to the driver; an ``end`` takes the trial off ``remaining`` (and calls ``ended``)."""
    driver.handle(message)
    if message["type"] == "end":
        remaining.discard(message["key"])
        if ended is not None:
            ended(message["key"])


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


def _run_params(trial: Trial, **extra: Any) -> dict[str, Any]:
    """A trial's run parameters: its configuration, its key, its fold (a run that failed before it started too)."""
    params = {**trial.params, "trial_key": trial.key, **extra}
    if trial.fold is not None:
        params["fold"] = trial.fold
    return params
