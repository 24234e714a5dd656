"""Finding runs in a big store: ``fitscope runs --where ... --sort ...`` over 10,000 runs.

Makes a store of ``--runs`` runs (5 epochs of 3 metrics each, parameters, a tag on
every seventh) with the store's API, then times, in this process, ``Store.runs`` with a
filter over a parameter and a best metric, sorted by that metric; and, as a user runs
it, the whole ``fitscope runs --where ... --sort ... --last 20`` command (interpreter
start included). Target: listing and filtering 10,000 runs in under a second.

Usage: python benchmarks/bench_find_runs.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WHERE = "params.units >= 16 and best.val_accuracy > 0.5 and 'baseline' not in tags"
SORT = "-best.val_accuracy"


def make_store(root: Path, count: int) -> None:
    from fitscope.store import EpochRecord, Store

    store = Store(root)
    rng = random.Random(0)
    for number in range(count):
        run = store.start_run(name=f"toy-{number}", params={"units": rng.choice([2, 8, 16, 32]), "lr": rng.random()})
        metrics = [{"loss": rng.random(), "val_loss": rng.random(), "val_accuracy": rng.random()} for _ in range(5)]
        run.record_epochs([EpochRecord(epoch, values, 0.0, 0.01) for epoch, values in enumerate(metrics)])
        run.finish()
        if number % 7 == 0:
            run.tag("baseline")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    from fitscope.store import Store

    with tempfile.TemporaryDirectory(prefix="fitscope-bench-find-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        make_store(root, args.runs)
        made = time.perf_counter() - started
        store = Store(root, readonly=True)
        timings = []
        for _repeat in range(3):
            started = time.perf_counter()
            found = store.runs(where=WHERE, sort=SORT)
            timings.append(time.perf_counter() - started)
        listing = []
        for _repeat in range(3):
            started = time.perf_counter()
            everything = store.runs()
            listing.append(time.perf_counter() - started)
        command = [sys.executable, "-m", "fitscope", "runs", "--where", WHERE, "--sort", SORT, "--last", "20",
                   "--runs", str(root)]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        whole = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(done.stderr)
    print(json.dumps({
        "runs": args.runs, "store_made_seconds": round(made, 1), "matched": len(found), "listed": len(everything),
        "filter_and_sort_seconds": round(min(timings), 3), "list_all_seconds": round(min(listing), 3),
        "cli_command_seconds": round(whole, 2), "target_seconds": 1.0,
        "met": min(timings) < 1.0 and min(listing) < 1.0,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
