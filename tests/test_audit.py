from __future__ import annotations

import numpy as np

from fitscope import Dataset
from fitscope.data import audit_parts


def test_duplicates_within_and_across_parts() -> None:
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    x[5] = x[0]  # the same input in train and val
    x[2] = x[1]  # repeated inside train
    ds = Dataset.from_arrays(x, np.arange(10) % 2)
    report = audit_parts(ds, {"train": np.arange(5), "val": np.arange(5, 10)})
    assert report.duplicates_within == {"train": 1, "val": 0}
    assert report.duplicates_across == {"train-val": 1}
    assert report.examples_across["train-val"] == [[0, 5]]
    assert report.examples_within["train"] == [[1, 2]]
    assert report.warnings[0].startswith("1 sample(s) of val also occur in train (e.g. index 5 = index 0)")


def test_missing_class_and_small_part_are_flagged() -> None:
    y = np.array([0] * 50 + [1] * 50)
    ds = Dataset.from_arrays(np.arange(100, dtype=np.float32).reshape(100, 1), y)
    report = audit_parts(ds, {"train": np.arange(80), "val": np.arange(80, 100)})
    text = " ".join(report.warnings)
    assert "class '0' is missing from val" in text
    assert "val has only 20 samples" in text
    assert report.class_counts["val"] == {"0": 0, "1": 20}


def test_clean_split_has_no_warnings() -> None:
    ds = Dataset.from_arrays(np.arange(400, dtype=np.float32).reshape(200, 2), np.arange(200) % 2)
    report = audit_parts(ds, {"train": np.arange(100), "val": np.arange(100, 200)})
    assert report.warnings == []
