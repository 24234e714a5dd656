"""Start TensorBoard on a run store's event files."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

__all__ = ["board_command", "start_board"]


def board_command(logdir: Path, port: int | None = None) -> str:
    """The exact equivalent ``tensorboard`` command line (quoted for a POSIX shell)."""
    command = f"tensorboard --logdir {shlex.quote(str(logdir.resolve()))}"
    return command + (f" --port {port}" if port else "")


def start_board(logdir: Path, *, port: int = 6006, host: str = "127.0.0.1") -> tuple[str, Any]:
    """Serve TensorBoard in a background thread; returns ``(url, server)``.

    The path may hold spaces or Korean characters: it is passed as one argument,
    never through a shell.
    """
    from tensorboard import program

    board = program.TensorBoard()
    board.configure(argv=[None, "--logdir", str(logdir.resolve()), "--port", str(port), "--host", host])
    url = board.launch()
    return url, board
