"""TensorBoard event files written with the ``tensorboard`` package's event protos and record writer.

No TensorFlow is needed (PyTorch writes its event files with the same package), so the logs
work on every Keras backend. Scalars are tagged as Keras's TensorBoard callback
tags them (``epoch_loss``, ``epoch_accuracy``, ...), training under ``train/`` and
validation under ``validation/`` so the two overlay. The store is the source of
truth: :func:`rebuild_tensorboard` writes a run's event files again from it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import StoreError

__all__ = ["TensorBoardWriter", "scalar_tag"]

_file_numbers = itertools.count()  # tells apart the event files one process opens in one second


def scalar_tag(metric: str) -> tuple[str, str]:
    """``(subdirectory, tag)`` for a metric name (``val_loss`` -> validation, epoch_loss).

    ``train_dev_*`` metrics (Ng's train-dev set) get their own ``train_dev`` run so all
    three curves overlay under one tag.
    """
    if metric.startswith("val_"):
        return "validation", f"epoch_{metric[4:]}"
    if metric.startswith("train_dev_"):
        return "train_dev", f"epoch_{metric[10:]}"
    return "train", f"epoch_{metric}"


class TensorBoardWriter:
    """Buffered scalar and HParams writer for one run's ``tensorboard/`` folder.

    Scalars wait in memory as plain numbers and become events only on :meth:`flush`
    (every ``flush_every`` seconds, with the recorder's paced checkpoints, and at the
    end), written by :class:`_EventFile`. Writing each epoch as it ends cost far
    more with ``tensorboard``'s own writer, whose thread and pure-Python checksums
    competed with Keras for the GIL (measured: +8 % on the book's toy model, against
    ~0 % when batched). The files are derived from the store, so a crash loses
    nothing that cannot be rebuilt.
    """

    # Flush by itself once this many epochs are waiting.
    MAX_PENDING = 2000

    def __init__(self, logdir: str | Path, *, flush_every: float = 10.0) -> None:
        self.logdir = Path(logdir)
        self._flush_every = flush_every
        self._last_flush = time.monotonic()
        self._writers: dict[str, Any] = {}
        self._pending: list[tuple[int, float, dict[str, float]]] = []

    def _writer(self, sub: str) -> Any:
        if sub not in self._writers:
            self._writers[sub] = _EventFile(self.logdir / sub)
        return self._writers[sub]

    def add_scalars(self, step: int, metrics: Mapping[str, float], wall_time: float | None = None) -> None:
        """Keep one epoch's metrics at ``step`` (the global epoch) until the next flush."""
        self._pending.append((int(step), time.time() if wall_time is None else wall_time, dict(metrics)))
        if len(self._pending) >= self.MAX_PENDING or time.monotonic() - self._last_flush >= self._flush_every:
            self.flush()

    def _write_pending(self) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        pending, self._pending = self._pending, []
        for step, wall, metrics in pending:
            grouped: dict[str, list[Any]] = {}
            for name, value in metrics.items():
                sub, tag = scalar_tag(name)
                grouped.setdefault(sub, []).append(Summary.Value(tag=tag, simple_value=float(value)))
            for sub, values in grouped.items():
                self._writer(sub).add_event(Event(wall_time=wall, step=step, summary=Summary(value=values)))

    def add_hparams(self, params: Mapping[str, Any], metrics: Mapping[str, float]) -> None:
        """Write an HParams session for the run's parameters and final metrics."""
        from google.protobuf import struct_pb2
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

        values: dict[str, Any] = {}
        infos = []
        for key, value in sorted(params.items()):
            if isinstance(value, bool):
                values[key] = struct_pb2.Value(bool_value=value)
                kind = api_pb2.DATA_TYPE_BOOL
            elif isinstance(value, (int, float)):
                values[key] = struct_pb2.Value(number_value=float(value))
                kind = api_pb2.DATA_TYPE_FLOAT64
            else:
                values[key] = struct_pb2.Value(string_value=str(value))
                kind = api_pb2.DATA_TYPE_STRING
            infos.append(api_pb2.HParamInfo(name=key, type=kind))
        metric_infos = []
        for name in metrics:
            sub, tag = scalar_tag(name)
            metric_infos.append(api_pb2.MetricInfo(name=api_pb2.MetricName(group=sub, tag=tag)))

        def summary(tag: str, data: Any) -> Any:
            meta = metadata.create_summary_metadata(data)
            return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=metadata.NULL_TENSOR)])

        now = time.time()
        experiment = plugin_data_pb2.HParamsPluginData(
            experiment=api_pb2.Experiment(hparam_infos=infos, metric_infos=metric_infos, time_created_secs=now)
        )
        start = plugin_data_pb2.HParamsPluginData(
            session_start_info=plugin_data_pb2.SessionStartInfo(hparams=values, start_time_secs=now)
        )
        end = plugin_data_pb2.HParamsPluginData(
            session_end_info=plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS, end_time_secs=now)
        )
        writer = self._writer("")
        for tag, data in (
            (metadata.EXPERIMENT_TAG, experiment),
            (metadata.SESSION_START_INFO_TAG, start),
            (metadata.SESSION_END_INFO_TAG, end),
        ):
            writer.add_event(Event(wall_time=now, summary=summary(tag, data)))

    def flush(self) -> None:
        """Write the waiting scalars and flush the event files."""
        self._last_flush = time.monotonic()
        self._write_pending()
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        self._write_pending()
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


class _EventFile:
    """One event file, written in batches through the ``tensorboard`` package's record framing.

    ``tensorboard``'s own ``EventFileWriter`` hands every event to a thread that
    opens the file, appends one record and closes it again: about 50 µs an event,
    0.1 ms an epoch, paid by the training process (or the cv/tune driver, on the
    cores its workers train on). :class:`TensorBoardWriter` already writes in
    batches, so this keeps the file open and lets ``RecordWriter`` frame each event
    (length, checksums) into it; the file is named, and starts with the version
    event, as ``EventFileWriter`` does it, so TensorBoard reads it as its own.
    """

    def __init__(self, folder: Path) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.summary.writer.record_writer import RecordWriter

        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_file_numbers)}"
        self.path = folder / name
        self._failed = False
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._records = RecordWriter(open(self.path, "xb"))  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise self._cannot_write(exc) from exc
        self.add_event(Event(wall_time=time.time(), file_version="brain.Event:2"))
        self.flush()

    def add_event(self, event: Any) -> None:
        self._guarded(self._records.write, event.SerializeToString())

    def flush(self) -> None:
        self._guarded(self._records.flush)

    def close(self) -> None:
        if self._failed:  # what is still buffered cannot be written either: close without a second error
            with contextlib.suppress(OSError):
                self._records.close()
            return
        self._guarded(self._records.close)

    def _guarded(self, action: Any, *args: Any) -> None:
        try:
            action(*args)
        except OSError as exc:
            self._failed = True
            raise self._cannot_write(exc) from exc

    def _cannot_write(self, exc: OSError) -> StoreError:
        return StoreError(
            f"cannot write the TensorBoard file {self.path} ({exc.strerror or exc}). Free disk space or fix the "
            "folder's permissions, then resume the run (cv and tune: run the same command again); the store "
            "keeps every recorded epoch and `run.rebuild_tensorboard()` writes the files again."
        )


def write_history(
    logdir: Path,
    rows: list[tuple[int, float, dict[str, float]]],
    params: Mapping[str, Any] | None = None,
) -> None:
    """Write a run's event files from scratch from ``(epoch, wall_time, metrics)`` rows."""
    if logdir.exists():
        shutil.rmtree(logdir)
    writer = TensorBoardWriter(logdir)
    try:
        for epoch, wall, metrics in rows:
            writer.add_scalars(epoch, metrics, wall_time=wall)
        if params is not None and rows:
            writer.add_hparams(flatten_params(params), rows[-1][2])
    finally:
        writer.close()


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_params(value, f"{name}."))
        elif value is None:
            flat[name] = "None"
        else:
            flat[name] = value
    return flat
