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

__all__ = ["ArgumentError", "DataError", "FitscopeError", "Interrupted", "SpecError", "StoreError"]


class FitscopeError(Exception):
    """Base class of every error fitscope raises on purpose."""


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


def invalid_argument(name: str, value: object, expected: str) -> ArgumentError:
    """Build the Keras-style message for a bad argument value."""
    error = ArgumentError(f"Invalid value for argument `{name}`. Received: {name}={value!r}. {expected}")
    error.name, error.value, error.expected = name, value, expected
    return error
