"""The ``process`` executor: a pool of long-lived worker processes on this machine.

Spawn start method, each worker with its own Keras/JAX on one CPU thread, so they
don't fight. The driver hands each free worker its next trial, preferring data the
worker already holds, and sends the data along when it does not. A worker that dies
takes only its current trial with it (marked failed); a new worker takes its place.
Workers end when the driver does, however it ends.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..._errors import FitscopeError
from ..._process import import_keras, own_process, remove_compile_cache
from ...store import Bundle, Ready
from ..preparing import TrialData
from ..training import Trial, run_trial
from ._driver import Driver, PreparedData, feed
from ._workers import run_inline, worker_env

__all__ = ["ProcessPool", "RungReached"]


@dataclass(frozen=True)
class RungReached:
    """A worker's trial reached a rung of a pruned search: may it go on? The answer comes on the worker's task queue."""

    worker: int
    key: str
    epochs: int
    value: float


def _worker_main(tasks: Any, messages: Any, worker: int) -> None:
    """A worker process: take the trials the driver hands it until told to stop, report everything as messages.

    The first message says the worker started (``ready``), so the driver can tell a
    worker that cannot start from one that died in a trial.
    """
    worker_env()
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver handles Ctrl-C
    _exit_with_driver()
    from ..._backend import choose_default_backend

    choose_default_backend()
    run_inline()
    own_process()
    import_keras()  # now, while the driver prepares the first trial's data

    messages.put(Ready(worker))

    held: TrialData | None = None  # the data of this worker's last trial; the driver knows which
    while True:
        task = tasks.get()
        if task is None:
            # Everything is sent once the queue's feeder thread is done; skip the
            # interpreter's teardown of Keras and JAX (about half a second).
            messages.close()
            messages.join_thread()
            remove_compile_cache()
            os._exit(0)
        item, data = task
        if data is not None:
            held = data.read_only()
        run_trial(Trial(**item), messages.put, held, ask=functools.partial(_ask_driver, messages, tasks, worker))


def _ask_driver(messages: Any, tasks: Any, worker: int, key: str, epochs: int, value: float) -> str | None:
    """Ask the driver whether the trial goes on at a rung; wait for the answer (the worker's only task meanwhile)."""
    messages.put(RungReached(worker, key, epochs, value))
    answer: str | None = tasks.get()
    return answer


def _exit_with_driver() -> None:
    """End this worker as soon as the driver is gone, however it ended (kill -9, a crash).

    Nobody would read what the worker sends, and it would otherwise wait for its next
    trial forever. A thread blocks on the parent's sentinel, which becomes ready when
    the driver exits; it costs the training thread nothing.
    """
    import threading
    from multiprocessing import parent_process
    from multiprocessing.connection import wait

    parent = parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="fitscope-driver-watch", daemon=True).start()


class _Assigner:
    """Which trial a free worker takes next.

    One whose data the worker holds (it keeps its last trial's), else one whose data
    no other worker holds, else the next in line. So the folds of a cross-validated
    search spread over the workers, and each worker goes on with the fold it has.
    """

    def __init__(self, trials: Sequence[Trial]) -> None:
        self.pending = list(trials)
        self._holding: dict[int, str] = {}

    def holds(self, worker: int) -> str | None:
        """The data key of what ``worker`` holds (that of its last trial)."""
        return self._holding.get(worker)

    def next_for(self, worker: int) -> Trial | None:
        if not self.pending:
            return None
        held = self._holding.get(worker)
        others = {key for other, key in self._holding.items() if other != worker}
        choice = (
            next((t for t in self.pending if t.data_key == held), None)
            or next((t for t in self.pending if t.data_key not in others), None)
            or self.pending[0]
        )
        self.pending.remove(choice)
        self._holding[worker] = choice.data_key
        return choice

    def forget(self, worker: int) -> None:
        self._holding.pop(worker, None)


class ProcessPool:
    """Worker processes started ahead of their trials, so they import Keras while the driver loads the data.

    ``run`` hands them the trials and feeds the driver; ``close`` (or leaving the
    ``with`` block) ends them: told to stop once every trial was handed out, else
    (an error, Ctrl-C, a check that failed before any trial) terminated.
    """

    def __init__(self, workers: int) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._messages = self._ctx.Queue()
        self._pool: dict[int, tuple[Any, Any]] = {}  # worker -> (its process, its task queue)
        self._next_id = workers
        self._finished = False
        self._ready: set[int] = set()  # the workers that started (imported Keras) and take trials
        self._stopped: set[int] = set()  # the workers told to stop
        for worker in range(workers):
            self._spawn(worker)

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, worker: int) -> None:
        tasks = self._ctx.Queue()
        process = self._ctx.Process(target=_worker_main, args=(tasks, self._messages, worker), daemon=True)
        process.start()
        self._pool[worker] = (process, tasks)

    def run(self, driver: Driver, trials: Sequence[Trial], *, last: bool = True) -> None:
        """Train ``trials`` on the workers, replacing any that dies, until each one ended; feed the driver.

        Unless ``last``, the workers wait for the trials of another ``run`` (a model-based
        search asks for its next trials once these ended) instead of stopping when idle.
        """
        pool, messages = self._pool, self._messages
        assigner = _Assigner(trials)
        prepared = PreparedData(driver)
        remaining = {t.key for t in trials}
        current: dict[int, str | None] = {}  # worker -> the key of the trial it trains

        def give(worker: int) -> None:
            """Send the worker its next trial, with its data unless the worker holds it; or None: stop."""
            while True:
                held = assigner.holds(worker)
                trial = assigner.next_for(worker)
                current[worker] = trial.key if trial else None
                if trial is None:
                    if last:
                        pool[worker][1].put(None)
                        self._stopped.add(worker)
                    return
                data = None if trial.data_key == held else prepared.get(trial)
                prepared.keep_only({t.data_key for t in assigner.pending})
                if data is None and trial.data_key != held:
                    remaining.discard(trial.key)  # its data failed (recorded); the worker takes the next one
                    assigner.forget(worker)
                    continue
                pool[worker][1].put((trial.to_dict(), data))
                return

        def ended(key: str) -> None:
            for worker, running in current.items():
                if running == key:
                    give(worker)
                    return

        ready = self._ready

        def take(message: Ready | Bundle | RungReached) -> None:
            if isinstance(message, Ready):
                ready.add(message.worker)
            elif isinstance(message, RungReached):
                if message.worker in pool:
                    pool[message.worker][1].put(driver.decide(message.key, message.epochs, message.value))
            else:
                feed(driver, message, remaining, ended)

        for worker in list(pool):
            give(worker)
        while remaining:
            try:
                message = messages.get(timeout=0.5)
            except queue.Empty:
                message = None
            if message is not None:
                take(message)
                continue
            for worker, (process, tasks) in list(pool.items()):
                if process.is_alive():
                    continue
                key = current.pop(worker, None)
                pool.pop(worker)
                tasks.cancel_join_thread()  # its data may be stuck in the pipe for good: exiting must not wait on it
                assigner.forget(worker)
                _drain(messages, take)
                if not ready:
                    raise _startup_failure(process.exitcode)
                if key is not None and key in remaining:
                    driver.abandon(key, "failed", f"the worker process died (exit code {process.exitcode})")
                    remaining.discard(key)
                if assigner.pending:
                    self._spawn(self._next_id)
                    give(self._next_id)
                    self._next_id += 1
        self._finished = True

    def close(self) -> None:
        """End the workers: once every trial ended, each was told to stop and flushes and exits.

        Otherwise (Ctrl-C, an error) the running trials were marked interrupted, so
        stop them now.
        """
        deadline = time.monotonic() + (10 if self._finished else 2)
        for worker, (process, tasks) in self._pool.items():
            if not self._finished:
                tasks.cancel_join_thread()
                process.terminate()
            elif worker not in self._stopped:  # (idle, waiting for another run's trials)
                tasks.put(None)
        for process, _ in self._pool.values():
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
        self._pool.clear()


def _drain(messages: Any, take: Callable[[Any], Any]) -> None:
    """Handle messages a dead worker sent before it died."""
    while True:
        try:
            message = messages.get_nowait()
        except queue.Empty:
            return
        take(message)


def _startup_failure(exitcode: int | None) -> FitscopeError:
    """A worker died before any worker could start: every replacement would too, so the search stops.

    The usual cause is the spawn start method: each worker imports the program's main
    module again, which fails for code read from stdin and starts the search over in a
    script without a main guard.
    """
    return FitscopeError(
        f"the process executor's workers die as they start (exit code {exitcode}): their "
        "error is printed above. Each worker imports your main module again, so run the search from a script "
        'file whose code is under `if __name__ == "__main__":` (not from `python -`), or use the local executor. '
        "No trial was recorded; run the same search again once it is fixed."
    )
