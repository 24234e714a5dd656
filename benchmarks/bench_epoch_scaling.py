"""Steady-state scaling: one local trial's epochs against two worker trials side by side.

The parallel benchmark (``run.py --only parallel``) times whole ``tune`` commands,
start-up and compilation included. This one leaves all of that out and measures only
the epochs a trial trains once it is running: the book's toy trial (700/300 images,
Dense(2) -> Dense(10), sgd, batch 10) as fitscope trains it, through
``experiment.training.run_trial``, in fresh processes:

- ``local``: one process as the local executor runs a trial (JAX dispatches each
  execution to its own thread, so Python prepares the next one meanwhile);
- ``worker``: a process set up as a pool worker (one thread, JAX inline), first
  alone, then two at once, as two workers on two cores train.

It prints the median time per epoch of each and the steady-state speed-up of two
workers over local, ``2 * local / two_workers``: what two workers gain on an
endlessly long trial, the most the whole-command figure could approach.

Usage: FITSCOPE_DATA=../shared/data python benchmarks/bench_epoch_scaling.py [--epochs 1000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from _toy_trial import SKIP, toy_epoch_ms  # benchmarks/, the script's folder


def child(mode: str, epochs: int) -> None:
    """Train one toy trial in this process, as ``mode`` sets it up; print its ms per epoch."""
    import fitscope  # noqa: F401  (chooses JAX before Keras is imported)
    from fitscope._process import own_process

    own_process()
    if mode == "worker":
        from fitscope.experiment.executors._workers import run_inline, worker_env

        worker_env()
        run_inline()
    print(json.dumps(toy_epoch_ms(epochs, name="scaling")))


def epoch_ms(mode: str, epochs: int, copies: int = 1) -> list[float]:
    """Start ``copies`` fresh processes at once; each one's ms per epoch."""
    command = [sys.executable, __file__, "--child", mode, "--epochs", str(epochs)]
    jobs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(copies)]
    outputs = [job.communicate()[0] for job in jobs]
    if any(job.returncode for job in jobs):
        raise SystemExit(f"a {mode} trial failed")
    return [float(output.strip().splitlines()[-1]) for output in outputs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", choices=("local", "worker"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs <= SKIP + 1:
        parser.error(f"--epochs must be above {SKIP + 1}: the first {SKIP} are left out")
    if args.child:
        child(args.child, args.epochs)
        return
    local: list[float] = []
    alone: list[float] = []
    pair: list[float] = []
    for _ in range(args.repeats):  # alternating, so a slow minute of the machine hits all three
        local += epoch_ms("local", args.epochs)
        alone += epoch_ms("worker", args.epochs)
        pair += epoch_ms("worker", args.epochs, copies=2)
    local_ms, alone_ms, pair_ms = (statistics.median(values) for values in (local, alone, pair))
    print(json.dumps({
        "epochs_timed": args.epochs - SKIP - 1,
        "local_ms_per_epoch": round(local_ms, 3),
        "worker_alone_ms_per_epoch": round(alone_ms, 3),
        "two_workers_ms_per_epoch": round(pair_ms, 3),
        "steady_state_speedup": round(2 * local_ms / pair_ms, 3),
        "ranges_ms": {name: [round(min(values), 3), round(max(values), 3)]
                      for name, values in (("local", local), ("worker_alone", alone), ("two_workers", pair))},
        "target_of_the_whole_command": ">= 1.6x local",
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
