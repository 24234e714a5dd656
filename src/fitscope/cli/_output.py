"""Shared output helpers: JSON printing and a rich console."""

from __future__ import annotations

import json
import math
import sys
from typing import Any


def print_json(payload: Any) -> None:
    """Print ``payload`` as indented, strict JSON (UTF-8, Korean text kept readable).

    NaN and infinities (a diverged loss) become ``null``: JSON has no such numbers, and
    ``NaN`` in the output would break every strict parser (jq, JavaScript).
    """
    json.dump(_strict(payload), sys.stdout, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    sys.stdout.write("\n")


def _strict(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(item) for item in value]
    if hasattr(value, "dtype") and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()  # a numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def console() -> Any:
    """A rich console on standard output (imported only when a command prints tables).

    Lines of text are never wrapped (``soft_wrap``): a long path stays one line that
    copies and pastes whole; tables fit the terminal. Written to a pipe or a file, a
    table gets up to ``PIPE_WIDTH`` columns (rich would squeeze it into 80), so each
    row stays one line for ``grep`` and the like; ``COLUMNS`` still decides if set.
    """
    import os

    from rich.console import Console

    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, soft_wrap=True, width=PIPE_WIDTH if piped else None)


PIPE_WIDTH = 160
