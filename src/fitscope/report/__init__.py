"""The report layer: TensorBoard launcher (figures and the HTML report come next)."""

from __future__ import annotations

from ._board import board_command, start_board

__all__ = ["board_command", "start_board"]
