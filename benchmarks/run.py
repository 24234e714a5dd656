"""fitscope's benchmark suite: every figure side by side with its baseline, in one run.

Usage:
  FITSCOPE_DATA=../shared/data python benchmarks/run.py [--quick] [--only NAME ...] [--json]

Benchmarks (names for --only): toy, full, recording, split, store, cli, parallel.
Machines are noisy: figures are medians with ranges, and speed is a ratio against
a baseline measured in the same run. --quick finishes in about 3 minutes on 2 cores;
the full suite in under 20. --smoke is a seconds-long run for the test suite (its
numbers mean nothing).

The book's own stack is TensorFlow. The toy and full baselines use it when the
interpreter running them has it: install it here (pip install tensorflow), or keep
it in another virtual environment and pass --baseline-python PATH/TO/python. Without
TensorFlow the baselines run plain Keras on JAX, and each figure names its backend.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The environment as the user had it, before fitscope (imported below) chooses a Keras
# backend and XLA flags: the book's script must run as a learner would run it.
USER_ENV = dict(os.environ)
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NAMES = ("toy", "full", "recording", "split", "store", "cli", "parallel")

# epochs / repeats per mode
PLAN = {
    "full": {"toy_epochs": 1000, "full_epochs": 5, "ab_repeats": 2, "rec_epochs": 100, "rec_repeats": 5,
             "store_runs": 1000, "cli_repeats": 5, "par_epochs": 400,
             "par_epochs_long": 1000},
    "quick": {"toy_epochs": 200, "full_epochs": 2, "ab_repeats": 1, "rec_epochs": 50, "rec_repeats": 3,
              "store_runs": 100, "cli_repeats": 3, "par_epochs": 200,
              "par_epochs_long": 200},
    "smoke": {"toy_epochs": 3, "full_epochs": 1, "ab_repeats": 1, "rec_epochs": 3, "rec_repeats": 1,
              "store_runs": 3, "cli_repeats": 1, "par_epochs": 2,
              "par_epochs_long": 2},
}  # fmt: skip


def figure(value: float, unit: str, baseline: float | None = None, **extra: Any) -> dict[str, Any]:
    ratio = (baseline / value) if baseline and value else None
    return {"value": value, "unit": unit, "baseline": baseline, "ratio": ratio, **extra}


def _run(command: list[str], **kwargs: Any) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, **kwargs)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def _fitscope(*args: str) -> list[str]:
    return [sys.executable, "-m", "fitscope", *args]


BASELINE_PYTHON = [sys.executable]


def _baseline(which: str, epochs: int, *extra: str) -> tuple[float, dict[str, Any]]:
    seconds, out = _run([*BASELINE_PYTHON, str(HERE / "book_baseline.py"), which, str(epochs), *extra], env=USER_ENV)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return seconds, json.loads(line[7:])


def _fitscope_run(spec: str, epochs: int, runs: str) -> tuple[float, dict[str, Any], float, float]:
    seconds, out = _run(_fitscope("run", spec, "--set", f"fit.epochs={epochs}", "--runs", runs, "--json"))
    result = json.loads(out)
    sys.path.insert(0, str(ROOT / "src"))
    from fitscope.store import Store

    epochs_rows = Store(runs).run(result["run_id"]).epochs()
    train = epochs_rows[-1][1] + epochs_rows[-1][2] - epochs_rows[0][1]
    median_epoch = statistics.median(d for _, _, d in epochs_rows)
    return seconds, result, train, median_epoch


def _alternate(plan: dict[str, int], baseline: Any, candidate: Any) -> tuple[list[Any], list[Any]]:
    """Run baseline and candidate in alternating order (ABBA...), so machine drift cancels out."""
    base, cand = [], []
    for repeat in range(plan["ab_repeats"]):
        if repeat % 2 == 0:
            base.append(baseline())
            cand.append(candidate())
        else:
            cand.append(candidate())
            base.append(baseline())
    return base, cand


def bench_toy(plan: dict[str, int], tmp: str) -> dict[str, Any]:
    epochs = plan["toy_epochs"]
    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np

    import fitscope

    split = fitscope.split_dataset(
        fitscope.load_mnist(download=False), val=10000, test="provided", shuffle=False, subsample=(700, 300), seed=3
    )
    indices = Path(tmp) / "toy-indices.npz"
    np.savez(indices, train=split.parts["train"], val=split.parts["val"])
    bases, cands = _alternate(
        plan,
        lambda: _baseline("toy", epochs, str(indices)),
        lambda: _fitscope_run("examples/book_toy.yaml", epochs, tmp),
    )
    base = bases[0][1]
    h = cands[0][1]["history"]
    train = [c[2] for c in cands]
    base_train = [b[1]["train_seconds"] for b in bases]
    return {
        "toy_training_time": figure(statistics.median(train), f"s for {epochs} epochs", statistics.median(base_train),
                                    range=[min(train), max(train)], baseline_range=[min(base_train), max(base_train)],
                                    baseline_backend=base["backend"], target="<= 12 s and >= 10x for 1000 epochs"),
        "toy_process_time": figure(statistics.median(c[0] for c in cands), "s, whole process",
                                   statistics.median(b[0] for b in bases)),
        # Speed is never bought with different results: the curves' key numbers, side by side.
        "toy_min_val_loss": figure(min(h["val_loss"]), "min validation loss", base["min_val_loss"]),
        "toy_final_val_accuracy": figure(h["val_accuracy"][-1], "final validation accuracy",
                                         base["final_val_accuracy"], final_val_loss=h["val_loss"][-1],
                                         baseline_final_val_loss=base["final_val_loss"]),
    }  # fmt: skip


def _matmul_rate(m: int, k: int, n: int, repeats: int = 5) -> float:
    import numpy as np

    a = np.random.default_rng(0).random((m, k), dtype=np.float32)
    b = np.random.default_rng(1).random((k, n), dtype=np.float32)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * m * k * n / min(times) / 1e9


def bench_full(plan: dict[str, int], tmp: str) -> dict[str, Any]:
    epochs = plan["full_epochs"]
    bases, cands = _alternate(
        plan, lambda: _baseline("full", epochs), lambda: _fitscope_run("examples/book_full.yaml", epochs, tmp)
    )
    base = dict(bases[0][1])
    base["median_epoch_seconds"] = statistics.median(b[1]["median_epoch_seconds"] for b in bases)
    base["seconds_per_epoch"] = statistics.median(b[1]["seconds_per_epoch"] for b in bases)
    result = cands[0][1]
    fs_train = statistics.median(c[2] for c in cands)
    per_epoch = statistics.median(c[3] for c in cands)
    params = 784 * 512 + 512 + 512 * 10 + 10
    flops = 6 * params * 50000 + 2 * params * 10000  # train forward+backward, validation forward
    achieved = flops / per_epoch / 1e9
    shapes = statistics.median([_matmul_rate(128, 784, 512), _matmul_rate(128, 512, 784), _matmul_rate(784, 128, 512)])
    square = _matmul_rate(2048, 2048, 2048, repeats=3)
    return {
        "full_seconds_per_epoch": figure(per_epoch, "s per epoch (median; the first epoch also compiles)",
                                         base["median_epoch_seconds"], baseline_backend=base["backend"],
                                         mean_with_compile=fs_train / epochs,
                                         baseline_mean_with_compile=base["seconds_per_epoch"], target="<= 0.85 s"),
        "full_gflops": figure(achieved, "GFLOP/s achieved", None, fraction_of_model_shapes=achieved / shapes,
                              fraction_of_square=achieved / square, target=">= 85 % of the measured matmul rate"),
        "matmul_rate_model_shapes": figure(shapes, "GFLOP/s (numpy float32, batch 128 shapes)"),
        "matmul_rate_square": figure(square, "GFLOP/s (numpy float32, 2048x2048)"),
        "full_test_free_val_accuracy": figure(result["history"]["val_accuracy"][-1], "val accuracy",
                                              base["final_val_accuracy"]),
    }  # fmt: skip


def bench_recording(plan: dict[str, int], tmp: str) -> dict[str, Any]:
    _seconds, out = _run([sys.executable, str(HERE / "bench_recording.py"), "--epochs", str(plan["rec_epochs"]),
                         "--repeats", str(plan["rec_repeats"])])  # fmt: skip
    data = json.loads(out)
    for value in data.values():
        value.setdefault("ratio", value.get("value"))
    data["recording_overhead_per_epoch"]["target"] = "<= 1.02"
    data["recording_overhead_per_batch"]["target"] = "<= 1.10"
    return data


def bench_split(plan: dict[str, int], tmp: str) -> dict[str, Any]:
    _, out = _run([sys.executable, str(HERE / "bench_split.py"), "--repeats", "3"])
    data = json.loads(out)
    data["audit_70000_cold"]["target"] = "<= 1 s"
    return data


def bench_store(plan: dict[str, int], tmp: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "src"))
    from fitscope.store import Store

    store = Store(Path(tmp) / "store-bench")
    runs, epochs = plan["store_runs"], 100
    start = time.perf_counter()
    last = None
    for r in range(runs):
        run = store.start_run(name=f"bench{r}")
        for e in range(epochs):
            run.record_epoch(e, {"loss": 1.0 / (e + 1), "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4},
                             started_at=e, duration=0.01, fresh=True)  # fmt: skip
        last = run
    write = time.perf_counter() - start
    rows = runs * epochs * 4
    bundled, tensorboard = _driver_recording(store, runs * epochs)
    reads = []
    for _ in range(5):
        start = time.perf_counter()
        assert last is not None
        last.history()
        reads.append(time.perf_counter() - start)
    return {
        "store_write": figure(rows / write, f"metric rows/s ({runs} runs x {epochs} epochs x 4, one transaction "
                              "per epoch)", seconds=write),
        "store_write_bundled": figure(bundled / (runs * epochs) * 1e6, "us per epoch (60 epochs per transaction, as "
                                      "the cv/tune driver writes a worker's bundle; baseline one per epoch)",
                                      baseline=write / (runs * epochs) * 1e6),
        "tensorboard_write": figure(tensorboard / (runs * epochs) * 1e6, "CPU us per epoch (4 scalars, "
                                    "TensorBoardWriter, flushed at the end)"),
        "store_read_history": figure(statistics.median(reads) * 1000, "ms to read one run's history"),
    }  # fmt: skip


def _driver_recording(store: Any, epochs: int) -> tuple[float, float]:
    """Seconds to write ``epochs`` epochs in bundles of 60; CPU seconds to write them as TensorBoard scalars."""
    from fitscope.store import EpochRecord, TensorBoardWriter

    metrics = {"loss": 0.5, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4}
    records = [EpochRecord(e, metrics, started_at=e, duration=0.01) for e in range(epochs)]
    run = store.start_run(name="bundled")
    start = time.perf_counter()
    for first in range(0, epochs, 60):
        run.record_epochs(records[first : first + 60], fresh=True)
    bundled = time.perf_counter() - start
    writer = TensorBoardWriter(run.tensorboard_dir)
    writer.add_scalars(0, metrics)
    writer.flush()  # the first flush imports the protobuf modules: not counted
    start = time.process_time()
    for record in records[1:]:
        writer.add_scalars(record.epoch, metrics)
    writer.close()
    return bundled, time.process_time() - start


def bench_cli(plan: dict[str, int], tmp: str) -> dict[str, Any]:
    results = {}
    for name, args in (("help", ["--help"]), ("runs", ["runs", "--runs", tmp]), ("data_ls", ["data", "ls"])):
        times = [_run(_fitscope(*args))[0] for _ in range(plan["cli_repeats"])]
        results[f"cli_{name}"] = figure(statistics.median(times), "s wall", None, range=[min(times), max(times)],
                                        target="<= 0.5 s" if name == "help" else None)  # fmt: skip
    return results


def _cpu_seconds_of(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the command and the worker processes it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = _run(command)[0]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def bench_parallel(plan: dict[str, int], tmp: str) -> dict[str, Any]:
    # Four small trials: the book's toy model with 2, 4, 8 and 16 hidden units, as a
    # whole `fitscope tune` command (start-up, data, compile and recording included).
    # Local and process runs alternate (ABBA...), so a slow minute of the machine hits both.
    # CPU time bounds the gain: two cores need at least half the process run's CPU
    # seconds, so "ceiling" = local wall time / (process CPU seconds / 2). A local run keeps
    # about 1.4 cores busy (JAX computes on its own thread while Python prepares the
    # next step), so two one-CPU workers doing the same work gain about 2 / 1.4.
    results = {}
    fresh = itertools.count()  # every command gets its own empty store

    def search(common: list[str], *executor: str) -> tuple[float, float]:
        return _cpu_seconds_of(_fitscope(*common, "--runs", f"{tmp}/par-{next(fresh)}", "--executor", *executor))

    for epochs in sorted({plan["par_epochs"], plan["par_epochs_long"]}):
        common = ["tune", "examples/book_toy.yaml", "--param", "model[0].Dense.units=2,4,8,16",
                  "--set", f"fit.epochs={epochs}", "--json"]  # fmt: skip
        local, pooled = _alternate(plan, functools.partial(search, common, "local"),
                                   functools.partial(search, common, "process", "--workers", "2"))  # fmt: skip
        local_wall, pooled_cpu = statistics.median(w for w, _ in local), statistics.median(c for _, c in pooled)
        cores = min(os.cpu_count() or 1, 2)
        results[f"parallel_4_trials_2_workers_{epochs}_epochs"] = figure(
            statistics.median(wall for wall, _ in pooled), "s (whole command, 2 process workers)",
            local_wall,
            range=[min(wall for wall, _ in pooled), max(wall for wall, _ in pooled)],
            baseline_range=[min(wall for wall, _ in local), max(wall for wall, _ in local)],
            cpu_seconds=pooled_cpu, baseline_cpu_seconds=statistics.median(c for _, c in local),
            baseline_cores_busy=statistics.median(c / w for w, c in local), ceiling=cores * local_wall / pooled_cpu,
            target=">= 1.6x local",
        )  # fmt: skip
    return results


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
    }
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
        info["cpu_flags"] = [f for f in ("avx", "avx2", "fma", "avx512f") if f" {f} " in f" {flags} "]
        info["cpu"] = next(
            line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )  # fmt: skip
    except (OSError, StopIteration):
        pass
    try:
        import numpy as np

        config = np.show_config(mode="dicts")
        info["blas"] = config["Build Dependencies"]["blas"]["name"]  # type: ignore[index]
    except Exception:
        pass
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="about 3 minutes on 2 cores")
    parser.add_argument("--smoke", action="store_true", help="seconds; for the test suite (numbers mean nothing)")
    parser.add_argument("--only", action="append", choices=NAMES, help="run only these (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--baseline-python", help="interpreter for the book's script (e.g. a venv with tensorflow)")
    args = parser.parse_args()
    if args.baseline_python:
        BASELINE_PYTHON[0] = args.baseline_python
    plan = PLAN["smoke" if args.smoke else "quick" if args.quick else "full"]
    chosen = args.only or list(NAMES)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fitscope-bench-") as tmp:
        for name in chosen:
            start = time.perf_counter()
            if not args.json:
                print(f"running {name} ...", file=sys.stderr, flush=True)
            results.update(globals()[f"bench_{name}"](plan, tmp))
            if not args.json:
                print(f"  {name}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    for value in results.values():  # every figure has the same four keys
        for key in ("value", "unit", "baseline", "ratio"):
            value.setdefault(key, None)
    results["_machine"] = machine()
    results["_mode"] = "smoke" if args.smoke else "quick" if args.quick else "full"
    print(json.dumps(results, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
