"""The experiment layer: spec files, the runner (and, next, cross-validation and search)."""

from __future__ import annotations

from ._runner import RunResult, run_spec
from ._spec import Spec, load_spec

__all__ = ["RunResult", "Spec", "load_spec", "run_spec"]
