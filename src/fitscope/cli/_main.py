"""Argument parsing, dispatch, and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .._backend import backend_note
from .._errors import FitscopeError, Interrupted
from .._i18n import LANGUAGES, N_, _, set_language
from .._process import own_process
from .._version import __version__
from . import (
    _compare,
    _completion,
    _data,
    _diagnose,
    _doctor,
    _errors,
    _export,
    _plot,
    _predict,
    _run,
    _runs,
    _search,
    _split,
)
from ._output import Parser

EXIT_OK = 0
EXIT_USAGE = 2

_DESCRIPTION = N_("""\
fitscope makes Keras training honest and visible: reproducible splits with a
leakage audit, every epoch recorded, curves, diagnosis and a sealed test set.
""")

_EPILOG = N_("""\
examples:
  fitscope demo                 # the book's two MNIST experiments, explained
  fitscope data ls
  fitscope split --dataset mnist --val 10000 --no-shuffle --test provided \\
      --subsample 700,300 --seed 3
  fitscope split --dataset digits --val 0.2 --test 0.2 --stratify --seed 0 --json
  fitscope run digits_quick
  fitscope runs                 # the runs recorded in ./fitscope-runs
  fitscope board                # TensorBoard on every run

Set FITSCOPE_DATA to the folder holding mnist.npz (or pass --data-dir).
Run `fitscope COMMAND --help` for a command's options.
""")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="fitscope", description=_(_DESCRIPTION), epilog=_(_EPILOG))
    parser.add_argument("--version", action="version", version=f"fitscope {__version__}",
                        help=_("show fitscope's version and exit"))  # fmt: skip
    parser.add_argument("--debug", action="store_true", help=_("show the full traceback when something fails"))
    parser.add_argument("--lang", choices=LANGUAGES, help=_("the language to speak: en or ko (default: the locale's; "
                        "LANG=ko_KR.UTF-8 is Korean, and so is FITSCOPE_LANG=ko)"))  # fmt: skip
    _runs.add_runs_option(
        parser,
        help_text=N_("the run store folder (default: $FITSCOPE_HOME or ./fitscope-runs); also taken after the command"),
    )
    parser.set_defaults(uses_store=False)  # each command that reads or writes runs sets it
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _split.add_parser(commands)
    _data.add_parser(commands)
    _run.add_demo_parser(commands)
    _run.add_parser(commands)
    _runs.add_parser(commands)
    _export.add_parser(commands)
    _diagnose.add_parser(commands)
    _errors.add_parser(commands)
    _compare.add_parser(commands)
    _predict.add_parser(commands)
    _search.add_parser(commands)
    _plot.add_parser(commands)
    _doctor.add_parser(commands)
    _completion.add_parser(commands)
    return parser


def _descending_sort_keys(argv: list[str]) -> list[str]:
    """``--sort -best.val_accuracy`` as ``--sort=-best.val_accuracy``: argparse takes ``-best...`` for an option."""
    out: list[str] = []
    for word in argv:
        if out and out[-1] == "--sort" and word.startswith("-") and not word.startswith("--"):
            out[-1] = f"--sort={word}"
        else:
            out.append(word)
    return out


def _language_asked(words: list[str]) -> str | None:
    """The language ``--lang`` names among ``words`` (``--lang ko`` or ``--lang=ko``), if one fitscope speaks."""
    for word, after in zip(words, [*words[1:], ""], strict=True):
        value = after if word == "--lang" else word.removeprefix("--lang=") if word.startswith("--lang=") else None
        if value in LANGUAGES:
            return value
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    words = _descending_sort_keys(sys.argv[1:] if argv is None else list(argv))
    asked = _language_asked(words)
    if asked is not None:  # (before the parser is made: its --help speaks it)
        set_language(asked)
    with _plain_warnings("--debug" in words):  # (an unknown FITSCOPE_LANG is said while the help is worded)
        parser = build_parser()
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    if "runs" in vars(args) and not args.uses_store:  # (before or after the command: one line either way)
        print(f"fitscope {args.command}: error: --runs: `fitscope {args.command}` does not read or write runs; "
              "leave --runs out", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    own_process()  # the command line owns its process (see fitscope._process)
    note = backend_note() if getattr(args, "trains", False) else None
    if note:
        print(f"note: {note}", file=sys.stderr)
    try:
        if args.lang is not None:
            set_language(args.lang)
        with _sigterm_as_interrupt(), _plain_warnings(args.debug):
            return int(args.handler(args) or EXIT_OK)
    except FitscopeError as exc:
        if args.debug:
            raise
        print(f"fitscope {args.command}: error: {exc.worded(_flags(parser).get)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        if args.debug:
            raise
        # The reader went away (`fitscope runs --json | head`): stop quietly, as Unix tools
        # do, and keep Python's final flush of stdout from failing once more at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt as stop:
        if Interrupted.of(stop).how == "SIGTERM":
            print(_("fitscope {command}: stopped (SIGTERM)").format(command=args.command), file=sys.stderr)
            return 128 + signal.SIGTERM
        print(_("fitscope {command}: interrupted").format(command=args.command), file=sys.stderr)
        return 130


def _flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each argument's name (its ``dest``, the library's name for it) to its option, over every command."""
    found: dict[str, str] = {}

    def walk(level: argparse.ArgumentParser) -> None:
        for action in level._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)
            elif action.option_strings:
                found.setdefault(action.dest, max(action.option_strings, key=len))

    walk(parser)
    return found


@contextmanager
def _plain_warnings(debug: bool) -> Iterator[None]:
    """fitscope's own warnings as one line, ``warning: ...``, without a file name and source line (unless --debug)."""
    original = warnings.formatwarning
    package = Path(__file__).resolve().parents[1]

    def plain(
        message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None
    ) -> str:
        if Path(filename).resolve().is_relative_to(package):
            return f"warning: {message}\n"
        return original(message, category, filename, lineno, line)

    if not debug:
        warnings.formatwarning = plain
    try:
        yield
    finally:
        warnings.formatwarning = original


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill``, a batch scheduler's stop) ends a command as Ctrl-C does, not abruptly.

    What is training is marked interrupted, worker processes stop, a recorded run
    saves a checkpoint at the end of its epoch; the previous handler comes back after.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Interrupted("SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run() -> None:  # pragma: no cover - the console-script entry point
    sys.exit(main())
