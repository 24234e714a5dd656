"""Metric resets in one compiled call: the numbers of Keras's own resets, and Keras's way where it must."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fitscope  # noqa: F401  (chooses the Keras backend first)
from fitscope.keras_glue import _fused_metrics, fuse_metric_resets, fuse_steps

# isort: split
import keras

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax", reason="fused resets are for the JAX backend")


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int32)


def _model(metrics: list[Any], fused: bool, model_class: type = keras.Sequential) -> keras.Model:
    keras.utils.set_random_seed(7)
    model = model_class([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                         keras.layers.Dense(2, activation="softmax")])  # fmt: skip
    model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop", metrics=metrics, steps_per_execution=5)
    fuse_steps(model)  # as fitscope builds its models
    if fused:
        assert fuse_metric_resets(model) is True
    return model


def _train(model: keras.Model) -> tuple[dict[str, list[float]], dict[str, float], dict[str, float]]:
    x, y = _data(107, seed=0)
    xv, yv = _data(23, seed=1)
    keras.utils.set_random_seed(3)
    history = model.fit(x, y, batch_size=10, epochs=4, validation_data=(xv, yv), verbose=0)
    first = model.evaluate(xv, yv, batch_size=5, verbose=0, return_dict=True)
    again = model.evaluate(xv, yv, batch_size=5, verbose=0, return_dict=True)
    return history.history, first, again


@pytest.mark.filterwarnings("ignore:Explicitly requested dtype int64")  # MeanIoU's own cast, not ours
def test_fused_resets_give_exactly_keras_s_numbers() -> None:
    def metrics() -> list[Any]:  # scalars, and MeanIoU's confusion matrix
        return ["accuracy", keras.metrics.MeanIoU(num_classes=2, sparse_y_pred=False, name="iou")]

    plain = _train(_model(metrics(), fused=False))
    model = _model(metrics(), fused=True)
    fused = _train(model)
    assert fused == plain  # every epoch's metrics, bit for bit
    assert fused[1] == fused[2]  # a second evaluation starts from zero again, not from the first one's sums
    assert any(program is not None for program in model.reset_metrics._programs.values())  # compiled, no fallback


class _CountingAccuracy(keras.metrics.SparseCategoricalAccuracy):
    """A metric whose reset does more than assign its variables (a trace would run that only once)."""

    resets = 0

    def reset_state(self) -> None:
        type(self).resets += 1
        super().reset_state()


def test_a_custom_metric_keeps_keras_s_resets() -> None:
    counts = []
    for fused in (False, True):
        _CountingAccuracy.resets = 0
        model = _model([_CountingAccuracy(name="m")], fused=fused)
        _train(model)
        counts.append(_CountingAccuracy.resets)
    assert counts[0] == counts[1] > 8  # fit and validation reset it every epoch, fused or not
    assert set(model.reset_metrics._programs.values()) == {None}


def test_a_model_with_its_own_reset_metrics_is_left_alone() -> None:
    class OwnReset(keras.Sequential):
        def reset_metrics(self) -> None:
            super().reset_metrics()

    model = _model(["accuracy"], fused=False, model_class=OwnReset)
    assert fuse_metric_resets(model) is False
    assert not isinstance(model.reset_metrics, _fused_metrics._FusedReset)


@pytest.mark.filterwarnings("ignore:Explicitly requested dtype int64")  # MeanIoU's own cast, not ours
def test_results_from_the_last_step_s_logs_are_keras_s_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """fit and evaluate report what Keras's eager reading of every metric gives, without that reading."""
    from fitscope.keras_glue import results_from_step_logs

    def metrics() -> list[Any]:
        return ["accuracy", keras.metrics.MeanIoU(num_classes=2, sparse_y_pred=False, name="iou")]

    plain = _train(_model(metrics(), fused=True))
    model = _model(metrics(), fused=True)
    assert results_from_step_logs(model) is True
    keras_reads = []
    original = keras.Model._get_metrics_result_or_logs
    monkeypatch.setattr(keras.Model, "_get_metrics_result_or_logs",
                        lambda self, logs: keras_reads.append(1) or original(self, logs))  # fmt: skip
    assert _train(model) == plain  # every epoch's metrics and both evaluations, bit for bit
    assert len(keras_reads) == 1  # once, to learn the metrics' names: not at every epoch and pass
    custom = _model([_CountingAccuracy(name="acc")], fused=True)
    assert results_from_step_logs(custom) is True
    keras_reads.clear()
    _train(custom)
    assert len(keras_reads) == 4 * 2 + 2  # a metric of the user's own: Keras's way, every epoch and pass
    unfused = _model(["accuracy"], fused=True)
    unfused.make_train_function = keras.Model.make_train_function.__get__(unfused)
    assert results_from_step_logs(unfused) is False
