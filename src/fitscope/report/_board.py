"""Start TensorBoard on a run store's event files."""

from __future__ import annotations

import contextlib
import io
import shlex
import sys
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
    never through a shell. Port 0 picks a free port.

    Raises:
        ArgumentError: the port is in use, or the address cannot be served.
    """
    from tensorboard import program

    from .._errors import argument_error

    board = program.TensorBoard()
    board.configure(argv=[None, "--logdir", str(logdir.resolve()), "--port", str(port), "--host", host])
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            url = board.launch()
    except program.TensorBoardPortInUseError:
        raise argument_error(
            f"cannot serve TensorBoard on port {port}: it is already in use (another TensorBoard?). "
            "Choose another with <<port>>, or <<port=0>> for any free port."
        ) from None
    except program.TensorBoardServerException as exc:  # a port that needs root, an address family not supported
        raise argument_error(
            f"cannot serve TensorBoard on {host}:{port}: {exc.msg}. Check <<host>> and <<port>>."
        ) from None
    except SystemExit:  # werkzeug prints why it could not bind (an address not on this machine), then exits
        why = (said.getvalue().strip().splitlines() or ["the address cannot be bound"])[-1]
        raise argument_error(
            f"cannot serve TensorBoard on {host}:{port}: {why}. Check <<host>> and <<port>>."
        ) from None
    sys.stderr.write(said.getvalue())
    return url, board
