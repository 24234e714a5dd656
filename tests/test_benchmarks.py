"""The benchmark suite runs and prints every figure as JSON (a smoke run: no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


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
