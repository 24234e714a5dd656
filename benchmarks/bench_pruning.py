"""Pruning: does ``tune --prune`` find the full search's winner with a fraction of its epochs?

The book's toy model (700/300 MNIST images, Dense(units) -> Dense(10), sgd, batch 10)
searched over 12 configurations, hidden units 2, 8, 32, 128 times learning rates
0.001, 0.01, 0.1, by ``val_loss``: once in full, once with ``--prune`` (by default
rungs at epochs/64, epochs/16 and epochs/4; the best quarter goes on at each), both on
the same executor and in stores of their own. It prints both searches' epochs trained and
wall time, their winners, and whether the pruned search's winner is the full one's
or within the validation set's noise of it (its full-search validation accuracy
within two standard errors of the winner's).

Usage: FITSCOPE_DATA=../shared/data python benchmarks/bench_pruning.py [--epochs 1000] [--executor process]
       [--reduction 4]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

PARAMS = ["model[0].Dense.units=2,8,32,128", "compile.optimizer.sgd.learning_rate=0.001,0.01,0.1"]


def _search(epochs: int, executor: str, workers: int, runs: Path, *, prune: bool, reduction: int = 4
            ) -> tuple[Any, float]:  # fmt: skip
    from fitscope.experiment import search

    started = time.perf_counter()
    result = search("book_toy", PARAMS, overrides=[f"fit.epochs={epochs}"], executor=executor,
                    workers=None if executor == "local" else workers, runs=runs, prune=prune,
                    prune_reduction=reduction if prune else None, say=lambda _text: None)  # fmt: skip
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--executor", choices=("local", "process"), default="process")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reduction", type=int, default=4, help="tune --prune-reduction (default: 4)")
    args = parser.parse_args()
    if args.epochs < args.reduction**2:
        parser.error(f"--epochs must be {args.reduction**2} or more (room for the survivors of two rungs)")
    from fitscope.store import Store

    with tempfile.TemporaryDirectory(prefix="fitscope-bench-pruning-") as tmp:
        full, full_secs = _search(args.epochs, args.executor, args.workers, Path(tmp) / "full", prune=False)
        pruned, pruned_secs = _search(
            args.epochs, args.executor, args.workers, Path(tmp) / "pruned", prune=True, reduction=args.reduction
        )
        full_epochs = sum(Store(Path(tmp) / "full").run(row["run_ids"][0]).info().epochs for row in full.ranking)
    assert full.winner is not None and pruned.winner is not None and pruned.epochs is not None
    by_params = {json.dumps(row["params"], sort_keys=True): row for row in full.ranking}
    # The pruned winner as the full search scored it: is it within the validation set's noise of the full winner?
    same = by_params[json.dumps(pruned.winner["params"], sort_keys=True)]
    samples = (full.split_noise or {}).get("samples") or 300
    best = float(full.winner["val"]["accuracy"])
    error = math.sqrt(best * (1 - best) / samples)
    gap = best - float(same["val"]["accuracy"])
    print(json.dumps({
        "epochs_per_trial": args.epochs, "configurations": len(full.ranking), "executor": args.executor,
        "full_epochs": full_epochs, "pruned_epochs": pruned.epochs["trained"],
        "epochs_ratio": round(pruned.epochs["trained"] / full_epochs, 3), "pruned_trials": pruned.epochs["pruned"],
        "full_seconds": round(full_secs, 1), "pruned_seconds": round(pruned_secs, 1),
        "full_winner": full.winner["params"], "pruned_winner": pruned.winner["params"],
        "same_winner": same is full.winner, "accuracy_gap": round(gap, 4), "standard_error": round(error, 4),
        "within_noise": gap <= 2 * error,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
