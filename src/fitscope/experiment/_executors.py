"""Executors run trials; the driver writes what they report into the store.

- ``local``: one trial after another in this process.
- ``process``: a pool of long-lived worker processes (spawn start method, each
  with its own Keras/JAX, each limited to one CPU thread so they don't fight). The
  driver hands each free worker its next trial, preferring data the worker already
  holds, and sends the data along when it does not. A worker that dies takes only
  its current trial with it (marked failed); a new worker takes its place. Workers
  end when the driver does, however it ends.
- ``ray``: Ray tasks on a cluster (``ray.init(address=...)``); epoch records come
  back through a Ray queue while the tasks run. The data goes through Ray's object
  store, so workers need neither the data files nor the driver's disk.

Both pools get their data from the driver (:class:`_PreparedData`): each distinct
training/validation data is prepared once, not once per worker.

The protocol is the same for all three: a trial's messages (``start``, ``epoch``,
``end``; see :mod:`._trial`) reach :class:`Driver`, the only writer of the store.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import queue
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import ArgumentError, FitscopeError
from .._process import own_process, remove_compile_cache
from ..store import CheckpointDir, Run, Store
from ._trial import Trial, TrialData, TrialDataCache, run_trial, trial_data
from ._trial_progress import TrialsProgress

__all__ = ["EXECUTORS", "Driver", "TrialOutcome", "execute"]

EXECUTORS = ("local", "process", "ray")
# Environment for single-threaded workers: set before JAX/TF/BLAS start their pools.
_ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}
_ONE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false"


def _worker_env() -> None:
    for name, value in _ONE_THREAD.items():
        os.environ.setdefault(name, value)
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_ONE_THREAD_XLA}".strip()  # keep the user's


class _BundledSender:
    """Send epoch messages in bundles, at most every ``interval`` seconds; anything else at once.

    A small model trains hundreds of epochs a second: one message each would wake
    the queue's feeder thread (and the driver) as often, slowing the worker's own
    training thread. The first epoch goes at once so the live view starts.
    """

    def __init__(self, put: Callable[[dict[str, Any]], Any], interval: float = 0.25) -> None:
        self._put = put
        self._interval = interval
        self._held: list[dict[str, Any]] = []
        self._sent = 0.0

    def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "epoch":
            self._held.append(message)
            if time.monotonic() - self._sent < self._interval:
                return
        self.flush()
        if message["type"] != "epoch":
            self._put(message)

    def flush(self) -> None:
        if self._held:
            self._put({"type": "bundle", "messages": self._held})
            self._held = []
            self._sent = time.monotonic()


def _run_inline() -> None:
    """Make JAX run each compiled step on the calling thread, as a one-CPU worker should.

    By default JAX's CPU client hands every step to a thread pool and the Python
    thread waits: alone, a process then keeps about 1.3 cores busy (the pool threads
    spin between steps); two such workers on two cores slow each other ~1.4x. Run
    inline, a worker needs one core and two of them scale. No effect on other
    backends, or once JAX's CPU client exists (a reused Ray worker keeps its own).
    """
    if os.environ.get("KERAS_BACKEND", "jax") != "jax" or importlib.util.find_spec("jax") is None:
        return
    import jax

    jax.config.update("jax_cpu_enable_async_dispatch", False)  # read when the CPU client starts


@dataclass
class TrialOutcome:
    """What became of one trial."""

    trial: Trial
    run_id: str | None = None
    status: str = "pending"
    reason: str | None = None
    val: dict[str, float] = field(default_factory=dict)
    skipped: bool = False


class Driver:
    """Receives trial messages and writes them into the store (one writer, many workers)."""

    def __init__(
        self, store: Store, group: str, trials: Sequence[Trial], *, say: Callable[[str], Any] = print,
        progress_every: float = 5.0,
    ) -> None:  # fmt: skip
        self.store = store
        self.group = group
        self.say = say
        self.outcomes = {t.key: TrialOutcome(t) for t in trials}
        self.runs: dict[str, Run] = {}
        self._tensorboard: dict[str, Any] = {}
        self.progress = TrialsProgress(trials, say, every_secs=progress_every)

    def pending(self) -> list[Trial]:
        """Trials not finished in an earlier run of the same command (those are skipped)."""
        done = {}
        for info in self.store.runs(group=self.group):
            if info.status == "finished" and info.params.get("trial_key"):
                done[info.params["trial_key"]] = info
        todo = []
        for key, outcome in self.outcomes.items():
            if key in done:
                info = done[key]
                evals = self.store.run(info.run_id).evaluations("val")
                outcome.run_id, outcome.status, outcome.skipped = info.run_id, "finished", True
                outcome.val = evals[-1]["metrics"] if evals else {}
            else:
                todo.append(outcome.trial)
        self.progress = TrialsProgress(todo, self.say, every_secs=self.progress.every_secs)  # only what will run
        return todo

    def handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "bundle":
            for part in message["messages"]:
                self.handle(part)
            return
        outcome = self.outcomes[message["key"]]
        if kind == "start":
            self._start(outcome, message)
        elif kind == "epoch":
            run = self.runs[outcome.trial.key]
            run.record_epoch(message["epoch"], message["metrics"], started_at=message["started_at"],
                             duration=message["duration"], fresh=True)  # fmt: skip
            writer = self._tensorboard.get(outcome.trial.key)
            if writer is not None:
                writer.add_scalars(message["epoch"], message["metrics"])
            self.progress.epoch(outcome.trial.key, message["epoch"])
        elif kind == "end":
            self._end(outcome, message)

    def _start(self, outcome: TrialOutcome, message: dict[str, Any]) -> None:
        from ..store import TensorBoardWriter

        trial = outcome.trial
        params = {**trial.params, "trial_key": trial.key, "initial_weights": message.get("initial")}
        if trial.fold is not None:
            params["fold"] = trial.fold
        run = self.store.start_run(
            name=trial.name, params=params, split=message["manifest"], spec=trial.spec,
            seed=trial.spec.get("seed"), group=self.group, backend=message.get("backend"),
        )  # fmt: skip
        self.runs[trial.key] = run
        outcome.run_id, outcome.status = run.run_id, "running"
        self._tensorboard[trial.key] = TensorBoardWriter(run.tensorboard_dir)
        self.progress.started(trial.key)

    def _end(self, outcome: TrialOutcome, message: dict[str, Any]) -> None:
        key = outcome.trial.key
        status, reason = message["status"], message.get("reason")
        run = self.runs.get(key)
        writer = self._tensorboard.pop(key, None)
        if writer is not None:
            writer.close()
        if run is None:  # failed before it started (bad data, bad spec)
            run = self.store.start_run(name=outcome.trial.name, params={**outcome.trial.params,
                                       "trial_key": key}, spec=outcome.trial.spec, group=self.group)  # fmt: skip
            self.runs[key] = run
            outcome.run_id = run.run_id
        if status == "finished":
            weights = message.get("weights")
            if weights is not None:
                epoch = max(run.next_epoch - 1, 0)
                CheckpointDir(run.checkpoint_dir).save(epoch, weights, {"run_id": run.run_id})
                run.mark_checkpoint(epoch)
            run.record_evaluation("val", message["val"], fingerprint=message.get("fingerprint"),
                                  epoch=run.next_epoch - 1)  # fmt: skip
            run.finish()
            outcome.val = message["val"]
        elif status == "interrupted":
            run.interrupt(reason or "interrupted")
        else:
            run.fail(reason or "failed")
        outcome.status, outcome.reason = status, reason
        self.progress.ended(key)
        shown = ", ".join(f"{k} {v:.4f}" for k, v in outcome.val.items()) if status == "finished" else reason
        self.say(f"{outcome.trial.name}: {status}" + (f" — {shown}" if shown else ""))

    def abandon(self, key: str, status: str, reason: str) -> None:
        """End a trial whose worker vanished or that was cut short."""
        outcome = self.outcomes[key]
        if outcome.status in ("finished", "failed", "interrupted"):
            return
        self._end(outcome, {"type": "end", "key": key, "status": status, "reason": reason})

    def interrupt_running(self, how: str = "Ctrl-C") -> None:
        """Mark the trials under way interrupted; ``how`` names what stopped them (Ctrl-C, SIGTERM)."""
        for key, outcome in self.outcomes.items():
            if outcome.status in ("running", "pending") and key in self.runs:
                self.abandon(key, "interrupted", f"interrupted ({how}); re-run the same command to finish")


def execute(
    driver: Driver, trials: Sequence[Trial], *, executor: str = "local", workers: int = 2, address: str | None = None
) -> None:
    """Run ``trials`` with the chosen executor, feeding the driver."""
    if executor not in EXECUTORS:
        raise ArgumentError(f"Invalid value for --executor: {executor!r}. Expected one of {', '.join(EXECUTORS)}.")
    if workers < 1:
        raise ArgumentError(f"Invalid value for --workers: {workers}. Expected 1 or more.")
    if address is not None and executor != "ray":
        raise ArgumentError("--address only applies with --executor ray.")
    cores = os.cpu_count() or 1
    if executor != "local" and address is None and workers > cores:
        driver.say(
            f"note: {workers} workers on {cores} CPU cores. Each worker computes on one core, so extra workers "
            f"take turns and the trials finish no sooner; --workers {cores} uses every core."
        )
    trials = _grouped_by_data(trials)
    try:
        if executor == "local":
            cache = TrialDataCache()
            for trial in trials:
                run_trial(trial, driver.handle, cache=cache)
        elif executor == "process":
            _run_processes(driver, trials, workers)
        else:
            _run_ray(driver, trials, workers, address)
    except KeyboardInterrupt as stop:
        driver.interrupt_running(str(stop) or "Ctrl-C")
        raise


def _grouped_by_data(trials: Sequence[Trial]) -> list[Trial]:
    """The trials in their order, except that those sharing data run one after another.

    A search selected by cross-validation lists each configuration's folds together;
    run fold by fold instead, each process prepares a fold's data once and keeps only
    one at a time (see :class:`TrialDataCache`).
    """
    first: dict[str, int] = {}
    for number, trial in enumerate(trials):
        first.setdefault(trial.data_key, number)
    return sorted(trials, key=lambda trial: first[trial.data_key])


# -- process pool ---------------------------------------------------------------


def _worker_main(tasks: Any, messages: Any) -> None:
    """A worker process: take the trials the driver hands it until told to stop, report everything as messages."""
    _worker_env()
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver handles Ctrl-C
    _exit_with_driver()
    from .._backend import choose_default_backend

    choose_default_backend()
    _run_inline()
    own_process()
    import keras  # noqa: F401  (now, while the driver prepares the first trial's data)

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
        run_trial(Trial(**item), _BundledSender(messages.put), held)


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


def _run_processes(driver: Driver, trials: Sequence[Trial], workers: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    messages = ctx.Queue()
    assigner = _Assigner(trials)
    prepared = _PreparedData(driver)
    remaining = {t.key for t in trials}
    pool: dict[int, tuple[Any, Any]] = {}  # worker -> (its process, its task queue)
    current: dict[int, str | None] = {}  # worker -> the key of the trial it trains

    def give(worker: int) -> None:
        """Send the worker its next trial, with its data unless the worker holds it; or None: stop."""
        while True:
            held = assigner.holds(worker)
            trial = assigner.next_for(worker)
            current[worker] = trial.key if trial else None
            if trial is None:
                pool[worker][1].put(None)
                return
            data = prepared.get(trial) if trial.data_key != held else None
            prepared.keep_only({t.data_key for t in assigner.pending})
            if trial.data_key == held or data is not None:
                pool[worker][1].put((trial.to_dict(), data))
                return
            remaining.discard(trial.key)  # its data failed (recorded); the worker takes the next one
            assigner.forget(worker)

    def spawn(worker: int) -> None:
        tasks = ctx.Queue()
        process = ctx.Process(target=_worker_main, args=(tasks, messages), daemon=True)
        process.start()
        pool[worker] = (process, tasks)

    def ended(key: str) -> None:
        for worker, running in current.items():
            if running == key:
                give(worker)
                return

    # Start every worker before preparing any data: they import Keras meanwhile.
    for worker in range(min(workers, len(trials))):
        spawn(worker)
    for worker in list(pool):
        give(worker)
    next_id = len(pool)
    finished = False
    try:
        while remaining:
            try:
                message = messages.get(timeout=0.5)
            except queue.Empty:
                message = None
            if message is not None:
                _feed(driver, message, remaining, ended)
                continue
            for worker, (process, _) in list(pool.items()):
                if process.is_alive():
                    continue
                key = current.pop(worker, None)
                pool.pop(worker)
                assigner.forget(worker)
                _drain(messages, driver, remaining, ended)
                if key is not None and key in remaining:
                    driver.abandon(key, "failed", f"the worker process died (exit code {process.exitcode})")
                    remaining.discard(key)
                if assigner.pending:
                    spawn(next_id)
                    give(next_id)
                    next_id += 1
        finished = True
    finally:
        # Finished: every worker was told to stop and flushes and exits. Ctrl-C or an error
        # here: the running trials are marked interrupted, so stop them now.
        deadline = time.monotonic() + (10 if finished else 2)
        for process, tasks in pool.values():
            if not finished:
                tasks.cancel_join_thread()
                process.terminate()
        for process, _ in pool.values():
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()


def _feed(
    driver: Driver, message: dict[str, Any], remaining: set[str], ended: Callable[[str], Any] | None = None
) -> None:
    """Hand one trial message to the driver; an ``end`` takes the trial off ``remaining`` (and calls ``ended``)."""
    driver.handle(message)
    if message["type"] == "end":
        remaining.discard(message["key"])
        if ended is not None:
            ended(message["key"])


def _drain(messages: Any, driver: Driver, remaining: set[str], ended: Callable[[str], Any]) -> None:
    """Handle messages a dead worker sent before it died."""
    while True:
        try:
            message = messages.get_nowait()
        except queue.Empty:
            return
        _feed(driver, message, remaining, ended)


# -- Ray ------------------------------------------------------------------------


def _check_reachable(address: str, timeout: float = 3.0) -> None:
    if address in ("auto", "local") or address.startswith("ray://"):
        target = address.removeprefix("ray://")
        if address in ("auto", "local"):
            return
    else:
        target = address
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 6379)), timeout=timeout):
            pass
    except (OSError, ValueError) as exc:
        raise FitscopeError(
            f"cannot reach the Ray cluster at {address!r} ({exc}). Start one with `ray start --head` "
            "and pass the address it prints, or use --executor process."
        ) from None


class _PreparedData:
    """Each distinct trial data, prepared once here in the driver, for the workers.

    One preparation instead of one per worker: loading, splitting and auditing the
    book's toy data costs about 1.5 CPU-seconds (scikit-learn's import
    included), and the driver does it while its new workers import Keras. ``put``
    turns the data into what reaches a worker (a Ray object reference; the data
    itself for a process pool, whose task queue pickles it).
    """

    def __init__(self, driver: Driver, put: Callable[[TrialData], Any] = lambda data: data) -> None:
        self._driver = driver
        self._put = put
        self._ready: dict[str, Any] = {}  # data key -> what put returned, or why preparing failed

    def get(self, trial: Trial) -> Any | None:
        """What ``put`` returned for the trial's data; ``None`` when that failed (the trial is then failed)."""
        if trial.data_key not in self._ready:
            try:
                self._ready[trial.data_key] = self._put(trial_data(trial))
            except Exception as exc:  # bad data fails its trials, as it would in a worker; the others go on
                self._ready[trial.data_key] = exc
        found = self._ready[trial.data_key]
        if isinstance(found, Exception):
            self._driver.abandon(trial.key, "failed", f"{type(found).__name__}: {found}")
            return None
        return found

    def keep_only(self, data_keys: set[str]) -> None:
        """Let go of the data no trial still to hand out needs."""
        for key in set(self._ready) - data_keys:
            del self._ready[key]


def _ship_data(driver: Driver, trials: Sequence[Trial], put: Callable[[TrialData], Any]) -> Iterator[tuple[Trial, Any]]:
    """Each trial with what ``put`` returned for its data, as soon as that is ready.

    A trial whose data cannot be prepared is failed with the reason and not yielded.
    """
    prepared = _PreparedData(driver, put)
    for trial in trials:
        data = prepared.get(trial)
        if data is not None:
            yield trial, data


def _run_ray(driver: Driver, trials: Sequence[Trial], workers: int, address: str | None) -> None:
    try:
        import ray
        from ray.util.queue import Empty as RayEmpty
        from ray.util.queue import Queue as RayQueue
    except ImportError as exc:
        raise FitscopeError("--executor ray needs Ray: pip install 'fitscope[ray]'.") from exc
    if address:
        _check_reachable(address)
    started_here = not ray.is_initialized()
    if started_here:
        xla = f"{os.environ.get('XLA_FLAGS', '')} {_ONE_THREAD_XLA}".strip()
        env = {"env_vars": {**_ONE_THREAD, "XLA_FLAGS": xla, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")}}
        kwargs: dict[str, Any] = {"runtime_env": env, "log_to_driver": False, "include_dashboard": False}
        if address:
            kwargs["address"] = address
        else:
            kwargs["num_cpus"] = workers
        try:
            ray.init(**kwargs)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, its own errors...
            if not address:
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FitscopeError(
                f"cannot connect to the Ray cluster at {address!r}: {first} Give the address that "
                "`ray start --head` printed (its `ray start --address=...` line); a cluster with token "
                "authentication also needs RAY_AUTH_TOKEN. Or use --executor process."
            ) from None
    try:
        messages = RayQueue()

        @ray.remote(num_cpus=1, max_retries=0)
        def remote_trial(item: dict[str, Any], data: TrialData, queue_handle: Any) -> str:
            _run_inline()
            own_process()
            trial = Trial(**item)
            run_trial(trial, _BundledSender(queue_handle.put), data)
            return trial.key

        pending = {remote_trial.remote(trial.to_dict(), data, messages): trial.key
                   for trial, data in _ship_data(driver, trials, ray.put)}  # fmt: skip
        remaining = set(pending.values())
        while remaining:
            try:
                _feed(driver, messages.get(timeout=0.5), remaining)
                continue
            except RayEmpty:
                pass
            ready, _ = ray.wait(list(pending), timeout=0, num_returns=len(pending))
            for ref in ready:
                key = pending.pop(ref)
                try:
                    ray.get(ref)
                except Exception as exc:  # the task died: its trial fails, the rest go on
                    while not messages.empty():
                        _feed(driver, messages.get(), remaining)
                    if key in remaining:
                        driver.abandon(key, "failed", f"the Ray task died: {type(exc).__name__}: {exc}")
                        remaining.discard(key)
    finally:
        if started_here:
            ray.shutdown()
