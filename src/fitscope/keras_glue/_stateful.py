"""Stateful RNNs that keep their state on the JAX backend.

A ``stateful=True`` RNN layer keeps its last state in variables that Keras 3 creates
outside its variable tracking. TensorFlow and PyTorch read and write those variables
as they run, but the JAX trainer runs each step as a pure function of the state it
tracks: the RNN's state is baked into the compiled step as the zeros it held when the
step was traced, and the updates are dropped. The model trains as if it were not
stateful, silently (the book's stateful-LSTM loop among others).

:func:`carry_rnn_states` hands those variables to the layer's list of random-seed
states, which Keras includes in ``layer.variables`` (so the JAX trainer threads them
through ``fit``, ``evaluate`` and ``predict``, and writes them back) but not in
``layer.weights`` (so saved weights and ``get_weights`` are unchanged).
``layer.reset_state()`` keeps working on the same variables.
"""

from __future__ import annotations

from typing import Any, cast

from .._errors import FitscopeError
from ._speedups import Patch, missing_private_parts

__all__ = ["STATEFUL_RNN", "carry_rnn_states"]

# What the fix relies on: the layer's list of states it threads besides its weights.
STATEFUL_RNN = Patch(
    "stateful RNN state on JAX",
    (
        "keras.src.layers.layer:Layer.variables",
        "keras.src.layers.layer:Layer._flatten_layers",
        "keras.src.layers.rnn.rnn:RNN.reset_state",
    ),
)


class _CarriedState:
    """Stands in the layer's list of seed generators: Keras reads its ``state`` variable."""

    def __init__(self, variable: Any) -> None:
        self.state = variable


def carry_rnn_states(model: Any) -> int:
    """Make the stateful RNN layers of ``model`` carry their state through JAX's compiled steps.

    Call once the model is built (before the first ``fit``, ``evaluate`` or
    ``predict`` traces its steps); calling it again does nothing more. Off the JAX
    backend nothing needs doing.

    Returns:
        How many layers' states are now carried.

    Raises:
        FitscopeError: the installed Keras lacks what the fix relies on (then a stateful
            model on JAX would silently train as a stateless one).
    """
    import keras

    if keras.backend.backend() != "jax":
        return 0
    stateful = [
        layer
        for layer in model._flatten_layers(include_self=False)
        if getattr(layer, "stateful", False) and getattr(layer, "states", None) is not None
    ]
    if not stateful:
        return 0
    missing = missing_private_parts(STATEFUL_RNN)
    holders = [getattr(layer, "_seed_generators", None) for layer in stateful]
    if missing or not all(isinstance(h, list) for h in holders):
        raise FitscopeError(
            f"Keras {keras.__version__} on JAX would train this stateful RNN as if it kept no state, and fitscope "
            f"cannot fix it for this version ({', '.join(missing) or 'Layer._seed_generators'} is gone). Train it "
            "with KERAS_BACKEND=tensorflow or KERAS_BACKEND=torch, where stateful layers work."
        )
    for layer, holder in zip(stateful, cast(list[list[Any]], holders)):
        carried = {id(getattr(item, "state", None)) for item in holder}
        for variable in keras.tree.flatten(layer.states):
            if id(variable) not in carried:
                # list.append: the list is the layer's tracked store, locked once the layer is built.
                list.append(holder, _CarriedState(variable))
    return len(stateful)
