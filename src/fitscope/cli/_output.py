"""Shared output helpers: JSON printing and a rich console."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON (UTF-8, Korean text kept readable)."""
    json.dump(payload, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def console() -> Any:
    """A rich console on standard output (imported only when a command prints tables).

    Lines of text are never wrapped (``soft_wrap``): a long path stays one line that
    copies and pastes whole; tables still fit the terminal.
    """
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)
