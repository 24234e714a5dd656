"""Audit and split all 70000 MNIST images; prints seconds (median of repeats).

Usage: FITSCOPE_DATA=../shared/data python benchmarks/bench_split.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import fitscope
from fitscope.data import audit_parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    dataset = fitscope.load_mnist(download=False)

    def audit_cold() -> float:
        fresh = fitscope.Dataset.from_arrays(
            dataset.x[: dataset.n_train], dataset.y[: dataset.n_train],
            x_test=dataset.x[dataset.n_train :], y_test=dataset.y[dataset.n_train :],
        )  # fmt: skip
        start = time.perf_counter()
        audit_parts(fresh, {"train": fresh.train_indices, "test": fresh.test_indices})
        return time.perf_counter() - start

    def split_book() -> float:
        start = time.perf_counter()
        fitscope.split_dataset(dataset, val=10000, test="provided", shuffle=False, subsample=(700, 300), seed=3)
        return time.perf_counter() - start

    audit_cold()  # warm imports
    audits = [audit_cold() for _ in range(args.repeats)]
    splits = [split_book() for _ in range(args.repeats)]
    print(
        json.dumps(
            {
                "audit_70000_cold": {
                    "value": statistics.median(audits),
                    "unit": "s",
                    "range": [min(audits), max(audits)],
                },
                "book_split_warm": {
                    "value": statistics.median(splits),
                    "unit": "s",
                    "range": [min(splits), max(splits)],
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
