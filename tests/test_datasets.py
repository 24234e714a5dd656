from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fitscope
from fitscope import ArgumentError, DataError, Dataset, Preprocessing
from fitscope.data import load_dataset, load_fashion_mnist, load_file, load_mnist, locate_builtin, split_dataset


def test_digits_is_offline_and_knows_itself() -> None:
    ds = fitscope.load_digits()
    assert (len(ds), ds.num_classes, ds.has_test_set, ds.input_shape) == (1797, 10, False, (8, 8))
    assert ds.value_max == 16.0


def test_from_arrays_with_string_labels_and_test_set() -> None:
    ds = Dataset.from_arrays(
        np.zeros((4, 2)), ["cat", "dog", "cat", "dog"], x_test=np.ones((2, 2)), y_test=["dog", "cat"]
    )
    assert ds.class_names == ("cat", "dog")
    assert ds.y.tolist() == [0, 1, 0, 1, 1, 0]
    assert ds.train_indices.tolist() == [0, 1, 2, 3] and ds.test_indices.tolist() == [4, 5]


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((3, 2)), np.zeros(2), r"different lengths \(3 inputs, 2 labels\)"),
        (np.zeros((0, 2)), np.zeros(0), r"the dataset is empty"),
        (np.array([[1.0, np.nan]]), np.zeros(1), r"NaN or infinite values \(first at sample 0\)"),
        (np.array([[1.0], [np.inf]]), np.zeros(2), r"NaN or infinite values \(first at sample 1\)"),
    ],
)
def test_from_arrays_bad_input(x: np.ndarray, y: np.ndarray, message: str) -> None:
    with pytest.raises(DataError, match=message):
        Dataset.from_arrays(x, y)


def test_regression_targets_as_classes_are_refused_with_what_to_do(tmp_path: Path) -> None:
    """Numbers with fractions as labels would each become a class: refused, from arrays and from a CSV."""
    with pytest.raises(DataError) as refused:
        Dataset.from_arrays(np.zeros((4, 1)), [0.5, 1.0, 2.25, 1.0], name="targets")
    assert str(refused.value) == (
        "targets: the labels are numbers with fractions (0.5, 2.25, ...): regression targets. To predict them, make "
        "it a regression (a spec's `data.task: regression`; `task='regression'` in Python). If they are class "
        "names, write them as text (e.g. 'size 1.5')."
    )
    (tmp_path / "prices.csv").write_text("area,price\n30,1.5\n40,2\n50,2.75\n")
    with pytest.raises(DataError, match=r"prices\.csv: the labels are numbers with fractions \(1\.5, 2\.75, \.\.\.\)"):
        load_file(tmp_path / "prices.csv", label="price")
    assert Dataset.from_arrays(np.zeros((3, 1)), [0.0, 1.0, 1.0]).num_classes == 2  # whole numbers: classes
    assert Dataset.from_arrays(np.zeros((2, 1)), ["size 1.5", "size 2"]).class_names == ("size 1.5", "size 2")


def test_a_regression_keeps_its_targets_as_numbers(tmp_path: Path) -> None:
    (tmp_path / "prices.csv").write_text("area,rooms,price\n30,1,1.5\n40,2,2\n50,2,2.75\n60,3,3\n")
    prices = load_file(tmp_path / "prices.csv", label="price", task="regression")
    assert prices.is_regression and prices.class_names == () and prices.y.dtype == np.float32
    assert prices.y.tolist() == [1.5, 2.0, 2.75, 3.0] and prices.x.shape == (4, 2)
    assert "regression targets" in repr(prices)
    two = Dataset.from_arrays(np.zeros((3, 1)), np.ones((3, 2)), task="regression")  # two numbers per sample
    assert two.y.shape == (3, 2)
    with pytest.raises(DataError, match=r"^arrays: a regression's labels must be numbers; found 'cat'\. Is this a "
                       r"classification \(leave data\.task out\)\?$"):  # fmt: skip
        Dataset.from_arrays(np.zeros((2, 1)), ["1.5", "cat"], task="regression")
    with pytest.raises(
        DataError, match=r"^mnist holds image classes: it is not a regression\. Leave data\.task out\.$"
    ):
        load_dataset("mnist", task="regression")
    split = split_dataset(prices, val=1, test=1, seed=0)
    assert split.manifest.class_counts == {"train": {}, "val": {}, "test": {}}
    assert "val has only 1 samples: its metrics will be noisy." in split.audit.warnings  # (no accuracy to move)
    train = prices.y[split.parts["train"]].astype(float)  # two of 1.5, 2, 2.75, 3
    assert split.manifest.target_stats["train"] == pytest.approx({"mean": train.mean(), "variance": train.var()})
    assert split.manifest.target_stats["train"]["variance"] > 0
    # A target changed by a fraction changes the part's content hash (as int64 both were 1).
    nudged = Dataset.from_arrays(prices.x, prices.y + np.float32(0.25), task="regression")
    assert split_dataset(nudged, val=1, test=1, seed=0).manifest.content_hash != split.manifest.content_hash
    with pytest.raises(ArgumentError, match=r"Received: stratify=True\. Stratifying keeps class shares, and a "
                       r"regression's targets have no classes: drop it\.$"):  # fmt: skip
        split_dataset(prices, val=1, stratify=True, seed=0)


def test_many_whole_number_labels_suggest_a_regression() -> None:
    x = np.arange(600, dtype=np.float32).reshape(300, 2)
    ages = Dataset.from_arrays(x, np.arange(300) % 80 + 10)  # 80 "classes" of 300 samples: ages, really
    assert "80 classes for 300 samples: if the labels are numbers to predict (a measurement, a price), make this a " \
        "regression (`fitscope split --task regression`; a spec's `data.task: regression`)." \
        in split_dataset(ages, val=0.2, seed=0).audit.warnings  # fmt: skip
    digits = Dataset.from_arrays(x, np.arange(300) % 10)
    assert not any("classes for" in w for w in split_dataset(digits, val=0.2, seed=0).audit.warnings)


def test_preprocessing_is_the_books() -> None:
    x, y = Preprocessing(one_hot=True).apply(
        np.full((2, 28, 28), 255, np.uint8), np.array([3, 1]), value_max=255, num_classes=10
    )
    assert x.dtype == np.float32 and x.shape == (2, 784) and float(x.max()) == 1.0
    assert y.shape == (2, 10) and y[0, 3] == 1.0


def test_standardize_needs_the_training_statistics_first() -> None:
    train = np.array([[0.0, 10.0], [2.0, 30.0]])
    with pytest.raises(ArgumentError, match=r"^scale='standardize' needs the training part's statistics: apply the "
                       r"copy that Preprocessing.fit\(x_train\) returns\.$"):  # fmt: skip
        Preprocessing(scale="standardize").apply(train, np.array([0, 1]), value_max=None, num_classes=2)
    fitted = Preprocessing(scale="standardize").fit(train)
    x, _ = fitted.apply(np.array([[3.0, 10.0]]), np.array([1]), value_max=None, num_classes=2)
    assert x.dtype == np.float32 and x.tolist() == [[2.0, -1.0]]  # (3 - 1) / 1 and (10 - 20) / 10
    empty, _ = fitted.apply(np.zeros((0, 2)), np.zeros(0, int), value_max=None, num_classes=2)
    assert empty.shape == (0, 2)
    with pytest.raises(ArgumentError, match="Expected true, false, a positive number or 'standardize'"):
        Preprocessing(scale="normalize")


def test_npz_conventional_names(tmp_path: Path) -> None:
    path = tmp_path / "mine.npz"
    np.savez(path, x_train=np.zeros((5, 3)), y_train=np.arange(5) % 2, x_test=np.ones((2, 3)), y_test=[0, 1])
    ds = load_file(path)
    assert ds.name == "mine" and len(ds) == 7 and ds.has_test_set


def test_npz_unknown_names(tmp_path: Path) -> None:
    path = tmp_path / "odd.npz"
    np.savez(path, a=np.zeros(3), b=np.zeros(3))
    with pytest.raises(DataError, match=r"cannot tell inputs from labels \(arrays: a, b\)"):
        load_file(path)
    assert len(load_file(path, x_key="a", y_key="b")) == 3


def test_csv_dataset(tmp_path: Path) -> None:
    path = tmp_path / "iris.csv"
    path.write_text("f1,f2,species\n1,2,a\n3,4,b\n5,6,a\n")
    ds = load_file(path, label="species")
    assert ds.class_names == ("a", "b") and ds.x.shape == (3, 2)


def test_unknown_dataset_suggests() -> None:
    with pytest.raises(DataError, match=r"unknown dataset 'digts'.*Did you mean 'digits'\?"):
        load_dataset("digts")


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(DataError, match=r"unknown data format '.parquet'"):
        load_file(path)


def test_mnist_layout_check(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((3, 28, 28), np.uint8), y_train=np.zeros(3, np.uint8))
    with pytest.raises(DataError, match=r"lacks the arrays x_test, y_test"):
        load_mnist(path)
    np.savez(
        path, x_train=np.zeros((3, 28, 28), np.uint8), y_train=np.zeros(3, np.uint8),
        x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8),
    )  # fmt: skip
    with pytest.raises(DataError, match=r"not MNIST's label counts"):
        load_mnist(path)


def test_mnist_not_found_without_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITSCOPE_DATA", str(tmp_path))
    with pytest.raises(DataError, match=r"Set FITSCOPE_DATA to the folder that holds it"):
        load_mnist(download=False)
    assert not locate_builtin("mnist").found


def test_locate_uses_env(mnist_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITSCOPE_DATA", str(mnist_path.parent))
    where = locate_builtin("mnist")
    assert where.found and where.where == str(mnist_path)


@pytest.mark.integration
def test_real_mnist(mnist_path: Path) -> None:
    ds = load_mnist(mnist_path)
    assert (len(ds), ds.n_train, ds.input_shape) == (70000, 60000, (28, 28))
    assert ds.y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert ds.y[60000:60010].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert abs(float(ds.x[:60000].mean()) - 33.318) < 0.001


FASHION_DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.integration
@pytest.mark.skipif(
    not FASHION_DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)"
)
def test_real_fashion_mnist_from_debian() -> None:
    ds = load_fashion_mnist(download=False)
    assert ds.source == str(FASHION_DEBIAN) and locate_builtin("fashion_mnist").found
    assert (len(ds), ds.n_train, ds.input_shape) == (70000, 60000, (28, 28))
    assert ds.y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert ds.y[60000:60010].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(ds.y[:60000]).tolist() == [6000] * 10 and np.bincount(ds.y[60000:]).tolist() == [1000] * 10
    assert abs(float(ds.x[:60000].mean()) / 255 - 0.2860) < 0.0001  # the published training mean
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
