"""A run's predictions on its validation (or, when asked, test) split, and the error analysis of them.

The predictions of one set of weights are computed once and kept with the run
(``<run>/predictions/<split>-<weights fingerprint>.npz``: the class probabilities, the
labels, and the inputs of the most confident mistakes for the gallery), so a later
``fitscope errors`` or report reads them instead of predicting again. Looking at the
test split this way is a look like ``fitscope test``: counted in the run's ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..._errors import SpecError, StoreError, argument_error
from ...analysis import ErrorAnalysis, analyse_errors
from ...store import PredictionsDir
from ._test import load_ended_model

__all__ = ["GALLERY_SIZE", "RunErrors", "run_errors"]

GALLERY_SIZE = 25  # the most confident mistakes whose inputs are kept for the gallery
SPLITS = ("val", "test")


@dataclass(frozen=True)
class RunErrors:
    """``fitscope errors``: a run's error analysis, the weights it judged, and the inputs of its gallery."""

    run_id: str
    epoch: int
    weights: str
    analysis: ErrorAnalysis
    gallery: np.ndarray  # the inputs of the most confident mistakes, in ``analysis.mistakes`` order
    features: list[str]  # a table's column names (empty for images)
    path: Path
    computed: bool  # predicted now (False: read from the run's kept predictions)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "epoch": self.epoch, "weights": self.weights, "predictions": str(self.path),
                **self.analysis.to_dict()}  # fmt: skip


def run_errors(
    run_id: str, *, split: str = "val", runs: str | Path | None = None, data_dir: str | Path | None = None
) -> RunErrors:
    """The error analysis of the weights ``run_id`` ended with, on its ``split`` (``"val"``, or ``"test"``: counted).

    Raises:
        SpecError: the run is a regression, has no spec or no saved weights, or no such split.
        StoreError: another process still trains the run, or its data no longer splits as recorded.
    """
    from ...keras_glue import weights_fingerprint
    from ...store import Store

    if split not in SPLITS:
        raise argument_error(f"<<split>> {split!r}: give val (the validation split) or test (the sealed test split, "
                             "counted as a look).")  # fmt: skip
    store = Store(runs, create=False, readonly=split != "test")  # (a test look adds a ledger row)
    run = store.run(run_id)
    info = run.info()
    if info.spec is not None and info.spec.get("data", {}).get("task") == "regression":
        raise SpecError(f"run {run.run_id} is a regression (data.task: regression): there are no classes to confuse. "
                        "Its errors are residuals: look at `fitscope diagnose` for its R² per part.")  # fmt: skip
    ended = load_ended_model(run, verb="analysed", data_dir=data_dir)
    prepared = ended.prepared
    if split not in prepared.split.parts:
        if split == "val" and info.trial.get("refit"):
            raise argument_error(
                f"run {run.run_id} is a search's refit: it trained on the training and validation data together, so "
                "it has no val split; analyse its <<split=test>> (a counted look), or the validation errors of the "
                "trial it trained again.",
                SpecError,
            )
        raise SpecError(f"run {run.run_id} has no {split} split.")
    recorded = info.manifest.content_hash.get(split) if info.manifest else None
    if recorded is not None and recorded != prepared.split.manifest.content_hash.get(split):
        raise StoreError(f"run {run.run_id}: the data no longer splits as recorded (its {split} part differs).")
    fingerprint = weights_fingerprint(ended.model)
    kept_dir = PredictionsDir(run.predictions_dir)
    path = kept_dir.path(split, fingerprint)
    x, y = prepared.split.take(split)  # (the inputs as the dataset has them, for the gallery and tables)
    kept = kept_dir.load(path)
    if kept is None:
        predicted = ended.model.predict(prepared.arrays[split][0], verbose=0, batch_size=prepared.spec.fit.batch_size)
        probabilities = np.asarray(predicted, dtype="float32")
        labels = np.asarray(y).astype(int).ravel()
    else:
        probabilities, labels = kept["probabilities"], kept["labels"]
    names = list(prepared.split.dataset.class_names)
    analysis = analyse_errors(labels, probabilities, names, split=split)
    shown = [m["index"] for m in analysis.mistakes[:GALLERY_SIZE]]
    gallery = np.asarray(x)[shown]
    note = ended.note
    if kept is None:
        arrays = {"probabilities": probabilities, "labels": labels, "class_names": np.array(names), "gallery": gallery,
                  "gallery_index": np.array(shown, dtype="int64"), "epoch": np.array(ended.epoch)}  # fmt: skip
        try:
            kept_dir.save(path, arrays)
        except OSError as exc:  # a read-only or full run folder: the analysis stands, it is just not kept
            why = exc.strerror or exc
            note = f"the predictions could not be kept in {path.parent} ({why}); they are made again next time."
    if split == "test":  # a look at the sealed test set, like `fitscope test`
        run.record_evaluation("test", {"accuracy": analysis.accuracy}, fingerprint=fingerprint, epoch=ended.epoch)
    features = list(prepared.split.dataset.feature_names)
    return RunErrors(run.run_id, ended.epoch, ended.weights, analysis, gallery, features, path, kept is None,
                     note)  # fmt: skip
