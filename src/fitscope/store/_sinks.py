"""Sinks: where a trainer's events go (see :mod:`._events`).

- :class:`RunSink` writes them into one run: its rows in the store, its TensorBoard
  files, its checkpoints and best weights. A single ``fitscope run`` (or a user's own
  ``fit`` with :class:`~fitscope.keras_glue.Recorder`) writes with it directly; the
  cv/tune driver hands it the events its workers send.
- :class:`QueueSink` sends them, bundled, to a driver (``put``): a pool worker's or a
  Ray task's sink, and the local executor's.

Both take the same events in the same order, so every model fitscope trains keeps the
same artefacts whatever ran it.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .._errors import StoreError
from ._checkpoints import CheckpointDir
from ._events import Bundle, Checkpointed, Ended, EpochEnded, Evaluated, Event, ModelSaved, Rewound, Started
from ._store import EpochRecord, Run
from ._tensorboard import TensorBoardWriter

__all__ = ["QueueSink", "RunSink", "Sink"]


class Sink(Protocol):
    """Where a trainer sends its events."""

    @property
    def next_epoch(self) -> int:
        """The number the next trained epoch gets (epochs are global to a run)."""

    def saved_best(self) -> tuple[float, int] | None:
        """``(val_loss, epoch)`` of the best weights kept so far, so a later ``fit`` keeps improving on them."""

    def best_weights(self) -> tuple[int, dict[str, Any]] | None:
        """``(epoch, arrays)`` of the best weights kept so far (in an earlier ``fit``), or ``None``."""

    def send(self, event: Event) -> None:
        """Take one event."""

    def fit_ended(self, clean: bool) -> None:
        """A ``fit`` call returned (``clean``: not failed or interrupted); more may follow."""

    def close(self) -> None:
        """Write out whatever is held."""


# Runs whose last fit ended normally outside a ``with run:`` block: nothing else ends
# them, so they are marked finished when this process exits normally, instead of
# reading as interrupted ("its process ended without finishing it") ever after. A kill
# skips this, and such a run reads as interrupted, as it should.
_finished_at_exit: set[Run] = set()


def _finish_at_exit(run: Run) -> None:
    atexit.unregister(_finish_open_runs)  # registered once, however often this is called
    atexit.register(_finish_open_runs, os.getpid())
    _finished_at_exit.add(run)


def _finish_open_runs(pid: int) -> None:
    if os.getpid() != pid:  # a forked child exiting: the runs are its parent's
        return
    for run in list(_finished_at_exit):
        _finished_at_exit.discard(run)
        try:
            if run.info().status == "running":
                run.finish()
        except (StoreError, OSError, sqlite3.Error) as exc:  # at exit: one line, not a traceback
            print(f"fitscope: could not mark run {run.run_id} finished: {exc}", file=sys.stderr)


class RunSink:
    """Write a trainer's events into ``run``: rows, TensorBoard files (``tensorboard``), checkpoints.

    A ``Started`` event claims the run for this process (one that another live process
    trains is refused before any epoch is mixed into it). Consecutive epochs handed
    over together (:meth:`send_all`) are written in one transaction.
    """

    def __init__(self, run: Run, *, tensorboard: bool = True) -> None:
        self.run = run
        self.tensorboard = tensorboard
        self.checkpoints = CheckpointDir(run.checkpoint_dir)
        self._writer: TensorBoardWriter | None = None
        self._base: int | None = None  # the run's next epoch when training started: epochs from it on are new rows
        self._backend_noted = False  # once: the stateful-RNN loop calls fit hundreds of times

    @property
    def next_epoch(self) -> int:
        return self.run.next_epoch

    def saved_best(self) -> tuple[float, int] | None:
        if not (self.run.checkpoint_dir / "best.npz").is_file():
            return None
        saved = self.checkpoints.load_best(set_aside_unreadable=True)
        if saved is None or "val_loss" not in saved.meta:
            return None
        return float(saved.meta["val_loss"]), saved.epoch

    def best_weights(self) -> tuple[int, dict[str, Any]] | None:
        saved = self.checkpoints.load_best(set_aside_unreadable=True)
        return None if saved is None else (saved.epoch, saved.arrays)

    def send(self, event: Event) -> None:
        self.send_all((event,))

    def send_all(self, events: Iterable[Event]) -> None:
        """Take events in order; runs of plain epochs go into the store in one transaction each."""
        plain: list[EpochRecord] = []
        for event in events:
            if isinstance(event, EpochEnded) and not event.batches and not event.checkpointed:
                plain.append(event.record)
                continue
            self._epochs(plain)
            plain = []
            self._take(event)
        self._epochs(plain)

    def _epochs(self, records: list[EpochRecord]) -> None:
        if not records:
            return
        self.run.record_epochs(records, fresh=self._fresh(records[0].epoch))
        for record in records:
            self._scalars(record)

    def _fresh(self, epoch: int) -> bool:
        return self._base is not None and epoch >= self._base

    def _scalars(self, record: EpochRecord) -> None:
        if self._writer is not None:
            self._writer.add_scalars(record.epoch, record.metrics, wall_time=record.started_at + record.duration)

    def _take(self, event: Event) -> None:
        run = self.run
        if isinstance(event, Started):
            _finished_at_exit.discard(run)
            run.claim()
            self.checkpoints.drop_models()  # (training goes on: the saved models fall out of date)
            if event.backend and not self._backend_noted:
                run.note_backend(event.backend)
                self._backend_noted = True
            self._base = run.next_epoch
            if self.tensorboard and self._writer is None:
                self._writer = TensorBoardWriter(run.tensorboard_dir)
        elif isinstance(event, Rewound):
            run.truncate_after(event.epoch - 1)
            self.checkpoints.discard_after(event.epoch - 1)
            best = self.checkpoints.load_best(set_aside_unreadable=True)
            if best is not None and best.epoch >= event.epoch:
                best.path.unlink()  # it belongs to an epoch that is trained again
            self._base = event.epoch
            self._rewrite_tensorboard()
        elif isinstance(event, EpochEnded):
            record = event.record
            if event.batches:
                run.record_batches(record.epoch, event.batches)
            run.record_epoch(
                record.epoch, record.metrics, started_at=record.started_at, duration=record.duration,
                checkpoint=event.checkpointed, fresh=self._fresh(record.epoch),
            )  # fmt: skip
            self._scalars(record)
            if event.checkpointed and self._writer is not None:
                # TensorBoard follows at the checkpoints' pace: the epoch a resume would start after is in
                # the event files as soon as its rows are committed (a final checkpoint: fit_ended flushes).
                self._writer.flush()
        elif isinstance(event, Checkpointed):
            mine = {"run_id": run.run_id}
            self.checkpoints.save(event.epoch, dict(event.state), {**event.meta, **mine})  # (the work, first)
            if event.best_weights is not None and event.best_epoch is not None:
                self.checkpoints.save_best(
                    event.best_epoch, dict(event.best_weights), {**(event.best_meta or {}), **mine}
                )
            if event.after_epoch:
                run.mark_checkpoint(event.epoch)
        elif isinstance(event, ModelSaved):
            self.checkpoints.save_model(event.which, event.data)
        elif isinstance(event, Evaluated):
            run.record_evaluation(event.split, event.metrics, fingerprint=event.fingerprint, epoch=event.epoch)
        elif isinstance(event, Ended):
            self.close()  # (before finish: it writes the HParams summary beside the scalars)
            if event.status == "finished":
                run.finish(event.reason)
            elif event.status == "interrupted":
                run.interrupt(event.reason or "interrupted")
            elif event.status == "pruned":
                run.prune(event.reason or "pruned")
            else:
                run.fail(event.reason or "failed")

    def _rewrite_tensorboard(self) -> None:
        """Make the event files match the store after epochs were taken back (each epoch once)."""
        if self._writer is None:
            return
        self._writer.close()
        self.run.rebuild_tensorboard()
        self._writer = TensorBoardWriter(self.run.tensorboard_dir)

    def fit_ended(self, clean: bool) -> None:
        if self._writer is not None:
            self._writer.flush()
        if clean and not self.run.in_block and self.run.info().status == "running":
            _finish_at_exit(self.run)

    def close(self) -> None:
        """Flush and close the TensorBoard files (reopened by the next ``Started``)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class QueueSink:
    """Send a trainer's events to a driver as :class:`Bundle` s of trial ``key``.

    Epochs are held and sent together at most every ``interval`` seconds; any other
    event goes at once, after the epochs before it. A small model trains hundreds of
    epochs a second: one message each would wake the queue's feeder thread (and the
    driver) as often, slowing the worker's own training thread. The first epoch goes at
    once so the live view starts.
    """

    def __init__(self, key: str, put: Callable[[Bundle], Any], *, interval: float = 0.25) -> None:
        self.key = key
        self._put = put
        self._interval = interval
        self._held: list[Event] = []
        self._sent = 0.0
        # What ``put`` raised (a closed output, a full disk where the events are written): the
        # taker's failure, not the trial's; nothing more is handed over.
        self.refused: BaseException | None = None
        self._next_epoch = 0

    @property
    def next_epoch(self) -> int:
        return self._next_epoch

    def saved_best(self) -> tuple[float, int] | None:
        return None  # a trial starts from scratch

    def best_weights(self) -> tuple[int, dict[str, Any]] | None:
        return None

    def send(self, event: Event) -> None:
        self._held.append(event)
        if isinstance(event, Rewound):
            self._next_epoch = event.epoch
        if isinstance(event, EpochEnded):
            self._next_epoch = event.record.epoch + 1
            if time.monotonic() - self._sent < self._interval:
                return
        self.flush()

    def flush(self) -> None:
        if self._held and self.refused is None:
            if any(isinstance(event, EpochEnded) for event in self._held):
                self._sent = time.monotonic()  # (the pace is the epochs': a start or a checkpoint does not delay them)
            bundle, self._held = Bundle(self.key, tuple(self._held)), []  # (handed over once, taken or not)
            try:
                self._put(bundle)
            except BaseException as exc:
                self.refused = exc
                raise

    def fit_ended(self, clean: bool) -> None:
        self.flush()

    def close(self) -> None:
        self.flush()
