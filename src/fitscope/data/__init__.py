"""The data layer: datasets, preprocessing, splits with manifests, and the leakage audit.

Plain numpy and scikit-learn; nothing here imports Keras (except the last-resort
download of a built-in dataset that is nowhere on disk).
"""

from __future__ import annotations

from ._audit import AuditReport, audit_parts
from ._datasets import (
    BUILTIN_DATASETS,
    HUMAN_LEVEL_ERROR,
    Dataset,
    Location,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_file,
    load_mnist,
    locate_builtin,
)
from ._manifest import SplitManifest
from ._model_inputs import ModelInputs, read_inputs
from ._preprocess import Preprocessing, one_hot
from ._splits import (
    HoldoutSplit,
    KFoldSplit,
    Split,
    Subsample,
    ValidationSplit,
    concat_datasets,
    kfold_dataset,
    split_dataset,
    train_dev_split,
)

__all__ = [
    "BUILTIN_DATASETS",
    "HUMAN_LEVEL_ERROR",
    "AuditReport",
    "Dataset",
    "HoldoutSplit",
    "KFoldSplit",
    "Location",
    "ModelInputs",
    "Preprocessing",
    "Split",
    "SplitManifest",
    "Subsample",
    "ValidationSplit",
    "audit_parts",
    "concat_datasets",
    "kfold_dataset",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_file",
    "load_mnist",
    "locate_builtin",
    "one_hot",
    "read_inputs",
    "split_dataset",
    "train_dev_split",
]
