"""Model state as plain arrays: checkpoints, resume, fingerprints, stateful layers."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from .._errors import StoreError

__all__ = [
    "architecture_fingerprint",
    "model_state",
    "reset_stateful_layers",
    "restore_state",
    "weights_fingerprint",
]


def _numpy(value: Any) -> np.ndarray:
    from keras import ops

    return np.asarray(ops.convert_to_numpy(value))


def model_state(model: Any) -> dict[str, np.ndarray]:
    """Weights (``w0000``...) and optimizer variables (``o0000``...) as numpy arrays."""
    arrays = {f"w{i:04d}": np.asarray(w) for i, w in enumerate(model.get_weights())}
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        for i, variable in enumerate(optimizer.variables):
            arrays[f"o{i:04d}"] = _numpy(variable)
    return arrays


def restore_state(model: Any, arrays: dict[str, np.ndarray]) -> None:
    """Put weights and optimizer state saved by :func:`model_state` back into ``model``.

    Raises:
        StoreError: the arrays do not fit the model (a different architecture or optimizer).
    """
    weights = [arrays[k] for k in sorted(arrays) if k.startswith("w")]
    slots = [arrays[k] for k in sorted(arrays) if k.startswith("o")]
    try:
        model.set_weights(weights)
    except ValueError as exc:
        raise StoreError(f"the checkpoint does not fit this model ({exc}).") from exc
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not slots:
        return
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    variables = list(optimizer.variables)
    if len(variables) != len(slots):
        raise StoreError(
            f"the checkpoint holds {len(slots)} optimizer variables but this optimizer has "
            f"{len(variables)}; was the run trained with another optimizer?"
        )
    for variable, value in zip(variables, slots):
        if tuple(variable.shape) != value.shape:
            raise StoreError(
                f"optimizer variable {variable.path} has shape {tuple(variable.shape)} "
                f"but the checkpoint holds {value.shape}."
            )
        variable.assign(value)


def architecture_fingerprint(model: Any) -> str:
    """A short hash of the layer types, weight shapes, optimizer and loss of ``model``.

    Auto-generated layer names (``dense_3``) are left out, so the same architecture
    built twice has the same fingerprint.
    """
    layers = [[type(layer).__name__, [list(w.shape) for w in layer.weights]] for layer in model.layers]
    optimizer = getattr(model, "optimizer", None)
    loss = getattr(model, "loss", None)
    described = {
        "layers": layers,
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "loss": loss if isinstance(loss, str) else type(loss).__name__,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]


def weights_fingerprint(model: Any) -> str:
    """sha256 of every weight's bytes: tells whether two evaluations used the same model."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        array = np.ascontiguousarray(weight)
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def reset_stateful_layers(model: Any) -> int:
    """Reset the state of every stateful layer (Keras 3 has no ``Model.reset_states()``).

    The book's stateful LSTM loop calls ``model.reset_states()`` after each
    ``fit(epochs=1)``; this is the Keras 3 equivalent. Returns how many layers
    were reset.
    """
    count = 0
    for layer in model._flatten_layers(include_self=False):
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state"):
            layer.reset_state()
            count += 1
    return count
