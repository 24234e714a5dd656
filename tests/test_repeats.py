"""Is a difference real? Repeated seeds as one group, and two runs or groups compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fitscope.analysis import compare_scores, summarise_scores
from fitscope.cli import main
from fitscope.store import Store


def test_a_mean_over_seeds_with_its_interval() -> None:
    s = summarise_scores([0.90, 0.92, 0.91, 0.93, 0.89])
    assert (s.n, s.mean) == (5, pytest.approx(0.91))
    assert s.std == pytest.approx(0.0158114, abs=1e-6)
    # t(0.975, 4) = 2.7764: half width 2.7764 * 0.0158114 / sqrt(5)
    assert (s.low, s.high) == (pytest.approx(0.91 - 0.019632, abs=1e-5), pytest.approx(0.91 + 0.019632, abs=1e-5))
    one = summarise_scores([0.5])
    assert (one.n, one.std, one.low, one.high) == (1, 0.0, 0.5, 0.5)


def test_a_paired_difference_is_real_where_an_unpaired_one_is_not() -> None:
    a = [0.910, 0.930, 0.900, 0.940, 0.920]
    b = [x - d for x, d in zip(a, (0.005, 0.007, 0.006, 0.005, 0.007))]  # every seed a little worse: clear when
    # paired, lost in the seeds' spread otherwise
    paired = compare_scores(a, b, metric="val_accuracy", names=("A", "B"), paired=True)
    assert (paired.test, paired.real) == ("paired t-test", True)
    assert paired.sentences[-1] == "The difference is real: A scores better on val_accuracy."
    unpaired = compare_scores(a, b, metric="val_accuracy", names=("A", "B"))
    assert unpaired.test == "Welch's t-test" and unpaired.real is False
    assert unpaired.sentences[-1] == "The difference may be chance: do not pick one over the other on this evidence."
    # A clear seed difference is still chance if the validation set is too small to measure it.
    small = compare_scores(a, b, metric="val_accuracy", names=("A", "B"), paired=True, val_size=300)
    assert small.real is False and small.set_noise == pytest.approx(((0.92 * 0.08 + 0.914 * 0.086) / 1500) ** 0.5,
                                                                    rel=1e-2)  # fmt: skip
    assert "The validation set's size alone makes a difference of " in " ".join(small.sentences)


def test_one_run_each_weighs_the_set_s_size_only() -> None:
    found = compare_scores([0.95], [0.90], metric="val_accuracy", val_size=10000)
    assert (found.test, found.real) == ("binomial", True)
    loss = compare_scores([0.30], [0.32], metric="val_loss")
    assert loss.real is None and "nothing measures the noise" in loss.sentences[1]
    lower = compare_scores([0.30, 0.31, 0.29], [0.50, 0.52, 0.49], metric="val_loss", names=("A", "B"))
    assert lower.real is True and lower.sentences[-1] == "The difference is real: A scores better on val_loss."


def test_run_repeats_records_one_group_and_compare_reads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = ["--runs", str(tmp_path)]
    base = ["run", "digits_quick", "--repeats", "3", "--set", "fit.epochs=3", "--json", *runs]
    assert main(base) == 0
    small = json.loads(capsys.readouterr().out)
    assert small["group_id"].startswith("repeats-digits-quick-") and len(small["runs"]) == 3
    assert small["split_varies"] is False and small["final"]["val_accuracy"]["n"] == 3
    store = Store(tmp_path)
    infos = store.runs(group=small["group_id"])
    assert sorted(i.trial["repeat"] for i in infos) == [0, 1, 2]
    assert len({i.trial["initial_weights"] for i in infos}) == 3  # other initial weights...
    assert len({i.manifest.index_hash for i in infos}) == 1  # ...on the one split
    assert main([*base, "--set", "model[0].Dense.units=8"]) == 0
    narrow = json.loads(capsys.readouterr().out)
    assert main(["compare", small["group_id"], narrow["group_id"], "--json", *runs]) == 0
    compared = json.loads(capsys.readouterr().out)
    assert compared["test"] == "paired t-test" and compared["metric"] == "val_accuracy"
    assert compared["a"]["n"] == compared["b"]["n"] == 3
    assert main(["compare", infos[0].run_id, infos[1].run_id, *runs]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith("val_accuracy: ") and "over 1 run(s)" in said[0]
    assert main(["plot", "--group", small["group_id"], "-o", str(tmp_path / "bands.png"), *runs]) == 0
    capsys.readouterr()
    assert main(["compare", small["group_id"], narrow["group_id"], "--metric", "mae", *runs]) == 2
    assert capsys.readouterr().err.strip() == (
        "fitscope compare: error: Invalid value for --metric: 'mae'. Both sides report val_accuracy, val_loss."
    )
    assert main(["compare", small["group_id"], small["group_id"], *runs]) == 2  # the same group twice
    assert capsys.readouterr().err.strip() == (
        f"fitscope compare: error: both sides are {small['group_id']}: give two different runs or groups to compare."
    )


def test_tune_repeats_ranks_configurations_by_their_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["tune", "digits_quick", "--param", "model[0].Dense.units=4,32", "--repeats", "2", "--set", "fit.epochs=2",
            "--metric", "val_accuracy", "--json", "--runs", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    ranking = json.loads(capsys.readouterr().out)["ranking"]
    assert [len(row["run_ids"]) for row in ranking] == [2, 2] and all(row["std"] is not None for row in ranking)
    store = Store(tmp_path)
    scores = [store.run(run_id).evaluations("val")[-1]["metrics"]["accuracy"] for run_id in ranking[0]["run_ids"]]
    assert ranking[0]["score"] == pytest.approx(sum(scores) / 2)
    assert main(["tune", "digits_quick", "--param", "compile.optimizer=sgd,adam", "--select", "cv", "--repeats", "2",
                 "--runs", str(tmp_path)]) == 2  # fmt: skip
    assert "--repeats goes with --select val" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["run", "digits_quick", "--repeats", "1"], "Invalid value for --repeats: 1. Expected 2 or more; leave it out "
                                                    "for one run."),
        (["run", "digits_quick", "--vary-split"], "--vary-split goes with --repeats N (several runs of the spec); one "
                                                  "run trains here."),
        (["run", "digits_quick", "--repeats", "2", "--test"], "--test does not go with --repeats: it takes one run "
                                                              "(`fitscope test RUN` for the test set of the run you "
                                                              "choose)."),
        (["compare", "nothing", "else"], None),
    ],
)  # fmt: skip
def test_bad_repeats_and_comparisons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], error: str | None
) -> None:
    if error is None:  # nothing to compare in a store that does not exist
        assert main([*argv, "--runs", str(tmp_path)]) == 2
        assert "fitscope compare: error: " in capsys.readouterr().err
        return
    assert main([*argv, "--runs", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"fitscope {argv[0]}: error: {error}"
    assert not (tmp_path / "fitscope.db").exists()
