"""A model-based search (``tune --search tpe``): Optuna's TPE sampler, through its ask-and-tell interface.

Optuna only proposes the values: each proposal is trained as any other fitscope trial
(a recorded run with its curves, on any executor), and its validation score is told
back before the next proposals are asked for. Proposals come in batches as large as
the executor's workers, so parallel workers stay busy. The sampler is seeded and told
the same scores in the same order, so a re-run of the same command proposes the same
trials and skips those that finished.
"""

from __future__ import annotations

from typing import Any

from ..._errors import FitscopeError, argument_error
from ._distributions import Distribution

__all__ = ["ModelBasedSearch"]


class ModelBasedSearch:
    """Optuna's TPE over a search space of ranges (:class:`Distribution`) and lists of values.

    Raises:
        FitscopeError: Optuna is not installed (``pip install 'fitscope[optuna]'``).
    """

    def __init__(self, space: dict[str, Any], *, seed: int, lower_is_better: bool) -> None:
        try:
            import optuna
        except ImportError:
            raise argument_error(
                "<<method=tpe>> needs Optuna, an optional dependency: pip install 'fitscope[optuna]' (or use "
                "<<method=random>>).",
                FitscopeError,
            ) from None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self._space = space
        self._distributions = {key: _optuna_distribution(optuna, value) for key, value in space.items()}
        sampler = optuna.samplers.TPESampler(seed=seed)
        self._study = optuna.create_study(direction="minimize" if lower_is_better else "maximize", sampler=sampler)

    def ask(self, count: int) -> list[tuple[Any, dict[str, Any]]]:
        """``count`` proposals: each Optuna's trial and the configuration it stands for (as ``--param`` values)."""
        asked = []
        for _number in range(count):
            proposal = self._study.ask(self._distributions)
            values = {}
            for key, spread in self._space.items():
                value = proposal.params[key]
                if isinstance(spread, Distribution) and spread.kind != "choice":
                    values[key] = float(f"{value:.4g}") if isinstance(value, float) else value
                else:  # a list or a choice: Optuna picked a position (the values may be any YAML)
                    values[key] = (spread.values if isinstance(spread, Distribution) else spread)[int(value)]
            asked.append((proposal, values))
        return asked

    def tell(self, proposal: Any, status: str, score: float | None) -> None:
        """The trained proposal's validation score (``None`` unless it finished); pruned and failed ones say so."""
        states = self._optuna.trial.TrialState
        if status == "finished" and score is not None:
            self._study.tell(proposal, score)
        else:
            self._study.tell(proposal, state=states.PRUNED if status == "pruned" else states.FAIL)


def _optuna_distribution(optuna: Any, spread: Any) -> Any:
    """Optuna's distribution for a range, or a choice of positions for a list of values."""
    kinds = optuna.distributions
    if not isinstance(spread, Distribution) or spread.kind == "choice":
        listed = spread.values if isinstance(spread, Distribution) else spread
        return kinds.CategoricalDistribution(list(range(len(listed))))
    if spread.kind == "int":
        return kinds.IntDistribution(int(spread.low), int(spread.high))
    return kinds.FloatDistribution(spread.low, spread.high, log=spread.log)
