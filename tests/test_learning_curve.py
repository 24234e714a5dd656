"""Would more data help? Learning curves over the training-set size: verdicts, subsets, the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fitscope._i18n import set_language
from fitscope.analysis import SizePoint, judge_learning_curve, size_point
from fitscope.cli import main
from fitscope.experiment.preparing import digest, nested_subset
from fitscope.experiment.search import learning_curve_sizes
from fitscope.experiment.training import Trial
from fitscope.store import Store


def _points(train: list[float], val: list[float], *, std: float = 0.01, runs: int = 3,
            sizes: tuple[int, ...] = (100, 200, 400, 800)) -> list[SizePoint]:  # fmt: skip
    return [SizePoint(size=n, runs=runs, train_error=t, train_error_std=std, val_error=v, val_error_std=std,
                      final_train_error=t, final_val_error=v, best_epoch=10)
            for n, t, v in zip(sizes, train, val)]  # fmt: skip


def test_a_variance_limited_curve_says_more_data_helps() -> None:
    verdict = judge_learning_curve(_points([0.0, 0.0, 0.01, 0.01], [0.30, 0.22, 0.16, 0.12]), desired=0.002)
    assert (verdict.kind, verdict.certainty) == ("variance", "sure")
    assert verdict.fall == pytest.approx(0.06, abs=0.005)  # per doubling of the data
    assert verdict.sentences[0] == (
        "Validation error from 100 to 800 training samples: 30.0% -> 12.0% (6.0% less per doubling of the data); "
        "training error at 800: 1.0% (errors at the best epoch, mean over the runs of each size)."
    )
    assert verdict.sentences[1] == (
        "More data is likely to help: the validation error still falls with the training-set size, and the gap to "
        "the training error is 11.0% (variance)."
    )


def test_a_bias_limited_curve_says_a_bigger_model_not_more_data() -> None:
    verdict = judge_learning_curve(_points([0.30, 0.31, 0.31, 0.31], [0.33, 0.32, 0.32, 0.32]), desired=0.002)
    assert (verdict.kind, verdict.certainty) == ("bias", "likely")
    assert verdict.sentences[1].startswith("More data is unlikely to help: both curves are flat and close together")
    set_language("ko")
    korean = judge_learning_curve(_points([0.30, 0.31, 0.31, 0.31], [0.33, 0.32, 0.32, 0.32]), desired=0.002)
    assert korean.sentences[1].startswith("데이터를 늘려도 도움이 되지 않을 것입니다.")


def test_a_converged_curve_and_a_plateau_and_both_problems_at_once() -> None:
    converged = judge_learning_curve(_points([0.010, 0.011, 0.011, 0.011], [0.013, 0.012, 0.012, 0.012],
                                             std=0.001), desired=0.01)  # fmt: skip
    assert converged.kind == "converged"
    plateau = judge_learning_curve(_points([0.0, 0.0, 0.0, 0.0], [0.21, 0.20, 0.20, 0.20], std=0.005))
    assert plateau.kind == "plateau"
    # The book's toy model: the validation error falls with size, its 2 units cap the training error.
    both = judge_learning_curve(_points([0.36, 0.34, 0.35, 0.38], [0.65, 0.56, 0.50, 0.49], std=0.04), desired=0.002,
                                val_size=333)  # fmt: skip
    assert both.kind == "both" and "Fix the bias first (a bigger model), then add data." in both.sentences[1]


def test_wide_bands_make_the_verdict_unsure() -> None:
    verdict = judge_learning_curve(_points([0.0] * 4, [0.20, 0.25, 0.18, 0.22], std=0.15), desired=0.0)
    assert verdict.certainty == "unsure"
    assert verdict.sentences[-1].startswith("How sure: not very; the fall per doubling has a standard error of ")


def test_a_point_is_the_mean_and_spread_of_its_runs_at_their_best_epochs() -> None:
    runs = [
        {"loss": [1.0, 0.5, 0.4], "accuracy": [0.5, 0.8, 0.9], "val_loss": [1.0, 0.7, 0.8],
         "val_accuracy": [0.4, 0.7, 0.6]},
        {"loss": [1.0, 0.6, 0.5], "accuracy": [0.5, 0.6, 0.7], "val_loss": [1.0, 0.9, 0.6],
         "val_accuracy": [0.4, 0.5, 0.8]},
    ]  # fmt: skip
    point = size_point(50, runs)
    assert point.best_epoch == 1.5  # epochs 1 and 2
    assert point.train_error == pytest.approx(((1 - 0.8) + (1 - 0.7)) / 2)
    assert point.val_error == pytest.approx(((1 - 0.7) + (1 - 0.8)) / 2)
    assert point.val_error_std == pytest.approx(np.std([0.3, 0.2], ddof=1))
    assert point.final_train_error == pytest.approx(((1 - 0.9) + (1 - 0.7)) / 2)
    assert point.final_val_error_std == pytest.approx(np.std([1 - 0.6, 1 - 0.8], ddof=1))
    regression = size_point(50, [{"loss": [2.0, 1.0], "val_loss": [3.0, 2.5]}])
    assert (regression.measure, regression.val_error, regression.val_error_std) == ("loss", 2.5, 0.0)


def test_sizes_and_nested_subsets() -> None:
    assert learning_curve_sizes(700, 4) == [70, 151, 325, 700]
    assert learning_curve_sizes(15, 5)[0] == 2
    indices = np.arange(1000, 1300)
    small, large = (nested_subset(indices, n, seed=(0, 0)) for n in (50, 200))
    assert len(small) == 50 and set(small) <= set(large)  # nested
    assert list(small) == sorted(small) and list(nested_subset(indices, 50, seed=(0, 0))) == list(small)
    assert set(nested_subset(indices, 50, seed=(0, 1))) != set(small)  # another repeat, another draw


def test_a_trial_s_key_is_unchanged_unless_it_draws_a_subset() -> None:
    """Groups recorded before learning curves existed keep finding their finished trials."""
    spec = {"model": [{"Dense": {"units": 3}}], "seed": 0}
    trial = Trial(spec=spec, name="t", fold=1, folds=3)
    assert trial.key == digest({"spec": spec, "fold": 1, "folds": 3, "stratify": False, "group_by": None})
    assert len({trial.key, Trial(spec=spec, name="t", fold=1, folds=3, train_size=50).key,
                Trial(spec=spec, name="t", fold=1, folds=3, train_size=100).key}) == 3  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--sizes", "100,5000"], "Invalid value for --sizes: 5000. It is larger than the data: the training part "
                                  "has 1079 samples. Use sizes up to 1079."),
        (["--sizes", "100"], "Invalid value for --sizes: 100. A learning curve needs two different sizes or more "
                             "(e.g. 100,200,400)."),
        (["--sizes", "100,400", "--folds", "2", "--set", "split.subsample=[300,100]"], "Invalid value for --sizes: "
         "400. It is larger than the data: each fold's training part has 200 samples. Use sizes up to 200."),
        (["--repeats", "1"], "Invalid value for --repeats: 1. Expected 2 or more; leave it out for one run per size."),
        (["-o", "curve.txt"], "cannot write curve.txt: use a .png, .svg or .pdf file name."),
        (["--stratify"], "--stratify goes with --folds: it keeps class shares in every fold."),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_error_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    code = main(["learning-curve", "digits_quick", *argv, "--set", "fit.epochs=1", "--runs", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"fitscope learning-curve: error: {error}"
    assert not (tmp_path / "fitscope.db").exists()


def test_the_learning_curve_command_records_a_group_and_joins_the_diagnosis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = ["--runs", str(tmp_path)]
    argv = ["learning-curve", "digits_quick", "--sizes", "60,120,240", "--repeats", "2", "--set", "fit.epochs=4"]
    assert main([*argv, *runs, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [(p["size"], p["runs"]) for p in result["sizes"]] == [(60, 2), (120, 2), (240, 2)]
    verdict = result["verdict"]
    assert verdict["sentences"][0].startswith("Validation error from 60 to 240 training samples: ")
    assert verdict["fall_noise"] > 0 and len(verdict["sentences"]) >= 2  # weighed against the repeats' spread
    assert len(result["curves"]["60"]["val_loss"]) == 4  # each size's mean curve, every epoch
    group = result["group_id"]
    assert group.startswith("learning-curve-digits-quick-")
    store = Store(tmp_path)
    infos = store.runs(group=group)
    assert sorted((i.trial["train_size"], i.trial["repeat"]) for i in infos) == [
        (n, r) for n in (60, 120, 240) for r in (0, 1)
    ]
    assert {i.manifest.sizes["train"] for i in infos if i.manifest} == {60, 120, 240}
    assert len({i.manifest.sizes["val"] for i in infos if i.manifest}) == 1  # the same validation part for all
    assert main([*argv, *runs]) == 0  # again: every run is found finished, nothing trains
    out = capsys.readouterr().out
    assert "6 run(s) already finished in group" in out and len(store.runs(group=group)) == 6
    assert out.splitlines()[-1] == f"figure: fitscope plot --group {group} -o learning-curve.png --runs {tmp_path}"
    assert main(["plot", "--group", group, "-o", str(tmp_path / "lc.png"), *runs]) == 0
    assert (tmp_path / "lc.png").stat().st_size > 10_000
    assert main(["run", "digits_quick", "--set", "fit.epochs=4", "--quiet", *runs]) == 0
    capsys.readouterr()
    assert main(["diagnose", "last", *runs]) == 0
    said = capsys.readouterr().out
    assert f"Would more data help? The learning curve of this spec ({group}):" in said


@pytest.mark.slow
@pytest.mark.integration
def test_the_book_s_toy_model_and_the_512_unit_model_get_different_verdicts(
    mnist_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the real MNIST subset: more data helps the toy model, but its 2 units cap its training accuracy."""
    base = ["learning-curve", "book_toy", "--sizes", "100,200,400,666", "--folds", "3", "--data-dir",
            str(mnist_path.parent), "--runs", str(tmp_path), "--json"]  # fmt: skip
    assert main([*base, "--set", "fit.epochs=300"]) == 0
    toy = json.loads(capsys.readouterr().out)["verdict"]
    assert toy["kind"] == "both" and toy["fall"] > 2 * toy["fall_noise"]
    wide = ["--set", "model[0].Dense.units=512", "--set", "compile.optimizer=rmsprop", "--set", "fit.epochs=40"]
    assert main([*base, *wide]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"]["kind"] == "variance"
