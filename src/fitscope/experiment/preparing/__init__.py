"""Preparing data: a spec's holdout split, a trial's arrays, a cross-validation's folds."""

from __future__ import annotations

from ._holdout import Prepared, prepare, prepare_parts, split_of, warn_about_split
from ._trial_data import (
    FoldPlans,
    TrialData,
    TrialDataCache,
    describe_holdout,
    digest,
    fold_pool,
    group_labels,
    nested_subset,
    prepare_trial,
    refit_parts,
    trial_data,
    trial_data_for,
)

__all__ = [
    "FoldPlans",
    "Prepared",
    "TrialData",
    "TrialDataCache",
    "describe_holdout",
    "digest",
    "fold_pool",
    "group_labels",
    "nested_subset",
    "prepare",
    "prepare_parts",
    "prepare_trial",
    "refit_parts",
    "split_of",
    "trial_data",
    "trial_data_for",
    "warn_about_split",
]
