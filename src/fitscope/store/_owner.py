"""Who trains a run: its host, process id and process start time, and a heartbeat.

A process id alone cannot tell a dead run from a live one: after a reboot or a
container restart the id is soon someone else's. So an owner is recorded with its
process's start time (a reused id has another), and the process that trains a run
writes a heartbeat every minute, which tells about owners on other machines, whose
processes cannot be looked at from here.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psutil

__all__ = ["HEARTBEAT_EVERY", "STALE_AFTER", "Owner", "OwnerState", "heartbeats", "owner_state"]

HEARTBEAT_EVERY = 60.0  # seconds between a training process's heartbeats
STALE_AFTER = 600.0  # an owner on another machine not heard from for this long is taken for gone

OwnerState = Literal["this process", "alive", "gone", "unknown"]


@dataclass(frozen=True)
class Owner:
    """A process: ``host:pid:start time`` in the store (stores before schema 4 wrote ``host:pid``)."""

    host: str
    pid: int
    started: float | None = None  # the process's start time (seconds since the epoch, to 0.01 s)

    @classmethod
    def here(cls) -> Owner:
        """This process."""
        return cls(socket.gethostname(), os.getpid(), start_time(os.getpid()))

    @classmethod
    def parse(cls, token: str | None) -> Owner | None:
        if not token:
            return None
        host, _, rest = token.partition(":")
        pid_text, _, started_text = rest.partition(":")
        try:
            return cls(host, int(pid_text), float(started_text) if started_text else None)
        except ValueError:
            return None

    @property
    def token(self) -> str:
        return f"{self.host}:{self.pid}" + ("" if self.started is None else f":{self.started:.2f}")


def start_time(pid: int) -> float | None:
    """When process ``pid`` of this machine started (``None``: there is none, or it cannot be seen)."""
    try:
        return round(psutil.Process(pid).create_time(), 2)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def owner_state(token: str | None, heartbeat: float | None) -> OwnerState:
    """Whether the process a run's owner token names is this one, alive, gone, or cannot be told.

    On this machine: gone when no process has its id, or the one that has it started at
    another time (a reused id). On another machine: gone when its heartbeat is older
    than :data:`STALE_AFTER`; without any heartbeat (a store before schema 4), unknown.
    """
    owner = Owner.parse(token)
    if owner is None:
        return "gone"
    if owner.host != socket.gethostname():
        if heartbeat is None:
            return "unknown"
        return "gone" if time.time() - heartbeat > STALE_AFTER else "alive"
    started = start_time(owner.pid)
    if started is None:
        return "gone"
    if owner.started is not None and abs(started - owner.started) > 1.0:
        return "gone"  # the id is another process's now
    return "this process" if owner.pid == os.getpid() else "alive"


class _Heartbeats:
    """One daemon thread that, every :data:`HEARTBEAT_EVERY` seconds, stamps the runs this process trains.

    It writes through its own connections (a store's connection belongs to the code
    that uses it), and a beat that fails (a busy or full disk) is simply the next one's.
    """

    def __init__(self) -> None:
        self._runs: dict[Path, set[str]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def add(self, path: Path, run_id: str) -> None:
        with self._lock:
            if self._pid != os.getpid():  # (a forked child: its parent's runs and thread are not its own)
                self._runs, self._thread, self._pid = {}, None, os.getpid()
            self._runs.setdefault(path, set()).add(run_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, name="fitscope-heartbeat", daemon=True)
                self._thread.start()

    def remove(self, path: Path, run_id: str) -> None:
        with self._lock:
            self._runs.get(path, set()).discard(run_id)

    def _beat(self) -> None:
        while True:
            time.sleep(HEARTBEAT_EVERY)
            self.beat()

    def beat(self) -> None:
        """Stamp every run this process trains with the time now."""
        with self._lock:
            held = {path: sorted(ids) for path, ids in self._runs.items() if ids}
        token = Owner.here().token
        for path, ids in held.items():
            try:
                conn = sqlite3.connect(path, timeout=5, isolation_level=None)
                try:
                    marks = ",".join("?" for _ in ids)
                    conn.execute(f"UPDATE runs SET heartbeat = ? WHERE owner = ? AND run_id IN ({marks})",
                                 (time.time(), token, *ids))  # fmt: skip
                finally:
                    conn.close()
            except sqlite3.Error:
                continue


heartbeats = _Heartbeats()
