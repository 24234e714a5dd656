from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitscope import ArgumentError, Dataset, HoldoutSplit, KFoldSplit, Subsample, ValidationSplit
from fitscope.data import kfold_dataset, split_dataset, train_dev_split


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(10, 300),
    val=st.integers(1, 4),
    test=st.integers(0, 4),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**31 - 2),
)
def test_holdout_parts_are_disjoint_cover_and_sized(n: int, val: int, test: int, shuffle: bool, seed: int) -> None:
    splitter = HoldoutSplit(val=val, test=test, shuffle=shuffle, seed=seed if shuffle else None)
    train, v, t = next(splitter.split(np.zeros(n)))
    everything = np.concatenate([train, v, t])
    assert sorted(everything.tolist()) == list(range(n))
    assert (len(train), len(v), len(t)) == (n - val - test, val, test)
    if shuffle:
        again = next(HoldoutSplit(val=val, test=test, seed=seed).split(np.zeros(n)))
        assert all(np.array_equal(a, b) for a, b in zip((train, v, t), again))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(3, 300), val=st.integers(1, 100), test=st.integers(0, 100), fractions=st.booleans())
def test_an_unshuffled_holdout_is_scikit_learns(n: int, val: int, test: int, fractions: bool) -> None:
    """In order, the split slices what train_test_split(shuffle=False) would give, without importing it."""
    from sklearn.model_selection import train_test_split

    sizes = {"val": val / 101, "test": test / 101} if fractions else {"val": val, "test": test}
    splitter = HoldoutSplit(**sizes, shuffle=False)
    try:
        _, n_val, n_test = splitter.sizes(n)
    except ArgumentError:
        return  # sizes that leave no training samples are refused either way
    rest, expected_test = np.arange(n), np.arange(0)
    if n_test:
        rest, expected_test = train_test_split(rest, test_size=n_test, shuffle=False)
    expected = (*train_test_split(rest, test_size=n_val, shuffle=False), expected_test)
    got = next(splitter.split(np.zeros(n)))
    assert all(np.array_equal(a, b) and a.dtype == np.int64 for a, b in zip(got, expected))


def test_a_book_spec_split_needs_no_scikit_learn() -> None:
    code = (
        "import sys, numpy as np\n"
        "from fitscope import Dataset, split_dataset\n"
        "ds = Dataset(name='d', x=np.zeros((120, 2)), y=np.arange(120) % 3, class_names=['a', 'b', 'c'])\n"
        "split_dataset(ds, val=20, test=10, shuffle=False, subsample=(50, 10), seed=3)\n"
        "print('sklearn' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@settings(max_examples=40, deadline=None)
@given(n=st.integers(6, 200), k=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_kfold_vals_partition_the_data(n: int, k: int, seed: int) -> None:
    if k > n:
        return
    folds = list(KFoldSplit(k, seed=seed).split(np.zeros(n)))
    vals = np.concatenate([v for _, v in folds])
    assert sorted(vals.tolist()) == list(range(n))
    for train, val in folds:
        assert not set(train.tolist()) & set(val.tolist())
        assert len(train) + len(val) == n


@settings(max_examples=40, deadline=None)
@given(train=st.integers(1, 40), val=st.integers(1, 20), seed=st.integers(0, 1000))
def test_subsample_without_replacement(train: int, val: int, seed: int) -> None:
    a, b = Subsample(train=train, val=val).draw(np.arange(50), np.arange(50, 80), seed=seed)
    assert len(a) == train and len(set(a.tolist())) == train and set(a.tolist()) <= set(range(50))
    assert len(b) == val and set(b.tolist()) <= set(range(50, 80))


def test_unshuffled_validation_is_the_last_samples(tiny: Dataset) -> None:
    split = split_dataset(tiny, val=16, shuffle=False)
    assert split.parts["train"].tolist() == list(range(80))
    assert split.parts["val"].tolist() == list(range(80, 96))
    assert split.manifest.seed is None


def test_provided_test_set_and_book_split() -> None:
    x = np.arange(200).reshape(100, 2)
    ds = Dataset.from_arrays(x[:80], np.arange(80) % 4, x_test=x[80:], y_test=np.arange(20) % 4)
    split = split_dataset(ds, val=20, test="provided", shuffle=False, subsample=(30, 10), seed=3)
    assert split.parts["test"].tolist() == list(range(80, 100))
    assert set(split.parts["val"].tolist()) <= set(range(60, 80))
    assert set(split.parts["train"].tolist()) <= set(range(60))
    assert (len(split.parts["train"]), len(split.parts["val"])) == (30, 10)
    again = split_dataset(ds, val=20, test="provided", shuffle=False, subsample=(30, 10), seed=3)
    assert again.index_hash == split.index_hash


def test_replace_reproduces_np_random_choice_and_audit_reports_repeats(tiny: Dataset) -> None:
    split = split_dataset(tiny, val=16, shuffle=False, subsample=(200, 50), replace=True, seed=1)
    assert len(split.parts["train"]) == 200
    assert split.audit.duplicates_within["train"] == 200 - len(set(split.parts["train"].tolist()))
    assert any("repeated sample" in w for w in split.audit.warnings)


def test_stratify_keeps_shares(tiny: Dataset) -> None:
    split = split_dataset(tiny, val=0.25, test=0.25, stratify=True, seed=0)
    assert split.audit.class_counts["val"] == {"0": 8, "1": 8, "2": 8}


def test_generator_seed_is_recorded(tiny: Dataset) -> None:
    split = split_dataset(tiny, val=0.25, seed=np.random.default_rng(5))
    recorded = split.manifest.seed
    assert isinstance(recorded, int)
    assert split_dataset(tiny, val=0.25, seed=recorded).index_hash == split.index_hash


def test_no_seed_still_records_one(tiny: Dataset) -> None:
    split = split_dataset(tiny, val=0.25)
    assert split_dataset(tiny, val=0.25, seed=split.manifest.seed).index_hash == split.index_hash


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"val": 0.7, "test": 0.5},
            r"Invalid value for argument `test`. Received: test=0.5|leave no training",
        ),
        ({"val": 0}, r"Invalid value for argument `val`. Received: val=0. Expected a fraction"),
        ({"val": -3}, r"Received: val=-3"),
        ({"val": 1000}, r"Only 96 samples are available"),
        ({"val": 0.001}, r"It rounds to 0 of 96 samples"),
        ({"val": 1.5}, r"Received: val=1.5"),
        ({"val": 50, "test": 46}, r"leave no training samples of 96"),
        ({"val": "x"}, r"Received: val='x'"),
        ({"test": "provided"}, r"ships no test set"),
        ({"shuffle": False, "seed": 1}, r"A seed has no effect"),
        ({"replace": True}, r"replace=True only applies to a subsample"),
        ({"subsample": (500, 5)}, r"subsample train.*Only 77 samples"),
    ],
)
def test_bad_sizes(tiny: Dataset, kwargs: dict, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        split_dataset(tiny, **kwargs)


def test_class_too_rare_to_stratify() -> None:
    ds = Dataset.from_arrays(np.arange(20).reshape(10, 2), [0] * 9 + [1])
    with pytest.raises(ArgumentError, match=r"class 1 has only 1 sample\(s\)"):
        split_dataset(ds, val=0.3, stratify=True, seed=0)
    with pytest.raises(ArgumentError, match=r"Cannot stratify into 3 folds: class 1"):
        kfold_dataset(ds, 3, stratify=True, seed=0)


@pytest.mark.parametrize("k", [1, 0, 97])
def test_bad_fold_counts(tiny: Dataset, k: int) -> None:
    with pytest.raises(ArgumentError, match=r"Invalid value for argument `folds`"):
        kfold_dataset(tiny, k, seed=0)


def test_kfold_holds_out_the_same_test_part(tiny: Dataset) -> None:
    folds = kfold_dataset(tiny, 4, test=16, seed=2, stratify=True)
    tests = {tuple(f.parts["test"].tolist()) for f in folds}
    assert len(tests) == 1 and len(next(iter(tests))) == 16
    vals = np.concatenate([f.parts["val"] for f in folds])
    assert sorted(vals.tolist()) == sorted(set(range(96)) - set(next(iter(tests))))
    assert [f.fold for f in folds] == [0, 1, 2, 3]


def test_grouped_kfold_keeps_groups_together(tiny: Dataset) -> None:
    groups = np.arange(96) // 8
    for split in kfold_dataset(tiny, 3, groups=groups):
        assert not set(groups[split.parts["train"]]) & set(groups[split.parts["val"]])


def test_train_dev_split() -> None:
    rng = np.random.default_rng(0)
    source = Dataset.from_arrays(rng.normal(size=(60, 3)), np.arange(60) % 3, name="clean")
    target = Dataset.from_arrays(rng.normal(size=(40, 3)) + 5, np.arange(40) % 3, name="shifted")
    split = train_dev_split(source, target, train_dev=10, dev=20, seed=0)
    assert list(split.parts) == ["train", "train_dev", "val", "test"]
    assert [len(v) for v in split.parts.values()] == [50, 10, 20, 20]
    assert max(split.parts["train_dev"]) < 60 <= min(split.parts["val"])
    assert split.manifest.kind == "train_dev"


def test_manifest_and_json_shape(tiny: Dataset) -> None:
    data = split_dataset(tiny, val=0.25, test=0.25, seed=0).to_dict()
    json.dumps(data)
    assert set(data["parts"]) == {"train", "val", "test"}
    assert set(data["audit"]["duplicates_across"]) == {"train-val", "train-test", "val-test"}
    assert len(data["manifest"]["index_hash"]) == 64
    assert set(data["manifest"]["content_hash"]) == {"train", "val", "test"}


def test_same_seed_same_indices_in_a_fresh_process(tiny: Dataset) -> None:
    code = (
        "import numpy as np, fitscope\n"
        "rng = np.random.default_rng(0)\n"
        "x = rng.normal(size=(96, 4)).astype(np.float32)\n"
        "ds = fitscope.Dataset.from_arrays(x, np.repeat(np.arange(3), 32))\n"
        "print(fitscope.split_dataset(ds, val=0.25, test=10, seed=42, stratify=True).index_hash)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    here = split_dataset(tiny, val=0.25, test=10, seed=42, stratify=True).index_hash
    assert out.stdout.strip() == here


def test_repr_shows_parameters() -> None:
    assert repr(HoldoutSplit(val=0.1, seed=3)) == (
        "HoldoutSplit(val=0.1, test=0.0, shuffle=True, seed=3, stratify=False)"
    )
    assert "n_folds=5" in repr(KFoldSplit())


def test_every_splitter_s_repr_comes_from_its_parameters() -> None:
    assert repr(KFoldSplit(3, seed=1, stratify=True)) == "KFoldSplit(n_folds=3, shuffle=True, seed=1, stratify=True)"
    assert repr(Subsample(train=700, val=300, seed=3)) == (
        "Subsample(train=700, val=300, replace=False, seed=3, stratify=False)"
    )
    assert repr(ValidationSplit(0.25, shuffle=False)) == (
        "ValidationSplit(val=0.25, shuffle=False, seed=None, stratify=False)"
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: HoldoutSplit(shuffle=False, seed=0),
        lambda: ValidationSplit(shuffle=False, seed=0),
        lambda: KFoldSplit(3, shuffle=False, seed=0),
    ],
)
def test_a_seed_that_would_be_ignored_is_refused_by_every_splitter(make) -> None:
    with pytest.raises(ArgumentError, match=r"Received: seed=0\. A seed has no effect when shuffle=False"):
        make()


def test_subsample_uses_its_own_seed() -> None:
    train, val = np.arange(0, 500), np.arange(500, 800)
    a = Subsample(train=50, val=20, seed=1).draw(train, val)
    b = Subsample(train=50, val=20, seed=1).draw(train, val)
    c = Subsample(train=50, val=20, seed=2).draw(train, val)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("splitter", [KFoldSplit(4), HoldoutSplit(val=0.3), Subsample(train=10, val=5)])
def test_a_splitter_without_a_seed_draws_one_once(splitter) -> None:
    """The same parts on every call, and the seed it drew can be recorded."""
    assert isinstance(splitter.drawn_seed, int)
    if isinstance(splitter, Subsample):
        first, again = splitter.draw(np.arange(40), np.arange(40, 60)), splitter.draw(np.arange(40), np.arange(40, 60))
    else:
        first, again = list(splitter.split(np.zeros(40))), list(splitter.split(np.zeros(40)))

    def flat(parts: list | tuple) -> np.ndarray:
        return np.concatenate([a for part in parts for a in (part if isinstance(part, tuple) else (part,))])

    assert np.array_equal(flat(first), flat(again))


def test_kfold_with_groups_and_stratify_is_stratified_and_grouped() -> None:
    from sklearn.model_selection import StratifiedGroupKFold

    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), 5)  # 40 patients, 5 samples each
    y = np.repeat(rng.integers(0, 2, 40), 5)  # a patient's samples share a label
    x = np.zeros(len(y))
    ours = list(KFoldSplit(4, seed=7, stratify=True).split(x, y, groups))
    theirs = list(StratifiedGroupKFold(4, shuffle=True, random_state=7).split(x, y, groups))
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(ours, theirs))
    for train, val in ours:
        assert not set(groups[train]) & set(groups[val])


def test_grouped_folds_shuffle_with_the_recorded_seed(tiny: Dataset) -> None:
    groups = np.arange(96) // 8
    one = kfold_dataset(tiny, 3, groups=groups, seed=1)
    again = kfold_dataset(tiny, 3, groups=groups, seed=1)
    other = kfold_dataset(tiny, 3, groups=groups, seed=2)
    assert [s.index_hash for s in one] == [s.index_hash for s in again] != [s.index_hash for s in other]
    assert one[0].manifest.seed == 1 and one[0].manifest.params["grouped"] is True


def test_the_two_way_splitters_are_scikit_learn_splitters() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, check_cv, cross_val_score, learning_curve

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    y = (x[:, 0] > 0).astype(int)
    for cv, splits in ((KFoldSplit(3, seed=0, stratify=True), 3), (ValidationSplit(0.25, seed=0), 1)):
        assert check_cv(cv) is cv and cv.get_n_splits() == splits
        scores = cross_val_score(LogisticRegression(), x, y, cv=cv)
        assert len(scores) == splits and scores.min() > 0.8
        search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=cv).fit(x, y)
        assert search.n_splits_ == splits
        _, train_scores, _ = learning_curve(LogisticRegression(), x, y, cv=cv, train_sizes=[0.5, 1.0])
        assert train_scores.shape == (2, splits)


def test_the_manifest_is_a_frozen_type_with_a_json_round_trip(tiny: Dataset) -> None:
    import dataclasses

    from fitscope import SplitManifest

    split = split_dataset(tiny, val=0.25, test=0.25, seed=0)
    manifest = split.manifest
    assert isinstance(manifest, SplitManifest) and manifest.sizes == {"train": 48, "val": 24, "test": 24}
    with pytest.raises(dataclasses.FrozenInstanceError):
        manifest.seed = 1  # type: ignore[misc]
    text = json.dumps(manifest.to_dict())
    assert SplitManifest.from_dict(json.loads(text)) == manifest
    assert "fold" not in manifest.to_dict() and "audit" not in manifest.to_dict()  # (left out when empty)
    audited = manifest.with_audit(split.audit.to_dict())
    assert SplitManifest.from_dict(json.loads(json.dumps(audited.to_dict()))).audit_warnings == split.audit.warnings
    # What an older fitscope recorded (no content hashes, a key since dropped) still reads.
    old = SplitManifest.from_dict({"kind": "holdout", "dataset": "mnist", "index_hash": "ab", "retired_key": 1})
    assert (old.content_hash, old.num_classes) == ({}, None)
