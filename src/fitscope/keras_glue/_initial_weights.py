"""Draw a model's initial weights through a few compiled programs instead of one per shape (JAX backend).

Keras's initializers call ``jax.random.uniform``/``normal``/``truncated_normal``,
which JAX compiles once per output shape: a threefry program that takes 0.15-0.5 s
to compile, twice or more per new model (one per kernel shape). A search over layer
sizes, or a run in a fresh process, pays that for every model.

With JAX's partitionable threefry (its default), the value at each position of a
draw depends only on the key and the position's flat index: a draw of shape
``(784, 2)`` equals the first 1568 values of a longer flat draw with the same key,
reshaped. :func:`shared_weight_programs` draws each weight that way from a flat draw of
a power-of-two length (at least 65536), so the models of a search share a handful
of programs, and the weights are bit-identical to Keras's own (a test compares them).
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["shared_weight_programs"]

_SMALLEST = 2**16  # one program serves every weight up to this many values
_LARGEST = 2**24  # past this, padding to a power of two costs more than a compile saves
_DRAWS = ("uniform", "normal", "truncated_normal")
_lock = threading.Lock()
_depth = 0  # builds in progress
_originals: dict[str, Callable[..., Any]] = {}


@contextlib.contextmanager
def shared_weight_programs() -> Iterator[None]:
    """While a model creates its weights, draw them from shared flat programs.

    Does nothing off the JAX backend or when threefry is not partitionable (the
    prefix property above would not hold). Random draws inside training steps are
    traced, not drawn here, and run as before.
    """
    import keras

    if keras.backend.backend() != "jax":
        yield
        return
    import jax

    if not _prefixes_hold(jax):
        yield
        return
    global _depth
    with _lock:  # builds in several threads: the first one in swaps the draws, the last one out restores them
        if _depth == 0:
            _originals.update({name: getattr(jax.random, name) for name in _DRAWS})
            for name, draw in _originals.items():
                setattr(jax.random, name, _flat_draw(draw))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for name, draw in _originals.items():
                    setattr(jax.random, name, draw)


def _flat_draw(draw: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(draw)
    def flat(key: Any, *args: Any, **kwargs: Any) -> Any:
        import jax
        import numpy as np

        shape = kwargs.get("shape")
        if args or shape is None or isinstance(key, jax.core.Tracer) or not _prefixes_hold(jax):
            return draw(key, *args, **kwargs)  # a call shaped unlike Keras's initializers', or traced: as it is
        shape = tuple(int(d) for d in shape)
        size = math.prod(shape)
        if size == 0 or size > _LARGEST:
            return draw(key, *args, **kwargs)
        length = max(_SMALLEST, 1 << (size - 1).bit_length())
        values = np.asarray(draw(key, **{**kwargs, "shape": (length,)}))[:size].reshape(shape)
        return jax.device_put(values)  # a copy onto the device (jnp.asarray would compile one per shape)

    return flat


def _prefixes_hold(jax: Any) -> bool:
    """Whether a draw is the prefix of a longer one (read at each draw: the flag can change meanwhile)."""
    return bool(getattr(jax.config, "jax_threefry_partitionable", False))  # unknown to a future JAX: no
