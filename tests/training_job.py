"""A training process for the crash tests: start or resume a run, optionally die on cue.

Usage: python training_job.py ROOT EPOCHS (new | RUN_ID) [KILL_POINT KILL_EPOCH]

KILL_POINT is where the process kills itself with SIGKILL during epoch KILL_EPOCH:
``mid-epoch`` (inside a batch), ``before-commit`` (checkpoint durable, rows not
committed) or ``after-commit`` (right after the epoch's rows committed).
"""

from __future__ import annotations

import os
import signal
import sys

import numpy as np

from fitscope._backend import choose_default_backend

choose_default_backend()  # before Keras is imported

import keras  # noqa: E402

from fitscope.keras_glue import Recorder, resume_model  # noqa: E402
from fitscope.store import Run, Store  # noqa: E402


def build() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillMidEpoch(keras.callbacks.Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch
        self.current = -1

    def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
        self.current = epoch

    def on_train_batch_end(self, batch: int, logs: object = None) -> None:
        if self.current == self.epoch and batch == 2:
            die()


def main() -> None:
    root, epochs, which = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    kill_point, kill_epoch = (sys.argv[4], int(sys.argv[5])) if len(sys.argv) > 5 else (None, -1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = np.repeat(np.arange(3), 32)
    store = Store(root)
    model = build()
    if which == "new":
        run = store.start_run(name="crash")
        print(run.run_id, flush=True)
        initial = 0
    else:
        run = store.run(which)
        run.claim()
        initial = resume_model(run, model)
    callbacks: list[keras.callbacks.Callback] = [Recorder(run, checkpoint=1)]
    if kill_point == "mid-epoch":
        callbacks.append(KillMidEpoch(kill_epoch))
    elif kill_point in ("before-commit", "after-commit"):
        original = Run.record_epoch

        def record_epoch(self: Run, epoch: int, *args: object, **kwargs: object) -> None:
            if epoch == kill_epoch and kill_point == "before-commit":
                die()
            original(self, epoch, *args, **kwargs)  # type: ignore[arg-type]
            if epoch == kill_epoch:
                die()

        Run.record_epoch = record_epoch  # type: ignore[method-assign]
    model.fit(x, y, batch_size=16, epochs=epochs, initial_epoch=initial, validation_split=0.25,
              verbose=0, callbacks=callbacks)  # fmt: skip
    if run.info().status == "running":  # not interrupted (Ctrl-C) or failed
        run.finish()


if __name__ == "__main__":
    main()
