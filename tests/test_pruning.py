"""Stopping hopeless trials early: the rungs, the decisions, `tune --prune` on every executor."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from fitscope.cli import main
from fitscope.experiment import search
from fitscope.experiment.training import PrunePlan, Rungs, plan_pruning, pruning_check
from fitscope.store import Store

QUICK = Path(__file__).resolve().parents[1] / "examples" / "digits_quick.yaml"


def quiet(_text: str) -> None:
    pass


def test_the_rungs_grow_by_the_reduction_and_leave_room_to_train_the_survivors() -> None:
    assert plan_pruning(1000, "val_loss").rungs == (15, 60, 240)  # 1000 / 64, then x4 while x4 more still fits
    assert plan_pruning(100, "val_accuracy", grace=5, reduction=2).rungs == (5, 10, 20, 40)
    assert plan_pruning(100, "val_loss").lower_is_better and not plan_pruning(100, "val_accuracy").lower_is_better
    with pytest.raises(Exception, match=r"^`prune` needs at least 16 epochs \(a first rung after 4 and 4 times as many "
                       r"for the trials that go on\), and the spec trains 10\. Raise fit\.epochs or lower "
                       r"`prune_grace`\.$"):  # fmt: skip
        plan_pruning(10, "val_loss", grace=4)


def test_each_trial_goes_on_only_among_the_best_third_of_those_at_its_rung_so_far() -> None:
    rungs = Rungs(PrunePlan("val_loss", True, (3, 9), 3))
    assert rungs.decide("a", 3, 1.0) is None  # the first at a rung has no one to lose to
    assert rungs.decide("b", 3, 0.5) is None  # better than the one before
    assert rungs.decide("c", 3, 0.8) == (
        "val_loss 0.8000 after 3 epochs was not among the best 1 of the 3 trials at that rung (cutoff 0.5000)"
    )
    for key, value in zip("defghi", (0.9, 0.95, 0.99, 0.45, 0.97, 0.96)):
        rungs.decide(key, 3, value)
    assert rungs.decide("j", 3, 0.79) is None  # 10 at the rung: the best 3 are 0.45, 0.5 and 0.79
    assert rungs.decide("k", 3, math.nan) == "val_loss was nan after 3 epochs"
    higher = Rungs(PrunePlan("val_accuracy", False, (3,), 3))
    higher.remember("old", {"val_accuracy": [0.2, 0.3, 0.9, 0.95]})  # an earlier run of the search, at rung 3
    assert higher.decide("new", 3, 0.5) is not None and higher.decide("better", 3, 0.91) is None


def test_a_cross_validated_search_compares_each_fold_with_the_same_fold_and_prunes_whole_configurations() -> None:
    rungs = Rungs(PrunePlan("val_loss", True, (3,), 2))
    for configuration in ("A", "B", "C"):
        for fold in (0, 1):
            rungs.place(f"{configuration}{fold}", fold, configuration)
    assert rungs.decide("A0", 3, 0.2) is None and rungs.decide("B1", 3, 0.9) is None  # each alone in its fold
    assert rungs.decide("B0", 3, 0.5) == (
        "val_loss 0.5000 after 3 epochs was not among the best 1 of the 2 trials of fold 0 at that rung (cutoff 0.2000)"
    )  # (fold 1's 0.9 is another validation set: not compared)
    assert rungs.pruned == {"B": 0}
    assert rungs.decide("B1", 3, 0.1) == "fold 0 of this configuration was pruned"  # however good this fold is
    assert rungs.decide("C1", 3, 0.95) is not None  # fold 1: 0.9 (B's, recorded) before it
    resumed = Rungs(PrunePlan("val_loss", True, (3,), 2))  # an earlier run of the search: B's fold 0 was pruned
    for key, fold, configuration in (("B0", 0, "B"), ("B1", 1, "B")):
        resumed.place(key, fold, configuration)
    resumed.remember("B0", {"val_loss": [1.0, 0.8, 0.5]}, pruned=True)
    assert resumed.decide("B1", 3, 0.1) == "fold 0 of this configuration was pruned"


def test_tune_select_cv_prune_stops_the_configurations_that_lose_on_a_fold(tmp_path: Path) -> None:
    result = search(QUICK, [RATES], overrides=FAST, select="cv", folds=2, prune=True, prune_grace=1,
                    prune_reduction=3, runs=tmp_path, say=quiet)  # fmt: skip
    statuses = _statuses(result)
    assert statuses[1000.0] == "pruned" and sum(s == "pruned" for s in statuses.values()) >= 2
    assert statuses[0.01] == "finished" and result.winner is not None
    store = Store(tmp_path)
    for row in result.ranking:
        infos = [store.run(run_id).info() for run_id in row["run_ids"] if run_id]
        assert sorted(info.trial["fold"] for info in infos) == [0, 1]
        if row["status"] == "finished":
            assert row["score"] is not None and all(info.status == "finished" for info in infos)
        else:  # a configuration with a pruned fold: no mean score
            assert row["score"] is None and any(info.status == "pruned" for info in infos)
    assert result.epochs is not None and result.epochs["trained"] < result.epochs["full"] == 5 * 2 * 9


def test_a_trial_stops_at_once_on_a_nan_or_diverging_loss_and_asks_at_its_rungs() -> None:
    asked: list[tuple[str, int, float]] = []

    def ask(key: str, epochs: int, value: float) -> str | None:
        asked.append((key, epochs, value))
        return "no" if epochs == 9 else None

    check = pruning_check(PrunePlan("val_loss", True, (3, 9), 3), "t", ask)
    assert check(0, {"loss": 2.0, "val_loss": 2.1}) is None
    assert check(2, {"loss": 1.0, "val_loss": 1.5}) is None and asked == [("t", 3, 1.5)]
    assert check(8, {"loss": 0.9, "val_loss": 1.4}) == "no"
    assert check(9, {"loss": 3.5, "val_loss": 1.0}) is None  # under 4 times the lowest loss, 0.9
    assert check(11, {"loss": 3.61}) == "the loss diverged at epoch 11: 3.61, over 4 times its lowest, 0.9"
    assert pruning_check(PrunePlan("val_loss", True, (3,), 3), "t", ask)(0, {"loss": math.nan}) == (
        "the loss became nan at epoch 0"
    )


# Five configurations of the digits spec by learning rate: a huge one diverges, the slow ones lose at the rungs.
RATES = "compile.optimizer.adam.learning_rate=0.01,0.0001,0.00003,0.003,1000.0"
FAST = ["fit.epochs=9", "compile.optimizer={adam: {learning_rate: 0.001}}"]


def _statuses(result: Any) -> dict[float, str]:
    return {row["params"]["compile.optimizer.adam.learning_rate"]: row["status"] for row in result.ranking}


@pytest.mark.parametrize("executor", ["local", "process", pytest.param("ray", marks=pytest.mark.xdist_group("ray"))])
def test_tune_prune_records_pruned_trials_with_their_epoch_and_reason(tmp_path: Path, executor: str) -> None:
    if executor == "ray":
        pytest.importorskip("ray", reason="Ray is the optional extra fitscope[ray]; .ci/run installs it")
    runs = tmp_path / "runs"
    result = search(QUICK, [RATES], overrides=FAST, prune=True, prune_grace=1, prune_reduction=3, executor=executor,
                    workers=None if executor == "local" else 2, runs=runs, say=quiet)  # fmt: skip
    statuses = _statuses(result)
    assert statuses[0.01] == "finished"  # (the best rate is never behind at a rung)
    assert result.winner is not None and result.winner["status"] == "finished"
    store = Store(runs)
    for row in result.ranking:
        info = store.run(row["run_ids"][0]).info()
        assert info.status == row["status"]
        if info.status != "pruned":
            assert info.epochs == 9
            continue
        # stopped right at a rung, the epoch that decided recorded (or at once, when its loss ran away)
        assert info.epochs in (1, 3) or info.reason.startswith("the loss diverged at epoch"), info.reason
        assert info.reason.startswith("the loss diverged at epoch") or "trials at that rung (cutoff" in info.reason
    assert sum(status == "pruned" for status in statuses.values()) >= 2
    assert result.epochs is not None and result.epochs["trained"] < result.epochs["full"] == 45
    if executor == "local":  # one trial after another: the same decisions every time
        assert statuses == {0.01: "finished", 0.0001: "pruned", 0.00003: "pruned", 0.003: "finished",
                            1000: "pruned"}  # fmt: skip


def test_the_cli_prints_what_pruning_saved_and_a_rerun_skips_pruned_trials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = ["--runs", str(tmp_path)]
    command = ["tune", str(QUICK), "--param", RATES, *(arg for s in FAST for arg in ("--set", s)), "--prune",
               "--prune-grace", "1", "--prune-reduction", "3", *runs]  # fmt: skip
    assert main(command) == 0
    out = capsys.readouterr().out
    assert "pruning: the trials are compared at 1, 3 epochs by val_loss; at each rung the best 1/3 go on.\n" in out
    assert "pruning stopped 3 of 5 trials early: " in out and " epochs trained instead of 45 (" in out
    assert "(pruned)" in out
    assert main(command) == 0
    assert "2 trial(s) already finished and 3 pruned in group " in capsys.readouterr().out  # pruned ones are done too
    group = Store(tmp_path).runs()[-1].group_id
    assert main(["plot", "--group", group, "-o", str(tmp_path / "group.png"), *runs]) == 0
    assert (tmp_path / "group.png").stat().st_size > 0
    capsys.readouterr()
    assert main(["runs", "--group", group, "--json", *runs]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(row["status"] for row in listed) == ["finished", "finished", "pruned", "pruned", "pruned"]


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (["--prune", "--prune-grace", "4"], "--prune needs at least 16 epochs (a first rung after 4 and 4 times as "
                                            "many for the trials that go on), and the spec trains 9."),
        (["--prune", "--repeats", "2"], "--prune goes with one run per configuration (or one per fold, with "
                                        "--select cv), not with --repeats"),
        (["--prune-grace", "2"], "--prune-grace and --prune-reduction go with --prune."),
        (["--prune", "--prune-reduction", "1"], "Invalid value for --prune-reduction: 1. Expected 2 or more"),
    ],
)  # fmt: skip
def test_pruning_options_it_cannot_honour_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], error: str
) -> None:
    command = ["tune", str(QUICK), "--param", RATES, "--set", "fit.epochs=9", *extra, "--runs", str(tmp_path)]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith("fitscope tune: error: " + error) and "Traceback" not in err
    assert not (tmp_path / "fitscope.db").exists() or Store(tmp_path).runs() == []
