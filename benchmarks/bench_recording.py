"""Recording overhead: the book's toy model with and without fitscope's recorder.

The toy experiment (700 training / 300 validation samples, Dense(2, relu) ->
Dense(10, softmax), sgd, batch 10) is trained for N epochs in alternating A/B
repeats in one process: plain ``model.fit`` versus ``model.fit`` with the
recorder (store + TensorBoard + auto checkpoints), per-epoch and then per-batch.
Prints the median ratio and its range as JSON. Target: <= 1.02 per-epoch,
<= 1.10 per-batch.

Usage: FITSCOPE_DATA=../shared/data python benchmarks/bench_recording.py [--epochs 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import numpy as np

import fitscope

import keras  # noqa: E402  (after fitscope chose the backend)


def toy_data() -> tuple[np.ndarray, ...]:
    try:
        mnist = fitscope.load_mnist(download=False)
        split = fitscope.split_dataset(
            mnist, val=10000, test="provided", shuffle=False, subsample=(700, 300), seed=3
        )
        prep = fitscope.Preprocessing(one_hot=True)
        x, y = prep.apply(*split.take("train"), value_max=255, num_classes=10)
        xv, yv = prep.apply(*split.take("val"), value_max=255, num_classes=10)
        return x, y, xv, yv
    except fitscope.DataError:  # no MNIST on disk: same shapes, random pixels
        rng = np.random.default_rng(0)
        eye = np.eye(10, dtype="float32")
        return (rng.random((700, 784), dtype="float32"), eye[rng.integers(10, size=700)],
                rng.random((300, 784), dtype="float32"), eye[rng.integers(10, size=300)])  # fmt: skip


def toy_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(2, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    return model


def timed_fit(data: tuple[np.ndarray, ...], epochs: int, callbacks: list) -> float:
    x, y, xv, yv = data
    model = toy_model()
    model.fit(x, y, epochs=1, batch_size=10, validation_data=(xv, yv), verbose=0)  # compile/warm
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=10, validation_data=(xv, yv), verbose=0, callbacks=callbacks)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = toy_data()
    results = {}
    with tempfile.TemporaryDirectory() as root:
        store = fitscope.Store(root)
        for mode in ("per_epoch", "per_batch"):
            ratios, base_times = [], []
            for _ in range(args.repeats):
                plain = timed_fit(data, args.epochs, [])
                run = store.start_run(name=f"bench-{mode}")
                recorder = run.recorder(per_batch=(mode == "per_batch"))
                recorded = timed_fit(data, args.epochs, [recorder])
                recorder.close()
                run.finish()
                ratios.append(recorded / plain)
                base_times.append(plain)
            results[f"recording_overhead_{mode}"] = {
                "value": statistics.median(ratios),
                "unit": "ratio (with recorder / without)",
                "range": [min(ratios), max(ratios)],
                "baseline": statistics.median(base_times),
                "baseline_unit": f"s for {args.epochs} epochs without recorder",
                "backend": keras.backend.backend(),
            }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
