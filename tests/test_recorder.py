"""The recorder callback with real (tiny) Keras models, real SQLite and TensorBoard files."""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from fitscope import StoreError
from fitscope.keras_glue import Recorder, reset_stateful_layers, resume_model, weights_fingerprint
from fitscope.store import CheckpointDir, Run, Store

HERE = Path(__file__).parent


def tiny_model(units: int = 5, optimizer: str = "rmsprop") -> keras.Model:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(96, 4)).astype("float32"), np.repeat(np.arange(3), 32)


def test_history_is_continuous_across_fit_calls(tmp_path: Path, data: tuple) -> None:
    x, y = data
    run = Store(tmp_path).start_run(name="twice")
    recorder = Recorder(run)
    model = tiny_model()
    first = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[recorder])
    second = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0, callbacks=[recorder])
    run.finish()
    assert [e for e, _, _ in run.epochs()] == [0, 1, 2, 3, 4]
    history = run.history()
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    expected = first.history["val_loss"] + second.history["val_loss"]
    assert np.allclose(history["val_loss"], expected)


def test_book_loop_of_single_epoch_fits(tmp_path: Path) -> None:
    """The book's stateful-RNN loop: many fit(epochs=1) calls make one curve."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 3, 1)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    model = keras.Sequential([keras.Input((3, 1), batch_size=1), keras.layers.LSTM(4, stateful=True),
                              keras.layers.Dense(1)])  # fmt: skip
    model.compile("adam", "mse")
    run = Store(tmp_path).start_run(name="stateful")
    recorder = Recorder(run, checkpoint=None)
    for _ in range(12):
        model.fit(x, y, epochs=1, batch_size=1, shuffle=False, verbose=0, callbacks=[recorder])
        assert reset_stateful_layers(model) == 1
    assert [e for e, _, _ in run.epochs()] == list(range(12))
    recorder.close()
    steps = _scalars(run.tensorboard_dir / "train", "epoch_loss")
    assert [s for s, _ in steps] == list(range(12))


def _scalars(folder: Path, tag: str) -> list[tuple[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder))
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_tensorboard_matches_the_store_and_rebuilds(tmp_path: Path, data: tuple) -> None:
    x, y = data
    run = Store(tmp_path / "with space 한글").start_run(name="tb", params={"units": 5, "opt": "rmsprop"})
    model = tiny_model()
    recorder = Recorder(run)
    assert run.info().backend is None  # started from Python, before any fit
    model.fit(x, y, epochs=4, validation_split=0.25, verbose=0, callbacks=[recorder])
    recorder.close()
    run.finish()
    assert run.info().backend == keras.backend.backend()  # noted by the first fit (the report shows it)
    history = run.history()
    for sub, prefix in (("train", ""), ("validation", "val_")):
        for metric in ("loss", "accuracy"):
            got = _scalars(run.tensorboard_dir / sub, f"epoch_{metric}")
            assert [s for s, _ in got] == [0, 1, 2, 3]
            assert np.allclose([v for _, v in got], history[prefix + metric], rtol=1e-6)
    rebuilt = run.rebuild_tensorboard()
    got = _scalars(rebuilt / "validation", "epoch_loss")
    assert np.allclose([v for _, v in got], history["val_loss"], rtol=1e-6)

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(rebuilt))
    acc.Reload()
    assert "_hparams_/session_start_info" in acc.Tags()["tensors"]


def diverging() -> tuple[keras.Model, np.ndarray, np.ndarray]:
    """A regression whose learning rate is so high that the loss overflows within a few epochs."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate=10.0), "mse")
    return model, np.ones((32, 2), "float32"), np.full((32, 1), 1e3, "float32")


def test_nan_loss_fails_the_run_and_keeps_earlier_epochs(tmp_path: Path) -> None:
    model, x, y = diverging()
    run = Store(tmp_path).start_run(name="nan")
    model.fit(x, y, epochs=50, verbose=0, callbacks=[Recorder(run, checkpoint=1)])
    info = run.info()
    assert info.status == "failed"
    assert re.search(r"loss became (nan|inf) at epoch \d+", info.reason or "")
    losses = run.history()["loss"]
    assert len(losses) < 50 and not math.isfinite(losses[-1]) and math.isfinite(losses[0])
    assert any(run.checkpoint_dir.iterdir())


def test_nan_loss_names_the_batch_with_per_batch_recording(tmp_path: Path) -> None:
    model, x, y = diverging()
    run = Store(tmp_path).start_run(name="nan")
    model.fit(x, y, epochs=50, batch_size=8, verbose=0, callbacks=[Recorder(run, per_batch=True)])
    assert re.search(r"at epoch \d+, batch \d+", run.info().reason or "")
    assert len(run.batches()) > 0


def test_resume_restores_weights_and_optimizer(tmp_path: Path, data: tuple) -> None:
    x, y = data
    store = Store(tmp_path)
    run = store.start_run(name="resume")
    model = tiny_model()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[Recorder(run, checkpoint=1)])
    run.interrupt()
    fresh = tiny_model()
    run.claim()
    assert resume_model(run, fresh) == 3
    assert weights_fingerprint(fresh) == weights_fingerprint(model)
    assert int(fresh.optimizer.iterations) == int(model.optimizer.iterations)
    with pytest.raises(StoreError, match="another model architecture"):
        resume_model(run, tiny_model(units=7))


def test_bad_checkpoint_option(tmp_path: Path) -> None:
    run = Store(tmp_path).start_run(name="r")
    with pytest.raises(ValueError, match=r"Received: checkpoint=0"):
        Recorder(run, checkpoint=0)


def _job(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    return subprocess.run([sys.executable, str(HERE / "training_job.py"), str(root), *args],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("point", ["mid-epoch", "before-commit", "after-commit"])
def test_sigkill_and_resume_has_every_epoch_once(tmp_path: Path, point: str) -> None:
    killed = _job(tmp_path, "6", "new", point, "3")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run_id = killed.stdout.split()[0]
    store = Store(tmp_path)
    before = [e for e, _, _ in store.run(run_id).epochs()]
    assert before == ([0, 1, 2, 3] if point == "after-commit" else [0, 1, 2])
    resumed = _job(tmp_path, "6", run_id)
    assert resumed.returncode == 0, resumed.stderr
    run = store.run(run_id)
    assert [e for e, _, _ in run.epochs()] == [0, 1, 2, 3, 4, 5]
    assert all(len(v) == 6 for v in run.history().values())
    assert run.info().status == "finished"
    assert store.integrity_check() == "ok"
    _assert_tensorboard_has_every_epoch_once(run, 6)


def _assert_tensorboard_has_every_epoch_once(run: Run, epochs: int) -> None:
    """TensorBoard's own reader sees steps 0..epochs-1 once each, for training and validation alike."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for part in ("train", "validation"):
        if not (run.tensorboard_dir / part).is_dir():
            continue
        accumulator = EventAccumulator(str(run.tensorboard_dir / part), purge_orphaned_data=False).Reload()
        steps = [event.step for event in accumulator.Scalars("epoch_loss")]
        assert steps == list(range(epochs)), (part, steps)


@pytest.mark.slow
@pytest.mark.parametrize(("sent", "named"), [(signal.SIGINT, "by the user (Ctrl-C)"), (signal.SIGTERM, "by SIGTERM")])
def test_ctrl_c_or_sigterm_finishes_the_epoch_checkpoints_and_resumes(
    tmp_path: Path, sent: signal.Signals, named: str
) -> None:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    job = subprocess.Popen([sys.executable, str(HERE / "training_job.py"), str(tmp_path), "3000", "new"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        run_id = (job.stdout.readline() if job.stdout else "").strip()
        run = Store(tmp_path).run(run_id)
        deadline = time.monotonic() + 120
        while run.next_epoch < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        job.send_signal(sent)
        _, err = job.communicate(timeout=120)
    finally:
        job.kill()
    assert job.returncode == 0, err
    assert "stopping after this epoch" in err
    info = run.info()
    last = run.next_epoch - 1
    assert (info.status, info.reason) == ("interrupted", f"interrupted {named} after epoch {last}")
    assert info.checkpoint_epoch == last and 3 <= last < 2999
    resumed = _job(tmp_path, str(last + 3), run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert [e for e, _, _ in run.epochs()] == list(range(last + 3))
    assert run.info().status == "finished"
    _assert_tensorboard_has_every_epoch_once(run, last + 3)


def test_second_process_cannot_resume_a_live_run_and_a_dead_ones_run_reads_interrupted(tmp_path: Path) -> None:
    code = (
        "import sys, time\nfrom fitscope.store import Store\n"
        f"run = Store({str(tmp_path)!r}).start_run(name='busy')\n"
        "print(run.run_id, flush=True)\ntime.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        run_id = (holder.stdout.readline() if holder.stdout else "").strip()
        run = Store(tmp_path).run(run_id)
        assert run.info().status == "running"  # its process is alive
        with pytest.raises(StoreError, match=rf"still being trained by process {holder.pid} on "):
            run.claim()
        x = np.zeros((8, 4), "float32")  # nor can a fit here record into it: refused before its first epoch
        with pytest.raises(StoreError, match=rf"still being trained by process {holder.pid} on "):
            tiny_model().fit(x, np.zeros(8, "int32"), epochs=1, verbose=0, callbacks=[Recorder(run)])
        assert run.next_epoch == 0
        removing = subprocess.run([sys.executable, "-m", "fitscope", "runs", "rm", run_id, "--runs", str(tmp_path)],
                                  capture_output=True, text=True)  # fmt: skip
        assert removing.returncode == 2 and removing.stderr.strip() == (
            f"fitscope runs: error: run {run_id} is still being trained by process {holder.pid} on "
            f"{socket.gethostname()}. Stop it first (Ctrl-C where it runs, or `kill {holder.pid}`), then remove it."
        )
        assert run.info().status == "running" and run.dir.is_dir()  # nothing removed
        idle = Store(tmp_path).start_run(name="idle")
        idle.finish()
        with pytest.raises(StoreError, match=r"then remove it\. Nothing was removed\.$"):
            Store(tmp_path).delete(idle.run_id, run_id)  # all or none
        assert idle.dir.is_dir() and Store(tmp_path).run(idle.run_id).info().status == "finished"
        testing = subprocess.run([sys.executable, "-m", "fitscope", "test", run_id, "--runs", str(tmp_path)],
                                 capture_output=True, text=True)  # fmt: skip
        assert testing.returncode == 2 and testing.stderr.strip() == (
            f"fitscope test: error: run {run_id} is still being trained by process {holder.pid} on "
            f"{socket.gethostname()}. Test it once it has finished, or stop it first (its last checkpoint is then "
            "tested)."
        )
        assert run.evaluations("test") == []  # the test set stays sealed
    finally:
        holder.kill()
        holder.wait()
    # Killed, it could not say so: the run reads as interrupted (and is resumable), not running forever.
    info = run.info()
    assert (info.status, info.reason) == (
        "interrupted", "its process ended without finishing it (killed or crashed); resume or re-run it"
    )  # fmt: skip
    assert [i.status for i in Store(tmp_path).runs()] == ["interrupted", "finished"]
    run.claim()
    assert run.info().status == "running"
    assert Store(tmp_path).delete(run_id, idle.run_id) == [run_id, idle.run_id]  # this process's own run may go
    assert Store(tmp_path).runs() == []


_PLAIN_FITS = """
import os, sys
import fitscope
import keras
import numpy as np
from fitscope.store import CheckpointDir, Store

x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
y = np.arange(32) % 3
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
model.compile("sgd", "sparse_categorical_crossentropy")
store = Store(sys.argv[1])
with store.start_run(name="block") as block:
    model.fit(x, y, epochs=1, verbose=0, callbacks=[fitscope.Recorder(block)])
model.fit(x, y, epochs=1, verbose=0, callbacks=[fitscope.Recorder(block)])  # trained again after its block
plain = store.start_run(name="plain")
model.fit(x, y, epochs=2, verbose=0, callbacks=[fitscope.Recorder(plain)])
print(block.run_id, block.info().status, plain.run_id, plain.info().status, flush=True)
model.fit(x, y, epochs=1, verbose=0, callbacks=[fitscope.Recorder(plain)])
if sys.argv[2] == "kill":
    os.kill(os.getpid(), 9)
"""


@pytest.mark.parametrize("ending", ["exit", "kill"])
def test_runs_recorded_without_a_with_block_finish_when_their_process_exits(tmp_path: Path, ending: str) -> None:
    job = subprocess.run([sys.executable, "-c", _PLAIN_FITS, str(tmp_path), ending], capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert job.returncode == (-signal.SIGKILL if ending == "kill" else 0), job.stderr
    block_id, during_block, plain_id, during_plain = job.stdout.split()
    # While the process lives, both stay open for more fits (the ended block's run was opened again).
    assert (during_block, during_plain) == ("running", "running")
    store = Store(tmp_path)
    block, plain = store.run(block_id), store.run(plain_id)
    assert [e for e, _, _ in block.epochs()] == [0, 1] and [e for e, _, _ in plain.epochs()] == [0, 1, 2]
    if ending == "exit":  # every fit ended normally: finished, not "interrupted" for want of a `with`
        assert [(r.info().status, r.info().reason) for r in (block, plain)] == [("finished", None)] * 2
    else:
        assert {r.info().status for r in (block, plain)} == {"interrupted"}


def test_a_forked_child_exiting_leaves_its_parents_open_runs_alone(tmp_path: Path, data: tuple) -> None:
    from fitscope.store import _sinks

    x, y = data
    run = Store(tmp_path).start_run(name="parent's")
    tiny_model().fit(x, y, epochs=1, verbose=0, callbacks=[Recorder(run)])
    assert run in _sinks._finished_at_exit
    _sinks._finish_open_runs(os.getpid() + 1)  # as the exit handler runs in a child forked from here
    assert run.info().status == "running"
    _sinks._finish_open_runs(os.getpid())  # this process's own exit
    assert run.info().status == "finished" and run not in _sinks._finished_at_exit


class _CrashAt(keras.callbacks.Callback):
    """Raises at the end of one epoch, the first time only (Keras's BackupAndRestore docs do the same)."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: object = None) -> None:
        if epoch == self.epoch:
            raise RuntimeError("crash")


@pytest.mark.parametrize("order", ["recorder, crash, backup", "backup, recorder, crash", "crash, recorder, backup"])
def test_keras_s_own_resume_stores_every_epoch_once_whatever_the_callbacks_order(
    tmp_path: Path, data: tuple, order: str
) -> None:
    x, y = data
    run = Store(tmp_path).start_run(name="backup")
    model = tiny_model()

    def callbacks(crash: keras.callbacks.Callback | None) -> list[keras.callbacks.Callback]:
        named = {"recorder": Recorder(run), "backup": keras.callbacks.BackupAndRestore(str(tmp_path / "backup")),
                 "crash": crash}  # fmt: skip
        return [named[name] for name in order.split(", ") if named[name] is not None]

    with pytest.raises(RuntimeError, match="crash"):
        model.fit(x, y, epochs=6, validation_split=0.25, verbose=0, callbacks=callbacks(_CrashAt(3)))
    model.fit(x, y, epochs=6, validation_split=0.25, verbose=0, callbacks=callbacks(None))
    assert [e for e, _, _ in run.epochs()] == [0, 1, 2, 3, 4, 5]  # (11 rows for 10 epochs before)
    assert all(len(values) == 6 for values in run.history().values())


def test_a_fit_from_initial_epoch_k_is_epoch_k_of_the_run(tmp_path: Path, data: tuple) -> None:
    x, y = data
    run = Store(tmp_path).start_run(name="initial")
    model = tiny_model()
    model.fit(x, y, epochs=6, verbose=0, callbacks=[Recorder(run, checkpoint=1)])
    first = run.history()["loss"]
    model.fit(x, y, epochs=4, initial_epoch=2, verbose=0, callbacks=[Recorder(run, checkpoint=1)])
    # Epochs 2 and 3 trained again replace theirs; 4 and 5 belonged to the training redone, and go.
    assert [e for e, _, _ in run.epochs()] == [0, 1, 2, 3]
    again = run.history()["loss"]
    assert again[:2] == first[:2] and again[2:] != first[2:4]
    assert sorted(epoch for epoch, _ in CheckpointDir(run.checkpoint_dir).paths()) == [2, 3]  # (the last two kept)
    model.fit(x, y, epochs=6, initial_epoch=4, verbose=0, callbacks=[Recorder(run)])  # continuing: as counted
    assert [e for e, _, _ in run.epochs()] == list(range(6))


@pytest.mark.parametrize("recorder_first", [True, False])
def test_live_plot_draws_the_last_epoch_whatever_its_place(tmp_path: Path, data: tuple, recorder_first: bool) -> None:
    from fitscope.keras_glue import LivePlot

    x, y = data
    run = Store(tmp_path).start_run(name="live")
    live = LivePlot(run, every_secs=3600)  # (so only the end of training draws)
    callbacks = [Recorder(run), live] if recorder_first else [live, Recorder(run)]
    tiny_model().fit(x, y, epochs=4, validation_split=0.25, verbose=0, callbacks=callbacks)
    drawn = [len(line.get_xdata()) for line in live.figure.axes[0].get_lines() if len(line.get_xdata()) > 1]
    assert drawn and max(drawn) == 4
