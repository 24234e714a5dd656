"""The ``ray`` executor: trials as Ray tasks on a cluster (``ray.init(address=...)``).

Epoch records come back through a Ray queue while the tasks run. The data goes
through Ray's object store, so workers need neither the data files nor the
driver's disk.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

from ..._errors import FitscopeError, argument_error
from ..._process import own_process
from ..preparing import TrialData
from ..spec import local_builder_files
from ..training import Rungs, Trial, run_trial
from ._driver import Driver, feed, ship_data
from ._workers import ONE_THREAD, ONE_THREAD_XLA, run_inline

__all__ = ["RaySession", "check_reachable"]


# What to do when a cluster turns the driver away, added to every connection error.
_CONNECT_HINT = (
    "Give the address that `ray start --head` printed (its `ray start --address=...` line, port 6379 unless "
    "changed); a cluster with token authentication also needs RAY_AUTH_MODE=token and its token "
    "(RAY_AUTH_TOKEN, or `ray get-auth-token` on the head). Or use <<executor=process>>."
)


def check_reachable(address: str, timeout: float = 3.0) -> None:
    """Fail within seconds unless something that could be a Ray cluster answers at ``address``.

    ``ray.init`` itself waits 20 s for a port that refuses and hangs on one that
    answers in another protocol (the dashboard's port 8265, a web server): its GCS
    client never gives up there. Ray's services speak gRPC, so a gRPC handshake (with
    ``grpcio``, which Ray's ``default`` extra installs) tells them apart in milliseconds.
    """
    if address in ("auto", "local"):
        return
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    host, port = host or "127.0.0.1", port or "6379"
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as exc:
        raise argument_error(
            f"cannot reach the Ray cluster at {address!r} ({exc}). Start one with `ray start --head` "
            "and pass the address it prints, or use <<executor=process>>.",
            FitscopeError,
        ) from None
    if not _speaks_grpc(f"{host}:{port}", timeout):
        raise argument_error(
            f"{address!r} answers, but not as a Ray cluster: no gRPC service there (the dashboard's "
            f"port 8265, or another program?). {_CONNECT_HINT}",
            FitscopeError,
        )


def _speaks_grpc(target: str, timeout: float) -> bool:
    try:
        import grpc
    except ImportError:  # Ray without its default extra: leave the judgement to ray.init
        return True
    channel = grpc.insecure_channel(target)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
        return True
    except grpc.FutureTimeoutError:
        return False
    finally:
        channel.close()


def _start_ray(ray: Any, kwargs: dict[str, Any], *, local: bool) -> None:
    """``ray.init``; a local cluster gets a second try when its start timed out.

    Ray waits a fixed 30 s for its raylet to register (and for its GCS server to write its
    port); on a busy 2-core machine the first start of a fresh environment can take
    longer. A cluster to connect to gets one try.
    """
    try:
        ray.init(**kwargs)
    except Exception as exc:
        if not local or not any(
            sign in str(exc) for sign in ("timed out during startup", "Timed out waiting for file")
        ):
            raise
        ray.shutdown()
        ray.init(**kwargs)


class RaySession:
    """Ray for one command: started (or joined) for its first trials, kept for the rest.

    A model-based search hands its trials over in batches; starting a local cluster
    costs seconds, so it is started once, and shut down when the command ends (only if
    it was started here: a caller's own ``ray.init`` stays theirs).
    """

    def __init__(self, workers: int, address: str | None) -> None:
        self.workers, self.address = workers, address
        self._started_here = False
        self._builders: list[str] = []  # the spec modules the cluster was started with
        self._remote: Any = None  # the remote task that trains a trial
        self._messages: Any = None  # the queue its events come back through

    def _start(self, builders: list[str]) -> Any:
        try:
            import ray
            from ray.util.queue import Queue as RayQueue
        except ImportError as exc:
            raise argument_error("<<executor=ray>> needs Ray: pip install 'fitscope[ray]'.", FitscopeError) from exc
        if self._remote is not None:
            return ray
        address = self.address
        if address:
            check_reachable(address)
        self._started_here = not ray.is_initialized()
        if self._started_here:
            xla = f"{os.environ.get('XLA_FLAGS', '')} {ONE_THREAD_XLA}".strip()
            env: dict[str, Any] = {
                "env_vars": {**ONE_THREAD, "XLA_FLAGS": xla, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")}
            }
            if builders:
                env["py_modules"] = builders
                self._builders = builders
            kwargs: dict[str, Any] = {"runtime_env": env, "log_to_driver": False, "include_dashboard": False}
            if address:
                kwargs["address"] = address
            else:
                kwargs["num_cpus"] = self.workers
            try:
                _start_ray(ray, kwargs, local=not address)
            except Exception as exc:  # Ray raises ConnectionError, RuntimeError, its own errors...
                self._started_here = False
                if not address:
                    raise
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise argument_error(
                    f"cannot connect to the Ray cluster at {address!r}: {first} {_CONNECT_HINT}", FitscopeError
                ) from None

        @ray.remote(num_cpus=1, max_retries=0)
        def remote_trial(item: dict[str, Any], data: TrialData, queue_handle: Any, rungs: Any) -> str:
            run_inline()
            own_process()
            trial = Trial(**item)
            ask = (lambda key, epochs, value: ray.get(rungs.decide.remote(key, epochs, value))) if rungs else None
            run_trial(trial, queue_handle.put, data, ask=ask)
            return trial.key

        self._remote = remote_trial
        self._messages = RayQueue()
        return ray

    def run(self, driver: Driver, trials: Sequence[Trial]) -> None:
        """Train ``trials`` as Ray tasks, feeding ``driver`` with their events as they come."""
        if not trials:  # (a resumed search's batch that finished before: no cluster to start)
            return
        builders = local_builder_files(trial.spec for trial in trials)  # modules beside the spec travel with the tasks
        ray = self._start(builders)
        from ray.util.queue import Empty as RayEmpty

        remote_trial, messages = self._remote, self._messages
        if builders and builders != self._builders:  # (a caller's own ray.init: the modules go with each task)
            remote_trial = remote_trial.options(runtime_env={"py_modules": builders})
        # A pruned search's rungs in an actor the tasks ask (the driver's records so far go with it).
        rungs = None
        if driver.rungs is not None:
            held = driver.rungs
            rungs = ray.remote(num_cpus=0)(Rungs).remote(held.plan, held.records, held.folds, held.pruned)
        pending = {remote_trial.remote(trial.to_dict(), data, messages, rungs): trial.key
                   for trial, data in ship_data(driver, trials, ray.put)}  # fmt: skip
        remaining = set(pending.values())
        while remaining:
            try:
                feed(driver, messages.get(timeout=0.5), remaining)
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
                        feed(driver, messages.get(), remaining)
                    if key in remaining:
                        driver.abandon(key, "failed", f"the Ray task died: {type(exc).__name__}: {exc}")
                        remaining.discard(key)

    def close(self) -> None:
        if self._started_here:
            import ray

            ray.shutdown()
            self._started_here = False
        self._remote = self._messages = None
