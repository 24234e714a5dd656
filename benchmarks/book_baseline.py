"""The book's MNIST script as a learner runs it: plain Keras, default settings.

Usage: python benchmarks/book_baseline.py toy|full EPOCHS [INDICES.npz]
Prints one JSON line: training seconds, seconds per epoch, final/min validation
metrics, the backend. Uses TensorFlow when it is installed (the book's stack),
otherwise whatever Keras can run (JAX here).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time

if "KERAS_BACKEND" not in os.environ:
    os.environ["KERAS_BACKEND"] = "tensorflow" if importlib.util.find_spec("tensorflow") else "jax"

import keras
import numpy as np


def load() -> tuple[np.ndarray, ...]:
    folder = os.environ.get("FITSCOPE_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    with np.load(os.path.join(folder, "mnist.npz"), allow_pickle=False) as f:
        x_train, y_train = f["x_train"], f["y_train"]
    # The book: validation = the last 10000 training images; /255; flatten; one-hot.
    x_val, y_val = x_train[50000:], y_train[50000:]
    x_train, y_train = x_train[:50000], y_train[:50000]
    x_train = x_train.reshape(50000, 784).astype("float32") / 255.0
    x_val = x_val.reshape(10000, 784).astype("float32") / 255.0
    return x_train, keras.utils.to_categorical(y_train), x_val, keras.utils.to_categorical(y_val)


def main() -> None:
    which, epochs = sys.argv[1], int(sys.argv[2])
    x_train, y_train, x_val, y_val = load()
    if which == "toy":
        # The book draws 700 and 300 at random; given the indices fitscope drew, both
        # sides train on the same images, so their results can be compared.
        if len(sys.argv) > 3:
            with np.load(sys.argv[3]) as chosen:
                t, v = chosen["train"], chosen["val"] - 50000
        else:
            rng = np.random.default_rng(3)
            t, v = rng.choice(50000, 700, replace=False), rng.choice(10000, 300, replace=False)
        x_train, y_train, x_val, y_val = x_train[t], y_train[t], x_val[v], y_val[v]
        units, optimizer, batch = 2, "sgd", 10
    else:
        units, optimizer, batch = 512, "rmsprop", 128
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(loss="categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    epoch_times: list[float] = []

    class EpochTimes(keras.callbacks.Callback):  # timing only; the book's script has no callback
        def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: object = None) -> None:
            epoch_times.append(time.perf_counter() - self.start)

    start = time.perf_counter()
    hist = model.fit(x_train, y_train, epochs=epochs, batch_size=batch, validation_data=(x_val, y_val),
                     callbacks=[EpochTimes()])  # fmt: skip
    seconds = time.perf_counter() - start
    h = hist.history
    print("RESULT " + json.dumps({
        "train_seconds": seconds, "seconds_per_epoch": seconds / epochs, "backend": keras.backend.backend(),
        "median_epoch_seconds": float(np.median(epoch_times)),
        "final_val_loss": h["val_loss"][-1], "min_val_loss": min(h["val_loss"]),
        "final_val_accuracy": h["val_accuracy"][-1],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
