"""Initial weights drawn through shared programs are Keras's own, with fewer programs compiled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fitscope  # noqa: F401  (chooses the JAX backend before Keras is imported)

# isort: split
import keras

from fitscope.keras_glue import _initial_weights, shared_weight_programs

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax", reason="the shared programs are JAX's")


def _varied_model() -> keras.Model:
    """Every draw Keras's initializers make: uniform, normal, truncated normal, orthogonal (normal + QR)."""
    keras.utils.set_random_seed(7)
    return keras.Sequential([
        keras.Input((12, 12, 1)),
        keras.layers.Conv2D(5, 3, kernel_initializer="he_normal"),  # truncated normal
        keras.layers.Flatten(),
        keras.layers.Dense(33, bias_initializer="random_normal"),  # glorot uniform; normal
        keras.layers.Dense(17, kernel_initializer="orthogonal"),
        keras.layers.Dense(9, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.3)),
        keras.layers.Dense(8000, kernel_initializer="lecun_uniform"),  # 72000 values: past the smallest flat draw
        keras.layers.Reshape((-1, 4)),
        keras.layers.LSTM(4),  # glorot uniform and orthogonal recurrent kernel
        keras.layers.Dense(2, kernel_initializer=keras.initializers.RandomUniform(-3, 5)),
    ])  # fmt: skip


def _weights(build: Callable[[], keras.Model]) -> list[np.ndarray]:
    return [np.asarray(weight) for weight in build().weights]


def test_shared_programs_draw_the_weights_keras_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _weights(_varied_model)
    with shared_weight_programs():
        shared = _weights(_varied_model)
    assert [w.shape for w in shared] == [w.shape for w in plain]
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(plain, shared))
    # Weights too large to pad are drawn as Keras draws them, and still equal.
    monkeypatch.setattr(_initial_weights, "_LARGEST", 1000)
    with shared_weight_programs():
        assert all(np.array_equal(a, b) for a, b in zip(plain, _weights(_varied_model)))


def test_models_of_new_shapes_compile_no_new_draw_programs() -> None:
    import jax

    compiled: list[Any] = []
    backend_compile = "/jax/core/compile/backend_compile_duration"
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, *_, **__: compiled.append(event) if event == backend_compile else None
    )

    def build(units: int) -> Callable[[], keras.Model]:
        return lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])

    def compiles(widths: tuple[int, ...], shared: bool) -> int:
        compiled.clear()
        for units in widths:
            if shared:
                with shared_weight_programs():
                    _weights(build(units))
            else:
                _weights(build(units))
        return len(compiled)

    with shared_weight_programs():
        _weights(build(2))  # the shared draw program, compiled once
    # New widths each way: Keras compiles a draw program per kernel shape, the shared one none
    # (both compile the zero biases' broadcast per shape).
    assert compiles((101, 103, 107), shared=False) >= compiles((109, 113, 127), shared=True) + 3
    assert jax.random.uniform.__name__ == "uniform" and not hasattr(jax.random.uniform, "__wrapped__")  # restored


def test_builds_in_several_threads_leave_jax_as_it_was() -> None:
    import threading

    import jax

    originals = [getattr(jax.random, name) for name in ("uniform", "normal", "truncated_normal")]
    inside = threading.Barrier(3)

    def build() -> None:
        with shared_weight_programs():
            inside.wait()  # all three are in at once, and leave in any order
            _weights(lambda: keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)]))

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [getattr(jax.random, name) for name in ("uniform", "normal", "truncated_normal")] == originals


def test_without_partitionable_threefry_the_draws_stay_keras_own() -> None:
    """Without it a draw is not the prefix of a longer one: nothing is swapped."""
    import jax

    before = jax.config.jax_threefry_partitionable
    jax.config.update("jax_threefry_partitionable", False)
    try:
        with shared_weight_programs():
            assert not hasattr(jax.random.uniform, "__wrapped__")
    finally:
        jax.config.update("jax_threefry_partitionable", before)
    with shared_weight_programs():
        assert hasattr(jax.random.uniform, "__wrapped__")  # swapped when it holds
        # ... and a draw made after the flag changed (another thread's doing) is Keras's own again.
        jax.config.update("jax_threefry_partitionable", False)
        try:
            drawn = np.asarray(jax.random.uniform(jax.random.PRNGKey(1), shape=(3, 5)))
            expected = np.asarray(jax.random.uniform.__wrapped__(jax.random.PRNGKey(1), shape=(3, 5)))
        finally:
            jax.config.update("jax_threefry_partitionable", before)
    assert np.array_equal(drawn, expected)
