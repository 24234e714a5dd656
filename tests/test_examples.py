"""The quick examples run as a user would run them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from fitscope.store import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_stateful_rnn_example_records_one_continuous_curve(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "stateful_rnn.py"), "--epochs", "6", "--runs", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "6 epochs recorded (0..5)" in out.stdout
    carried = float(out.stdout.split("sum |h| + |c| = ")[1].split()[0])
    assert carried > 0  # the state went from batch to batch (on JAX too)
    (info,) = Store(tmp_path).runs()
    assert (info.status, info.epochs) == ("finished", 6)


def test_tabular_wine_example_standardizes_its_columns(tmp_path: Path) -> None:
    """The wine measurements (proline over 1000 beside hue near 1) train well once standardised."""
    shutil.copy(EXAMPLES / "tabular" / "wine.yaml", tmp_path)
    made = subprocess.run([sys.executable, str(EXAMPLES / "tabular" / "make_csv.py"), "wine", "--output",
                           str(tmp_path / "wine.csv")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    runs = tmp_path / "runs"
    ran = subprocess.run([sys.executable, "-m", "fitscope", "run", str(tmp_path / "wine.yaml"), "--json", "--runs",
                          str(runs)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["val"]["accuracy"] >= 0.9
    (info,) = Store(runs).runs()
    assert info.manifest is not None and info.manifest.sizes == {"train": 106, "val": 36, "test": 36}


def test_tabular_diabetes_example_is_a_regression(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "tabular" / "diabetes.yaml", tmp_path)
    made = subprocess.run([sys.executable, str(EXAMPLES / "tabular" / "make_csv.py"), "diabetes", "--output",
                           str(tmp_path / "diabetes.csv")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    ran = subprocess.run([sys.executable, "-m", "fitscope", "run", str(tmp_path / "diabetes.yaml"), "--json", "--runs",
                          str(tmp_path / "runs")], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    val = json.loads(ran.stdout)["val"]
    assert set(val) == {"loss", "mae"} and val["mae"] < 50  # progression spans 25..346; a mean guess is off by ~65
