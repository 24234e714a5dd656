"""Reproducible splits, scikit-learn style: indices in, indices out.

The splitters (:class:`HoldoutSplit`, :class:`ValidationSplit`, :class:`Subsample`,
:class:`KFoldSplit`) work on index arrays and delegate to scikit-learn
(``train_test_split``, ``KFold``, ``StratifiedKFold``, ``GroupKFold``,
``StratifiedGroupKFold``); the two-way ones are scikit-learn splitters (``cv=``). The functions :func:`split_dataset`,
:func:`kfold_dataset` and :func:`train_dev_split` apply them to a
:class:`~fitscope.data.Dataset` and return :class:`Split` objects that carry a
manifest (sizes, class counts, seed, parameters, hashes) and an audit.

Randomness comes only from ``seed`` (an int or a ``numpy.random.Generator``);
global random state is never touched. When shuffling without a seed, a seed is
drawn and recorded in the manifest, so every split can be repeated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, Literal, cast

import numpy as np

from .._errors import ArgumentError, invalid_argument
from ._audit import AuditReport, audit_parts, class_counts
from ._datasets import Dataset
from ._manifest import SplitManifest

__all__ = [
    "HoldoutSplit",
    "KFoldSplit",
    "Split",
    "Subsample",
    "ValidationSplit",
    "kfold_dataset",
    "split_dataset",
    "train_dev_split",
]

Size = int | float
Seed = int | np.random.Generator | None
_SEED_BOUND = 2**31 - 1


def resolve_size(name: str, value: Size, available: int, *, allow_zero: bool = False) -> int:
    """Turn a count or a fraction of ``available`` into a count, checking it fits."""
    expected = "Expected a fraction in (0, 1) or a whole number of samples."
    if isinstance(value, bool) or not isinstance(value, (Integral, Real)):
        raise invalid_argument(name, value, expected)
    if isinstance(value, Integral) or (isinstance(value, float) and value >= 1 and value.is_integer()):
        count = int(value)
        if count < 0 or (count == 0 and not allow_zero):
            raise invalid_argument(name, value, expected)
        if count > available:
            raise invalid_argument(name, value, f"Only {available} samples are available; ask for at most {available}.")
        return count
    fraction = float(value)
    if not 0 < fraction < 1:
        if fraction == 0 and allow_zero:
            return 0
        raise invalid_argument(name, value, expected)
    count = round(fraction * available)
    if count == 0:
        raise invalid_argument(name, value, f"It rounds to 0 of {available} samples; ask for a larger fraction.")
    return count


def seed_to_int(seed: Seed) -> int:
    """An int seed for scikit-learn from an int, a Generator, or fresh entropy (``None``)."""
    if seed is None:
        return int(np.random.default_rng().integers(_SEED_BOUND))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(_SEED_BOUND))
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise invalid_argument("seed", seed, "Expected a non-negative int or a numpy Generator.")
    return int(seed)


def _check_stratifiable(y: np.ndarray, minimum: int, what: str) -> None:
    values, counts = np.unique(y, return_counts=True)
    rare = counts < minimum
    if rare.any():
        label = values[rare][0].item()
        raise ArgumentError(
            f"Cannot stratify {what}: class {label!r} has only {int(counts[rare][0])} "
            f"sample(s), fewer than the {minimum} needed. Drop stratify or merge rare classes."
        )


def _as_labels(y: np.ndarray | None, n: int, *, needed: bool) -> np.ndarray | None:
    if y is None:
        if needed:
            raise ArgumentError("stratify=True needs labels: pass y to split().")
        return None
    y = np.asarray(y)
    if len(y) != n:
        raise ArgumentError(f"X and y have different lengths ({n} and {len(y)}).")
    if needed and np.issubdtype(y.dtype, np.floating):
        raise invalid_argument(
            "stratify", True, "Stratifying keeps class shares, and a regression's targets have no classes: drop it."
        )
    return y


def _num_samples(X: Any) -> int:
    """How many samples ``X`` holds (an array, a list, a DataFrame, a sparse matrix)."""
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else len(X)


class _Splitter:
    """What every splitter shares, as scikit-learn's ``_BaseKFold`` does for its own.

    - The seed rule: a seed where nothing is random is refused, and a seed is turned
      into an int once, when the splitter is made (``None`` draws one), so every
      ``split()`` call gives the same parts and :attr:`drawn_seed` can be recorded.
    - ``repr`` from the constructor's parameters, as scikit-learn shows its splitters.
    - ``get_n_splits``, so scikit-learn's ``check_cv``, ``cross_val_score``,
      ``GridSearchCV`` and ``learning_curve`` take the two-way splitters as ``cv=``.
    """

    seed: Seed

    def _set_seed(self, seed: Seed, *, used: bool, why_unused: str = "when shuffle=False") -> None:
        if seed is not None and not used:
            raise invalid_argument("seed", seed, f"A seed has no effect {why_unused}; drop it or shuffle.")
        self.seed = seed
        self._drawn = seed_to_int(seed) if used else None

    @property
    def drawn_seed(self) -> int | None:
        """The int seed this splitter draws with (``None``: it draws nothing)."""
        return self._drawn

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """How many splits ``split`` yields."""
        return 1

    def __repr__(self) -> str:
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in names)})"


class HoldoutSplit(_Splitter):
    """Split samples into train / validation / test index arrays in one call.

    For scikit-learn's ``cv=``, which takes (train, validation) pairs, use
    :class:`ValidationSplit`.

    Args:
        val: validation size, a count or a fraction of all samples.
        test: test size, a count or a fraction (0 for none).
        shuffle: shuffle before splitting. Unshuffled, the parts are consecutive:
            train first, then validation, then test (the book's "last 10000 are
            the validation set").
        seed: int or ``numpy.random.Generator``; only used when shuffling.
        stratify: keep class shares equal across parts (needs shuffle).

    Example:
        >>> import numpy as np
        >>> train, val, test = next(HoldoutSplit(val=2, test=1, shuffle=False).split(np.zeros(6)))
        >>> train.tolist(), val.tolist(), test.tolist()
        ([0, 1, 2], [3, 4], [5])
    """

    def __init__(
        self, *, val: Size = 0.2, test: Size = 0.0, shuffle: bool = True,
        seed: Seed = None, stratify: bool = False,
    ) -> None:  # fmt: skip
        if stratify and not shuffle:
            raise invalid_argument("stratify", stratify, "Stratified splitting needs shuffle=True.")
        self._set_seed(seed, used=shuffle)
        self.val = val
        self.test = test
        self.shuffle = shuffle
        self.stratify = stratify

    def sizes(self, n: int) -> tuple[int, int, int]:
        """The (train, val, test) counts for ``n`` samples."""
        n_test = resolve_size("test", self.test, n, allow_zero=True)
        n_val = resolve_size("val", self.val, n)
        if n_val + n_test >= n:
            raise ArgumentError(
                f"Invalid split sizes: val={self.val!r} ({n_val}) and test={self.test!r} "
                f"({n_test}) leave no training samples of {n}. Make them smaller."
            )
        return n - n_val - n_test, n_val, n_test

    def split(
        self, X: Any, y: np.ndarray | None = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield one ``(train, val, test)`` triple of index arrays into ``X``."""
        if groups is not None:
            raise invalid_argument("groups", "...", f"{type(self).__name__} does not use groups; use KFoldSplit.")
        n = _num_samples(X)
        labels = _as_labels(y, n, needed=self.stratify)
        n_train, n_val, n_test = self.sizes(n)
        if not self.shuffle and not self.stratify:
            # In order, train_test_split(shuffle=False) takes the first samples for training and
            # the last for the held-out part; slices give the same indices without importing
            # scikit-learn, 0.8 s of a book spec's run (a test compares them).
            order = np.arange(n, dtype=np.int64)
            yield order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]
            return
        from sklearn.model_selection import train_test_split

        if self.stratify and labels is not None:
            _check_stratifiable(labels, 2, "the holdout split")
        seed = self.drawn_seed
        rest = np.arange(n)
        test = np.arange(0, dtype=np.int64)
        if n_test:
            rest, test = train_test_split(
                rest, test_size=n_test, shuffle=self.shuffle, random_state=seed,
                stratify=labels if self.stratify else None,
            )  # fmt: skip
        train, val = train_test_split(
            rest, test_size=n_val, shuffle=self.shuffle,
            random_state=None if seed is None else seed + 1,
            stratify=labels[rest] if self.stratify and labels is not None else None,
        )  # fmt: skip
        yield np.asarray(train, np.int64), np.asarray(val, np.int64), np.asarray(test, np.int64)


class ValidationSplit(HoldoutSplit):
    """One (train, validation) pair of index arrays: the holdout split scikit-learn's ``cv=`` takes.

    Args:
        val: validation size, a count or a fraction of all samples.
        shuffle, seed, stratify: as in :class:`HoldoutSplit`.

    Example:
        >>> import numpy as np
        >>> from sklearn.model_selection import check_cv
        >>> cv = check_cv(ValidationSplit(val=2, shuffle=False))
        >>> [(train.tolist(), val.tolist()) for train, val in cv.split(np.zeros(5))]
        [([0, 1, 2], [3, 4])]
    """

    def __init__(self, val: Size = 0.2, *, shuffle: bool = True, seed: Seed = None, stratify: bool = False) -> None:
        super().__init__(val=val, test=0, shuffle=shuffle, seed=seed, stratify=stratify)

    def split(  # type: ignore[override]
        self, X: Any, y: np.ndarray | None = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield one ``(train, val)`` pair of index arrays into ``X``."""
        for train, val, _ in super().split(X, y, groups):
            yield train, val


class Subsample(_Splitter):
    """Draw a smaller training and validation set from larger ones (the book's 700/300).

    Args:
        train, val: how many to draw from each part (a count or a fraction).
        replace: draw with replacement, as the book's ``np.random.choice`` does
            (samples can repeat; the audit reports them).
        seed: int or ``numpy.random.Generator``.
        stratify: keep class shares (not with ``replace``).
    """

    def __init__(
        self, *, train: Size, val: Size, replace: bool = False, seed: Seed = None,
        stratify: bool = False,
    ) -> None:  # fmt: skip
        if replace and stratify:
            raise invalid_argument(
                "stratify", stratify, "Stratified subsampling draws without replacement; "
                "drop replace=True or stratify=True."
            )  # fmt: skip
        self._set_seed(seed, used=True)
        self.train = train
        self.val = val
        self.replace = replace
        self.stratify = stratify

    def draw(
        self, train: np.ndarray, val: np.ndarray, y: np.ndarray | None = None, *, seed: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw the subsample from ``train`` and ``val`` index arrays (``seed``: another int seed than this one's)."""
        rng = np.random.default_rng(self.drawn_seed if seed is None else seed)
        drawn = []
        for name, size, pool in (("train", self.train, train), ("val", self.val, val)):
            count = self._count(name, size, len(pool))
            if self.replace:
                drawn.append(np.sort(pool[rng.choice(len(pool), size=count, replace=True)]))
            elif self.stratify and y is not None:
                drawn.append(self._stratified(pool, y[pool], count, rng))
            else:
                drawn.append(np.sort(pool[rng.choice(len(pool), size=count, replace=False)]))
        return drawn[0], drawn[1]

    def _count(self, name: str, size: Size, available: int) -> int:
        if self.replace and isinstance(size, Integral) and size > available:
            return int(size)  # with replacement any count can be drawn
        return resolve_size(f"subsample {name}", size, available)

    @staticmethod
    def _stratified(pool: np.ndarray, labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
        from sklearn.model_selection import train_test_split

        if count == len(pool):
            return np.sort(pool)
        _check_stratifiable(labels, 2, "the subsample")
        chosen, _ = train_test_split(
            pool, train_size=count, stratify=labels, random_state=int(rng.integers(_SEED_BOUND))
        )
        return np.sort(chosen)


class KFoldSplit(_Splitter):
    """K folds of train / validation indices (plain, stratified, grouped, or stratified and grouped).

    Delegates to scikit-learn's ``KFold``, ``StratifiedKFold``, ``GroupKFold`` and
    ``StratifiedGroupKFold`` (groups passed to ``split`` keep each group in one fold).

    Args:
        n_folds: number of folds, at least 2.
        shuffle: shuffle before folding (grouped folds shuffle the groups).
        seed: int or ``numpy.random.Generator``; only used when shuffling.
        stratify: keep class shares in every fold.
    """

    def __init__(self, n_folds: int = 5, *, shuffle: bool = True, seed: Seed = None, stratify: bool = False) -> None:
        if isinstance(n_folds, bool) or not isinstance(n_folds, Integral) or n_folds < 2:
            raise invalid_argument("folds", n_folds, "Expected a whole number of folds, at least 2.")
        self._set_seed(seed, used=shuffle)
        self.n_folds: int = int(n_folds)
        self.shuffle: bool = shuffle
        self.stratify: bool = stratify

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_folds

    def split(
        self, X: Any, y: np.ndarray | None = None, groups: Any = None, *, seed: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, val)`` index arrays into ``X``, one pair per fold (``seed``: another int seed)."""
        from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

        n = _num_samples(X)
        if self.n_folds > n:
            raise invalid_argument("folds", self.n_folds, f"Only {n} samples are available; use at most {n} folds.")
        labels = _as_labels(y, n, needed=self.stratify)
        if seed is None:
            seed = self.drawn_seed
        if groups is not None:
            groups = np.asarray(groups)
            if len(groups) != n:
                raise ArgumentError(f"X and groups have different lengths ({n} and {len(groups)}).")
            distinct = len(np.unique(groups))
            if distinct < self.n_folds:
                raise invalid_argument(
                    "folds", self.n_folds, f"There are only {distinct} groups; use at most {distinct} folds."
                )
            if self.stratify and labels is not None:
                _check_stratifiable(labels, self.n_folds, f"into {self.n_folds} folds")
                splitter: Any = StratifiedGroupKFold(self.n_folds, shuffle=self.shuffle, random_state=seed)
            else:
                splitter = GroupKFold(self.n_folds, shuffle=self.shuffle, random_state=seed)
        elif self.stratify and labels is not None:
            _check_stratifiable(labels, self.n_folds, f"into {self.n_folds} folds")
            splitter = StratifiedKFold(self.n_folds, shuffle=self.shuffle, random_state=seed)
        else:
            splitter = KFold(self.n_folds, shuffle=self.shuffle, random_state=seed)
        for train, val in splitter.split(np.zeros(n), labels, groups):
            yield np.asarray(train, np.int64), np.asarray(val, np.int64)


@dataclass(frozen=True)
class Split:
    """The parts of one split of a dataset, with its manifest and audit.

    Attributes:
        dataset: the dataset the indices point into.
        parts: part name (``train``, ``train_dev``, ``val``, ``test``) to indices.
        manifest: sizes, class counts, seed, parameters and hashes (:class:`SplitManifest`).
        audit: duplicates, class balance and size findings.
        fold: the fold number for k-fold splits, else ``None``.
    """

    dataset: Dataset = field(repr=False)
    parts: dict[str, np.ndarray]
    manifest: SplitManifest
    audit: AuditReport
    fold: int | None = None

    @classmethod
    def from_parts(
        cls, dataset: Dataset, parts: dict[str, np.ndarray], *, kind: str = "custom", seed: int | None = None,
        params: dict[str, Any] | None = None, fold: int | None = None,
    ) -> Split:  # fmt: skip
        """A split of ``dataset`` into the given index arrays, with its manifest and audit."""
        return _make_split(dataset, dict(parts), kind=kind, seed=seed, params=params or {}, fold=fold)

    def take(self, part: str) -> tuple[np.ndarray, np.ndarray]:
        """The ``(x, y)`` arrays of one part."""
        if part not in self.parts:
            raise ArgumentError(f"This split has no part {part!r} (parts: {', '.join(self.parts)}).")
        return self.dataset.take(self.parts[part])

    @property
    def index_hash(self) -> str:
        return self.manifest.index_hash

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape that ``fitscope split --json`` prints."""
        return {
            "dataset": self.dataset.name,
            "parts": {
                name: {"size": len(idx), "class_counts": self.audit.class_counts[name]}
                for name, idx in self.parts.items()
            },
            "manifest": self.manifest.to_dict(),
            "audit": self.audit.to_dict(),
        }


def index_hash(parts: dict[str, np.ndarray]) -> str:
    """sha256 over part names and their int64 little-endian indices, in order."""
    digest = hashlib.sha256()
    for name, idx in parts.items():
        digest.update(name.encode() + b"\0")
        digest.update(np.asarray(idx, dtype="<i8").tobytes())
    return digest.hexdigest()


def target_stats(dataset: Dataset, indices: np.ndarray) -> dict[str, float | None]:
    """A regression part's target mean and variance (averaged over outputs): what predicting a constant scores.

    A model whose mean squared error equals the part's variance explains none of it (R² 0).
    """
    targets = np.asarray(dataset.y[indices], dtype=np.float64).reshape(len(indices), -1)
    if not len(targets):
        return {"mean": None, "variance": None}
    return {"mean": float(targets.mean()), "variance": float(targets.var(axis=0).mean())}


def content_hash(dataset: Dataset, indices: np.ndarray) -> str:
    """sha256 over the samples' input hashes and labels (a regression's targets as float32), in order."""
    hashes = dataset.sample_hashes()
    digest = hashlib.sha256()
    for i in indices.tolist():
        digest.update(hashes[i])
    # As int64, a target of 1.5 would hash as 1: a changed regression target must change the hash.
    digest.update(np.asarray(dataset.y[indices], dtype="<f4" if dataset.is_regression else "<i8").tobytes())
    return digest.hexdigest()


def _make_split(
    dataset: Dataset, parts: dict[str, np.ndarray], *, kind: str, seed: int | None,
    params: dict[str, Any], fold: int | None = None,
) -> Split:  # fmt: skip
    from .._version import __version__

    audit = audit_parts(dataset, parts)
    manifest = SplitManifest(
        kind=kind,
        dataset=dataset.name,
        source=dataset.source,
        n_samples=len(dataset),
        seed=seed,
        params=params,
        sizes={name: len(idx) for name, idx in parts.items()},
        class_counts={name: class_counts(dataset, idx) for name, idx in parts.items()},
        index_hash=index_hash(parts),
        content_hash={name: content_hash(dataset, idx) for name, idx in parts.items()},
        fitscope_version=__version__,
        # What predicting a constant would score, per part: the scale of a regression's errors.
        target_stats={name: target_stats(dataset, idx) for name, idx in parts.items()}
        if dataset.is_regression
        else None,
        fold=fold,
    )
    return Split(dataset=dataset, parts=parts, manifest=manifest, audit=audit, fold=fold)


def _test_part(dataset: Dataset, test: Size | Literal["provided"]) -> tuple[np.ndarray, np.ndarray, Size]:
    """Separate the test part: ``(pool, test indices, test size left to carve)``."""
    if test == "provided":
        if not dataset.has_test_set:
            raise invalid_argument(
                "test", test, f"Dataset {dataset.name!r} ships no test set; give a count or a fraction."
            )
        return dataset.train_indices, dataset.test_indices, 0
    return np.arange(len(dataset)), np.arange(0, dtype=np.int64), test


def split_dataset(
    dataset: Dataset,
    *,
    val: Size = 0.2,
    test: Size | Literal["provided"] = 0.0,
    shuffle: bool = True,
    seed: Seed = None,
    stratify: bool = False,
    subsample: tuple[Size, Size] | None = None,
    replace: bool = False,
) -> Split:
    """Split a dataset into train / val / test, optionally subsampled, with a manifest and audit.

    Args:
        dataset: the data.
        val: validation size, a count or a fraction. Fractions are of all samples,
            or of the dataset's own training part when ``test="provided"``, so
            ``val=0.2, test=0.1`` gives 70 / 20 / 10 %.
        test: test size (count or fraction), 0 for none, or ``"provided"`` for the
            dataset's own test set.
        shuffle: shuffle before splitting; unshuffled, validation is the last
            ``val`` samples before the test part.
        seed: int or Generator; drawn and recorded when ``None``.
        stratify: keep class shares across parts.
        subsample: ``(train, val)`` sizes to draw from the train and val parts.
        replace: draw the subsample with replacement (the book's ``np.random.choice``).

    Example:
        The book's split: validation is the last 10000 training images, and 700
        training and 300 validation samples are drawn from the two parts::

            split_dataset(load_mnist(), val=10000, test="provided", shuffle=False,
                          subsample=(700, 300), seed=3)
    """
    uses_seed = shuffle or subsample is not None
    if seed is not None and not uses_seed:
        raise invalid_argument("seed", seed, "A seed has no effect without shuffle or subsample; drop it or shuffle.")
    if replace and subsample is None:
        raise invalid_argument("replace", replace, "replace=True only applies to a subsample.")
    pool, test_idx, test_size = _test_part(dataset, test)
    int_seed = seed_to_int(seed) if uses_seed else None
    holdout = HoldoutSplit(
        val=val, test=test_size, shuffle=shuffle,
        seed=int_seed if shuffle else None, stratify=stratify,
    )  # fmt: skip
    train, val_idx, carved_test = next(holdout.split(pool, dataset.y[pool]))
    train, val_idx = pool[train], pool[val_idx]
    if len(carved_test):
        test_idx = pool[carved_test]
    if subsample is not None:
        sampler = Subsample(train=subsample[0], val=subsample[1], replace=replace, stratify=stratify)
        # A subsample always uses the seed, so int_seed is set here.
        train, val_idx = sampler.draw(train, val_idx, dataset.y, seed=cast(int, int_seed) + 7)
    parts = {"train": train, "val": val_idx}
    if len(test_idx):
        parts["test"] = test_idx
    params = {
        "val": val, "test": test, "shuffle": shuffle, "stratify": stratify,
        "subsample": list(subsample) if subsample is not None else None, "replace": replace,
    }  # fmt: skip
    return _make_split(dataset, parts, kind="holdout", seed=int_seed, params=params)


def kfold_dataset(
    dataset: Dataset,
    folds: int,
    *,
    test: Size | Literal["provided"] = 0.0,
    shuffle: bool = True,
    seed: Seed = None,
    stratify: bool = False,
    groups: np.ndarray | None = None,
) -> list[Split]:
    """K train/validation splits of a dataset, the test part held out of every fold.

    Args:
        dataset: the data.
        folds: number of folds (2 .. number of samples).
        test: held-out test part (count, fraction, 0 or ``"provided"``); carved
            before folding and identical in every fold.
        shuffle, seed, stratify: as in :class:`KFoldSplit`.
        groups: one group label per sample; samples of a group stay in one fold
            (with ``stratify``, scikit-learn's ``StratifiedGroupKFold``; shuffled, the
            groups are shuffled with the seed).
    """
    splitter = KFoldSplit(folds, shuffle=shuffle, seed=seed, stratify=stratify)
    pool, test_idx, test_size = _test_part(dataset, test)
    int_seed = splitter.drawn_seed
    if test_size:
        n_test = resolve_size("test", test_size, len(pool))
        if n_test >= len(pool):
            raise invalid_argument("test", test, "It leaves no samples to fold.")
        holdout = HoldoutSplit(val=n_test, shuffle=shuffle, seed=int_seed, stratify=stratify)
        rest, carved, _ = next(holdout.split(pool, dataset.y[pool]))
        pool, test_idx = pool[rest], pool[carved]
    group_arr = None if groups is None else np.asarray(groups)[pool]
    params = {"folds": folds, "test": test, "shuffle": shuffle, "stratify": stratify,
              "grouped": groups is not None}  # fmt: skip
    result = []
    folds_iter = splitter.split(pool, dataset.y[pool], group_arr, seed=int_seed)
    for number, (train, val) in enumerate(folds_iter):
        parts = {"train": pool[train], "val": pool[val]}
        if len(test_idx):
            parts["test"] = test_idx
        result.append(_make_split(dataset, parts, kind="kfold", seed=int_seed, params=params, fold=number))
    return result


def concat_datasets(first: Dataset, second: Dataset, *, name: str) -> Dataset:
    """One dataset holding ``first``'s samples, then ``second``'s (no test part)."""
    if first.input_shape != second.input_shape:
        raise ArgumentError(
            f"Datasets {first.name!r} and {second.name!r} have different input shapes "
            f"({first.input_shape} and {second.input_shape})."
        )
    if first.class_names != second.class_names:
        raise ArgumentError(
            f"Datasets {first.name!r} and {second.name!r} have different classes; "
            "a train-dev split needs the same label set in both."
        )
    return Dataset(
        name=name,
        x=np.concatenate([first.x, second.x]),
        y=np.concatenate([first.y, second.y]),
        class_names=first.class_names,
        source=f"{first.source} + {second.source}",
        value_max=max(first.value_max or 0, second.value_max or 0) or None,
    )


def train_dev_split(
    source: Dataset,
    target: Dataset,
    *,
    train_dev: Size = 0.1,
    dev: Size = 0.5,
    shuffle: bool = True,
    seed: Seed = None,
    stratify: bool = False,
) -> Split:
    """Ng's train-dev split over two distributions.

    The training distribution (``source``) is split into ``train`` and ``train_dev``;
    the target distribution (``target``) into ``val`` (Ng's dev set) and ``test``.
    The returned split points into a dataset holding ``source`` then ``target``.

    Args:
        train_dev: the train-dev size, a count or fraction of ``source``.
        dev: the dev (validation) size, a count or fraction of ``target``; the rest
            of ``target`` is the test set.
    """
    combined = concat_datasets(source, target, name=f"{source.name}+{target.name}")
    int_seed = seed_to_int(seed) if shuffle else None
    n_source = len(source)
    n_train_dev = resolve_size("train_dev", train_dev, n_source)  # (checked here, so an error names train_dev)
    if n_train_dev >= n_source:
        raise invalid_argument("train_dev", train_dev, f"It leaves no training samples of the source's {n_source}.")
    src = HoldoutSplit(val=n_train_dev, shuffle=shuffle, seed=int_seed, stratify=stratify)
    train, train_dev_idx, _ = next(src.split(np.arange(n_source), combined.y[:n_source]))
    n_target = len(target)
    n_dev = resolve_size("dev", dev, n_target)
    if n_dev >= n_target:
        raise invalid_argument("dev", dev, f"It leaves no test samples of the target's {n_target}.")
    tgt = HoldoutSplit(
        val=n_target - n_dev, shuffle=shuffle,
        seed=None if int_seed is None else int_seed + 1, stratify=stratify,
    )  # fmt: skip
    dev_idx, test_idx, _ = next(tgt.split(np.arange(n_target), combined.y[n_source:]))
    parts = {
        "train": train,
        "train_dev": train_dev_idx,
        "val": dev_idx + n_source,
        "test": test_idx + n_source,
    }
    params = {"train_dev": train_dev, "dev": dev, "shuffle": shuffle, "stratify": stratify,
              "source": source.name, "target": target.name}  # fmt: skip
    return _make_split(combined, parts, kind="train_dev", seed=int_seed, params=params)
