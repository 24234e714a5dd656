"""The quick examples run as a user would run them."""

from __future__ import annotations

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
    (info,) = Store(tmp_path).runs()
    assert (info.status, info.epochs) == ("finished", 6)
