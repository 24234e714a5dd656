"""The book's toy trial as fitscope trains it, timed epoch by epoch (shared by the epoch benchmarks)."""

from __future__ import annotations

import time
from typing import Any

SKIP = 100  # epochs left out at the start: compilation and the first warm-up executions


def toy_epoch_ms(epochs: int, name: str = "toy") -> float:
    """Milliseconds per epoch of one toy trial (700/300 images, Dense(2) -> Dense(10), sgd, batch 10).

    Trained through ``experiment._trial.run_trial`` in this process, as it is set up;
    the first ``SKIP`` epochs are left out.
    """
    from fitscope.experiment._spec import apply_override, load_spec
    from fitscope.experiment._trial import Trial, run_trial, trial_data

    spec = load_spec("book_toy").model_dump(mode="json")
    trial = Trial(spec=apply_override(spec, f"fit.epochs={epochs}"), name=name)
    stamps: list[float] = []

    def send(message: dict[str, Any]) -> None:
        stamps.extend(time.perf_counter() for part in message.get("messages", [message]) if part["type"] == "epoch")

    run_trial(trial, send, trial_data(trial))
    return (stamps[-1] - stamps[SKIP]) / (len(stamps) - 1 - SKIP) * 1000
