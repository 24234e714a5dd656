"""What every pool worker (a process or a Ray task) does alike: one CPU thread, JAX computing inline."""

from __future__ import annotations

import importlib.util
import os

__all__ = ["ONE_THREAD", "ONE_THREAD_XLA", "run_inline", "worker_env"]

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
