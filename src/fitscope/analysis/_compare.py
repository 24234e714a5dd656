"""Is a difference real? Repeated seeds summarised, and two sets of scores compared.

One run's validation score moves with its seed (initial weights, batch order) and with
the validation set's sampling noise. A mean over seeds comes with a confidence interval
(Student's t); two configurations differ for real only when their difference clears
both: a t-test over the seeds (paired when both ran the same seeds on the same split, so
the seed's share of the noise cancels), and the binomial standard error of an accuracy
measured on a validation set of that size. scipy computes the tests.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .._i18n import N_, _

__all__ = ["Comparison", "ScoreSummary", "compare_scores", "summarise_scores"]

_TESTS = {"paired t-test": N_("paired t-test"), "Welch's t-test": N_("Welch's t-test")}


@dataclass(frozen=True)
class ScoreSummary:
    """The mean of ``n`` scores, their standard deviation and the 95% confidence interval of the mean."""

    n: int
    mean: float
    std: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise_scores(values: Sequence[float], confidence: float = 0.95) -> ScoreSummary:
    """Mean, standard deviation (n - 1) and the t confidence interval of ``values`` (one value: no interval)."""
    import numpy as np
    from scipy import stats

    data = np.asarray(values, dtype=float)
    if len(data) == 0:
        raise ValueError("no scores to summarise")
    mean = float(data.mean())
    if len(data) < 2:
        return ScoreSummary(1, mean, 0.0, mean, mean)
    std = float(data.std(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, len(data) - 1)) * std / math.sqrt(len(data))
    return ScoreSummary(len(data), mean, std, mean - half, mean + half)


@dataclass(frozen=True)
class Comparison:
    """Whether two sets of scores differ beyond their noise, and the sentences that say so."""

    metric: str
    a: ScoreSummary
    b: ScoreSummary
    difference: float
    test: str  # "paired t-test", "Welch's t-test", or "binomial" (one run each, an accuracy)
    p_value: float | None
    set_noise: float | None  # the standard error of the difference from the validation set's size alone
    real: bool | None  # None: cannot be told (one run each, not an accuracy)
    sentences: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "a": self.a.to_dict(), "b": self.b.to_dict()}


def compare_scores(
    a: Sequence[float], b: Sequence[float], *, metric: str, names: tuple[str, str] = ("A", "B"),
    paired: bool = False, val_size: int | None = None,
) -> Comparison:  # fmt: skip
    """Compare the scores of ``a`` and ``b`` (one per seed; ``paired``: the same seeds, in the same order)."""
    import numpy as np
    from scipy import stats

    first, second = summarise_scores(a), summarise_scores(b)
    difference = first.mean - second.mean
    rate = metric.endswith(("accuracy", "acc")) and all(0 <= v <= 1 for v in (first.mean, second.mean))
    set_noise = None
    if rate and val_size:
        set_noise = math.sqrt(sum(s.mean * (1 - s.mean) / (val_size * s.n) for s in (first, second)))
    fields = {"a": names[0], "b": names[1], "metric": metric, "mean_a": f"{first.mean:.4f}",
              "mean_b": f"{second.mean:.4f}", "n_a": first.n, "n_b": second.n,
              "difference": f"{difference:+.4f}"}  # fmt: skip
    said = [_("{metric}: {a} {mean_a} over {n_a} run(s), {b} {mean_b} over {n_b} run(s); difference {difference}.")
            .format(**fields)]  # fmt: skip
    p_value: float | None = None
    if first.n >= 2 and second.n >= 2:
        with warnings.catch_warnings():  # (scores nearly alike: scipy warns of precision; the p-value stands)
            warnings.simplefilter("ignore", RuntimeWarning)
            if paired and first.n == second.n:
                test, p_value = "paired t-test", float(stats.ttest_rel(np.asarray(a), np.asarray(b)).pvalue)
            else:
                welch = stats.ttest_ind(np.asarray(a), np.asarray(b), equal_var=False)
                test, p_value = "Welch's t-test", float(welch.pvalue)
        if math.isnan(p_value):  # identical scores on both sides
            p_value = 1.0
        beyond_seeds = p_value < 0.05
        beyond_set = set_noise is None or abs(difference) > 2 * set_noise
        real: bool | None = beyond_seeds and beyond_set
        said.append(_("Seeds: {test} p = {p:.3g} ({verdict}).").format(
            test=_(_TESTS[test]), p=p_value, verdict=_("beyond what the seeds explain") if beyond_seeds
            else _("within what the seeds explain")))  # fmt: skip
    elif set_noise is not None:
        test, real = "binomial", abs(difference) > 2 * set_noise
        said.append(_("One run on a side: the seeds' spread is unknown, so only the validation set's size is "
                      "weighed; `fitscope run SPEC --repeats 5` measures the seeds too."))  # fmt: skip
    else:
        test, real = "none", None
        said.append(_("One run on a side and not an accuracy: nothing measures the noise. Repeat both with "
                      "`fitscope run SPEC --repeats 5` and compare the groups."))  # fmt: skip
    if set_noise is not None:
        said.append(_("The validation set's size alone makes a difference of {noise} likely by chance (two "
                      "standard errors).").format(noise=f"{2 * set_noise:.4f}"))  # fmt: skip
    if real is True:
        said.append(_("The difference is real: {better} scores better on {metric}.").format(
            better=names[0] if (difference > 0) != metric.endswith("loss") else names[1], metric=metric))  # fmt: skip
    elif real is False:
        said.append(_("The difference may be chance: do not pick one over the other on this evidence."))
    return Comparison(metric, first, second, difference, test, p_value, set_noise, real, said)
