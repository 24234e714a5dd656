"""The benchmark suite runs and prints every figure as JSON (a smoke run: no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.mark.slow
def test_smoke_run_prints_figures_as_json(mnist_path: Path) -> None:
    only = ["--only", "toy", "--only", "split", "--only", "store", "--only", "cli"]
    env = {**os.environ, "FITSCOPE_DATA": str(mnist_path.parent)}
    command = [sys.executable, str(RUN), "--smoke", "--json", *only]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for name, value in data.items():
        if not name.startswith("_"):
            assert {"value", "unit", "baseline", "ratio"} <= set(value), name
    for name in ("toy_training_time", "toy_min_val_loss", "audit_70000_cold", "store_write", "cli_help"):
        assert data[name]["value"] > 0
    assert data["toy_min_val_loss"]["baseline"] > 0  # the book's script, trained on the same images
    assert data["_machine"]["cores"] >= 1


def test_unknown_benchmark_name_is_refused() -> None:
    out = subprocess.run([sys.executable, str(RUN), "--only", "nope"], capture_output=True, text=True)
    assert out.returncode == 2 and "invalid choice: 'nope'" in out.stderr


@pytest.mark.slow
def test_epoch_scaling_prints_the_steady_state_speedup(mnist_path: Path) -> None:
    script = RUN.parent / "bench_epoch_scaling.py"
    env = {**os.environ, "FITSCOPE_DATA": str(mnist_path.parent)}
    out = subprocess.run([sys.executable, str(script), "--epochs", "110", "--repeats", "1"], capture_output=True,
                         text=True, timeout=600, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["epochs_timed"] == 9
    times = [data[f"{name}_ms_per_epoch"] for name in ("local", "worker_alone", "two_workers")]
    assert all(t > 0 for t in times)
    assert abs(data["steady_state_speedup"] - 2 * times[0] / times[2]) < 0.01  # from the unrounded times
    too_few = subprocess.run([sys.executable, str(script), "--epochs", "50"], capture_output=True, text=True)
    assert too_few.returncode == 2 and "--epochs must be above 101" in too_few.stderr


@pytest.mark.slow
def test_metric_resets_prints_both_figures_against_keras_s_resets(mnist_path: Path) -> None:
    script = RUN.parent / "bench_metric_resets.py"
    env = {**os.environ, "FITSCOPE_DATA": str(mnist_path.parent)}
    out = subprocess.run([sys.executable, str(script), "--epochs", "110", "--repeats", "1", "--worker"],
                         capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["setup"] == "one-core worker" and data["epochs_timed"] == 9
    for name in ("reset_us", "toy_epoch_ms"):
        figure = data[name]
        assert figure["value"] > 0 and figure["baseline"] > 0
        assert abs(figure["ratio"] - figure["baseline"] / figure["value"]) < 0.01
