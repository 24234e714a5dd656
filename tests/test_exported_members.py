"""The public surface of ``fitscope``: changing it must be deliberate."""

from __future__ import annotations

import subprocess
import sys

import fitscope

EXPECTED = {
    "ArgumentError", "AuditReport", "DataError", "Dataset", "FitscopeError", "HoldoutSplit", "Interrupted",
    "KFoldSplit", "LivePlot", "Preprocessing", "Recorder", "Run", "RunInfo", "SpecError", "Split", "SplitManifest",
    "Store", "StoreError", "Subsample", "ValidationSplit", "__version__", "kfold_dataset", "load_dataset",
    "load_digits", "load_fashion_mnist", "load_file", "load_mnist", "plot_history", "reset_stateful_layers",
    "resume_model", "run_spec", "split_dataset", "train_dev_split",
}  # fmt: skip


def test_all_is_the_expected_surface() -> None:
    assert set(fitscope.__all__) == EXPECTED
    for name in fitscope.__all__:
        assert getattr(fitscope, name) is not None, name


def test_import_is_light() -> None:
    code = "import sys, fitscope; print([m for m in ('keras', 'jax', 'sklearn') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
