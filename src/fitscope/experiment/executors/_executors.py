"""Executors run trials; the driver writes what they report into the store.

- ``local``: one trial after another in this process.
- ``process``: a pool of worker processes on this machine (:mod:`._process_pool`).
- ``ray``: Ray tasks on a cluster (:mod:`._ray_pool`).

:func:`start_executor` starts one before a command loads its data (a process pool's
workers import Keras meanwhile); its ``run`` then trains the trials. Both pools get
their data from the driver (:class:`._driver.PreparedData`): each
distinct training/validation data is prepared once, not once per worker.

The protocol is the same for all three: a trial's events (``Started``, its epochs
and checkpoints, ``Evaluated``, ``Ended``; see :mod:`fitscope.store`) reach
:class:`Driver` (:mod:`._driver`) in bundles, and the driver, the only writer of the
store, hands them to the trial's run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..._errors import OUTPUT_CLOSED, Interrupted, argument_error, invalid_argument
from ..preparing import TrialDataCache
from ..training import Trial, run_trial
from ._driver import Driver, TrialOutcome

if TYPE_CHECKING:
    from ._process_pool import ProcessPool
    from ._ray_pool import RaySession

__all__ = ["EXECUTORS", "Driver", "Executor", "TrialOutcome", "execute", "start_executor"]

EXECUTORS = ("local", "process", "ray")
WORKERS = 2  # a pool's workers unless told: the machines fitscope is made on have 2 cores


class Executor:
    """An executor started for a command's trials; ``run`` trains them and feeds the driver.

    Made by :func:`start_executor` before the command loads its data, so a process
    pool's workers import Keras meanwhile; leaving the ``with`` block ends them.
    """

    def __init__(self, name: str, workers: int, address: str | None, trials: int) -> None:
        self.name, self.workers, self.address = name, workers, address
        self._pool: ProcessPool | None = None
        self._ray: RaySession | None = None  # (started for the first trials: a search's batches share it)
        if name == "process" and trials:
            from ._process_pool import ProcessPool

            self._pool = ProcessPool(min(workers, trials))

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._ray is not None:
            self._ray.close()

    def run(self, driver: Driver, trials: Sequence[Trial], *, last: bool = True) -> None:
        """Train ``trials``, feeding ``driver``; unless ``last``, more trials follow in another ``run``."""
        trials = _grouped_by_data(trials)
        try:
            if self.name == "local":
                cache = TrialDataCache(plans=driver.plans)
                for trial in trials:
                    # (each event at once, as a run; the driver's rungs judge it)
                    run_trial(trial, driver.handle, cache=cache, interval=0, ask=driver.decide)
            elif self.name == "process":
                if self._pool is None and trials:
                    raise ValueError(f"this executor was started for no trials and given {len(trials)}")
                if self._pool is not None:  # (given none, its workers are told to stop)
                    self._pool.run(driver, trials, last=last)
            else:
                if self._ray is None:
                    from ._ray_pool import RaySession

                    self._ray = RaySession(self.workers, self.address)
                self._ray.run(driver, trials)
        except KeyboardInterrupt as stop:
            driver.interrupt_running(Interrupted.of(stop).how)
            raise
        except BrokenPipeError:  # (`fitscope cv ... | head`: the reader is gone, so the command stops)
            driver.interrupt_running(OUTPUT_CLOSED)
            raise


def start_executor(
    executor: str = "local", *, workers: int | None = None, address: str | None = None, trials: int,
    say: Any = print,
) -> Executor:  # fmt: skip
    """Check the executor's settings and start it for at most ``trials`` trials (use it in a ``with`` block).

    ``workers`` (a pool's size, :data:`WORKERS` unless given) goes with the process and Ray executors.
    """
    if executor not in EXECUTORS:
        raise invalid_argument("executor", executor, f"Expected one of {', '.join(EXECUTORS)}.")
    if workers is not None and executor == "local":
        raise argument_error("<<workers>> goes with <<executor=process>> or <<executor=ray>>: the local executor "
                             "trains one trial after another, here.")  # fmt: skip
    workers = WORKERS if workers is None else workers
    if workers < 1:
        raise invalid_argument("workers", workers, "Expected 1 or more.")
    if address is not None and executor != "ray":
        raise argument_error("<<address>> only applies with <<executor=ray>>.")
    cores = os.cpu_count() or 1
    if executor != "local" and address is None and workers > cores:
        say(
            f"note: {workers} workers on {cores} CPU cores. Each worker computes on one core, so extra workers "
            f"take turns and the trials finish no sooner; --workers {cores} uses every core."
        )
    return Executor(executor, workers, address, trials)


def execute(
    driver: Driver, trials: Sequence[Trial], *, executor: str = "local", workers: int | None = None,
    address: str | None = None,
) -> None:  # fmt: skip
    """Run ``trials`` with the chosen executor, feeding the driver (started here: see :func:`start_executor`)."""
    with start_executor(executor, workers=workers, address=address, trials=len(trials), say=driver.say) as started:
        started.run(driver, trials)


def _grouped_by_data(trials: Sequence[Trial]) -> list[Trial]:
    """The trials in their order, except that those sharing data run one after another.

    A search selected by cross-validation lists each configuration's folds together;
    run fold by fold instead, a fold's data is prepared once, although the local
    process (:class:`TrialDataCache`) and each worker keep only one at a time.
    """
    first: dict[str, int] = {}
    for number, trial in enumerate(trials):
        first.setdefault(trial.data_key, number)
    return sorted(trials, key=lambda trial: first[trial.data_key])
