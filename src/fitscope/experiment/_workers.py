"""What every pool worker (a process or a Ray task) does alike: one CPU thread, epochs sent in bundles."""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable
from typing import Any

__all__ = ["ONE_THREAD", "ONE_THREAD_XLA", "BundledSender", "run_inline", "worker_env"]

# Environment for single-threaded workers: set before JAX/TF/BLAS start their pools.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}
ONE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false"


def worker_env() -> None:
    """Limit this process's numeric libraries to one thread (call before they start; the user's settings stay)."""
    for name, value in ONE_THREAD.items():
        os.environ.setdefault(name, value)
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {ONE_THREAD_XLA}".strip()  # keep the user's


class BundledSender:
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


def run_inline() -> None:
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
