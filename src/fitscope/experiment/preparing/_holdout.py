"""A spec's data, loaded, split and preprocessed (nothing written anywhere).

The holdout split (or Ng's train-dev split) a run trains on, and any parts a caller
chose (a cross-validation fold).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..._errors import ArgumentError, SpecError
from ...data import ModelInputs, Preprocessing, Split, load_dataset, split_dataset, train_dev_split
from ..spec import Spec

__all__ = ["Prepared", "prepare", "prepare_parts", "split_of", "warn_about_split"]


@dataclass
class Prepared:
    spec: Spec
    split: Split
    arrays: dict[str, tuple[Any, Any]]
    num_classes: int
    one_hot: bool
    inputs: ModelInputs  # what a model trained on these arrays takes, recorded with its .keras files


def _load(spec: Spec, dataset: str | None = None) -> Any:
    """The spec's ``data.dataset`` (or another dataset of the spec, ``data.target``), read with its data options."""
    name = spec.data.dataset if dataset is None else dataset
    group = spec.data.group_column if dataset is None else None  # (groups fold the training data only)
    options: dict[str, Any] = {"task": spec.data.task}
    if name.lower().endswith((".csv", ".txt")):
        options |= {"label": spec.data.label, "group": group}
    elif name.lower().endswith(".npz"):
        options |= {"group": group}
    return load_dataset(name, data_dir=spec.data.data_dir, **options)


def prepare(spec: Spec, split: Split | None = None) -> Prepared:
    """Load and split the data and preprocess every part (nothing written anywhere).

    ``split`` is the spec's holdout split when the caller made it already (:func:`split_of`).
    """
    split = split_of(spec) if split is None else split
    return _prepared(spec, split.dataset, split)


def split_of(spec: Spec) -> Split:
    """Load the spec's data and make its holdout split (no preprocessing).

    With ``data.target``, Ng's train-dev split: train and train-dev from ``data.dataset``,
    dev (``val``) and test from ``data.target``.
    """
    s = spec.split
    if spec.data.target is None and s.train_dev is not None:
        raise SpecError(
            "split.train_dev: a train-dev set is held out of the training data when the dev and test sets come "
            "from other data, the data the model will meet: name it in data.target. (Without it, split.val "
            "already comes from the training data.)"
        )
    dataset = _load(spec)
    names = {"dev": "val"}  # the data layer's argument names, as the spec's user wrote them
    try:
        if spec.data.target is not None:
            _check_train_dev_split(s)
            return train_dev_split(
                dataset, _load(spec, spec.data.target), train_dev=0.1 if s.train_dev is None else s.train_dev,
                dev=s.val, shuffle=s.shuffle, seed=spec.seed if s.shuffle else None, stratify=s.stratify,
            )  # fmt: skip
        return split_dataset(
            dataset, val=s.val, test=s.test, shuffle=s.shuffle, seed=spec.seed if (s.shuffle or s.subsample) else None,
            stratify=s.stratify, subsample=s.subsample, replace=s.replace,
        )  # fmt: skip
    except ArgumentError as exc:  # the data layer names its arguments (val=0); the spec's user wrote split.val
        if exc.name is None:
            raise SpecError(str(exc)) from None
        key = exc.name if exc.name == "seed" else f"split.{names.get(exc.name, exc.name)}"
        raise SpecError(f"Invalid value for `{key}`. Received: {key}={exc.value!r}. {exc.expected}") from None


def _check_train_dev_split(split: Any) -> None:
    """With data.target, the target's rest is the test set, and nothing is subsampled."""
    if split.test != 0:
        raise SpecError(
            "split.test: with data.target the test set is the rest of the target data, after split.val (its dev "
            "part); leave split.test out."
        )
    if split.subsample is not None or split.replace:
        raise SpecError("split.subsample: not with data.target (a train-dev split uses all of both datasets).")


def prepare_parts(
    spec: Spec, dataset: Any, parts: dict[str, Any], *, kind: str, fold: int | None = None, folds: int | None = None,
    extra: dict[str, Any] | None = None,
) -> Prepared:  # fmt: skip
    """Like :func:`prepare`, for parts chosen by the caller (a cross-validation fold, a learning curve's subset).

    ``extra`` goes into the manifest's parameters (a learning curve's ``train_size``).
    """
    params = {"folds": folds, "fold": fold, **(extra or {})}
    split = Split.from_parts(dataset, parts, kind=kind, seed=spec.seed, params=params, fold=fold)
    return _prepared(spec, dataset, split)


def _prepared(spec: Spec, dataset: Any, split: Split) -> Prepared:
    one_hot = spec.data.one_hot if spec.data.one_hot is not None else spec.compile.loss == "categorical_crossentropy"
    if dataset.is_regression:
        if spec.data.one_hot:
            raise SpecError("data.one_hot: a regression's targets are numbers, not classes to encode; leave it out.")
        one_hot = False  # (a classification loss is named by the model's checks)
    prep = Preprocessing(scale=spec.data.scale, flatten=spec.data.flatten, one_hot=one_hot)
    if prep.scale == "standardize":  # the training part's statistics, never validation's or test's
        prep = prep.fit(split.take("train")[0])
    arrays = {
        part: prep.apply(*split.take(part), value_max=dataset.value_max, num_classes=dataset.num_classes)
        for part in split.parts
    }
    inputs = ModelInputs(
        sample_shape=tuple(dataset.x.shape[1:]), preprocessing=prep, value_max=dataset.value_max,
        class_names=dataset.class_names, feature_names=dataset.feature_names, task=spec.data.task,
    )  # fmt: skip
    return Prepared(spec, split, arrays, dataset.num_classes, one_hot, inputs)


def warn_about_split(warnings: Iterable[str]) -> None:
    """What a split's audit found (leakage, missing classes, tiny parts), before training on it."""
    import sys

    for warning in warnings:
        print(f"warning: split: {warning}", file=sys.stderr)
