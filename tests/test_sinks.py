"""Sinks: the same events written by a run directly and through a worker's queue give the same run."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from fitscope.store import (
    Bundle,
    CheckpointDir,
    Checkpointed,
    Ended,
    EpochEnded,
    EpochRecord,
    Evaluated,
    QueueSink,
    RunSink,
    Started,
    Store,
)


def _events() -> list:
    weights = {"w0000": np.arange(4, dtype="float32")}
    events: list = [Started("jax", {"index_hash": "abc"}, "initial")]
    for epoch in range(3):
        if epoch == 1:
            events.append(Checkpointed(epoch, weights, {"architecture": "x"}, best_epoch=0, best_weights=weights,
                                       best_meta={"architecture": "x", "val_loss": 0.5}))  # fmt: skip
        metrics = {"loss": 1.0 / (epoch + 1), "val_loss": 0.5 + epoch, "accuracy": float("nan")}
        events.append(EpochEnded(EpochRecord(epoch, metrics, 1000.0 + epoch, 0.5), checkpointed=epoch == 1))
    events += [
        Checkpointed(2, weights, {"architecture": "x"}, after_epoch=True),
        Evaluated("val", {"loss": 2.5}, fingerprint="f", epoch=2),
        Ended("finished"),
    ]
    return events


def _stored(store: Store, run_id: str) -> dict:
    run = store.run(run_id)
    info = run.info()
    checkpoints = CheckpointDir(run.checkpoint_dir)
    scalars = EventAccumulator(str(run.tensorboard_dir)).Reload()
    return {
        "status": info.status,
        "checkpoint_epoch": info.checkpoint_epoch,
        "history": {k: [round(v, 9) if v == v else "nan" for v in vs] for k, vs in run.history().items()},
        "evaluations": [(e["split"], e["epoch"], e["fingerprint"], e["metrics"]) for e in run.evaluations()],
        "files": sorted(
            str(p.relative_to(run.dir)) for p in run.dir.rglob("*") if p.is_file() and "events" not in p.name
        ),
        "latest": checkpoints.load_latest().epoch,
        "best": (checkpoints.load_best().epoch, {**checkpoints.load_best().meta, "run_id": info.run_id == run_id}),
        "tags": sorted(scalars.Tags()["scalars"]),
    }


def test_a_run_written_directly_and_through_a_queue_is_the_same(tmp_path: Path) -> None:
    store = Store(tmp_path)
    direct = store.start_run(name="direct")
    sink = RunSink(direct)
    for event in _events():
        sink.send(event)
    queued = store.start_run(name="queued")
    bundles: list[Bundle] = []
    queue = QueueSink("k", lambda bundle: bundles.append(pickle.loads(pickle.dumps(bundle))), interval=60)
    for event in _events():
        queue.send(event)
    queue.close()
    driver_side = RunSink(queued)
    for bundle in bundles:
        driver_side.send_all(bundle.events)
    a, b = _stored(store, direct.run_id), _stored(store, queued.run_id)
    assert a == b
    assert a["status"] == "finished" and a["checkpoint_epoch"] == 2
    assert a["best"] == (0, {"architecture": "x", "val_loss": 0.5, "run_id": True, "epoch": 0})
    assert a["files"] == ["checkpoints/best.npz", "checkpoints/epoch-000001.npz", "checkpoints/epoch-000002.npz"]


def test_the_queue_bundles_epochs_and_sends_anything_else_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Epochs go in bundles at most every interval; the first at once, and all before the trial's end."""
    from fitscope.store import _sinks

    clock = [100.0]
    monkeypatch.setattr(_sinks.time, "monotonic", lambda: clock[0])
    sent: list[Bundle] = []
    sink = QueueSink("k", sent.append, interval=0.25)
    sink.send(Started())
    for epoch in range(5):
        sink.send(EpochEnded(EpochRecord(epoch, {"loss": 1.0}, 0.0, 0.1)))
        clock[0] += 0.1
    assert sink.next_epoch == 5
    sink.send(Ended("finished"))
    assert {bundle.key for bundle in sent} == {"k"}
    kinds = [[type(event).__name__ for event in bundle.events] for bundle in sent]
    assert kinds == [["Started"], ["EpochEnded"], ["EpochEnded"] * 3, ["EpochEnded", "Ended"]]
    epochs = [event.record.epoch for bundle in sent for event in bundle.events if isinstance(event, EpochEnded)]
    assert epochs == [0, 1, 2, 3, 4]  # the first at once (the live view starts), none lost, in order
