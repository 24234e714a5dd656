"""The ``fitscope`` command line: a thin layer over the library.

Each sub-command lives in its own module and imports what it needs when it runs,
so ``fitscope --help`` and the store/data commands never import Keras.
"""

from __future__ import annotations

from ._main import main

__all__ = ["main"]
