"""Set up a process that fitscope owns (the command line, a worker) for training."""

from __future__ import annotations

import atexit
import gc
import importlib.abc
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = [
    "freeze_imports", "import_keras", "own_process", "pid_alive", "remove_compile_cache", "reuse_compiled_programs",
]  # fmt: skip

_owned = False
_frozen = False
_compile_cache: str | None = None
_CACHE_PREFIX = "fitscope-xla-"


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


def import_keras() -> None:
    """Import Keras (and its backend) with the cyclic garbage collector paused.

    The import creates a few hundred thousand objects, and the collections their
    allocations set off walk them all and find almost nothing to free: ~0.2 s of the
    ~1.1 s the import takes, paid by every training process and again by every pool
    worker. The collector runs again as before once Keras is in (objects are not
    lost, only collected later). Called where a fitscope process first imports Keras:
    ``keras_glue`` (``fitscope run``), a search's name check, a trial, a pool worker.
    """
    if "keras" in sys.modules:
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        import keras  # noqa: F401
    finally:
        if enabled:
            gc.enable()


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


def reuse_compiled_programs() -> None:
    """Let this process's trials reuse the XLA programs its earlier trials compiled.

    The folds of a cross-validation, and search trials that change only settings
    such as the learning rate, build models of the same shapes; each new model
    compiles its weight initialisers and its training and validation loops again
    (0.5 s a trial for the book's toy model, about 2 s for the full one). JAX's
    persistent compilation cache finds them by their program text instead. The cache
    lives in a private folder that only this process uses and that it removes at
    exit: JAX writes entries in place, so processes sharing a folder could read a
    half-written one, and nothing carries over from one command to the next. A
    cache the user configured (``JAX_COMPILATION_CACHE_DIR``) is used as it is.
    A trial calls this right after importing Keras, before it compiles anything (a
    single ``fitscope run`` has nothing to reuse); it acts only in a process
    fitscope owns, on the JAX backend.
    """
    global _compile_cache
    if not _owned or _compile_cache is not None or "jax" not in sys.modules:
        return
    import jax
    import keras

    if keras.backend.backend() != "jax" or getattr(jax.config, "jax_compilation_cache_dir", None):
        return
    _remove_orphaned_caches()
    _compile_cache = tempfile.mkdtemp(prefix=f"{_CACHE_PREFIX}{os.getpid()}-")
    atexit.register(remove_compile_cache)
    jax.config.update("jax_compilation_cache_dir", _compile_cache)
    # The default keeps only programs that took a second to compile; a toy's take 0.1-0.3 s.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)


def remove_compile_cache() -> None:
    """Remove this process's private compilation cache (a worker that ends with ``os._exit`` calls this first)."""
    if _compile_cache is not None:
        shutil.rmtree(_compile_cache, ignore_errors=True)


def _remove_orphaned_caches() -> None:
    """Remove the private caches of fitscope processes that were killed before they could."""
    for folder in os.scandir(tempfile.gettempdir()):
        pid = folder.name.removeprefix(_CACHE_PREFIX).partition("-")[0]
        if folder.name.startswith(_CACHE_PREFIX) and pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(folder.path, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
