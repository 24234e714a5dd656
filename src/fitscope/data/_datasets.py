"""Datasets: the built-in MNIST, Fashion-MNIST and digits, and user files.

A :class:`Dataset` holds all of its samples in one pair of arrays; when the data
ships its own test set (MNIST's 60000/10000), the last rows are that test set and
``n_train`` says where it starts. Splits are index arrays into these arrays.

Nothing in this module imports Keras, except the last-resort download of a
built-in set that is nowhere on disk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .._errors import DataError, argument_error, invalid_argument
from .._i18n import N_
from ._readers import read_csv, read_idx, read_npz

__all__ = [
    "BUILTIN_DATASETS",
    "HUMAN_LEVEL_ERROR",
    "Dataset",
    "Location",
    "data_dir_from_env",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_file",
    "load_mnist",
    "locate_builtin",
]

MNIST_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
FASHION_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
# Label counts of the real MNIST (training, test): a loaded file must match them.
MNIST_TRAIN_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
MNIST_TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

BUILTIN_DATASETS = ("mnist", "fashion_mnist", "digits")
# Human-level error of the built-in datasets, with where the figure comes from: the diagnosis's
# default for Ng's avoidable bias (a user's own estimate overrides it).
HUMAN_LEVEL_ERROR: dict[str, tuple[float, str]] = {
    "mnist": (0.002, N_("the human error usually quoted for MNIST (LeCun et al., 1995)")),
    "fashion_mnist": (
        0.165,
        N_("crowd-sourced human accuracy, 83.5%, in the Fashion-MNIST benchmark (Xiao et al., 2017)"),
    ),
}
# What a dataset's labels are: classes, or numbers to predict.
TASKS = ("classification", "regression")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Inputs, integer labels (or a regression's targets) and what is known about them.

    Attributes:
        name: short name (``"mnist"``, or the file's stem).
        x: all inputs, one row per sample.
        y: integer class labels ``0..num_classes-1``, one per sample; for a regression,
            float32 targets (one number, or one row of numbers, per sample).
        class_names: a name per class (none for a regression).
        n_train: rows ``[n_train:]`` are the dataset's own test set; ``None`` when
            the dataset ships none.
        source: where it was loaded from, for messages and manifests.
        value_max: the largest possible input value (255 for 8-bit images), used
            to scale inputs to [0, 1]; ``None`` when unknown.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    n_train: int | None = None
    source: str = "arrays"
    value_max: float | None = None
    groups: np.ndarray | None = field(default=None, repr=False)
    group_column: str | None = None
    feature_names: tuple[str, ...] = ()  # a table's input columns (a CSV's header), for showing its rows
    _fingerprint: list[bytes] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        check_arrays(self.x, self.y, where=self.source)
        if self.groups is not None and len(self.groups) != len(self.y):
            raise DataError(f"{self.source}: {len(self.groups)} group labels for {len(self.y)} samples.")
        if self.n_train is not None and not 0 < self.n_train < len(self.y):
            raise DataError(
                f"{self.source}: n_train={self.n_train} must leave at least one training "
                f"and one test sample of {len(self.y)}."
            )

    @classmethod
    def from_arrays(
        cls,
        x: np.ndarray,
        y: Sequence[object] | np.ndarray,
        *,
        name: str = "arrays",
        x_test: np.ndarray | None = None,
        y_test: Sequence[object] | np.ndarray | None = None,
        class_names: Sequence[str] | None = None,
        source: str | None = None,
        value_max: float | None = None,
        task: str = "classification",
    ) -> Dataset:
        """Build a dataset from arrays, encoding any labels as ``0..k-1``.

        Args:
            x, y: inputs and labels (numbers or strings).
            x_test, y_test: the data's own test set, if it has one.
            class_names: names for the classes; default: the sorted label values.
            value_max: largest possible input value; default: the dtype's maximum
                for integer inputs, ``None`` otherwise.
            task: ``"classification"`` (labels are classes) or ``"regression"``
                (labels are numbers to predict, kept as float32 targets).
        """
        if task not in TASKS:
            raise invalid_argument("task", task, f"Expected one of {', '.join(TASKS)}.")
        source = source or name
        x = np.asarray(x)
        y_arr = np.asarray(y)
        if len(x) != len(y_arr):
            raise DataError(
                f"{source}: inputs and labels have different lengths "
                f"({len(x)} inputs, {len(y_arr)} labels). Give one label per sample."
            )
        n_train: int | None = None
        if (x_test is None) != (y_test is None):
            raise DataError(f"{source}: give both x_test and y_test, or neither.")
        if x_test is not None and y_test is not None:
            x_test = np.asarray(x_test)
            y_test_arr = np.asarray(y_test)
            if len(x_test) != len(y_test_arr):
                raise DataError(
                    f"{source}: test inputs and labels have different lengths "
                    f"({len(x_test)} inputs, {len(y_test_arr)} labels)."
                )
            if x_test.shape[1:] != x.shape[1:]:
                raise DataError(
                    f"{source}: test inputs have shape {x_test.shape[1:]} per sample, "
                    f"training inputs {x.shape[1:]}. They must match."
                )
            if len(x) and len(x_test):
                n_train = len(x)
                x = np.concatenate([x, x_test])
                y_arr = np.concatenate([y_arr, y_test_arr])
        if value_max is None and np.issubdtype(x.dtype, np.integer):
            value_max = float(np.iinfo(x.dtype).max)
        if task == "regression":
            if class_names is not None:
                raise DataError(f"{source}: a regression has no classes; leave class_names out.")
            targets = _targets(y_arr, source)
            check_arrays(x, targets, where=source)
            return cls(name=name, x=x, y=targets, class_names=(), n_train=n_train, source=source, value_max=value_max)
        check_arrays(x, y_arr, where=source)
        values, codes = np.unique(y_arr, return_inverse=True)
        fractional = _fractional_numbers(values)
        if fractional:
            raise DataError(
                f"{source}: the labels are numbers with fractions ({', '.join(fractional)}, ...): regression "
                "targets. To predict them, make it a regression (a spec's `data.task: regression`; "
                "`task='regression'` in Python). If they are class names, write them as text (e.g. 'size 1.5')."
            )
        if class_names is None:
            class_names = [str(v) for v in values]
            if np.issubdtype(values.dtype, np.integer) and values.min() >= 0:
                # Integer labels keep their meaning: label 7 stays class 7.
                codes = y_arr.astype(np.int64)
                class_names = [str(i) for i in range(int(values.max()) + 1)]
        elif len(class_names) < len(values):
            raise DataError(f"{source}: {len(values)} distinct labels but only {len(class_names)} class names.")
        return cls(
            name=name,
            x=x,
            y=codes.astype(np.int64, copy=False),
            class_names=tuple(class_names),
            n_train=n_train,
            source=source,
            value_max=value_max,
        )

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        test = f", provided test={len(self) - self.n_train}" if self.n_train else ""
        labels = "regression targets" if self.is_regression else f"classes={self.num_classes}"
        return f"Dataset(name={self.name!r}, samples={len(self)}{test}, input_shape={self.input_shape}, {labels})"

    @property
    def has_test_set(self) -> bool:
        """Whether the dataset ships its own test set."""
        return self.n_train is not None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def is_regression(self) -> bool:
        """Whether the labels are numbers to predict (float targets), not classes."""
        return bool(np.issubdtype(self.y.dtype, np.floating))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x.shape[1:])

    @property
    def train_indices(self) -> np.ndarray:
        """Indices of the samples available for training and validation."""
        return np.arange(self.n_train if self.n_train is not None else len(self))

    @property
    def test_indices(self) -> np.ndarray:
        """Indices of the dataset's own test set (empty when it has none)."""
        if self.n_train is None:
            return np.arange(0)
        return np.arange(self.n_train, len(self))

    def sample_hashes(self) -> list[bytes]:
        """A 16-byte hash of each sample's input bytes (cached)."""
        if not self._fingerprint:
            rows = np.ascontiguousarray(self.x).reshape(len(self), -1)
            self._fingerprint.extend(hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows)
        return self._fingerprint

    def take(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(x, y)`` for ``indices`` (copies only the rows asked for)."""
        return self.x[indices], self.y[indices]


def check_arrays(x: np.ndarray, y: np.ndarray, *, where: str) -> None:
    """Check inputs and labels before anything is built on them."""
    if len(x) != len(y):
        raise DataError(
            f"{where}: inputs and labels have different lengths "
            f"({len(x)} inputs, {len(y)} labels). Give one label per sample."
        )
    if len(y) == 0:
        raise DataError(f"{where}: the dataset is empty (0 samples).")
    if x.dtype == object or y.dtype == object:
        raise DataError(f"{where}: holds object arrays; inputs and labels must be numeric.")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"{where}: inputs have dtype {x.dtype}; they must be numeric.")
    if np.issubdtype(x.dtype, np.inexact):
        finite = np.isfinite(x)
        if not finite.all():
            row = int(np.argwhere(~finite)[0][0])
            raise DataError(
                f"{where}: inputs contain NaN or infinite values (first at sample {row}). "
                "Remove or impute them before training."
            )
    if np.issubdtype(y.dtype, np.inexact) and not np.isfinite(y).all():
        row = int(np.argwhere(~np.isfinite(y))[0][0])
        raise DataError(f"{where}: labels contain NaN or infinite values (first at sample {row}).")


@dataclass(frozen=True)
class Location:
    """Where a built-in dataset was found, or why it was not."""

    name: str
    found: bool
    where: str


def data_dir_from_env() -> Path | None:
    """The data directory named by ``FITSCOPE_DATA``, if set."""
    value = os.environ.get("FITSCOPE_DATA")
    return Path(value).expanduser() if value else None


def _keras_cache() -> Path:
    return Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "datasets"


def _mnist_candidates(data_dir: Path | None) -> list[Path]:
    dirs = [d for d in (data_dir, data_dir_from_env()) if d is not None]
    return [d / "mnist.npz" for d in dirs] + [_keras_cache() / "mnist.npz"]


def _fashion_candidates(data_dir: Path | None) -> list[Path]:
    dirs = [d for d in (data_dir, data_dir_from_env()) if d is not None]
    found = []
    for d in dirs:
        found += [d / "fashion-mnist", d / "fashion_mnist", d]
    return [*found, FASHION_DEBIAN_DIR, _keras_cache() / "fashion-mnist"]


def _has_fashion_files(folder: Path) -> bool:
    return all((folder / name).is_file() for name in FASHION_FILES.values())


def locate_builtin(name: str, *, data_dir: Path | None = None) -> Location:
    """Say where a built-in dataset would be loaded from, without loading it."""
    if name == "mnist":
        for path in _mnist_candidates(data_dir):
            if path.is_file():
                return Location(name, True, str(path))
        looked = ", ".join(str(p) for p in _mnist_candidates(data_dir))
        return Location(name, False, f"not on disk (looked in {looked}); would be downloaded with Keras")
    if name == "fashion_mnist":
        for folder in _fashion_candidates(data_dir):
            if _has_fashion_files(folder):
                return Location(name, True, str(folder))
        return Location(
            name,
            False,
            "not on disk (install Debian's dataset-fashion-mnist, or put the four IDX "
            ".gz files in the data directory); would be downloaded with Keras",
        )
    if name == "digits":
        import importlib.util

        if importlib.util.find_spec("sklearn") is None:
            return Location(name, False, "scikit-learn is not installed")
        return Location(name, True, "bundled with scikit-learn (always offline)")
    raise DataError(f"unknown dataset {name!r}. Built-in datasets: {', '.join(BUILTIN_DATASETS)}.")


def _download(fname: str, origin: str, *, subdir: str, file_hash: str | None) -> Path:
    from .._backend import choose_default_backend

    choose_default_backend()
    try:
        from keras.utils import get_file
    except ImportError as exc:  # pragma: no cover - keras is a dependency
        raise DataError(f"{fname} is not on disk and Keras is not installed to fetch it.") from exc
    try:
        path = get_file(fname, origin=origin, file_hash=file_hash, cache_subdir=subdir)
    except Exception as exc:
        raise argument_error(
            f"{fname} is not on disk and could not be downloaded from {origin} ({exc}). "
            "Put the file in a data directory and set FITSCOPE_DATA or pass <<data_dir>>.",
            DataError,
        ) from exc
    return Path(path)


def load_mnist(
    path: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Dataset:
    """Load MNIST (60000 training and 10000 test images of handwritten digits).

    Looks, in order, at ``path``; ``data_dir/mnist.npz``; ``$FITSCOPE_DATA/mnist.npz``;
    the Keras cache (``~/.keras/datasets/mnist.npz``); and only then downloads it
    with Keras from its published origin, checking the published sha256.

    Raises:
        DataError: the file is missing (and ``download`` is off), corrupt, or its
            arrays are not MNIST's (keys, shapes, dtypes, label range and counts).
    """
    if path is not None:
        chosen = Path(path)
    else:
        folder = Path(data_dir) if data_dir is not None else None
        chosen = next((p for p in _mnist_candidates(folder) if p.is_file()), None)  # type: ignore[assignment]
        if chosen is None:
            if not download:
                raise argument_error(
                    "mnist.npz was not found in the data directory or the Keras cache. "
                    "Set FITSCOPE_DATA to the folder that holds it, or pass <<data_dir>>.",
                    DataError,
                )
            chosen = _download("mnist.npz", MNIST_ORIGIN, subdir="datasets", file_hash=MNIST_SHA256)
    arrays = read_npz(chosen)
    _check_mnist_like(arrays, chosen, image_shape=(28, 28))
    if (
        tuple(np.bincount(arrays["y_train"], minlength=10)) != MNIST_TRAIN_COUNTS
        or tuple(np.bincount(arrays["y_test"], minlength=10)) != MNIST_TEST_COUNTS
    ):
        raise DataError(
            f"{chosen}: has MNIST's layout but not MNIST's label counts; it is another "
            "dataset or a damaged copy. Load it as a user file instead."
        )
    return Dataset.from_arrays(
        arrays["x_train"],
        arrays["y_train"],
        x_test=arrays["x_test"],
        y_test=arrays["y_test"],
        name="mnist",
        class_names=[str(i) for i in range(10)],
        source=str(chosen),
        value_max=255.0,
    )


def _check_mnist_like(arrays: dict[str, np.ndarray], path: Path, image_shape: tuple[int, int]) -> None:
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing:
        raise DataError(f"{path}: lacks the arrays {', '.join(missing)} (found: {', '.join(arrays)}).")
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != image_shape:
            raise DataError(
                f"{path}: x_{part} has shape {x.shape} and dtype {x.dtype}; expected "
                f"(n, {image_shape[0]}, {image_shape[1]}) uint8 images."
            )
        if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
            raise DataError(
                f"{path}: y_{part} has shape {y.shape} and dtype {y.dtype}; expected {len(x)} integer labels."
            )
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise DataError(f"{path}: y_{part} has labels outside 0..9.")


def load_fashion_mnist(*, data_dir: str | os.PathLike[str] | None = None, download: bool = True) -> Dataset:
    """Load Fashion-MNIST (60000/10000 images of clothing, 10 classes).

    Looks for the four IDX ``.gz`` files in the data directory, Debian's
    ``dataset-fashion-mnist`` location and the Keras cache, then downloads them.
    """
    folder_arg = Path(data_dir) if data_dir is not None else None
    folder = next((f for f in _fashion_candidates(folder_arg) if _has_fashion_files(f)), None)
    if folder is None:
        if not download:
            raise DataError(
                "Fashion-MNIST was not found. Install Debian's dataset-fashion-mnist or put "
                f"{', '.join(FASHION_FILES.values())} in the data directory."
            )
        paths = {
            key: _download(fname, FASHION_ORIGIN + fname, subdir="datasets/fashion-mnist", file_hash=None)
            for key, fname in FASHION_FILES.items()
        }
        folder = paths["x_train"].parent
    arrays = {key: read_idx(folder / fname) for key, fname in FASHION_FILES.items()}
    _check_mnist_like(arrays, folder, image_shape=(28, 28))
    return Dataset.from_arrays(
        arrays["x_train"],
        arrays["y_train"],
        x_test=arrays["x_test"],
        y_test=arrays["y_test"],
        name="fashion_mnist",
        class_names=FASHION_CLASSES,
        source=str(folder),
        value_max=255.0,
    )


def load_digits() -> Dataset:
    """Load scikit-learn's bundled 8x8 digits (1797 images, values 0..16; no test set)."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    return Dataset.from_arrays(
        bunch.images.astype(np.float32),
        bunch.target,
        name="digits",
        class_names=[str(i) for i in range(10)],
        source="scikit-learn digits",
        value_max=16.0,
    )


_NPZ_CONVENTIONS = (("x_train", "y_train"), ("x", "y"), ("X", "y"), ("inputs", "labels"))


def _load_npz_file(
    path: Path, x_key: str | None, y_key: str | None, group: str | None = None, task: str = "classification"
) -> Dataset:
    arrays = read_npz(path)
    if x_key or y_key:
        if not (x_key and y_key):
            raise DataError(f"{path}: name both the input and the label array.")
        for key in (x_key, y_key):
            if key not in arrays:
                raise DataError(f"{path}: has no array {key!r} (arrays: {', '.join(arrays)}).")
        pair = (x_key, y_key)
    else:
        pair = next((p for p in _NPZ_CONVENTIONS if p[0] in arrays and p[1] in arrays), None)  # type: ignore[assignment]
        if pair is None:
            raise DataError(
                f"{path}: cannot tell inputs from labels (arrays: {', '.join(arrays)}). "
                "Use the names x/y or x_train/y_train (with x_test/y_test), or name them."
            )
    x, y = arrays[pair[0]], arrays[pair[1]]
    x_test = y_test = None
    if pair[0] == "x_train" and "x_test" in arrays and "y_test" in arrays:
        x_test, y_test = arrays["x_test"], arrays["y_test"]
    dataset = Dataset.from_arrays(x, y, x_test=x_test, y_test=y_test, name=path.stem, source=str(path), task=task)
    if group is None:
        return dataset
    if group not in arrays:
        raise DataError(f"{path}: has no group array {group!r} (arrays: {', '.join(arrays)}).")
    groups = arrays[group]
    if groups.ndim != 1:
        raise DataError(f"{path}: the group array {group!r} has shape {groups.shape}; give one label per sample (1-D).")
    return replace(dataset, groups=groups, group_column=group, _fingerprint=[])


def _load_idx_dir(folder: Path) -> Dataset:
    files = sorted(p for p in folder.iterdir() if "idx" in p.name)

    def pick(prefixes: tuple[str, ...], kind: str) -> Path | None:
        return next((p for p in files if p.name.startswith(prefixes) and kind in p.name), None)

    x_train, y_train = pick(("train",), "images"), pick(("train",), "labels")
    if x_train is None or y_train is None:
        raise DataError(
            f"{folder}: holds no train-images/train-labels IDX files. Name them like "
            "MNIST's (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz])."
        )
    x_test, y_test = pick(("t10k", "test"), "images"), pick(("t10k", "test"), "labels")
    return Dataset.from_arrays(
        read_idx(x_train),
        read_idx(y_train),
        x_test=read_idx(x_test) if x_test and y_test else None,
        y_test=read_idx(y_test) if x_test and y_test else None,
        name=folder.name,
        source=str(folder),
    )


def load_file(
    path: str | os.PathLike[str],
    *,
    x_key: str | None = None,
    y_key: str | None = None,
    label: str | int = "label",
    header: bool | None = None,
    group: str | None = None,
    task: str = "classification",
) -> Dataset:
    """Load user data: an ``.npz`` file, a ``.csv`` file or a directory of IDX files.

    Args:
        path: the file or directory.
        x_key, y_key: array names in an ``.npz`` (default: ``x_train``/``y_train``
            with an optional ``x_test``/``y_test``, or ``x``/``y``).
        label: the label column of a CSV, by name or position.
        header: whether the CSV has a header row (default: guessed).
        group: group labels for grouped k-fold (samples of one group never sit on
            both sides of a fold): a CSV column (kept out of the inputs) or an
            ``.npz`` array with one label per training sample.
        task: ``"regression"`` keeps the labels as numbers to predict (see
            :meth:`Dataset.from_arrays`).
    """
    path = Path(path)
    if path.is_dir():
        if task == "regression":
            raise DataError(f"{path}: IDX folders hold image classes, not regression targets.")
        return _load_idx_dir(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _load_npz_file(path, x_key, y_key, group, task)
    if suffix in (".csv", ".txt"):
        x, y, columns = read_csv(path, label=label, header=header)
        groups = None
        if group is not None:
            if group not in columns:
                raise DataError(f"{path}: group column {group!r} is not in the header (columns: {', '.join(columns)}).")
            at = columns.index(group)
            groups = x[:, at].copy()
            x = np.delete(x, at, axis=1)
        dataset = Dataset.from_arrays(x, y, name=path.stem, source=str(path), task=task)
        named = replace(dataset, feature_names=tuple(c for c in columns if c != group), _fingerprint=[])
        if groups is None:
            return named
        return replace(named, groups=groups, group_column=group, _fingerprint=[])
    if not path.exists():
        raise DataError(f"{path}: no such file or directory. Check the path.")
    if suffix in (".gz", ".idx") or "idx" in path.name:
        raise DataError(f"{path}: give the directory that holds the IDX files, not one file.")
    raise DataError(
        f"{path}: unknown data format {suffix or '(no extension)'!r}. Use .npz, .csv or a directory of IDX files."
    )


def load_dataset(
    name_or_path: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    **file_options: object,
) -> Dataset:
    """Load a built-in dataset by name, or a user file by path.

    Example:
        >>> ds = load_dataset("digits")
        >>> len(ds), ds.num_classes, ds.has_test_set
        (1797, 10, False)
    """
    text = str(name_or_path)
    if file_options.get("task") == "regression" and text in (*BUILTIN_DATASETS, "fashion-mnist"):
        raise DataError(f"{text} holds image classes: it is not a regression. Leave data.task out.")
    if text == "mnist":
        return load_mnist(data_dir=data_dir, download=download)
    if text in ("fashion_mnist", "fashion-mnist"):
        return load_fashion_mnist(data_dir=data_dir, download=download)
    if text == "digits":
        return load_digits()
    path = Path(text).expanduser()
    if not path.exists() and os.sep not in text and "." not in text:
        import difflib

        close = difflib.get_close_matches(text, BUILTIN_DATASETS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(
            f"unknown dataset {text!r}: not a built-in dataset ({', '.join(BUILTIN_DATASETS)}) and no such file.{hint}"
        )
    return load_file(path, **file_options)  # type: ignore[arg-type]


def _targets(y: np.ndarray, source: str) -> np.ndarray:
    """A regression's labels as float32 targets; text that is not a number is refused."""
    try:
        return np.asarray(y, dtype=np.float32)
    except ValueError:
        flat = np.asarray(y).reshape(-1)
        bad = next(str(v) for v in flat if not _is_number_text(v))
        raise DataError(
            f"{source}: a regression's labels must be numbers; found {bad!r}. Is this a classification "
            "(leave data.task out)?"
        ) from None


def _is_number_text(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _fractional_numbers(values: np.ndarray) -> list[str]:
    """Up to three label values that are numbers with a fractional part (a regression target's)."""
    if np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.bool_):
        return []
    if np.issubdtype(values.dtype, np.floating):
        numbers = values
    else:  # text labels, as a CSV gives them when not every one is a whole number
        try:
            numbers = values.astype(float)
        except ValueError:
            return []  # class names
    fractional = values[np.isfinite(numbers) & (numbers != np.round(numbers))]
    return [str(v) for v in fractional[:3]]
