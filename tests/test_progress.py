"""The live view: a rich bar on a terminal, compact lines without one."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import fitscope  # noqa: F401  (chooses the Keras backend first)

# isort: split
import keras

from fitscope.keras_glue import LiveView, ProgressLine, progress_callback


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def fit_with(callback: keras.callbacks.Callback, epochs: int = 3) -> None:
    x = np.random.default_rng(0).normal(size=(48, 4)).astype("float32")
    y = np.arange(48) % 3
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, validation_split=0.25, epochs=epochs, verbose=0, callbacks=[callback])


def test_terminal_gets_the_rich_view() -> None:
    terminal = FakeTerminal()
    view = progress_callback(3, stream=terminal)
    assert isinstance(view, LiveView)
    fit_with(view)
    out = " ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue()).split())  # drop colours, wraps
    assert "epochs" in out and "3/3" in out and "val_accuracy" in out
    assert re.search(r"best val_loss \d\.\d{4} at epoch [0-2]\b", out)  # named from 0, as in the store


def test_long_epochs_show_batch_progress_without_losing_fused_steps() -> None:
    from fitscope.experiment.training import needs_every_step

    terminal = FakeTerminal()
    view = LiveView(2, stream=terminal)
    assert not needs_every_step([view])  # the live view is happy with coarse reports
    x = np.random.default_rng(0).normal(size=(256, 4)).astype("float32")
    y = np.arange(256) % 3
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", steps_per_execution=4)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[view])
    out = " ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue()).split())
    assert "2/2" in out
    epoch_task, batches = view._progress.tasks
    assert epoch_task.completed == 2
    assert batches.description == "batch" and batches.total == 32 and batches.completed >= 4
    assert not batches.visible  # hidden again once the epoch ended


def test_pipes_get_compact_lines() -> None:
    pipe = io.StringIO()
    view = progress_callback(40, stream=pipe)
    assert isinstance(view, ProgressLine)
    fit_with(view, epochs=40)
    lines = pipe.getvalue().splitlines()
    assert lines[0].startswith("1/40 epochs") and lines[-1].startswith("40/40 epochs")
    # The count runs from 1; the best epoch is named from 0, as in the store and the figures.
    assert " at epoch 0" in lines[0] and re.search(r"best val_loss \d\.\d{4} at epoch \d+", lines[-1])
    assert len(lines) < 40  # one line every few seconds, not one per epoch
    assert "\\x1b" not in pipe.getvalue()  # no terminal control codes in logs


def test_eta_leaves_out_the_first_epoch_which_also_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    from fitscope.keras_glue import _progress

    now = [0.0]
    monkeypatch.setattr(_progress.time, "monotonic", lambda: now[0])
    stream = io.StringIO()
    line = ProgressLine(10, every_secs=0, stream=stream)
    line.on_train_begin()
    for epoch, at in enumerate([30.0, 31.0, 32.0]):  # 30 s to compile and train epoch 0, then 1 s each
        now[0] = at
        line.on_epoch_end(epoch, {"loss": 1.0})
    first, _, third = stream.getvalue().splitlines()
    assert "ETA" not in first
    assert third.endswith("ETA 7s")  # 7 epochs left at 1 s each, not 7 x 32/3 s


def test_the_line_shows_the_loss_and_the_first_metric_a_regression_s_too() -> None:
    pipe = io.StringIO()
    x = np.random.default_rng(0).normal(size=(48, 4)).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("adam", "mse", metrics=["mae", "mse"])  # a second metric is left off the line
    model.fit(
        x, x.sum(axis=1), validation_split=0.25, epochs=2, verbose=0, callbacks=[progress_callback(2, stream=pipe)]
    )
    last = pipe.getvalue().splitlines()[-1]
    assert re.fullmatch(
        r"2/2 epochs  loss \S+  mae \S+  val_loss \S+  val_mae \S+  best val_loss \S+ at epoch \d", last
    )


def test_an_array_metric_stays_off_the_line() -> None:
    from fitscope.keras_glue._progress import _shown

    logs = {"f1_score": np.array([0.5, 0.7]), "loss": 0.3, "mae": 0.2, "val_f1_score": np.array([0.4, 0.6]),
            "val_loss": 0.4, "val_mae": 0.25}  # fmt: skip
    assert _shown(logs) == "loss 0.3000  mae 0.2000  val_loss 0.4000  val_mae 0.2500"
