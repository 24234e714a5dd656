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

__all__ = ["DEFAULT_BACKEND", "backend_note", "choose_default_backend", "user_backend"]

DEFAULT_BACKEND = "jax"
_BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}


def _keras_json() -> Path:
    return Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "keras.json"


def user_backend() -> str | None:
    """The backend the user chose, or ``None`` when they chose none."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = _keras_json()
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

    Has no effect once Keras is imported (Keras reads the setting at import).
    """
    if "keras" in sys.modules:
        import keras

        return str(keras.backend.backend())
    chosen = user_backend()
    if chosen is None:
        os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
        return DEFAULT_BACKEND
    return chosen


def backend_note() -> str | None:
    """A note for training commands when Keras's config file, not the user's environment, picked a slower backend.

    Keras writes ``keras.json`` naming TensorFlow on its first import, so a learner who
    once installed TensorFlow trains on it without having chosen it.
    """
    if os.environ.get("KERAS_BACKEND"):  # set by the user, or by fitscope when nothing was chosen
        return None
    chosen = user_backend()
    if chosen is None or chosen == DEFAULT_BACKEND:
        return None
    return (
        f"Keras runs on {chosen}, as {_keras_json()} names it (Keras writes that file on its first import). "
        f"KERAS_BACKEND={DEFAULT_BACKEND} trains small models like the book's about 5x faster on CPUs "
        "(setting KERAS_BACKEND either way silences this note)."
    )
