"""A finished run's model applied to new data: ``fitscope predict``.

The run's ``.keras`` model carries what its inputs were (:class:`~fitscope.data.ModelInputs`):
new samples are scaled and flattened as the training samples were, and the outputs
come back as the class names the labels had, with each class's probability. The
training data is not needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError, SpecError, StoreError, argument_error, invalid_argument

__all__ = ["OUTPUT_FORMATS", "Predictions", "check_predictions_path", "predict_run"]

OUTPUT_FORMATS = (".csv", ".npz")


@dataclass(frozen=True)
class Predictions:
    """What a run's model predicts for each sample of a file.

    Attributes:
        predicted: per sample, the class name (classification) or the predicted values (regression).
        probabilities: per sample, each class's probability (``None`` for a regression).
        class_names: the classes, in the order of the probabilities' columns.
    """

    run_id: str
    which: str  # "final" or "best"
    epoch: int | None
    source: str
    predicted: np.ndarray
    probabilities: np.ndarray | None
    class_names: tuple[str, ...]

    def write(self, path: str | Path) -> Path:
        """Write them to ``path`` (``.csv``: one row per sample; ``.npz``: the arrays), atomically."""
        from .._atomic import write_atomically

        path = Path(path)
        check_predictions_path(path)
        if path.suffix.lower() == ".npz":
            arrays: dict[str, Any] = {"predicted": self.predicted.astype(str) if self.class_names else self.predicted}
            if self.probabilities is not None:
                arrays |= {"probabilities": self.probabilities, "classes": np.asarray(self.class_names, dtype=str)}
            write_atomically(path, lambda handle: np.savez(handle, **arrays))
        else:
            text = self._csv().encode()
            write_atomically(path, lambda handle: handle.write(text))
        return path

    def rows(self) -> list[list[str]]:
        """One row per sample: the prediction, then (classification) the winning and each class's probability."""
        if self.probabilities is None:
            values = self.predicted.reshape(len(self.predicted), -1)
            return [[f"{v:.6g}" for v in row] for row in values]
        return [[str(label), f"{row.max():.6f}", *(f"{p:.6f}" for p in row)]
                for label, row in zip(self.predicted, self.probabilities, strict=True)]  # fmt: skip

    def header(self) -> list[str]:
        if self.probabilities is None:
            width = self.predicted.reshape(len(self.predicted), -1).shape[1]
            return ["predicted"] if width == 1 else [f"predicted_{i}" for i in range(width)]
        return ["predicted", "probability", *(f"p_{name}" for name in self.class_names)]

    def _csv(self) -> str:
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header())
        writer.writerows(self.rows())
        return out.getvalue()


def check_predictions_path(path: str | Path) -> None:
    """Refuse an output file fitscope cannot write predictions to, before any work."""
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise invalid_argument("output", str(path), "Write predictions to a .csv or an .npz file.")
    if not path.parent.is_dir():
        raise argument_error(f"<<output>> {path}: the folder {path.parent} does not exist.")


def predict_run(
    run_id: str, data: str | Path, *, runs: str | Path | None = None, best: bool = False,
    output: str | Path | None = None,
) -> Predictions:  # fmt: skip
    """Predict with ``run_id``'s final (or best-epoch, ``best``) model on the samples in ``data``.

    ``output`` (``.csv`` or ``.npz``) is checked before anything is loaded, and written
    only once every prediction is made.

    Raises:
        SpecError: the run kept no such model.
        DataError: ``data`` is unreadable or holds samples of another shape or columns.
        StoreError: another process still trains the run.
    """
    from ..data import ModelInputs, read_inputs
    from ..store import CheckpointDir, Store, model_record

    if output is not None:
        check_predictions_path(output)
    run = Store(runs, readonly=True).run(run_id)  # (predicting only reads)
    info = run.info()
    busy = info.trained_elsewhere()
    if busy:
        raise StoreError(f"{busy} Predict with it once it has finished.")
    which = "best" if best else "final"
    path = CheckpointDir(run.checkpoint_dir).model_path(which)
    if not path.is_file():
        raise argument_error(_missing_model(run.run_id, info.status, which), SpecError)
    record = model_record(path)
    if "inputs" not in record:
        raise SpecError(f"{path} does not say what inputs its model takes (it was not saved by fitscope run).")
    inputs = ModelInputs.from_dict(record["inputs"])
    x = inputs.transform(read_inputs(data, feature_names=inputs.feature_names), source=str(data))
    if len(x) == 0:
        raise DataError(f"{data}: holds no samples.")
    model = _load(path, info.spec)
    outputs = np.asarray(model.predict(x, batch_size=256, verbose=0))
    if inputs.task == "regression":
        predicted, probabilities = outputs, None
    else:
        probabilities = _class_probabilities(outputs)
        predicted = np.asarray(inputs.class_names, dtype=object)[probabilities.argmax(axis=1)]
    made = Predictions(run.run_id, which, record.get("epoch"), str(data), predicted, probabilities,
                       inputs.class_names if inputs.task != "regression" else ())  # fmt: skip
    if output is not None:
        made.write(output)
    return made


def _class_probabilities(outputs: np.ndarray) -> np.ndarray:
    """One column per class: a single sigmoid unit's output is the second class's probability."""
    outputs = outputs.reshape(len(outputs), -1)
    if outputs.shape[1] == 1:
        return np.concatenate([1 - outputs, outputs], axis=1)
    return outputs


def _missing_model(run_id: str, status: str, which: str) -> str:
    if status != "finished":
        return f"run {run_id} is {status}: only a finished run keeps its models. Resume it or train it again."
    if which == "best":
        return (f"run {run_id} kept no best-epoch model (it had no validation loss, or checkpoints were off); "
                "predict with its final model (leave out <<best>>).")  # fmt: skip
    return (f"run {run_id} kept no model (checkpoints were off, or an earlier fitscope trained it). Run it "
            "again with record.checkpoint on.")  # fmt: skip


def _load(path: Path, spec: dict[str, Any] | None) -> Any:
    """The ``.keras`` model at ``path``; a builder's own classes are registered by importing its module first."""
    from .._backend import choose_default_backend
    from .._process import import_keras
    from ..store import custom_objects_in

    choose_default_backend()  # (the backend fitscope chooses, Keras imported as fitscope imports it)
    import_keras()
    import keras

    builder = (spec or {}).get("model")
    if custom_objects_in(path) and isinstance(builder, str):
        from .training import import_builder

        import_builder(builder)
    try:
        return keras.saving.load_model(path, compile=False)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{path}: Keras cannot load it ({exc}).") from exc
