"""Which runs of a cv or tune group stand for its trials.

Re-running an interrupted ``cv``/``tune`` command trains its unfinished trials again,
as new runs; the earlier attempts stay in the store (nothing recorded is thrown
away) and ``fitscope runs --group`` lists them all. A group's summary and figure
take one run per trial, so an interrupted attempt is neither counted as a fold of
its own nor averaged into the bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...store import RunInfo

__all__ = ["TrialRun", "standing_runs"]


@dataclass(frozen=True)
class TrialRun:
    """The run that stands for one trial, and the ids of the trial's other runs (its other attempts)."""

    info: RunInfo
    others: tuple[str, ...] = ()

    @property
    def attempts(self) -> int:
        return 1 + len(self.others)


def standing_runs(infos: Sequence[RunInfo]) -> list[TrialRun]:
    """One run per trial of a group (``infos`` as the store lists them: oldest first).

    A trial's finished run stands for it; without one, its latest attempt does.
    Runs are told apart by the trial key the driver records (a run without one is
    a trial of its own).
    """
    attempts: dict[str, list[RunInfo]] = {}
    for info in infos:
        attempts.setdefault(str(info.trial.get("key") or info.run_id), []).append(info)
    standing = []
    for runs in attempts.values():
        finished = [info for info in runs if info.status == "finished"]
        stands = (finished or runs)[-1]
        standing.append(TrialRun(stands, tuple(info.run_id for info in runs if info is not stands)))
    return standing
