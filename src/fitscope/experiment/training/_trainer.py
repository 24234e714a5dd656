"""Train one model: the one path every run, cross-validation fold and search trial takes.

:class:`Trainer` builds and compiles a spec's model for prepared data (with the
speed-ups of :mod:`fitscope.keras_glue`), then :meth:`Trainer.fit` trains it and
hands every event (start, epochs, checkpoints, the final validation, the end) to a
sink. It never knows where they go: ``fitscope run`` gives it a
:class:`~fitscope.store.RunSink` on its run; a trial gives it a
:class:`~fitscope.store.QueueSink` whose bundles reach the driver, which writes them
with a ``RunSink`` of its own. So every model keeps the same artefacts and rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ...data import ModelInputs
from ...store import Ended, Evaluated, ModelSaved, Sink, Started
from ..spec import Spec

__all__ = ["PreparedArrays", "Trainer", "TrainingResult", "evaluate_on", "train_dev_evaluation"]


class PreparedArrays(Protocol):
    """Preprocessed arrays per part (``train``, ``val``, maybe ``train_dev``), what the model is built for and takes."""

    @property
    def arrays(self) -> Mapping[str, tuple[Any, Any]]: ...

    @property
    def num_classes(self) -> int: ...

    @property
    def one_hot(self) -> bool: ...

    @property
    def inputs(self) -> ModelInputs: ...


@dataclass(frozen=True)
class TrainingResult:
    """How one :meth:`Trainer.fit` ended.

    Attributes:
        status: ``finished``, ``failed`` (NaN loss), ``interrupted`` (Ctrl-C, SIGTERM) or ``pruned``
            (a search's check stopped it).
        weights_epoch: the epoch whose weights the model holds at the end (EarlyStopping
            may have restored an earlier one); ``None`` unless finished.
        val: the final weights' validation metrics (finished only).
        stopped_by: what interrupted it (``"Ctrl-C"``, ``"SIGTERM"``), when interrupted.
    """

    status: str
    weights_epoch: int | None = None
    val: Mapping[str, float] | None = None
    stopped_by: str | None = None


class Trainer:
    """A spec's model, built and compiled for ``data``, ready to :meth:`fit`.

    Args:
        spec: the validated spec.
        data: its prepared arrays.
        view: a live progress callback (``fitscope run`` on a terminal).
        one_of_many: this process trains several models in turn (the trials of a
            group): start from a clean Keras session, and reuse the XLA programs
            earlier trials compiled.
    """

    def __init__(self, spec: Spec, data: PreparedArrays, *, view: Any = None, one_of_many: bool = False) -> None:
        from ..._process import freeze_imports, import_keras, reuse_compiled_programs

        import_keras()  # a local search's first Keras import may be here: with the collector paused
        import keras

        from ...keras_glue import speedups_on
        from ._build import build_callbacks, build_model, steps_per_execution

        freeze_imports()
        if one_of_many and speedups_on(spec.fit.accelerate):
            reuse_compiled_programs()
        self.spec = spec
        self.data = data
        self.view = view
        x, y = data.arrays["train"]
        self.callbacks = build_callbacks(spec)
        fused = steps_per_execution(spec, len(x), self.callbacks, per_batch=spec.record.per_batch, view=view)
        if one_of_many:
            keras.backend.clear_session()  # nothing carries over from a previous trial in this process
        self.model = build_model(
            spec, input_shape=tuple(x.shape[1:]), num_classes=data.num_classes, one_hot=data.one_hot,
            steps_per_execution=fused, target_shape=tuple(y.shape[1:]),
        )  # fmt: skip

    def fit(
        self, sink: Sink, *, initial_epoch: int = 0, start: Started | None = None, handle_signals: bool = True,
        stop_check: Callable[[int, Mapping[str, float]], str | None] | None = None,
    ) -> TrainingResult:  # fmt: skip
        """Train up to ``spec.fit.epochs`` (from ``initial_epoch``), then score the final weights on validation.

        Every event goes to ``sink``; a finished training ends with the validation
        ledger row and ``Ended("finished")``. ``start`` is the first ``Started`` event
        (a trial's manifest and initial weights); ``handle_signals`` lets Ctrl-C and
        SIGTERM stop after the epoch under way (the main process of ``fitscope run``).
        ``stop_check(epoch, metrics)`` gives a reason to stop after an epoch (a search's
        pruning): the training then ends ``pruned`` with that reason.
        """
        from ...keras_glue import (
            Recorder,
            StopWhenTold,
            fit_arguments,
            inline_callbacks,
            keras_file_bytes,
            weights_fingerprint,
        )
        from ._build import restored_epoch

        spec, data, model = self.spec, self.data, self.model
        record = spec.record
        recorder = Recorder(
            sink, per_batch=record.per_batch, checkpoint=record.checkpoint, handle_signals=handle_signals, start=start
        )
        x, y = data.arrays["train"]
        view = [self.view] if self.view is not None else []
        scored_too = train_dev_evaluation(data.arrays, spec.fit.batch_size)  # (before the recorder: it adds to logs)
        stopper = [StopWhenTold(stop_check)] if stop_check is not None else []  # (after the recorder)
        try:
            if initial_epoch < spec.fit.epochs:
                model.fit(
                    **fit_arguments(model, x, y, batch_size=spec.fit.batch_size, shuffle=spec.fit.shuffle,
                                    validation_data=data.arrays.get("val")),  # (a refit has none)
                    epochs=spec.fit.epochs, initial_epoch=initial_epoch, verbose=0,
                    callbacks=[*scored_too, recorder, *stopper, *self.callbacks, *view, *inline_callbacks()],
                )  # fmt: skip
            if stopper and stopper[0].reason is not None:  # (a NaN loss too: a search's pruning says why)
                sink.send(Ended("pruned", stopper[0].reason))
                return TrainingResult("pruned")
            if recorder.failed_at is not None:
                return TrainingResult("failed")
            if not recorder.ended_cleanly:
                return TrainingResult("interrupted", stopped_by=recorder.stopped_by)
            held = restored_epoch(self.callbacks)
            held = sink.next_epoch - 1 if held is None else held
            val = evaluate_on(model, data.arrays["val"], spec.fit.batch_size) if "val" in data.arrays else None
            if val is not None:
                sink.send(Evaluated("val", val, fingerprint=weights_fingerprint(model), epoch=held))
            if record.checkpoint is not None:  # (no checkpoints: nothing kept on disk, the models neither)
                inputs = data.inputs.to_dict()  # (how to feed the model new data: fitscope predict)
                sink.send(ModelSaved("final", keras_file_bytes(model, extra={"inputs": inputs, "epoch": held}), held))
                best = recorder.best_weights()
                if best is not None:
                    saved = keras_file_bytes(model, best[1], extra={"inputs": inputs, "epoch": best[0]})
                    sink.send(ModelSaved("best", saved, best[0]))
            sink.send(Ended("finished"))
            return TrainingResult("finished", held, val)
        finally:
            recorder.close()


def evaluate_on(model: Any, arrays: tuple[Any, Any], batch_size: int) -> dict[str, float]:
    """``model.evaluate`` on one part's arrays, metric names normalised (``acc`` -> ``accuracy``)."""
    from ...keras_glue import inline_callbacks
    from ...store import normalize_metric_name

    result = model.evaluate(*arrays, batch_size=batch_size, verbose=0, return_dict=True,
                            callbacks=inline_callbacks())  # fmt: skip
    return {normalize_metric_name(k): float(v) for k, v in result.items()}


def train_dev_evaluation(arrays: Mapping[str, Any], batch_size: int) -> list[Any]:
    """The callback that scores each epoch on the train-dev part, when the split has one.

    Put it before whatever records the epochs: it adds ``train_dev_loss``, ``train_dev_accuracy``
    ... to the epoch's logs.
    """
    if "train_dev" not in arrays:
        return []
    from ...keras_glue import EvaluateEachEpoch

    return [EvaluateEachEpoch("train_dev", arrays["train_dev"], batch_size=max(batch_size, 256))]
