"""Executors run a group's trials (in this process, a pool of processes, Ray); the driver records them."""

from __future__ import annotations

from ._driver import Driver, TrialOutcome
from ._executors import EXECUTORS, Executor, execute, start_executor

__all__ = ["EXECUTORS", "Driver", "Executor", "TrialOutcome", "execute", "start_executor"]
