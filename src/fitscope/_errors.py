"""The exceptions fitscope raises.

Every error a user can cause is a subclass of :class:`FitscopeError`, so a
program (and fitscope's own command line) can catch them in one place and tell
them apart from bugs:

- :class:`ArgumentError` — an argument has a value fitscope cannot use (also a
  :class:`ValueError`, worded like Keras: ``Invalid value for argument ...``).
- :class:`DataError` — a data file or array is missing, corrupt or inconsistent.
- :class:`StoreError` — the run store cannot be opened, written or read.
- :class:`SpecError` — an experiment spec file is invalid.

:class:`Interrupted` is not an error: a :class:`KeyboardInterrupt` that says what
stopped training or a command (``how``: ``"Ctrl-C"`` or ``"SIGTERM"``).

Messages say what was wrong, where (file, row, key) and how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

__all__ = [
    "OUTPUT_CLOSED",
    "ArgumentError",
    "DataError",
    "FitscopeError",
    "Interrupted",
    "SpecError",
    "StoreError",
    "argument_error",
    "invalid_argument",
]


class FitscopeError(Exception):
    """Base class of every error fitscope raises on purpose.

    A message that names arguments is written as a template (:func:`argument_error`):
    ``str(error)`` names them as Python does (`` `group_by` ``, ``select='cv'``), and
    :meth:`worded` as the caller names them (the command line: ``--group-by``,
    ``--select cv``), so no layer below the CLI words its errors with the CLI's flags.
    """

    template: str | None = None

    def worded(self, option: Callable[[str], str | None]) -> str:
        """The message with each argument named by ``option(name)`` (``None``: as Python names it)."""
        if self.template is not None:
            return _render(self.template, option)
        name = getattr(self, "name", None)
        flag = option(name) if name is not None else None
        if flag is not None:  # an `invalid_argument` message, worded for the flag
            value, expected = getattr(self, "value", None), getattr(self, "expected", "")
            return f"Invalid value for {flag}: {value!r}. {expected}".rstrip()
        return str(self)


class ArgumentError(FitscopeError, ValueError):
    """An argument has a value that cannot be used.

    Made by :func:`invalid_argument`, it also keeps the argument's ``name``, the
    ``value`` received and what was ``expected``, so a caller that knows the argument
    by another name (a spec key) can word the message again.
    """

    name: str | None = None
    value: object = None
    expected: str = ""


class DataError(FitscopeError):
    """A dataset, data file or array is missing, corrupt or inconsistent."""


class StoreError(FitscopeError):
    """The run store cannot be opened, written or read.

    ``run_id`` names the run that was being trained when it happened (a full disk in
    the middle of ``run_spec``), so a caller can say how to resume it.
    """

    run_id: str | None = None


class SpecError(FitscopeError):
    """An experiment spec is invalid."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped training or a command; ``how`` says which.

    A :class:`KeyboardInterrupt`, so code that handles Ctrl-C handles it too. Raised
    by fitscope's signal handlers, and by :func:`fitscope.demo` when a run of it was
    stopped.
    """

    def __init__(self, how: str = "Ctrl-C") -> None:
        super().__init__(how)
        self.how = how

    @classmethod
    def of(cls, stop: BaseException) -> Interrupted:
        """``stop`` as an :class:`Interrupted` (a plain KeyboardInterrupt is Ctrl-C)."""
        return stop if isinstance(stop, Interrupted) else cls("Ctrl-C")

    @property
    def by(self) -> str:
        """How a run's reason says it: ``by the user (Ctrl-C)`` or ``by SIGTERM``."""
        return "by the user (Ctrl-C)" if self.how == "Ctrl-C" else f"by {self.how}"


# How a run's reason says that training stopped because the command's reader went away
# (`fitscope cv ... | head`: a closed pipe stops the command, as it stops Unix tools).
OUTPUT_CLOSED = "its output was closed"


# <<name>> names an argument; <<name=value>> names it with a value (see FitscopeError.worded).
_PLACEHOLDER = re.compile(r"<<(\w+)(?:=(.*?))?>>")


def _render(template: str, option: Callable[[str], str | None]) -> str:
    def name(match: re.Match[str]) -> str:
        argument, value = match.group(1), match.group(2)
        flag = option(argument)
        if flag is None:
            return f"`{argument}`" if value is None else f"{argument}={_python_value(value)}"
        return flag if value is None else f"{flag} {value}"

    return _PLACEHOLDER.sub(name, template)


def _python_value(text: str) -> str:
    """A value as Python writes it: numbers and placeholders (``N``) as they are, words quoted."""
    try:
        float(text)
    except ValueError:
        return text if text.isupper() else repr(text)
    return text


E = TypeVar("E", bound=FitscopeError)


def argument_error(template: str, kind: type[E] = ArgumentError) -> E:  # type: ignore[assignment]
    """An error whose message names arguments as ``<<name>>`` or ``<<name=value>>`` (see :meth:`FitscopeError.worded`).

    Example:
        >>> str(argument_error("<<group_by>> only applies with <<select=cv>>."))
        "`group_by` only applies with select='cv'."
    """
    error = kind(_render(template, lambda name: None))
    error.template = template
    return error


def invalid_argument(name: str, value: object, expected: str) -> ArgumentError:
    """Build the Keras-style message for a bad argument value."""
    error = ArgumentError(f"Invalid value for argument `{name}`. Received: {name}={value!r}. {expected}")
    error.name, error.value, error.expected = name, value, expected
    return error
