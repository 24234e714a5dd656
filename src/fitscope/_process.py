"""Set up a process that fitscope owns (the command line, a worker) for training."""

from __future__ import annotations

import gc
import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["freeze_imports", "own_process"]

_owned = False
_frozen = False


def own_process() -> None:
    """Declare this process fitscope's own (the CLI, a worker).

    Such a process freezes its imports (:func:`freeze_imports`) and imports Keras
    without Keras's optional extras (:class:`_SkipKerasExtras`).
    """
    global _owned
    if not _owned:
        sys.meta_path.insert(0, _SkipKerasExtras())
    _owned = True


class _SkipKerasExtras(importlib.abc.MetaPathFinder):
    """Keep Keras's optional scikit-learn and matplotlib extras from loading in fitscope's own processes.

    ``import keras`` loads scikit-learn (for ``keras.wrappers``) and matplotlib (for
    ``keras.visualization``) up front: 1.0 of its 2.4 s on the development machine,
    paid by every training command and again by every process worker. Keras treats
    both as optional and falls back when they are missing; fitscope's training uses
    neither feature. So this finder answers "not installed" to those two Keras modules
    only. Anyone else, fitscope's own splits and figures included, imports them as
    usual, and a program that merely imports fitscope as a library is not touched.
    """

    SKIPPED = ("sklearn", "matplotlib")
    FOR = ("keras.src.wrappers", "keras.src.visualization")

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        top = fullname.partition(".")[0]
        if top in self.SKIPPED and top not in sys.modules and _importing_module().startswith(self.FOR):
            raise ModuleNotFoundError(f"No module named {top!r} (skipped for Keras in a fitscope process)", name=top)
        return None


def _importing_module() -> str:
    """The name of the module whose code runs the import being looked up."""
    frame = sys._getframe(2)  # find_spec's caller is importlib's machinery
    while frame is not None and frame.f_globals.get("__name__", "").startswith("importlib"):
        frame = frame.f_back  # type: ignore[assignment]
    return frame.f_globals.get("__name__", "") if frame is not None else ""


def freeze_imports() -> None:
    """Once Keras is imported, move every object that exists out of the garbage collector's way.

    Keras, JAX and their dependencies leave a few hundred thousand long-lived objects
    that every full collection walks again: ~0.15 s per ``keras.backend.clear_session``
    (one per trial) and a few percent of a small model's training. Frozen, the
    collector only looks at what training creates (measured: 5-7 % off a 4-trial
    search). Training code calls this right after importing Keras; it acts only in a
    process fitscope owns, as a library call must not freeze its caller's objects.
    """
    global _frozen
    if _owned and not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True
