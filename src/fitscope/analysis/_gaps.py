"""Andrew Ng's error analysis: avoidable bias, variance, data mismatch, dev-set overfitting.

From "Nuts and Bolts of Building AI Applications using Deep Learning" (NIPS 2016)
and *Machine Learning Yearning* (ch. 20-23, 36-41). Error levels are fractions in
[0, 1]; a gap is the difference between neighbouring levels, and the primary
problem is the first one, in Ng's order (bias, variance, mismatch, dev
overfitting), that is large next to the others.

Held-out error levels (train-dev, dev, test) are estimates from a sample: on a
300-image validation set one standard error is about 3 points. Given the sets'
sizes, a gap smaller than twice the noise of the levels it compares is set aside
as possibly chance, not named as the problem.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .._errors import ArgumentError, argument_error
from .._i18n import N_, _

__all__ = [
    "ACTIONS",
    "ERROR_LEVELS",
    "GAPS",
    "GAP_NAMES",
    "LEVEL_NAMES",
    "GapReport",
    "analyse_gaps",
    "parse_errors",
    "parse_sizes",
    "standard_error",
]

ERROR_LEVELS = ("human", "train", "train_dev", "dev", "test")
GAPS = ("avoidable_bias", "variance", "data_mismatch", "dev_overfitting")
# A gap counts when it is at least this share of the largest gap...
_RELATIVE = 0.5
# ...and at least one percentage point (Ng: 0.5 % train, 1 % dev error is "doing well").
_ABSOLUTE = 0.01
# The two levels each gap compares (the upper one first).
_BETWEEN = {
    "avoidable_bias": ("train", "human"),
    "variance": ("train_dev", "train"),  # dev - train without a train-dev set
    "data_mismatch": ("dev", "train_dev"),
    "dev_overfitting": ("test", "dev"),
}
# Levels measured on held-out samples, whose sampling noise a gap must clear. The
# training error is the model's error on the very set it fitted: no sample of anything.
_HELD_OUT = ("train_dev", "dev", "test")
_LABELS = {
    "avoidable_bias": N_("avoidable-bias"),
    "variance": N_("variance"),
    "data_mismatch": N_("data-mismatch"),
    "dev_overfitting": N_("dev-overfitting"),
}

# How a table of gaps names each one (``GapReport.gaps``' keys), and ``GapReport.primary``'s "none".
GAP_NAMES = {
    "avoidable_bias": N_("avoidable bias"), "variance": N_("variance"), "data_mismatch": N_("data mismatch"),
    "dev_overfitting": N_("dev overfitting"), "none": N_("none"),
}  # fmt: skip
# How a sentence or a table names each error level; marked for translation here, translated where said.
LEVEL_NAMES = {"human": N_("human"), "train": N_("train"), "train_dev": N_("train-dev"), "dev": N_("dev"),
                "test": N_("test")}  # fmt: skip
ACTIONS = {
    "avoidable_bias": [
        N_("train a bigger model (more units or layers)"),
        N_("train longer, or with a better optimizer (e.g. adam, rmsprop)"),
        N_("try a new architecture, or reduce regularisation"),
    ],
    "variance": [
        N_("get more training data (or augment it)"),
        N_("add regularisation (L2, dropout)"),
        N_("stop early at the best validation epoch"),
        N_("try a new architecture"),
    ],
    "data_mismatch": [
        N_("make the training data more like the dev/test data (collect more of it, or synthesise it)"),
        N_("compare errors on train-dev and dev by hand to see what differs"),
        N_("try a new architecture"),
    ],
    "dev_overfitting": [
        N_("get a bigger, fresh dev set: this one has been tuned on too often"),
    ],
}


@dataclass(frozen=True)
class GapReport:
    """Errors, gaps, the primary problem and what to do about it."""

    errors: dict[str, float | None]
    gaps: dict[str, float | None]
    primary: str
    actions: list[str]
    notes: list[str] = field(default_factory=list)
    # One standard error of each held-out level, when the size of its set was given.
    uncertainty: dict[str, float | None] = field(default_factory=dict)
    # Gaps that could have been the problem, not counted because they are within the sets' sampling noise.
    within_noise: list[str] = field(default_factory=list)
    # Every gap that counts as a problem, in Ng's order (the first is ``primary``).
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def levels_text(self) -> str:
        """``human 0.0%, train 6.7%, dev 30.0% (±8.0%)``: held-out levels with their standard error from a point up."""
        shown = []
        for name, value in self.errors.items():
            if value is None:
                continue
            noise = self.uncertainty.get(name)
            spread = f" (±{noise:.1%})" if noise and noise >= 0.01 else ""
            shown.append(f"{_(LEVEL_NAMES[name])} {value:.1%}{spread}")
        return ", ".join(shown)


def _pairs(text: str, option: str, form: str, known: tuple[str, ...], unknown: str) -> Iterator[tuple[str, str]]:
    """The ``NAME=VALUE`` items of a comma-separated option, names checked (``train-dev`` reads as ``train_dev``)."""
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep:
            raise argument_error(f"{option}: {item!r} is not {form}.")
        if name not in known:
            raise argument_error(f"{option}: {unknown.format(name=repr(name))}. Use {', '.join(known)}.")
        yield name, value.strip()


def parse_errors(text: str) -> dict[str, float]:
    """Parse ``human=0.01,train=0.08,...`` (``%`` values allowed: ``train=8%``)."""
    errors: dict[str, float] = {}
    for name, value in _pairs(
        text, "<<errors>>", "NAME=VALUE (such as train=0.08)", ERROR_LEVELS, "unknown error name {name}"
    ):
        try:
            errors[name] = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
        except ValueError:
            raise argument_error(f"<<errors>>: {name}={value!r} is not a number.") from None
    if not errors:
        raise argument_error("<<errors>>: give at least one error level, such as train=0.08,dev=0.10.")
    return errors


def parse_sizes(text: str) -> dict[str, int]:
    """Parse ``dev=300,test=10000``: how many samples each held-out error level was measured on."""
    sizes: dict[str, int] = {}
    for name, value in _pairs(
        text, "<<sizes>>", "NAME=COUNT (such as dev=300)", _HELD_OUT, "{name} is not a held-out set"
    ):
        try:
            sizes[name] = int(value)
        except ValueError:
            raise argument_error(f"<<sizes>>: {name}={value!r} is not a whole number of samples.") from None
        if sizes[name] < 1:
            raise argument_error(f"<<sizes>>: {name}={sizes[name]}: a set needs at least one sample.")
    return sizes


def standard_error(error: float, samples: int) -> float:
    """One standard error of an error rate measured on ``samples`` samples.

    The binomial standard error, with Agresti and Coull's adjustment (two errors and two
    successes added), so that 0 % measured on 30 samples does not read as certain.

    Example:
        >>> round(standard_error(0.30, 30), 3), round(standard_error(0.0, 30), 3)
        (0.08, 0.04)
    """
    total = samples + 4
    share = (error * samples + 2) / total
    return math.sqrt(share * (1 - share) / total)


def analyse_gaps(errors: dict[str, float | None], sizes: Mapping[str, int | None] | None = None) -> GapReport:
    """Ng's gap analysis on error levels (fractions in [0, 1]; missing levels are ``None``).

    ``sizes`` gives the number of samples a held-out level (``train_dev``, ``dev``,
    ``test``) was measured on; with them, a gap within twice the sampling noise of the
    levels it compares is not counted as a problem, and a note says so.

    Example:
        >>> analyse_gaps({"human": 0.01, "train": 0.02, "dev": 0.10}).primary
        'variance'
        >>> analyse_gaps({"human": 0.01, "train": 0.02, "dev": 0.10}, sizes={"dev": 50}).primary
        'none'

    Raises:
        ArgumentError: a value outside [0, 1] or an unknown level name.
    """
    unknown = set(errors) - set(ERROR_LEVELS)
    if unknown:
        raise ArgumentError(f"unknown error level(s) {', '.join(sorted(unknown))}; use {', '.join(ERROR_LEVELS)}.")
    for name, value in errors.items():
        if value is not None and not 0.0 <= value <= 1.0:
            raise ArgumentError(f"error `{name}`={value} is outside [0, 1]; give errors as fractions (0.08 = 8 %).")
    levels: dict[str, float | None] = {name: errors.get(name) for name in ERROR_LEVELS}
    notes: list[str] = []
    if levels["human"] is None:
        levels["human"] = 0.0
        notes.append(_("No human-level error given: 0 is used, so avoidable bias is the whole training error."))
    human, train, train_dev, dev, test = (levels[n] for n in ERROR_LEVELS)

    def minus(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round(a - b, 10)

    gaps: dict[str, float | None] = {
        "avoidable_bias": minus(train, human),
        "variance": minus(train_dev, train) if train_dev is not None else minus(dev, train),
        "data_mismatch": minus(dev, train_dev),
        "dev_overfitting": minus(test, dev),
    }
    if train_dev is None and gaps["variance"] is not None:
        notes.append(
            _(
                "Without a train-dev set, variance is measured as dev - train, which also holds any "
                "train/dev data mismatch; carve a train-dev set to tell them apart."
            )
        )
    counted = dict(gaps)
    uncertainty: dict[str, float | None] = {}
    for name in _HELD_OUT:
        level, samples = levels[name], (sizes or {}).get(name)
        uncertainty[name] = standard_error(level, samples) if level is not None and samples else None
    # A gap set aside as noise still sets the scale: a 1-point gap is no problem beside a 9-point unknown.
    largest = max((g for g in gaps.values() if g is not None and g > 0), default=0.0)
    within_noise = []
    for name, gap in gaps.items():
        upper, lower = _BETWEEN[name]
        if name == "variance" and train_dev is None:
            upper = "dev"
        noise = 2 * math.hypot(uncertainty.get(upper) or 0.0, uncertainty.get(lower) or 0.0)
        if gap is not None and 0 < gap < noise:
            counted[name] = None
            if gap >= _ABSOLUTE and gap >= _RELATIVE * largest:  # said only where it could have been the problem
                within_noise.append(name)
                notes.append(
                    _(
                        "The {gap_name} gap ({gap}) is within the sampling noise of the sets it compares (two "
                        "standard errors: {noise}), so it is not counted as a problem: it may be chance. Bigger "
                        "held-out sets would tell."
                    ).format(gap_name=_(_LABELS[name]), gap=f"{gap:.1%}", noise=f"{noise:.1%}")
                )
    bias = gaps["avoidable_bias"]
    if bias is not None and bias < 0:
        notes.append(
            _(
                "Training error is below the human-level estimate, so avoidable bias cannot be measured: "
                "the estimate is too high, or the model fits the training set too closely. Focus on variance."
            )
        )
        counted["avoidable_bias"] = None
    problems = [
        name for name in GAPS
        if (gap := counted[name]) is not None and gap >= _ABSOLUTE and gap >= _RELATIVE * largest
    ]  # fmt: skip
    primary = problems[0] if problems else "none"
    if primary == "data_mismatch" and train_dev is not None and dev is not None:
        notes.append(
            _(
                "The train-dev set is held-out data from the training distribution: the model does well there "
                "({train_dev} error) but badly on the dev set ({dev}), so the difference comes from the data being "
                "different, not from overfitting the training set."
            ).format(train_dev=f"{train_dev:.1%}", dev=f"{dev:.1%}")
        )
    if primary != "none":
        actions = [_(action) for action in ACTIONS[primary]]
    elif within_noise:
        actions = [_("measure on bigger held-out sets before acting on these gaps")]
    else:
        actions = [_("no gap stands out: the model is near the best this data allows")]
    return GapReport(
        errors=levels, gaps=gaps, primary=primary, actions=actions, notes=notes,
        uncertainty=uncertainty, within_noise=within_noise, problems=problems,
    )  # fmt: skip
