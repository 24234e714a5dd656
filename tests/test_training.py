"""One training path: a run, a cv fold (local and process) and a search trial keep the same artefacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from fitscope.experiment import cross_validate, run_spec, search
from fitscope.store import CheckpointDir, Store

QUICK = Path(__file__).resolve().parents[1] / "examples" / "digits_quick.yaml"
# Checkpoints every epoch, so every path keeps the same files whatever the machine's speed.
SETTINGS = ["fit.epochs=3", "record.checkpoint=1"]
# Written by `fitscope run` as it ends (derived from the store; `fitscope report` makes them for any run).
RUN_COMMAND_OUTPUTS = {"figures/curves.png", "report.html"}


def quiet(_: str) -> None:
    pass


def _stored(store: Store, run_id: str) -> dict[str, Any]:
    """Everything a run keeps, but what differs by design (ids, times, values of other data)."""
    run = store.run(run_id)
    info = run.info()
    tags = {}
    for folder in sorted({p.parent for p in run.tensorboard_dir.rglob("*tfevents*")}):
        scalars = EventAccumulator(str(folder)).Reload()
        tags[str(folder.relative_to(run.tensorboard_dir))] = {
            tag: [event.step for event in scalars.Scalars(tag)] for tag in scalars.Tags()["scalars"]
        }
    checkpoints = CheckpointDir(run.checkpoint_dir)
    files = {str(p.relative_to(run.dir)) for p in run.dir.rglob("*") if p.is_file() and "tfevents" not in p.name}
    return {
        "status": info.status,
        "checkpoint_epoch": info.checkpoint_epoch,
        "metrics": {name: len(values) for name, values in run.history().items()},
        "evaluations": [(e["split"], e["epoch"], sorted(e["metrics"])) for e in run.evaluations()],
        "files": sorted(files - RUN_COMMAND_OUTPUTS),
        "best": checkpoints.load_best().epoch,
        "tensorboard": tags,
        "backend": info.backend,
    }


@pytest.mark.slow
def test_run_cv_and_tune_keep_the_same_artefacts(tmp_path: Path) -> None:
    ran = run_spec(QUICK, overrides=SETTINGS, runs=tmp_path / "run", progress=False)
    tuned = search(QUICK, ["fit.batch_size=32"], overrides=SETTINGS, runs=tmp_path / "tune", say=quiet)
    local = cross_validate(QUICK, folds=2, overrides=SETTINGS, runs=tmp_path / "cv-local", say=quiet)
    pooled = cross_validate(QUICK, folds=2, overrides=SETTINGS, executor="process", workers=1,
                            runs=tmp_path / "cv-process", say=quiet)  # fmt: skip
    stored = {"run": _stored(Store(tmp_path / "run"), ran.run_id)}
    stored["tune"] = _stored(Store(tmp_path / "tune"), tuned.ranking[0]["run_ids"][0])
    for name, result in (("cv-local", local), ("cv-process", pooled)):
        for fold in result.folds:
            stored[f"{name} fold {fold['fold']}"] = _stored(Store(tmp_path / name), fold["run_id"])
    first = stored["run"]
    assert first["files"] == [
        "checkpoints/best.keras", "checkpoints/best.npz", "checkpoints/epoch-000001.npz",
        "checkpoints/epoch-000002.npz", "checkpoints/final.keras",
    ]  # fmt: skip
    assert first["evaluations"] == [("val", 2, ["accuracy", "loss"])]
    assert set(first["tensorboard"]) == {"train", "validation", "."}  # (the HParams summary at the top)
    for name, kept in stored.items():
        assert kept == first, name
    # The same spec, split and seed train to the same numbers as a run and as a trial.
    run_history = Store(tmp_path / "run").run(ran.run_id).history()
    assert Store(tmp_path / "tune").run(tuned.ranking[0]["run_ids"][0]).history() == run_history
