"""The recorder: a Keras callback that turns each epoch into events for a sink.

Epoch numbers are global to the run: a second ``fit`` call, the book's loop of
``fit(epochs=1)`` calls, or a resume continues the same curve. Recording stays
off the per-step path (no batch hooks unless per-batch recording is asked for),
so Keras keeps dispatching steps asynchronously and fused. Where the events go is
the sink's business (:mod:`fitscope.store`): a run's rows, TensorBoard files and
checkpoints, or a driver's queue.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
import warnings
from typing import Any

import keras

from .._errors import ArgumentError, Interrupted, StoreError, argument_error
from ..store import (
    Checkpoint,
    CheckpointDir,
    Checkpointed,
    Ended,
    EpochEnded,
    EpochRecord,
    Rewound,
    Run,
    RunSink,
    Sink,
    Started,
    normalize_metric_name,
)
from ._state import architecture_fingerprint, model_state, restore_state
from ._stateful import carry_rnn_states

__all__ = ["Recorder", "resume_model"]

# With "auto" checkpoints: at most one every this many seconds of training...
_CHECKPOINT_SECS = 5.0
# ...but every epoch once an epoch itself takes this long.
_LONG_EPOCH_SECS = 1.0


class Recorder(keras.callbacks.Callback):
    """Record each epoch's logs into a :class:`~fitscope.store.Run` (or any :class:`~fitscope.store.Sink`).

    Args:
        run: the run to record into (from ``Store.start_run``), or a sink.
        per_batch: also record every batch's metrics (slower: Keras must then
            report each step).
        tensorboard: write TensorBoard event files under the run's folder (a run
            only: a sink decides that itself).
        checkpoint: ``"auto"`` (paced by cost: at most one every 5 s, every epoch
            when epochs take over 1 s, always at the end and on interruption), a
            number ``N`` (every N epochs, and at the end), or ``None`` (never).
        stop_on_nan: mark the run failed and stop when the loss becomes NaN or
            infinite.
        keep_best: also keep the weights of the epoch with the lowest ``val_loss``
            (in memory, written to ``best.npz`` with the paced checkpoints), for
            ``fitscope test RUN --best``.
        handle_signals: Ctrl-C and SIGTERM finish the epoch under way, save a
            checkpoint and mark the run interrupted (in the main thread only).
        start: the :class:`~fitscope.store.events.Started` event to send when
            training first begins (a trial's manifest and initial weights); the
            backend is filled in.

    Example:
        The book's stateful loop keeps one curve::

            recorder = fitscope.Recorder(run)
            for _ in range(1000):
                model.fit(x, y, epochs=1, batch_size=1, shuffle=False, callbacks=[recorder])
                fitscope.reset_stateful_layers(model)
            run.history()["loss"]   # 1000 values, epochs 0..999
    """

    def __init__(
        self,
        run: Run | Sink,
        *,
        per_batch: bool = False,
        tensorboard: bool | None = None,
        checkpoint: str | int | None = "auto",
        stop_on_nan: bool = True,
        keep_best: bool = True,
        handle_signals: bool = True,
        start: Started | None = None,
    ) -> None:
        super().__init__()
        if checkpoint not in ("auto", None) and not (
            isinstance(checkpoint, int) and not isinstance(checkpoint, bool) and checkpoint >= 1
        ):
            raise ArgumentError(
                f"Invalid value for argument `checkpoint`. Received: checkpoint={checkpoint!r}. "
                "Expected 'auto', a number of epochs (1 or more), or None."
            )
        if isinstance(run, Run):
            self.sink: Sink = RunSink(run, tensorboard=True if tensorboard is None else tensorboard)
        elif tensorboard is not None:
            raise ArgumentError(
                "Invalid argument `tensorboard` with a sink: the sink decides where the epochs go "
                "(RunSink(run, tensorboard=...)). Pass a Run, or leave `tensorboard` out."
            )
        else:
            self.sink = run
        self.run = getattr(self.sink, "run", None)
        self.per_batch = per_batch
        self.checkpoint = checkpoint
        self.stop_on_nan = stop_on_nan
        self.keep_best = keep_best and checkpoint is not None
        self.handle_signals = handle_signals
        self._start = start
        self._best: tuple[float, int] | None = None
        self._best_weights: dict[str, Any] | None = None  # not yet sent
        self._best_kept: tuple[int, dict[str, Any]] | None = None  # the best this recorder saw, sent or not
        self._best_loaded = False
        self._base = 0
        self._first_local: int | None = None
        self._epoch_start = 0.0
        self._current = 0
        self._last_checkpoint_time = 0.0
        self._last_epoch: int | None = None
        self._last_checkpointed: int | None = None
        self._stop_requested: str | None = None  # what asked to stop: "Ctrl-C" or "SIGTERM"
        self._previous_handlers: dict[int, Any] = {}
        self._batches: list[tuple[int, dict[str, float]]] = []
        self.failed_at: tuple[int, int | None] | None = None
        if per_batch:
            # Only defined when asked for: an overridden batch hook makes Keras
            # report every step synchronously.
            self.on_train_batch_end = self._on_train_batch_end

    @property
    def stopped_by(self) -> str | None:
        """What stopped the last ``fit`` after an epoch (``"Ctrl-C"``, ``"SIGTERM"``), or ``None``."""
        return self._stop_requested

    @property
    def ended_cleanly(self) -> bool:
        """The last ``fit`` was neither failed (NaN loss) nor interrupted."""
        return self.failed_at is None and self._stop_requested is None

    def best_weights(self) -> tuple[int, list[Any]] | None:
        """``(epoch, weights)`` of the run's best epoch by ``val_loss`` (as ``get_weights`` gives them), or ``None``.

        Those this recorder saw, else those an earlier ``fit`` of the run kept (``best.npz``).
        """
        if not self.keep_best or self._best is None:
            return None
        if self._best_kept is not None and self._best_kept[0] == self._best[1]:
            epoch, arrays = self._best_kept
        else:
            found = self.sink.best_weights()
            if found is None or found[0] != self._best[1]:
                return None
            epoch, arrays = found
        return epoch, [arrays[name] for name in sorted(arrays)]

    # -- Keras hooks ------------------------------------------------------------

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        carry_rnn_states(self.model)  # (before the first step is traced: JAX would drop a stateful RNN's state)
        start = self._start or Started()
        self._start = None  # (the manifest and initial weights once; the backend every time)
        self.sink.send(Started(str(keras.backend.backend()), start.manifest, start.initial))
        self._base = 0  # (set at the first epoch, once every callback's on_train_begin has run)
        self._first_local = None
        self._last_checkpoint_time = time.monotonic()
        self._stop_requested = None
        self.failed_at = None
        if self.keep_best and not self._best_loaded:
            self._best = self.sink.saved_best()
            self._best_loaded = True
        self._install_interrupt_handler()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._first_local is None:
            self._first_local = epoch
            self._base = self._first_epoch(epoch)
        self._current = self._global(epoch)
        self._epoch_start = time.time()
        self._batches = []

    def _on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        values = {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
        self._batches.append((batch, values))
        loss = values.get("loss")
        if self.stop_on_nan and loss is not None and not math.isfinite(loss):
            self.failed_at = (self._current, batch)
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        duration = time.time() - self._epoch_start
        global_epoch = self._global(epoch)
        metrics = {normalize_metric_name(k): float(v) for k, v in (logs or {}).items() if _is_number(v)}
        nan_loss = self.stop_on_nan and not math.isfinite(metrics.get("loss", 0.0))
        if self.failed_at is None and nan_loss:
            self.failed_at = (global_epoch, None)
        val_loss = metrics.get("val_loss")
        improved = val_loss is not None and math.isfinite(val_loss) and (self._best is None or val_loss < self._best[0])
        if self.keep_best and improved and val_loss is not None:
            # A copy in memory now; sent with the next paced checkpoint.
            self._best = (val_loss, global_epoch)
            self._best_weights = {f"w{i:04d}": w for i, w in enumerate(self.model.get_weights())}
            self._best_kept = (global_epoch, self._best_weights)
        checkpoint = self.failed_at is None and self._checkpoint_due(global_epoch, duration)
        record = EpochRecord(global_epoch, metrics, self._epoch_start, duration)
        if checkpoint:
            try:
                self._save_checkpoint(global_epoch, record=record)
            except StoreError:  # (a full disk: the epoch's row may still fit in the store)
                with contextlib.suppress(StoreError):
                    self.sink.send(EpochEnded(record, tuple(self._batches)))
                raise
        try:
            self.sink.send(EpochEnded(record, tuple(self._batches), checkpointed=checkpoint))
        except StoreError:
            self._keep_unrecorded(record)
            raise
        self._batches = []
        self._last_epoch = global_epoch
        if self.failed_at is not None:
            at_epoch, at_batch = self.failed_at
            where = f"epoch {at_epoch}" + (f", batch {at_batch}" if at_batch is not None else "")
            self.sink.send(Ended(
                "failed",
                f"loss became {metrics.get('loss', float('nan'))} at {where}; training stopped. "
                "Lower the learning rate, check the inputs for extreme values, or clip gradients.",
            ))  # fmt: skip
            self.model.stop_training = True
        elif self._stop_requested:
            if self._last_checkpointed != global_epoch and self.checkpoint is not None:
                self._save_checkpoint(global_epoch, after_epoch=True)
            how = Interrupted(self._stop_requested).by
            self.sink.send(Ended("interrupted", f"interrupted {how} after epoch {global_epoch}"))
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._restore_interrupt_handler()
        last = self._last_epoch
        if (
            last is not None
            and self.checkpoint is not None
            and self.failed_at is None
            and self._last_checkpointed != last
        ):
            self._save_checkpoint(last, after_epoch=True)
        self.sink.fit_ended(self.ended_cleanly)

    # -- helpers ----------------------------------------------------------------

    def close(self) -> None:
        """Write out what the sink holds (TensorBoard files; ``Run.finish`` closes them too).

        Also puts back the Ctrl-C and SIGTERM handlers a ``fit`` that raised left in place
        (Keras calls ``on_train_end`` only when it returns).
        """
        self._restore_interrupt_handler()
        self.sink.close()

    def _first_epoch(self, epoch: int) -> int:
        """The run's number for the first epoch of this ``fit``, as Keras numbers it when it starts past 0.

        A ``fit`` from epoch 0 continues the run's curve (a second ``fit`` call, the
        book's loop of ``fit(epochs=1)`` calls). One that starts at epoch k > 0
        (``initial_epoch=k``, or ``BackupAndRestore`` replaying from its last backup,
        whatever its place among the callbacks) is epoch k of the run; the run's epochs
        from k on are being trained again, and go.
        """
        recorded = self.sink.next_epoch
        if epoch == 0:
            return recorded
        if epoch < recorded:
            self.sink.send(Rewound(epoch))
            if self.keep_best:
                self._best, self._best_weights, self._best_kept = self.sink.saved_best(), None, None
        return epoch

    def _global(self, local_epoch: int) -> int:
        first = self._first_local if self._first_local is not None else local_epoch
        return self._base + local_epoch - first

    def _checkpoint_due(self, epoch: int, duration: float) -> bool:
        if self.checkpoint is None:
            return False
        if isinstance(self.checkpoint, int):
            return (epoch + 1) % self.checkpoint == 0
        if duration >= _LONG_EPOCH_SECS:
            return True
        return time.monotonic() - self._last_checkpoint_time >= _CHECKPOINT_SECS

    def _save_checkpoint(self, epoch: int, *, after_epoch: bool = False, record: EpochRecord | None = None) -> None:
        """Checkpoint the weights after ``epoch``; ``record``: that epoch's row, not yet in the store.

        The row goes into the checkpoint so that a resume never loses an epoch whose
        checkpoint was written when its row was not (a kill between the two, a full disk).
        """
        meta: dict[str, Any] = {"architecture": architecture_fingerprint(self.model)}  # (the sink adds the run id)
        if record is not None:
            meta["record"] = _record_dict(record)
        best: dict[str, Any] = {}
        if self._best_weights is not None and self._best is not None:
            best = {"best_epoch": self._best[1], "best_weights": self._best_weights,
                    "best_meta": {**meta, "val_loss": self._best[0]}}  # fmt: skip
            self._best_weights = None
        self.sink.send(Checkpointed(epoch, model_state(self.model), meta, after_epoch=after_epoch, **best))
        self._last_checkpoint_time = time.monotonic()
        self._last_checkpointed = epoch

    def _keep_unrecorded(self, record: EpochRecord) -> None:
        """The store refused an epoch (a full disk): try to keep the work in a checkpoint, with the epoch's row.

        It is the last chance to keep what was trained; a resume writes the row first
        (:func:`resume_model`). If the checkpoint cannot be written either, the store's
        error is the one the user sees.
        """
        if self.checkpoint is None or self._last_checkpointed == record.epoch:
            return
        try:
            self._save_checkpoint(record.epoch, record=record)
        except (StoreError, OSError):
            return

    def _install_interrupt_handler(self) -> None:
        """Ctrl-C, and SIGTERM (``kill``, a batch scheduler's stop), end the run gracefully.

        The epoch under way finishes, a checkpoint is saved and the run is marked
        interrupted; a second signal stops at once.
        """
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, frame: Any) -> None:
            how = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
            if self._stop_requested:
                raise Interrupted(how)
            self._stop_requested = how
            again = "press Ctrl-C again" if signum == signal.SIGINT else "send it again"
            print(
                f"\nfitscope: {self._stop_requested}: stopping after this epoch and saving a checkpoint "
                f"({again} to stop at once)",
                file=sys.stderr,
            )

        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous_handlers[signum] = signal.signal(signum, handler)

    def _restore_interrupt_handler(self) -> None:
        for signum, previous in self._previous_handlers.items():
            signal.signal(signum, previous)
        self._previous_handlers = {}


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _record_dict(record: EpochRecord) -> dict[str, Any]:
    return {"epoch": record.epoch, "metrics": dict(record.metrics), "started_at": record.started_at,
            "duration": record.duration}  # fmt: skip


def check_resumable(run: Run) -> Checkpoint | None:
    """The checkpoint a resume of ``run`` would continue from (``None``: the run has no epochs yet).

    Reads only: call it before :meth:`~fitscope.store.Run.claim` to refuse a resume that
    would lose epochs without changing anything.

    Raises:
        StoreError: the run has epochs but no readable checkpoint.
    """
    checkpoints = CheckpointDir(run.checkpoint_dir)
    committed = run.next_epoch - 1
    # A checkpoint one epoch ahead of the rows counts when it carries that epoch's row (a kill
    # between the checkpoint and the rows, a full disk: see Recorder._save_checkpoint).
    found = checkpoints.load_latest(at_most=committed + 1)
    if found is not None and found.epoch > committed and (found.meta.get("record") or {}).get("epoch") != found.epoch:
        found = checkpoints.load_latest(at_most=committed)
    if found is None and committed >= 0:
        kept = (
            "none was kept: record.checkpoint: null, or writing one failed" if not checkpoints.paths()
            else "none of them is readable and covers its recorded epochs"
        )  # fmt: skip
        raise argument_error(
            f"run {run.run_id} has {committed + 1} epoch(s) but no readable checkpoint ({kept}), so it cannot "
            "continue where it stopped; its epochs were left as they are. To train it again from epoch 0, "
            "keeping those epochs in the store as an earlier attempt, resume it with <<from_scratch>>.",
            StoreError,
        )
    return found


_NOT_CHECKED: Any = object()


def resume_model(run: Run, model: Any, *, from_scratch: bool = False, checkpoint: Any = _NOT_CHECKED) -> int:
    """Load a run's last good checkpoint into ``model``; returns the epoch to continue from.

    The checkpoint used is the newest readable one whose epoch's rows are committed
    (a corrupt newest one falls back to the previous with a warning). Rows of epochs
    after it are deleted, because they are about to be trained again: every epoch
    ends up in the store exactly once. An unreadable ``best.npz`` is set aside with a
    warning; it does not stop the resume. The TensorBoard files are rewritten to match.

    Args:
        from_scratch: train the run again from epoch 0, keeping its epochs and files
            as an earlier attempt (:meth:`~fitscope.store.Run.set_aside`), not deleting them.
        checkpoint: what :func:`check_resumable` returned for the run, when it was called
            already (before the claim): the checkpoint is then not read a second time.

    Returns:
        The ``initial_epoch`` to pass to ``model.fit``.

    Raises:
        StoreError: the run has epochs but no readable checkpoint (nothing is changed;
            ``from_scratch`` is the way to start over), or was trained with another model.
    """
    checkpoints = CheckpointDir(run.checkpoint_dir)
    committed = run.next_epoch - 1
    if from_scratch:
        if committed >= 0:
            earlier = run.set_aside()
            warnings.warn(f"run {run.run_id} starts again from epoch 0; its {committed + 1} earlier epoch(s) are "
                          f"kept as run {earlier}.", UserWarning, stacklevel=2)  # fmt: skip
        return 0
    found = check_resumable(run) if checkpoint is _NOT_CHECKED else checkpoint
    if found is None:
        checkpoints.discard_after(-1)  # (written before a kill, for an epoch never committed)
        return 0
    expected = found.meta.get("architecture")
    if expected and expected != architecture_fingerprint(model):
        raise StoreError(
            f"run {run.run_id} was trained with another model architecture; build the same "
            "model (layers, units, optimizer, loss) to resume it."
        )
    if found.epoch > committed:  # (its row is in it: check_resumable)
        row = found.meta["record"]
        run.record_epoch(row["epoch"], row["metrics"], started_at=row["started_at"], duration=row["duration"])
    restore_state(model, found.arrays)
    run.truncate_after(found.epoch)
    checkpoints.discard_after(found.epoch)
    best = checkpoints.load_best(set_aside_unreadable=True)
    if best is not None and best.epoch > found.epoch:
        best.path.unlink()  # it belongs to an epoch that will be trained again
    run.mark_checkpoint(found.epoch)
    if run.tensorboard_dir.is_dir():  # the event files may hold epochs now taken back, or miss the last ones
        run.rebuild_tensorboard()
    return found.epoch + 1
