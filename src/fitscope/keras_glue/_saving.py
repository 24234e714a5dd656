"""A model as a ``.keras`` file people can load without fitscope.

Keras's own format (``keras.saving.load_model``) holds the architecture, the weights
and the compile settings. fitscope's speed-ups patch the model object, not its
configuration, so what is saved is plain Keras (with Keras's default step settings,
so that any backend loads it). Classes from outside Keras (a
builder's own layers) are named in the file and must be importable, registered with
``keras.saving.register_keras_serializable`` or passed as ``custom_objects`` when it
is loaded: :func:`fitscope.store.custom_objects_in` says which.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..store import MODEL_RECORD

__all__ = ["keras_file_bytes"]


def keras_file_bytes(model: Any, weights: list[Any] | None = None, *, extra: Mapping[str, Any] | None = None) -> bytes:
    """``model`` saved in Keras's format, as bytes (a worker sends them to the driver, which writes the file).

    ``weights`` (as ``get_weights`` returns them) are saved instead of the model's own,
    which are put back afterwards. ``extra`` goes into the file as ``fitscope.json`` (Keras
    reads only its own entries; :func:`fitscope.store.model_record` reads it back).
    """
    held = model.get_weights() if weights is not None else None
    try:
        if weights is not None:
            model.set_weights(weights)
        with tempfile.TemporaryDirectory(prefix="fitscope-model-") as folder:
            path = Path(folder) / "model.keras"
            model.save(path)
            return _portable(path.read_bytes(), extra)
    finally:
        if held is not None:
            model.set_weights(held)


def _portable(data: bytes, extra: Mapping[str, Any] | None) -> bytes:
    """The file with Keras's default step settings: those fitscope chose to train fast are not the model's.

    ``steps_per_execution`` > 1 (fused steps) is refused by the PyTorch backend, and
    ``jit_compile=True`` means torch.compile there; ``"auto"`` lets each backend decide.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    config = json.loads(source.read("config.json"))
    compiled = config.get("compile_config")
    if compiled:
        compiled.update(steps_per_execution=1, jit_compile="auto")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = json.dumps(config) if entry.filename == "config.json" else source.read(entry.filename)
            target.writestr(entry, content)
        if extra:
            target.writestr(MODEL_RECORD, json.dumps(dict(extra)))
    return out.getvalue()
