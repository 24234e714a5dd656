"""Ranges to sample a search from: ``uniform(a,b)``, ``loguniform(a,b)``, ``int(a,b)``, ``choice(v1,v2,...)``.

Deep Learning from Scratch (6.5) validates hyperparameters this way: sample the learning
rate and the weight decay at random on a log scale, train briefly, keep the ranges the
best results came from, and search inside them again. ``--param`` takes such a range
where it takes a list of values; a random search draws each trial's values from it
with the search's seed, and after it the ranges that hold the best configurations are
suggested as the next search.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Any

from ..._errors import argument_error

__all__ = ["Distribution", "narrowed", "parse_distribution"]

_FORM = re.compile(r"^\s*(uniform|loguniform|int|choice)\s*\((.*)\)\s*$", re.S)


@dataclass(frozen=True)
class Distribution:
    """A range of one hyperparameter: its kind and bounds (``choice``: its values)."""

    kind: str
    low: float = 0.0
    high: float = 0.0
    values: tuple[Any, ...] = ()

    def sample(self, rng: random.Random) -> Any:
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high)
        if self.kind == "loguniform":
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        if self.kind == "int":
            return rng.randint(int(self.low), int(self.high))
        return rng.choice(self.values)

    @property
    def log(self) -> bool:
        return self.kind == "loguniform"

    def endpoints(self) -> list[Any]:
        """The values a check of the spec tries: the bounds, or every choice."""
        if self.kind == "choice":
            return list(self.values)
        if self.kind == "int":
            return [int(self.low), int(self.high)]
        return [self.low, self.high]

    def __str__(self) -> str:
        if self.kind == "choice":
            return "choice(" + ",".join(_shown(v) for v in self.values) + ")"
        return f"{self.kind}({_shown(self.low)},{_shown(self.high)})"


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def parse_distribution(key: str, text: str) -> Distribution | None:
    """The range ``text`` writes (``loguniform(1e-4,1e-1)``), ``None`` when it is a list of values instead."""
    from ..spec import parse_yaml

    found = _FORM.match(text)
    if found is None:
        other = re.match(r"^\s*([A-Za-z_]\w*)\s*\(.*\)\s*$", text, re.S)
        if other is not None:
            raise argument_error(f"<<params>> {key}={text.strip()}: unknown range {other.group(1)!r}; use "
                                 "uniform(a,b), loguniform(a,b), int(a,b) or choice(v1,v2,...).")  # fmt: skip
        return None
    kind, inside = found.groups()
    try:
        values = parse_yaml(f"[{inside}]")
    except Exception:  # (YAML's errors: the arguments are not readable values)
        values = None
    form = "choice(v1,v2,...)" if kind == "choice" else f"{kind}(low,high)"
    if not isinstance(values, list) or not values:
        raise argument_error(f"<<params>> {key}={text.strip()}: cannot read its arguments; write {form}.")
    if kind == "choice":
        if len(values) < 2:
            raise argument_error(f"<<params>> {key}={text.strip()}: a choice needs two values or more.")
        return Distribution(kind, values=tuple(values))
    if len(values) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise argument_error(f"<<params>> {key}={text.strip()}: expected two numbers, {form}.")
    low, high = values
    if kind == "int" and not all(isinstance(v, int) for v in values):
        raise argument_error(f"<<params>> {key}={text.strip()}: int(low,high) takes whole numbers.")
    if not low < high:
        raise argument_error(f"<<params>> {key}={text.strip()}: the low end must be below the high end.")
    if kind == "loguniform" and low <= 0:
        raise argument_error(f"<<params>> {key}={text.strip()}: a log scale needs a low end above 0, such as "
                             f"loguniform({_shown(high / 1000)},{_shown(high)}).")  # fmt: skip
    return Distribution(kind, float(low) if kind != "int" else low, float(high) if kind != "int" else high)


def narrowed(ranges: dict[str, Distribution], best: list[dict[str, Any]]) -> dict[str, Distribution]:
    """The ranges that hold the ``best`` configurations' values (each range kept inside its own bounds)."""
    found = {}
    for key, spread in ranges.items():
        values = [row[key] for row in best if key in row]
        if not values:
            continue
        if spread.kind == "choice":  # (one value left: the suggestion fixes it with --set)
            found[key] = Distribution("choice", values=tuple(v for v in spread.values if v in values))
            continue
        low, high = min(values), max(values)
        if spread.kind == "int":
            low, high = int(low), max(int(high), int(low) + 1)
        elif low == high:  # one best value: a range around it, a tenth of the old one either way
            width = (math.log(spread.high / spread.low) if spread.log else spread.high - spread.low) / 10
            low, high = (low / math.exp(width), high * math.exp(width)) if spread.log else (low - width, high + width)
        if spread.kind != "int":  # written with 3 digits: rounded outwards, so the best stay inside
            low, high = _rounded(low, math.floor), _rounded(high, math.ceil)
        found[key] = Distribution(spread.kind, max(low, spread.low), min(high, spread.high))
    return found


def _rounded(value: float, way: Any) -> float:
    """``value`` to 3 significant digits, rounded ``way`` (``math.floor`` or ``math.ceil``)."""
    if value == 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(value))) - 2)
    return float(f"{way(value / step) * step:.3g}")
