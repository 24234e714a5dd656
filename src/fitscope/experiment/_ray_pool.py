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

from .._errors import FitscopeError
from .._process import own_process
from ._driver import Driver, feed, ship_data
from ._trial import Trial, TrialData, run_trial
from ._workers import ONE_THREAD, ONE_THREAD_XLA, BundledSender, run_inline

__all__ = ["check_reachable", "run_ray"]


def check_reachable(address: str, timeout: float = 3.0) -> None:
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


def run_ray(driver: Driver, trials: Sequence[Trial], workers: int, address: str | None) -> None:
    try:
        import ray
        from ray.util.queue import Empty as RayEmpty
        from ray.util.queue import Queue as RayQueue
    except ImportError as exc:
        raise FitscopeError("--executor ray needs Ray: pip install 'fitscope[ray]'.") from exc
    if address:
        check_reachable(address)
    started_here = not ray.is_initialized()
    if started_here:
        xla = f"{os.environ.get('XLA_FLAGS', '')} {ONE_THREAD_XLA}".strip()
        env = {"env_vars": {**ONE_THREAD, "XLA_FLAGS": xla, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")}}
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
            run_inline()
            own_process()
            trial = Trial(**item)
            run_trial(trial, BundledSender(queue_handle.put), data)
            return trial.key

        pending = {remote_trial.remote(trial.to_dict(), data, messages): trial.key
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
    finally:
        if started_here:
            ray.shutdown()
