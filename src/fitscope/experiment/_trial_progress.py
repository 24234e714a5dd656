"""Progress of a group of trials (a search, the folds of a cross-validation), as plain lines.

The driver sees every epoch any worker reports; every few seconds it says how many
trials are done, where each running one is, and roughly how long the rest will take.
Plain lines work in a terminal, a pipe and a CI log alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ._trial import Trial

__all__ = ["TrialsProgress"]

# No estimate before the trials have trained this long past their first epochs: the
# first epochs of a trial also compile its model, and an early guess ran 10x too long.
_SETTLE_SECS = 2.0


class TrialsProgress:
    """``trials 1/4 done, 2 running: t1 340/1000 epochs, t2 12/1000 epochs · 31 s, about 40 s left``.

    Args:
        trials: the trials this run of the command will train.
        say: where the line goes.
        every_secs: the least time between two lines.
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, trials: Sequence[Trial], say: Callable[[str], Any], *, every_secs: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self._say = say
        self.every_secs = every_secs
        self._clock = clock
        self._names = {t.key: t.name for t in trials}
        self._epochs = {t.key: int(t.spec.get("fit", {}).get("epochs", 1)) for t in trials}
        self._done_epochs: dict[str, int] = {}
        self._running: set[str] = set()
        self._ended: set[str] = set()
        self._start = self._last = clock()
        # When each trial's first epoch arrived, and its epoch count then: the rate counts
        # only the epochs after it (start-up and compilation are not training).
        self._first: dict[str, tuple[float, int]] = {}

    def started(self, key: str) -> None:
        self._running.add(key)
        self._done_epochs.setdefault(key, 0)

    def epoch(self, key: str, epoch: int) -> None:
        self._done_epochs[key] = epoch + 1
        now = self._clock()
        self._first.setdefault(key, (now, epoch + 1))
        if now - self._last >= self.every_secs:
            self._last = now
            self._say(self.line(now))

    def ended(self, key: str) -> None:
        self._running.discard(key)
        self._ended.add(key)
        if key in self._epochs:
            self._done_epochs[key] = self._epochs[key]

    def line(self, now: float | None = None) -> str:
        now = self._clock() if now is None else now
        elapsed = now - self._start
        running = sorted(self._running, key=list(self._names).index)
        where = ", ".join(f"{self._names[k]} {self._done_epochs.get(k, 0)}/{self._epochs[k]} epochs" for k in running)
        text = f"trials {len(self._ended)}/{len(self._names)} done, {len(running)} running"
        text += f": {where}" if where else ""
        text += f" · {elapsed:.0f} s"
        left = self._seconds_left(now)
        if left is not None:
            text += f", about {left:.0f} s left"
        return text

    def _seconds_left(self, now: float) -> float | None:
        """The epochs still to train at the rate trials train past their first epoch; None until known."""
        if not self._first:
            return None
        training = now - min(at for at, _ in self._first.values())
        trained = sum(self._done_epochs[k] - first for k, (_, first) in self._first.items())
        done = sum(min(self._done_epochs.get(k, 0), total) for k, total in self._epochs.items())
        total = sum(self._epochs.values())
        if training < _SETTLE_SECS or trained <= 0 or done >= total:
            return None
        return (total - done) * training / trained
