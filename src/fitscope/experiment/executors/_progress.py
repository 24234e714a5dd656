"""Progress of a group of trials (a search, the folds of a cross-validation), as plain lines.

The driver sees every epoch any worker reports; every few seconds it says how many
trials are done, where each running one is, and roughly how long the rest will take.
Plain lines work in a terminal, a pipe and a CI log alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..._i18n import _
from ..training import Trial

__all__ = ["TrialsProgress"]

# No estimate before the trials have trained this long past their first epochs: the
# first epochs of a trial also compile its model, and an early guess ran 10x too long.
_SETTLE_SECS = 2.0


class TrialsProgress:
    """``trials 1/4 done, 2 running: t1 340/1000 epochs, t2 12/1000 epochs · 31 s, about 40 s left``.

    The folds of one cross-validation are counted as ``folds``. The estimate takes the
    rate one trial trains at, and as many trials at once as have run side by side (the
    workers), so the last trial of a search is not expected to go faster than one does.

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
        configurations = {json.dumps(t.params, sort_keys=True, default=str) for t in trials}
        one_cv = bool(trials) and all(t.fold is not None for t in trials) and len(configurations) == 1
        self._noun = "folds" if one_cv else "trials"
        self._epochs = {t.key: int(t.spec.get("fit", {}).get("epochs", 1)) for t in trials}
        self._done_epochs: dict[str, int] = {}
        self._running: set[str] = set()
        self._ended: set[str] = set()
        self._start = self._last = clock()
        # When each trial's first and latest epochs arrived, and its epoch count then: the rate
        # counts only the epochs after the first (start-up and compilation are not training).
        self._first: dict[str, tuple[float, int]] = {}
        self._latest: dict[str, tuple[float, int]] = {}
        self._side_by_side = 1  # the most trials seen running at once

    def started(self, key: str) -> None:
        self._running.add(key)
        self._side_by_side = max(self._side_by_side, len(self._running))
        self._done_epochs.setdefault(key, 0)

    def epoch(self, key: str, epoch: int) -> None:
        self._done_epochs[key] = epoch + 1
        now = self._clock()
        self._first.setdefault(key, (now, epoch + 1))
        self._latest[key] = (now, epoch + 1)
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
        epochs = _("{done}/{total} epochs")
        where = ", ".join(
            f"{self._names[k]} " + epochs.format(done=self._done_epochs.get(k, 0), total=self._epochs[k])
            for k in running
        )
        noun = _("folds") if self._noun == "folds" else _("trials")
        text = _("{noun} {ended}/{count} done, {running} running").format(
            noun=noun, ended=len(self._ended), count=len(self._names), running=len(running)
        )
        text += f": {where}" if where else ""
        text += f" · {elapsed:.0f} s"
        left = self._seconds_left(now)
        if left is not None:
            text += _(", about {seconds} s left").format(seconds=f"{left:.0f}") if left >= 0.5 else _(", almost done")
        return text

    def _seconds_left(self, now: float) -> float | None:
        """The epochs still to train, shared out over the trials that run side by side; None until known."""
        if not self._first or now - min(at for at, _ in self._first.values()) < _SETTLE_SECS:
            return None
        spans = [(self._latest[k][0] - at, self._latest[k][1] - first) for k, (at, first) in self._first.items()]
        seconds, trained = sum(s for s, _ in spans), sum(n for _, n in spans)
        if seconds <= 0 or trained <= 0:
            return None
        rate = trained / seconds  # epochs a second, of one trial
        left = {k: total - min(self._done_epochs.get(k, 0), total) for k, total in self._epochs.items()
                if k not in self._ended}  # fmt: skip
        if not any(left.values()):
            return None
        # The running trials go on where they are; each waiting one goes to the first free worker.
        workers = sorted(left[k] for k in self._running if k in left)
        workers += [0] * max(0, self._side_by_side - len(workers))
        for key, epochs in left.items():
            if key not in self._running:
                workers[workers.index(min(workers))] += epochs
        return max(workers) / rate
