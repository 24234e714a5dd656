"""Shared output helpers: the argument parser, JSON printing and a rich console."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from .._i18n import _


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """``--help`` text: example lines stay as written; a prose line wider than the terminal is wrapped.

    argparse's raw formatter prints a long description on one line, however wide. Widths
    are counted in terminal cells: a Hangul syllable takes two (argparse counts one).
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        from rich.cells import cell_len

        lines: list[str] = []
        for line in text.splitlines():
            if line[:1].isspace() or cell_len(indent + line) <= width:
                lines.append(indent + line)  # an example, or short enough
            else:
                lines.extend(wrap(line, width, indent))
        return "\n".join(lines)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(" ".join(text.split()), width)

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns (a longer word stands alone), each after ``indent``."""
    from rich.cells import cell_len as cells  # (columns as a terminal draws them: a Hangul syllable takes two)

    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if not word:
            continue
        if line and cells(indent + line + " " + word) > width:
            lines.append(indent + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, indent + line] if line else lines


class Parser(argparse.ArgumentParser):
    """argparse's parser, speaking fitscope's language in its own words too (usage, section titles, -h).

    Its subcommands' parsers are of this class as well (``add_subparsers`` makes its own kind).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **{**kwargs, "add_help": False})
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help=_("show this help message and exit"))  # fmt: skip


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
    import errno
    import os

    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit with status 1; the command line stops as for any closed pipe (see main)
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return _Console(highlight=False, soft_wrap=True, width=PIPE_WIDTH if piped else None)


PIPE_WIDTH = 160
