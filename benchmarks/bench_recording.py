"""Recording overhead: the book's toy model with and without fitscope's recorder.

The toy experiment (700 training / 300 validation samples, Dense(2, relu) ->
Dense(10, softmax), sgd, batch 10) is trained for N epochs in alternating A/B
repeats in one process: plain ``model.fit`` versus ``model.fit`` with the
recorder (store + TensorBoard + auto checkpoints), per-epoch and then per-batch.
Prints the median ratio and its range as JSON, and a noise-free second measure:
the time spent inside the recorder's own hooks as a fraction of training time.
Target: <= 1.02 per-epoch, <= 1.10 per-batch.

Usage: FITSCOPE_DATA=../shared/data python benchmarks/bench_recording.py [--epochs 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import numpy as np

import fitscope  # chooses the Keras backend (JAX) before Keras is imported

# isort: split
import keras


def toy_data() -> tuple[np.ndarray, ...]:
    try:
        mnist = fitscope.load_mnist(download=False)
        split = fitscope.split_dataset(mnist, val=10000, test="provided", shuffle=False, subsample=(700, 300), seed=3)
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


class HookTimer:
    """Wraps a recorder's hooks and adds up the seconds spent inside them."""

    HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end", "on_train_batch_end")

    def __init__(self, recorder: object) -> None:
        self.seconds = 0.0
        for name in self.HOOKS:
            original = getattr(recorder, name)
            if name == "on_train_batch_end" and original.__func__ is keras.callbacks.Callback.on_train_batch_end:
                continue  # not overridden: Keras keeps its fast path, nothing to time

            def timed(*args: object, _original: object = original, **kwargs: object) -> None:
                start = time.perf_counter()
                _original(*args, **kwargs)  # type: ignore[operator]
                self.seconds += time.perf_counter() - start

            setattr(recorder, name, timed)


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
            ratios, base_times, hook_shares = [], [], []
            for repeat in range(args.repeats):
                run = store.start_run(name=f"bench-{mode}")
                recorder = fitscope.Recorder(run, per_batch=(mode == "per_batch"))
                # ABBA order: alternate which variant runs first, so drift cancels out.
                if repeat % 2 == 0:
                    plain = timed_fit(data, args.epochs, [])
                    recorded = timed_fit(data, args.epochs, [recorder])
                else:
                    recorded = timed_fit(data, args.epochs, [recorder])
                    plain = timed_fit(data, args.epochs, [])
                recorder.close()
                run.finish()
                # Second measure, immune to machine noise: time spent inside the hooks.
                timed_run = store.start_run(name=f"bench-{mode}-hooks")
                timed_recorder = fitscope.Recorder(timed_run, per_batch=(mode == "per_batch"))
                timer = HookTimer(timed_recorder)
                total = timed_fit(data, args.epochs, [timed_recorder])
                timed_recorder.close()
                timed_run.finish()
                ratios.append(recorded / plain)
                base_times.append(plain)
                hook_shares.append(timer.seconds / (total - timer.seconds))
            results[f"recording_overhead_{mode}"] = {
                "value": statistics.median(ratios),
                "unit": "ratio (with recorder / without)",
                "range": [min(ratios), max(ratios)],
                "baseline": statistics.median(base_times),
                "baseline_unit": f"s for {args.epochs} epochs without recorder",
                "backend": keras.backend.backend(),
            }
            results[f"recorder_hook_time_{mode}"] = {
                "value": statistics.median(hook_shares),
                "unit": "fraction of training time spent inside the recorder's hooks",
                "range": [min(hook_shares), max(hook_shares)],
            }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
