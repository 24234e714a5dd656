"""``fitscope demo``: the book's two MNIST experiments, run, tested once and explained."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._errors import Interrupted
from .._i18n import N_, _
from ._runner import RunResult, resume_command, run_spec
from .spec import BUNDLED_SPECS, data_dir_override

__all__ = ["explain", "run_demo"]

# --quick: enough epochs to see the shape of each curve in about a minute on 2 cores.
QUICK_EPOCHS = {"book_toy": 300, "book_full": 3}


def explain(title: str, result: RunResult, *, runs: str | Path | None = None) -> list[str]:
    """A few plain sentences about one finished run: its curve, its accuracy, its diagnosis."""
    from ..analysis import diagnose_run
    from ..store import Store

    val_acc = result.history.get("val_accuracy", [])
    lines = [_("{title}: {epochs} epochs.").format(title=title, epochs=result.epochs)]
    if val_acc:
        lines.append(
            _("Validation accuracy ended at {last} (best {best}).").format(
                last=f"{val_acc[-1]:.1%}", best=f"{max(val_acc):.1%}"
            )
        )
    if result.test:
        lines.append(
            _("On the sealed test set (evaluated once): accuracy {accuracy}.").format(
                accuracy=f"{result.test.get('accuracy', math.nan):.1%}"
            )
        )
    # The same account `fitscope diagnose` gives: one story, one best epoch, one list of actions.
    lines.extend(diagnose_run(Store(runs).run(result.run_id)).sentences)
    return lines


def run_demo(
    *,
    quick: bool = False,
    runs: str | Path | None = None,
    data_dir: str | Path | None = None,
    progress: bool = True,
    say: Callable[[str], Any] = print,
) -> dict[str, RunResult]:
    """Run both book experiments, evaluate each once on the test set, and explain them."""
    results: dict[str, RunResult] = {}
    for stem, titled in (("book_toy", N_("The toy model (2 hidden units, sgd, 700 images)")),
                         ("book_full", N_("The full model (512 hidden units, rmsprop, 50000 images)"))):  # fmt: skip
        title = _(titled)
        overrides = [f"fit.epochs={QUICK_EPOCHS[stem]}"] if quick else []
        if data_dir:
            overrides.append(data_dir_override(data_dir))
        say(f"\n== {title}")
        result = run_spec(BUNDLED_SPECS / f"{stem}.yaml", overrides=overrides, runs=runs, test=True, progress=progress)
        results[stem] = result
        if result.status == "interrupted":  # Ctrl-C or SIGTERM: the user wants the demo to stop, not go on
            again = resume_command(stem, overrides, result.run_id, runs)
            say(_("Stopped after {epochs} epochs; `{command}` continues this run.").format(
                epochs=result.epochs, command=again))  # fmt: skip
            raise Interrupted(result.stopped_by or "Ctrl-C")
        for line in explain(title, result, runs=runs):
            say(line)
    say(
        "\n"
        + _(
            "Why the difference: two hidden units squeeze each 784-pixel image into two numbers, too few to tell "
            "ten digits apart, so the small model stalls near 50 %; 512 units and 50000 images let the second "
            "model reach about 98 %."
        )
    )
    return results
