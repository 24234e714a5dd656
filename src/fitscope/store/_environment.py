"""Where a run came from: the command, the code's git commit (and whether it had changes), the machine.

Kept with each run a process starts (``versions["environment"]``),
so ``runs show``, the report and ``compare`` can tell runs of different code apart. Git
is asked in the working folder; outside a repository, or without git, the code is
simply not known. Nothing here imports a library: accelerators are read from JAX or
PyTorch only when the program already loaded them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from typing import Any

from .._i18n import _

__all__ = ["code_differs", "describe_code", "environment"]


# Git is asked again once its answer is this many seconds old: a search starting its trials
# asks once, a notebook whose code changed between two runs is asked again.
FRESH_SECS = 5.0
_asked: dict[str, tuple[float, dict[str, Any] | None]] = {}


def environment() -> dict[str, Any]:
    """The command line, working folder, git state, machine and accelerators of this process."""
    folder = os.getcwd()
    when, git = _asked.get(folder, (-math.inf, None))
    if time.monotonic() - when > FRESH_SECS:
        git = _git(folder)
        _asked[folder] = (time.monotonic(), git)
    command = shlex.join([os.path.basename(sys.argv[0]) or "python", *sys.argv[1:]]) if sys.argv else None
    found: dict[str, Any] = {"command": command, "cwd": folder, "git": git, **_machine()}
    accelerators = _accelerators()
    if accelerators:
        found["accelerators"] = accelerators
    return found


@functools.cache
def _machine() -> dict[str, Any]:
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count()}  # fmt: skip


def _git(folder: str) -> dict[str, Any] | None:
    """The commit checked out in ``folder``, whether the tree has changes, and a hash of them; ``None`` outside git."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True, timeout=5, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.decode(errors="replace") if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None
    status = git("status", "--porcelain", "--untracked-files=no") or ""
    diff = git("diff", "HEAD") if status.strip() else None
    return {"commit": commit.strip(), "dirty": bool(status.strip()),
            "diff": hashlib.sha256(diff.encode()).hexdigest()[:16] if diff else None}  # fmt: skip


def _accelerators() -> list[str]:
    found: list[str] = []
    jax = sys.modules.get("jax")
    if jax is not None:
        with contextlib.suppress(Exception):  # (a JAX without a usable backend: nothing to name)
            found += [str(device) for device in jax.devices() if device.platform != "cpu"]
    torch = sys.modules.get("torch")
    if torch is not None and getattr(torch, "cuda", None) is not None and torch.cuda.is_available():
        found += [torch.cuda.get_device_name(number) for number in range(torch.cuda.device_count())]
    return found


def describe_code(environment: dict[str, Any] | None) -> str | None:
    """A run's code in a few words: ``code: git 3f2a1bc`` (and its uncommitted changes' hash), or ``None``."""
    git = (environment or {}).get("git")
    if not git:
        return None
    text = _("code: git {commit}").format(commit=str(git.get("commit", ""))[:12])
    if git.get("dirty"):
        text += ", " + _("with uncommitted changes (diff {diff})").format(diff=git.get("diff") or "?")
    return text


def code_differs(first: dict[str, Any] | None, second: dict[str, Any] | None) -> bool:
    """Whether two runs' recorded code differs (a commit, or the uncommitted changes); ``False`` when not known."""
    one, other = (first or {}).get("git"), (second or {}).get("git")
    if not one or not other:
        return False
    return (one.get("commit"), one.get("diff")) != (other.get("commit"), other.get("diff"))
