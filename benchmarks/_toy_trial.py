"""The book's toy trial as fitscope trains it, timed epoch by epoch (shared by the epoch benchmarks)."""

from __future__ import annotations

import time

SKIP = 100  # epochs left out at the start: compilation and the first warm-up executions


def toy_epoch_ms(epochs: int, name: str = "toy") -> float:
    """Milliseconds per epoch of one toy trial (700/300 images, Dense(2) -> Dense(10), sgd, batch 10).

    Trained through ``experiment.training.run_trial`` in this process, as it is set up;
    the first ``SKIP`` epochs are left out.
    """
    from fitscope.experiment.preparing import trial_data
    from fitscope.experiment.spec import apply_override, load_spec
    from fitscope.experiment.training import Trial, run_trial
    from fitscope.store import Bundle, Ended, EpochEnded

    spec = load_spec("book_toy").model_dump(mode="json")
    trial = Trial(spec=apply_override(spec, f"fit.epochs={epochs}"), name=name)
    stamps: list[float] = []

    def put(bundle: Bundle) -> None:
        stamps.extend(time.perf_counter() for event in bundle.events if isinstance(event, EpochEnded))
        failed = [event for event in bundle.events if isinstance(event, Ended) and event.status != "finished"]
        if failed:
            raise RuntimeError(f"the toy trial {failed[0].status}: {failed[0].reason}")

    run_trial(trial, put, trial_data(trial), interval=0)  # (each epoch at once: one time stamp each)
    return (stamps[-1] - stamps[SKIP]) / (len(stamps) - 1 - SKIP) * 1000
