"""Atomic file writes: a temporary file in the same folder, flushed, then ``os.replace``.

A crash or a full disk leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["write_atomically"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(
    path: Path, write: Callable[[BinaryIO], object], *, durable: bool = False, shared: bool = True
) -> Path:
    """Write ``path`` through ``write(handle)`` so readers never see a partial file.

    Args:
        path: the final file; its folder must exist.
        write: fills the open binary handle.
        durable: fsync the file and its folder (checkpoints), not only replace it.
        shared: give the file the usual permissions (mkstemp makes 0600).

    Raises:
        OSError: the folder cannot be written or the disk is full; nothing is left behind.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if shared:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        if durable:
            _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
