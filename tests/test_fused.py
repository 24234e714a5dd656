"""Fused steps train exactly what Keras's own step loop trains, only in fewer calls."""

from __future__ import annotations

import numpy as np
import pytest

import fitscope  # noqa: F401  (chooses the Keras backend first)
from fitscope.keras_glue import _fused, fit_arguments, fuse_steps

# isort: split
import keras

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax", reason="fused steps are for the JAX backend")


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int32)


def _model(steps_per_execution: int, fused: bool) -> keras.Model:
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dropout(0.3),
         keras.layers.Dense(2, activation="softmax")]
    )  # fmt: skip
    model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)  # fmt: skip
    if fused:
        assert fuse_steps(model) is True
    return model


def _train(
    fused: bool, epochs: int = 4, steps: int = 5, stacked: bool = False
) -> tuple[dict[str, list[float]], list[np.ndarray], dict[str, float]]:
    x, y = _data(107)  # 10 batches of 10 and a last one of 7
    xv, yv = _data(23, seed=1)
    model = _model(steps, fused)  # steps=5: executions of 5, 5 and 1 batches
    keras.utils.set_random_seed(3)  # the same shuffles and dropout masks in both runs
    batch_logs: list[float] = []  # what callbacks see after each execution
    seen = keras.callbacks.LambdaCallback(on_train_batch_end=lambda _, logs: batch_logs.append(float(logs["loss"])))
    data = {"x": x, "y": y, "batch_size": 10, "shuffle": True, "validation_data": (xv, yv)}
    if stacked:
        data = fit_arguments(model, x, y, batch_size=10, shuffle=True, validation_data=(xv, yv))
        assert isinstance(data["x"], keras.utils.PyDataset)
    history = model.fit(**data, epochs=epochs, verbose=0, callbacks=[seen])
    result = model.evaluate(xv, yv, batch_size=5, verbose=0, return_dict=True)
    return {**history.history, "batch_loss": batch_logs}, [np.asarray(w) for w in model.get_weights()], result


def _assert_same(a: tuple, b: tuple) -> None:
    history_a, weights_a, result_a = a
    history_b, weights_b, result_b = b
    assert history_a.keys() == history_b.keys()
    for name in history_a:
        np.testing.assert_allclose(history_a[name], history_b[name], rtol=1e-5, atol=1e-6, err_msg=name)
    for wa, wb in zip(weights_a, weights_b, strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    for name in result_a:
        assert result_a[name] == pytest.approx(result_b[name], rel=1e-5, abs=1e-6)


def test_fused_training_matches_keras_step_by_step() -> None:
    """Shuffling, dropout, a short last batch, validation and evaluate: the same numbers."""
    _assert_same(_train(fused=True), _train(fused=False))


def test_fused_runs_fewer_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"scan": 0, "single": 0}
    original = _fused._FusedSteps.__call__

    def counting(self: _fused._FusedSteps, state: object, iterator: object) -> object:
        counting_scan, counting_single = self._scanned, self._single

        def scan(*args: object) -> object:
            calls["scan"] += 1
            return counting_scan(*args)

        def single(*args: object) -> object:
            calls["single"] += 1
            return counting_single(*args)

        self._scanned, self._single = scan, single
        try:
            return original(self, state, iterator)
        finally:
            self._scanned, self._single = counting_scan, counting_single

    monkeypatch.setattr(_fused._FusedSteps, "__call__", counting)
    x, y = _data(107)
    _model(11, True).fit(x, y, batch_size=10, epochs=1, verbose=0)
    # One execution of 11 batches: 10 of 10 rows stacked in one scan, the last (7 rows) on its own.
    assert calls == {"scan": 1, "single": 1}


def test_large_batches_are_stacked_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cap on the stacked bytes splits an execution into several scans; the result is unchanged."""
    monkeypatch.setattr(_fused, "MAX_STACK_BYTES", 3 * 10 * 6 * 4)  # three batches of x
    _assert_same(_train(fused=True, epochs=2), _train(fused=False, epochs=2))


def test_stacked_epochs_train_bit_for_bit_as_batches_cut_by_keras() -> None:
    """One gather per epoch instead of a slice per batch: the same shuffles, steps and numbers, exactly."""
    stacked = _train(fused=True, steps=11, stacked=True)
    sliced = _train(fused=True, steps=11)
    assert stacked[0] == sliced[0]  # every epoch's metrics, and what callbacks saw, to the last bit
    for a, b in zip(stacked[1], sliced[1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert stacked[2] == sliced[2]
    _assert_same(stacked, _train(fused=False, steps=11))  # and Keras's own step loop, to float rounding


def test_stacked_epochs_in_chunks_and_where_they_do_not_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_fused, "MAX_STACK_BYTES", 3 * 10 * (6 * 4 + 4))  # three batches of (x, y) a scan
    model = _model(11, True)
    x, y = _data(107)
    data = fit_arguments(model, x, y, batch_size=10, shuffle=False)
    assert [item[0].shape for item in (data["x"][i] for i in range(len(data["x"])))] == [
        (3, 10, 6), (3, 10, 6), (3, 10, 6), (10, 6), (7, 6)
    ]  # fmt: skip
    assert _train(fused=True, steps=11, stacked=True)[0] == _train(fused=True, steps=11)[0]
    plain = {"x": x, "y": y, "batch_size": 10, "shuffle": True, "validation_data": None}
    # several executions an epoch (Keras counts its steps), a model left to Keras, arrays Keras casts
    assert fit_arguments(_model(5, True), x, y, batch_size=10, shuffle=True) == plain
    assert fit_arguments(_model(11, False), x, y, batch_size=10, shuffle=True) == plain
    wide = x.astype(np.float64)
    assert fit_arguments(_model(11, True), wide, y, batch_size=10, shuffle=True) == {**plain, "x": wide}


def test_validation_longer_than_an_execution_is_left_to_keras_and_counted_whole() -> None:
    """23 validation batches against executions of 11: stacked, Keras would stop after the first 11."""
    x, y = _data(107)
    xv, yv = _data(230, seed=1)

    def history(stacked: bool) -> dict[str, list[float]]:
        model = _model(11, True)
        keras.utils.set_random_seed(3)
        data = {"x": x, "y": y, "batch_size": 10, "shuffle": True, "validation_data": (xv, yv)}
        if stacked:
            data = fit_arguments(model, x, y, batch_size=10, shuffle=True, validation_data=(xv, yv))
            assert isinstance(data["x"], keras.utils.PyDataset) and data["validation_data"] == (xv, yv)
            assert data["validation_batch_size"] == 10  # (Keras's default would be 32)
        return model.fit(**data, epochs=2, verbose=0).history

    assert history(stacked=True) == history(stacked=False)


def test_batches_of_any_structure_stack_leaf_by_leaf() -> None:
    """Plain (x, y) tuples take a fast path; nested inputs and missing weights stack the same way."""
    rng = np.random.default_rng(1)
    batches = [(rng.normal(size=(4, 3)), np.arange(4) + k) for k in range(3)]
    stacked = _fused._stack(batches)
    assert type(stacked) is tuple and stacked[0].shape == (3, 4, 3)
    np.testing.assert_array_equal(stacked[1], np.stack([b[1] for b in batches]))
    assert _fused._shapes(batches[0]) == (((4, 3), np.dtype("float64")), ((4,), np.dtype("int64")))
    nested = [({"pixels": x}, y, None) for x, y in batches]
    stacked_nested = _fused._stack(nested)
    np.testing.assert_array_equal(stacked_nested[0]["pixels"], stacked[0])
    np.testing.assert_array_equal(stacked_nested[1], stacked[1])
    assert stacked_nested[2] is None
    assert _fused._shapes(nested[0])[:2] == _fused._shapes(batches[0])
    shorter = (batches[0][0][:2], batches[0][1][:2])
    assert [len(run) for run in _fused._same_shape_runs([*batches, shorter])] == [3, 1]


@pytest.mark.parametrize("setting", ["steps_per_execution=1", "run_eagerly"])
def test_left_to_keras_where_fusing_does_not_apply(setting: str) -> None:
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2, activation="softmax")])
    if setting == "run_eagerly":
        model.compile(loss="sparse_categorical_crossentropy", steps_per_execution=4, run_eagerly=True)
    else:
        model.compile(loss="sparse_categorical_crossentropy")
    assert fuse_steps(model) is False
    x, y = _data(20)
    model.fit(x, y, batch_size=5, epochs=1, verbose=0)
    assert not isinstance(model.train_function, _fused._FusedSteps)


def _pool_threads_during_fit(extra: list[keras.callbacks.Callback]) -> set[str]:
    import threading

    seen: set[str] = set()
    probe = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda *_: seen.update(t.name for t in threading.enumerate() if "ThreadPool" in t.name)
    )
    x, y = _data(40)
    _model(4, True).fit(
        x, y, batch_size=10, epochs=3, validation_data=_data(20, 1), verbose=0, callbacks=[probe, *extra]
    )
    return seen


def test_synchronous_callbacks_keep_keras_hooks_on_the_calling_thread() -> None:
    from fitscope.experiment.training import needs_every_step
    from fitscope.keras_glue import SynchronousCallbacks

    assert _pool_threads_during_fit([])  # Keras's default: batch-end hooks go to a thread pool
    assert _pool_threads_during_fit([SynchronousCallbacks()]) == set()
    assert needs_every_step([SynchronousCallbacks()]) is False  # steps stay fused


def test_callbacks_go_inline_only_where_jax_computes_inline() -> None:
    """Keras's callback thread pool helps a local run (a spare core) and costs a single-threaded worker."""
    import subprocess
    import sys

    from fitscope.keras_glue import inline_callbacks

    assert inline_callbacks() == []
    script = (
        "import fitscope, jax\n"
        "jax.config.update('jax_cpu_enable_async_dispatch', False)\n"
        "from fitscope.keras_glue import inline_callbacks\n"
        "print([type(c).__name__ for c in inline_callbacks()])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['SynchronousCallbacks']"
