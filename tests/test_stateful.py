"""A stateful RNN keeps its state through fit, evaluate and predict on fitscope's default backend (JAX)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import fitscope
from fitscope.keras_glue import STATEFUL_RNN, carry_rnn_states, reset_stateful_layers
from fitscope.keras_glue._speedups import missing_private_parts

BATCH, STEPS, UNITS = 2, 4, 3
RNG = np.random.default_rng(0)
X = RNG.normal(size=(8, STEPS, 1)).astype("float32")
Y = RNG.normal(size=(8, 1)).astype("float32")


def lstm_model(*, stateful: bool) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((STEPS, 1), batch_size=BATCH), keras.layers.LSTM(UNITS, stateful=stateful),
                              keras.layers.Dense(1)])  # fmt: skip
    model.compile(loss="mse", optimizer="sgd")
    return model


def state_of(model: keras.Model) -> float:
    return float(sum(np.abs(np.asarray(v.value)).sum() for v in model.layers[0].states))


def test_the_fix_finds_what_it_relies_on() -> None:
    assert missing_private_parts(STATEFUL_RNN) == [], f"Keras {keras.__version__}: the stateful-RNN fix needs updating"
    layer = lstm_model(stateful=True).layers[0]
    assert isinstance(layer._seed_generators, list) and layer.states is not None


def _recorded_fit(model: keras.Model, tmp_path: Path, epochs: int) -> list[float]:
    run = fitscope.Store(tmp_path).start_run(name="lstm")
    model.fit(X, Y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0, callbacks=[fitscope.Recorder(run)])
    return run.history()["loss"]


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the JAX trainer is the one that dropped the state")
def test_a_stateful_lstm_trains_with_its_state_as_a_hand_written_loop_does(tmp_path: Path) -> None:
    import jax
    import jax.numpy as jnp

    stateless = _recorded_fit(lstm_model(stateful=False), tmp_path / "a", 2)
    model = lstm_model(stateful=True)
    initial = model.get_weights()
    stateful = _recorded_fit(model, tmp_path / "b", 2)
    assert stateful != stateless  # (they were equal bit for bit: no state was kept)
    assert state_of(model) > 0
    assert len(model.get_weights()) == len(initial)  # the state is not a weight: saved models are unchanged

    # The reference: a stateless twin whose state is carried by hand from batch to batch.
    inputs = keras.Input((STEPS, 1), batch_size=BATCH)
    h_in, c_in = keras.Input((UNITS,), batch_size=BATCH), keras.Input((UNITS,), batch_size=BATCH)
    sequence, h_out, c_out = keras.layers.LSTM(UNITS, return_state=True)(inputs, initial_state=[h_in, c_in])
    twin = keras.Model([inputs, h_in, c_in], [keras.layers.Dense(1)(sequence), h_out, c_out])
    twin.set_weights(initial)
    weights = [v.value for v in twin.trainable_variables]
    others = [v.value for v in twin.non_trainable_variables]

    def loss_of(weights: list, x: jax.Array, y: jax.Array, h: jax.Array, c: jax.Array) -> tuple:
        (out, h, c), _ = twin.stateless_call(weights, others, [x, h, c], training=True)
        return jnp.mean(jnp.square(out - y)), (h, c)

    h = c = jnp.zeros((BATCH, UNITS))
    reference = []
    for _ in range(2):  # fit keeps the state from one epoch to the next
        losses = []
        for start in range(0, len(X), BATCH):
            (loss, (h, c)), grads = jax.value_and_grad(loss_of, has_aux=True)(
                weights, X[start : start + BATCH], Y[start : start + BATCH], h, c
            )
            weights = [w - 0.01 * g for w, g in zip(weights, grads)]  # sgd's default learning rate
            losses.append(float(loss))
        reference.append(float(np.mean(losses)))
    np.testing.assert_allclose(stateful, reference, rtol=1e-5)
    for ours, theirs in zip(model.trainable_variables, weights):
        np.testing.assert_allclose(np.asarray(ours.value), np.asarray(theirs), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(model.layers[0].states[0].value), np.asarray(h), rtol=1e-5, atol=1e-7)

    assert reset_stateful_layers(model) == 1 and state_of(model) == 0.0


def test_predict_and_evaluate_carry_the_state_as_calls_one_batch_at_a_time_do() -> None:
    model = lstm_model(stateful=True)
    carry_rnn_states(model)
    by_hand = np.concatenate([np.asarray(model(X[i : i + BATCH])) for i in range(0, len(X), BATCH)])
    assert state_of(model) > 0
    reset_stateful_layers(model)
    assert state_of(model) == 0.0
    np.testing.assert_allclose(model.predict(X, batch_size=BATCH, verbose=0), by_hand, rtol=1e-5, atol=1e-6)
    reset_stateful_layers(model)
    loss = model.evaluate(X, Y, batch_size=BATCH, verbose=0)
    assert loss == pytest.approx(float(np.mean(np.square(by_hand - Y))), rel=1e-5)
    assert carry_rnn_states(model) == 1 and len(model.layers[0]._seed_generators) == 2  # (h and c, once)


def test_a_spec_s_stateful_model_keeps_its_state(tmp_path: Path) -> None:
    """Through fitscope's own training path: the stateful spec's losses differ from the stateless one's."""
    import yaml

    np.savez(tmp_path / "seq.npz", x=np.repeat(X, 4, axis=0), y=(np.arange(32) % 2))
    (tmp_path / "rnn_builders.py").write_text(
        "import keras\n"
        "def lstm(stateful):\n"
        "    return keras.Sequential([keras.Input((4, 1), batch_size=8), keras.layers.LSTM(3, stateful=stateful),\n"
        "                             keras.layers.Dense(2, activation='softmax')])\n"
        "def stateful():\n    return lstm(True)\n"
        "def stateless():\n    return lstm(False)\n"
    )
    histories = {}
    for builder in ("stateful", "stateless"):
        spec = {
            "name": builder, "data": {"dataset": str(tmp_path / "seq.npz"), "scale": False, "flatten": False},
            "split": {"val": 8, "shuffle": False}, "model": f"rnn_builders:{builder}",
            "compile": {"loss": "sparse_categorical_crossentropy", "optimizer": "sgd", "metrics": ["accuracy"]},
            "fit": {"epochs": 2, "batch_size": 8, "shuffle": False}, "seed": 0,
        }  # fmt: skip
        (tmp_path / f"{builder}.yaml").write_text(yaml.safe_dump(spec))
        result = fitscope.run_spec(tmp_path / f"{builder}.yaml", runs=tmp_path / "runs", progress=False)
        assert result.status == "finished"
        histories[builder] = result.history["loss"]
    assert histories["stateful"] != histories["stateless"]
