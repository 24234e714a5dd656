"""Metric resets in one compiled call (``fuse_metric_resets``) against Keras's own resets.

Two figures, each against its baseline in the same process:

- ``reset_us``: one ``model.reset_metrics()`` of the book's toy model as fitscope
  builds it (loss tracker and accuracy), fused against Keras's method, in
  alternating blocks of calls;
- ``toy_epoch_ms``: the toy trial's epochs (700/300 images, Dense(2) -> Dense(10),
  sgd, batch 10) as fitscope trains it (``experiment.training.run_trial``), with the
  fused resets against a model left with Keras's, alternating whole trials and
  leaving out the first 100 epochs (compilation, warm-up). This process is set up
  like a local run (JAX dispatches asynchronously); ``--worker`` sets it up as a
  one-core pool worker instead.

Usage: FITSCOPE_DATA=../shared/data python benchmarks/bench_metric_resets.py [--epochs 600] [--repeats 3] [--worker]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from _toy_trial import SKIP, toy_epoch_ms  # benchmarks/, the script's folder


def reset_us(calls: int, repeats: int) -> tuple[list[float], list[float]]:
    """Microseconds per reset: fused, then Keras's own, in alternating blocks of ``calls``."""
    import numpy as np

    from fitscope.experiment.spec import load_spec
    from fitscope.experiment.training import build_model

    model = build_model(load_spec("book_toy"), input_shape=(784,), num_classes=10, one_hot=True, steps_per_execution=70)
    x, y = np.zeros((70, 784), "float32"), np.eye(10, dtype="float32")[np.arange(70) % 10]
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)  # builds the metrics
    ways = {"fused": model.reset_metrics, "keras": lambda: type(model).reset_metrics(model)}
    times: dict[str, list[float]] = {"fused": [], "keras": []}
    for _ in range(repeats):
        for name, reset in ways.items():
            reset()
            start = time.perf_counter()
            for _ in range(calls):
                reset()
            times[name].append((time.perf_counter() - start) / calls * 1e6)
    return times["fused"], times["keras"]


def epoch_ms(epochs: int, fused: bool) -> float:
    """Milliseconds per epoch of one toy trial, with or without the fused resets."""
    from fitscope import keras_glue

    original = keras_glue.fuse_metric_resets
    if not fused:  # build_model imports it from keras_glue when it builds a model
        keras_glue.fuse_metric_resets = lambda model: False  # type: ignore[assignment]
    try:
        return toy_epoch_ms(epochs, name="resets")
    finally:
        keras_glue.fuse_metric_resets = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help="set this process up as a one-core pool worker")
    args = parser.parse_args()
    if args.epochs <= SKIP + 1:
        parser.error(f"--epochs must be above {SKIP + 1}: the first {SKIP} are left out")
    import fitscope  # noqa: F401  (chooses JAX before Keras is imported)
    from fitscope._process import own_process

    own_process()
    if args.worker:
        from fitscope.experiment.executors._workers import run_inline, worker_env

        worker_env()
        run_inline()
    fused_us, keras_us = reset_us(calls=200, repeats=args.repeats)
    fused_ms: list[float] = []
    keras_ms: list[float] = []
    for _ in range(args.repeats):  # alternating, so a slow minute of the machine hits both
        fused_ms.append(epoch_ms(args.epochs, fused=True))
        keras_ms.append(epoch_ms(args.epochs, fused=False))

    def figure(value: list[float], baseline: list[float], unit: str) -> dict[str, Any]:
        median, base = statistics.median(value), statistics.median(baseline)
        return {"value": round(median, 3), "unit": unit, "baseline": round(base, 3), "ratio": round(base / median, 3),
                "range": [round(min(value), 3), round(max(value), 3)],
                "baseline_range": [round(min(baseline), 3), round(max(baseline), 3)]}  # fmt: skip

    print(json.dumps({
        "reset_us": figure(fused_us, keras_us, "us per reset_metrics() (baseline: Keras's own)"),
        "toy_epoch_ms": figure(fused_ms, keras_ms, "ms per toy epoch (baseline: Keras's own resets)"),
        "setup": "one-core worker" if args.worker else "local (asynchronous dispatch)",
        "epochs_timed": args.epochs - SKIP - 1,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
