"""Choose the Keras backend before Keras is first imported.

fitscope defaults to JAX when the user has not chosen a backend (neither the
``KERAS_BACKEND`` environment variable nor ``~/.keras/keras.json``): measured on a
2-core CPU it runs the book's toy model ~5x faster per epoch than TensorFlow or
PyTorch, and Keras's own default (TensorFlow) may not even be installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

__all__ = ["DEFAULT_BACKEND", "FAST_MATH_FLAGS", "choose_default_backend", "user_backend"]

# XLA's CPU fast-math lets the compiler reorder float arithmetic (as oneDNN and most
# BLAS do) while NaN, infinity, division and math-function semantics stay exact, so
# a diverging loss is still caught. Measured here: the book's full model trains in
# ~0.76 s per epoch instead of ~1.0 s, with the same accuracy (see BENCHMARKS.md).
FAST_MATH_FLAGS = (
    "--xla_cpu_enable_fast_math=true --xla_cpu_fast_math_honor_nans=true --xla_cpu_fast_math_honor_infs=true "
    "--xla_cpu_fast_math_honor_division=true --xla_cpu_fast_math_honor_functions=true"
)

DEFAULT_BACKEND = "jax"
_BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}


def user_backend() -> str | None:
    """The backend the user chose, or ``None`` when they chose none."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "keras.json"
    try:
        chosen = json.loads(config.read_text()).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    if not chosen:
        return None
    # Keras writes keras.json with "tensorflow" on its first import whatever the
    # user wants; a config naming a backend that is not installed is that default.
    module = _BACKEND_MODULES.get(str(chosen), str(chosen))
    if importlib.util.find_spec(module) is None:
        return None
    return str(chosen)


def choose_default_backend() -> str:
    """Set ``KERAS_BACKEND`` to JAX unless the user chose one; return the backend in use.

    With JAX, also turns on XLA's CPU fast-math (NaN/inf semantics kept) unless the
    user set ``XLA_FLAGS`` or ``FITSCOPE_XLA_FAST_MATH=0``. Has no effect once
    Keras (or JAX) is imported: they read these settings at import.
    """
    if "keras" in sys.modules:
        import keras

        return str(keras.backend.backend())
    chosen = user_backend()
    if chosen is None:
        os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
        chosen = DEFAULT_BACKEND
    if chosen == "jax" and "jax" not in sys.modules and os.environ.get("FITSCOPE_XLA_FAST_MATH", "1") != "0":
        # Only when the user set no XLA flags of their own.
        os.environ.setdefault("XLA_FLAGS", FAST_MATH_FLAGS)
    return chosen
