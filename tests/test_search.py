"""Cross-validation and search: fold independence, exact summaries, selection, executors, resume."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fitscope import ArgumentError, FitscopeError
from fitscope.cli import main
from fitscope.experiment import cross_validate, search
from fitscope.store import Store

QUICK = Path(__file__).resolve().parents[1] / "examples" / "digits_quick.yaml"
FAST = ["fit.epochs=2"]


def quiet(_: str) -> None:
    pass


def test_cv_folds_start_fresh_and_summaries_are_exact(tmp_path: Path) -> None:
    result = cross_validate(QUICK, folds=3, stratify=True, overrides=FAST, runs=tmp_path, say=quiet)
    store = Store(tmp_path)
    infos = store.runs(group=result.group_id)
    assert len(infos) == 3 and all(i.status == "finished" for i in infos)
    # Canary: every fold starts from the same freshly initialised weights (same seed), never from
    # the weights a previous fold ended with.
    initial = {i.trial["initial_weights"] for i in infos}
    finals = {store.run(i.run_id).evaluations("val")[0]["fingerprint"] for i in infos}
    assert len(initial) == 1 and not initial & finals and len(finals) == 3
    accuracies = [f["val"]["accuracy"] for f in result.folds]
    assert result.mean["accuracy"] == pytest.approx(np.mean(accuracies))
    assert result.std["accuracy"] == pytest.approx(np.std(accuracies, ddof=1))
    assert result.spread["accuracy"] == pytest.approx(max(accuracies) - min(accuracies))
    sizes = [i.manifest.sizes for i in infos]
    assert sum(s["val"] for s in sizes) == 1079 + 359  # the spec's train + val parts, folded
    assert all(s["test"] == 359 for s in sizes)  # the test split held out of every fold
    assert len(result.curves["val_loss"]["mean"]) == 2
    assert not any(store.run(i.run_id).evaluations("test") for i in infos)
    # In a notebook: print() gives the summary `fitscope cv` prints; the repr leaves out the per-epoch curves.
    assert str(result).startswith(f"cross-validation group {result.group_id}, validation metrics:\n  fold 0: ")
    assert f"  final val_accuracy: {result.mean['accuracy']:.4f} ± " in str(result)
    assert "curves=" not in repr(result) and len(repr(result)) < 3000


def test_cv_json_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["cv", str(QUICK), "--folds", "2", "--set", "fit.epochs=2", "--runs", str(tmp_path), "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert {"group_id", "folds", "mean", "std"} <= set(data)
    for fold in data["folds"]:  # each fold's line as it ends names its metrics as validation ones
        shown = ", ".join(f"val_{name} {value:.4f}" for name, value in fold["val"].items())
        assert f"-fold{fold['fold']}: finished — {shown}\n" in captured.err
    assert [set(f) >= {"run_id", "best_epoch", "val"} for f in data["folds"]] == [True, True]
    # The table says the same: each fold's final and best validation metrics, then mean ± std.
    assert main(argv[:-1]) == 0  # both folds finished already: the summary comes from the store
    out = capsys.readouterr().out
    for fold in data["folds"]:
        val, best = fold["val"], fold["best"]
        assert (
            f"  fold {fold['fold']}: finished, final val_accuracy {val['accuracy']:.4f}, val_loss {val['loss']:.4f}; "
            f"best at epoch {fold['best_epoch']}: val_accuracy {best['val_accuracy']:.4f}, "
            f"val_loss {best['val_loss']:.4f}\n"
        ) in out
    mean, std = data["mean"]["accuracy"], data["std"]["accuracy"]
    assert f"  final val_accuracy: {mean:.4f} ± {std:.4f} over the folds (spread " in out
    # Two epochs are too few for a curve verdict; the folds' range is the diagnosis, in both outputs.
    assert data["diagnosis"]["curve"] is None and len(data["diagnosis"]["sentences"]) == 1
    assert f"\ndiagnosis of the folds' mean curves:\n  {data['diagnosis']['sentences'][0]}\n" in out
    # Later, from the store: `fitscope diagnose --group` says the same.
    assert main(["diagnose", "--group", "last", "--runs", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"group_id": data["group_id"], **data["diagnosis"], "warnings": []}
    # The command it suggests names the same store, so it works as printed.
    suggested = f"fold bands: fitscope plot --group {data['group_id']} --runs {tmp_path}\n"
    assert suggested in out
    assert main(suggested.split(": ", 1)[1].split()[1:]) == 0


def _patients(path: Path) -> Path:
    """120 samples of 12 patients (10 each), as a CSV with a patient column or an .npz with a patient array."""
    rng = np.random.default_rng(0)
    y = np.arange(120) % 3
    x = rng.normal(y[:, None], 1, (120, 4))
    if path.suffix == ".csv":
        rows = [",".join(f"{v:.4f}" for v in x[i]) + f",{i // 10},{y[i]}" for i in range(120)]
        path.write_text("f1,f2,f3,f4,patient,label\n" + "\n".join(rows) + "\n")
    else:
        np.savez(path, x=x.astype("float32"), y=y, patient=np.arange(120) // 10, pixels=np.zeros((120, 2)))
    return path


def _grouped_spec(data: Path, group_column: str = "patient") -> dict[str, Any]:
    return {
        "name": "grouped", "data": {"dataset": str(data), "group_column": group_column, "scale": False},
        "split": {"val": 0.25}, "model": [{"Dense": {"units": 3, "activation": "softmax"}}],
        "fit": {"epochs": 2, "batch_size": 16},
    }  # fmt: skip


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_grouped_cv_keeps_groups_in_one_fold(tmp_path: Path, suffix: str) -> None:
    from fitscope.experiment.preparing import prepare_trial
    from fitscope.experiment.spec import validate_spec
    from fitscope.experiment.training import Trial

    spec = _grouped_spec(_patients(tmp_path / f"patients{suffix}"))
    result = cross_validate(spec, folds=3, group_by="patient", runs=tmp_path / "runs", say=quiet)
    assert [f["status"] for f in result.folds] == ["finished"] * 3
    store = Store(tmp_path / "runs")
    assert all(store.run(f["run_id"]).info().manifest.sizes["val"] > 0 for f in result.folds)
    patients = np.arange(120) // 10
    checked = validate_spec(spec)
    for fold in range(3):  # no patient on both sides of a fold
        trial = Trial(spec=checked.model_dump(mode="json"), name="f", fold=fold, folds=3, group_by="patient")
        parts = prepare_trial(trial, checked).split.parts
        assert not set(patients[parts["train"]]) & set(patients[parts["val"]])
    with pytest.raises(FitscopeError, match="no such group column"):
        cross_validate(spec, folds=3, group_by="ward", runs=tmp_path / "runs", say=quiet)


def test_a_search_selected_by_grouped_cv_keeps_groups_in_one_fold(tmp_path: Path) -> None:
    from fitscope.experiment.preparing import prepare_trial
    from fitscope.experiment.spec import validate_spec
    from fitscope.experiment.training import Trial

    spec = _grouped_spec(_patients(tmp_path / "patients.csv"))
    result = search(spec, ["compile.optimizer=sgd,adam"], select="cv", folds=3, group_by="patient",
                    runs=tmp_path / "runs", say=quiet)  # fmt: skip
    assert [r["status"] for r in result.ranking] == ["finished", "finished"]
    checked = validate_spec(spec).model_dump(mode="json")

    def fold_hashes(group_by: str | None) -> set[str]:
        trials = [Trial(spec=checked, name="f", fold=k, folds=3, group_by=group_by) for k in range(3)]
        return {prepare_trial(t, validate_spec(checked)).split.manifest.index_hash for t in trials}

    grouped = fold_hashes("patient")
    assert grouped.isdisjoint(fold_hashes(None))  # grouped folds are not the plain ones
    infos = Store(tmp_path / "runs").runs(group=result.group_id)
    assert len(infos) == 6 and {info.manifest.index_hash for info in infos} == grouped
    with pytest.raises(ArgumentError, match=re.escape("`group_by` only applies with select='cv'")):
        search(spec, ["compile.optimizer=sgd,adam"], group_by="patient", runs=tmp_path / "runs", say=quiet)
    with pytest.raises(FitscopeError, match="no such group column"):
        search(spec, ["compile.optimizer=sgd,adam"], select="cv", folds=3, group_by="ward", runs=tmp_path / "runs",
               say=quiet)  # fmt: skip


def test_an_npz_group_array_must_exist_and_hold_one_label_per_sample(tmp_path: Path) -> None:
    data = _patients(tmp_path / "patients.npz")
    mistakes = {"ward": "has no group array 'ward' (arrays: x, y, patient, pixels)",
                "pixels": "the group array 'pixels' has shape (120, 2); give one label per sample"}  # fmt: skip
    for wrong, message in mistakes.items():
        with pytest.raises(FitscopeError, match=re.escape(message)):
            cross_validate(_grouped_spec(data, wrong), folds=3, group_by=wrong, runs=tmp_path / "runs", say=quiet)


def test_grid_search_ranks_and_names_the_winner(tmp_path: Path) -> None:
    result = search(QUICK, ["model[0].Dense.units=4,32"], overrides=FAST, runs=tmp_path, say=quiet)
    # In a notebook, print() gives the ranking and the winner as `fitscope tune` prints them.
    assert str(result).startswith("\n".join(result.ranking_lines()) + "\nwinner: model[0].Dense.units=")
    scores = [r["score"] for r in result.ranking]
    assert scores == sorted(scores) and result.winner == result.ranking[0]
    assert {tuple(r["params"].items()) for r in result.ranking} == {(("model[0].Dense.units", 4),),
                                                                    (("model[0].Dense.units", 32),)}  # fmt: skip
    assert result.configurations_on_split == 2 and result.test is None
    infos = Store(tmp_path).runs(group=result.group_id)
    assert sorted(i.params["model[0].Dense.units"] for i in infos) == [4, 32]
    # Every validation metric of a configuration is kept beside its score.
    assert [r["val"]["loss"] for r in result.ranking] == scores


def test_a_search_on_one_split_says_how_precisely_it_measures_accuracy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fitscope.analysis import standard_error
    from fitscope.experiment import SearchResult

    def _noise_sentence(noise: dict[str, Any]) -> str | None:
        return SearchResult("g", "val_loss", [], None, 1, split_noise=noise).noise_sentence()

    argv = ["tune", str(QUICK), "--param", "model[0].Dense.units=4,32", "--set", "fit.epochs=2", "--runs",
            str(tmp_path)]  # fmt: skip
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    noise, ranking = data["split_noise"], data["ranking"]
    first, second = ranking[0]["val"]["accuracy"], ranking[1]["val"]["accuracy"]
    samples = Store(tmp_path).run(ranking[0]["run_ids"][0]).info().manifest.sizes["val"]
    assert noise == {
        "samples": samples, "winner_accuracy": first, "runner_up_accuracy": second,
        "standard_error": standard_error(1 - first, samples),
        "within_noise": abs(first - second) < 2 * standard_error(1 - first, samples),
    }  # fmt: skip
    assert main(argv) == 0  # both trials finished: the same summary, as text
    out = capsys.readouterr().out
    assert f"\n{_noise_sentence(noise)}\n" in out
    suggested = f"the winner's curves in words: fitscope diagnose {ranking[0]['run_ids'][0]} --runs {tmp_path}\n"
    assert out.endswith(suggested)
    assert main(suggested.split(": ", 1)[1].split()[1:]) == 0  # it works as printed
    assert "Error levels (the weights after epoch 1, the last): " in capsys.readouterr().out
    # The wording: within the noise, beyond it, or a single configuration.
    near = {"samples": 300, "winner_accuracy": 0.557, "runner_up_accuracy": 0.543, "standard_error": 0.0285,
            "within_noise": True}  # fmt: skip
    assert _noise_sentence(near) == (
        "The validation split has 300 samples: the winner's validation accuracy, 55.7%, is uncertain by ±2.9 points "
        "(one standard error); the runner-up's is 54.3%, 1.4 points away, within twice that: this split alone does "
        "not tell the two apart; a bigger validation split, or --select cv, would."
    )
    far = {**near, "runner_up_accuracy": 0.40, "within_noise": False}
    assert _noise_sentence(far).endswith("; the runner-up's is 40.0%, 15.7 points away, beyond that noise.")
    alone = {**near, "runner_up_accuracy": None, "within_noise": None}
    assert _noise_sentence(alone).endswith("±2.9 points (one standard error).")
    assert main(["diagnose", "--group", "search", "--runs", str(tmp_path)]) == 2
    assert "is a search, not a cross-validation: diagnose its winner's run" in capsys.readouterr().err
    # Selected by cross-validation, every sample validates once: no single split's noise to report.
    assert search(QUICK, ["model[0].Dense.units=4,32"], overrides=FAST, select="cv", folds=2, runs=tmp_path,
                  say=quiet).split_noise is None  # fmt: skip


def test_random_search_and_cv_selection(tmp_path: Path) -> None:
    params = ["model[0].Dense.units=4,8,16,32"]
    first = search(QUICK, params, method="random", trials=2, seed=5, select="cv", folds=2,
                   metric="val_accuracy", overrides=FAST, runs=tmp_path, say=quiet)  # fmt: skip
    assert len(first.ranking) == 2 and all(len(r["run_ids"]) == 2 for r in first.ranking)
    scores = [r["score"] for r in first.ranking]
    assert scores == sorted(scores, reverse=True)  # accuracy: higher is better
    again = search(QUICK, params, method="random", trials=2, seed=5, select="cv", folds=2,
                   metric="val_accuracy", overrides=FAST, runs=tmp_path, say=quiet)  # fmt: skip
    assert [r["params"] for r in again.ranking] == [r["params"] for r in first.ranking]
    assert again.group_id == first.group_id and len(Store(tmp_path).runs(group=first.group_id)) == 4


def test_random_search_asked_for_more_trials_than_configurations_tries_each_once(tmp_path: Path) -> None:
    said: list[str] = []
    result = search(QUICK, ["model[0].Dense.units=4,8"], method="random", trials=10, overrides=["fit.epochs=1"],
                    runs=tmp_path, say=said.append)  # fmt: skip
    assert "note: --trials 10 is more than the 2 configurations of the search space; each is tried once." in said
    assert sorted(r["params"]["model[0].Dense.units"] for r in result.ranking) == [4, 8]


def test_cv_selection_with_stratified_folds(tmp_path: Path) -> None:
    result = search(QUICK, ["fit.epochs=1,2"], select="cv", folds=2, stratify=True, runs=tmp_path, say=quiet)
    assert [row["status"] for row in result.ranking] == ["finished", "finished"]
    for info in Store(tmp_path).runs(group=result.group_id):
        counts = info.manifest.class_counts
        # stratified halves: each class splits within one sample between the two parts
        assert all(abs(counts["train"][c] - counts["val"][c]) <= 1 for c in counts["val"])


def test_tune_says_how_many_configurations_the_split_has_seen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = [str(QUICK), "--set", "fit.epochs=1", "--runs", str(tmp_path)]
    assert main(["tune", *common, "--param", "model[0].Dense.units=4,8"]) == 0
    out = capsys.readouterr().out
    assert (
        "2 configuration(s) in this store were scored on this validation split: the best score is optimistic; "
        "confirm on the test set once (--test-best) or with cross-validation (--select cv)."
    ) in out
    # Configurations read as --set takes them, and the winner comes with the command that trains it alone.
    ranked = [line.split()[2] for line in out.splitlines() if line.startswith(("  1. ", "  2. "))]
    assert sorted(ranked) == ["model[0].Dense.units=4", "model[0].Dense.units=8"]
    # Ranked by the loss, each line also gives the accuracy (the two often disagree).
    lines = [line for line in out.splitlines() if line.startswith(("  1. ", "  2. "))]
    assert all(re.search(r"  \(finished, val_accuracy 0\.\d{4}\)$", line) for line in lines), lines
    assert f"winner: {ranked[0]}\n" in out
    (command,) = [line for line in out.splitlines() if line.startswith("train it alone: ")]
    assert command == f"train it alone: fitscope run {QUICK} --set fit.epochs=1 --set '{ranked[0]}' --runs {tmp_path}"
    # (run here into a store of its own, so the counts below stay the search's)
    assert main([*shlex.split(command.removeprefix("train it alone: fitscope ")), "--runs", str(tmp_path / "alone"),
                 "--quiet"]) == 0  # fmt: skip
    (alone,) = Store(tmp_path / "alone").runs()
    assert alone.spec["model"][0]["Dense"]["units"] == int(ranked[0].rpartition("=")[2])
    # A second search on the same split adds to the count: the split has now seen four.
    assert main(["tune", *common, "--param", "compile.optimizer=sgd,adam", "--test-best"]) == 0
    out = capsys.readouterr().out
    assert "4 configuration(s) in this store were scored on this validation split" in out
    assert "the best score is optimistic; the test score below is the unbiased one." in out
    assert "test (evaluated once): " in out


@pytest.mark.parametrize("value", [512, 1e-3, "sgd", "yes", "1e-3", "a b", None, [1, 2],
                                   {"Dense": {"units": 32, "activation": "relu"}}])  # fmt: skip
def test_a_search_value_is_shown_as_set_reads_it_back(value: Any) -> None:
    from fitscope.experiment.spec import format_override, parse_yaml

    key, _, text = format_override("a.b", value).partition("=")
    assert key == "a.b" and parse_yaml(text) == value


def test_test_best_touches_the_test_set_once(tmp_path: Path) -> None:
    result = search(QUICK, ["model[0].Dense.units=4,32"], overrides=FAST, runs=tmp_path, test_best=True, say=quiet)
    assert result.test is not None and "accuracy" in result.test
    store = Store(tmp_path)
    tested = [i for i in store.runs() if store.run(i.run_id).evaluations("test")]
    assert [i.run_id for i in tested] == result.winner["run_ids"]


def test_search_values_can_be_learning_rates_and_whole_layers() -> None:
    from fitscope.experiment.search._space import parse_param
    from fitscope.experiment.spec import load_spec

    data = load_spec(QUICK).model_dump(mode="json")  # its optimizer is `adam`, a name
    # 1e-3 is a number (YAML 1.1 would read it as text), and the name opens to its settings.
    assert parse_param("compile.optimizer.adam.learning_rate=1e-3,0.01", data) == (
        "compile.optimizer.adam.learning_rate", [0.001, 0.01]
    )  # fmt: skip
    key, layers = parse_param("model[0]={Dense: {units: 8}},{Dense: {units: 64, activation: tanh}}", data)
    assert key == "model[0]" and layers == [{"Dense": {"units": 8}}, {"Dense": {"units": 64, "activation": "tanh"}}]


def test_interrupted_search_resumes_and_skips_finished(tmp_path: Path) -> None:
    params = ["model[0].Dense.units=4,8,16"]
    first = search(QUICK, params, overrides=FAST, runs=tmp_path, say=quiet)
    store = Store(tmp_path)
    victim = first.ranking[1]["run_ids"][0]
    store.run(victim).interrupt("interrupted (Ctrl-C)")  # as a Ctrl-C mid-trial leaves it
    said: list[str] = []
    second = search(QUICK, params, overrides=FAST, runs=tmp_path, say=said.append)
    assert said[0].startswith("2 trial(s) already finished")
    infos = store.runs(group=first.group_id)
    assert len(infos) == 4 and sum(i.status == "finished" for i in infos) == 3
    assert {r["status"] for r in second.ranking} == {"finished"}


def test_a_cv_run_again_after_an_interruption_counts_each_fold_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["cv", str(QUICK), "--folds", "2", "--set", "fit.epochs=2", "--runs", str(tmp_path)]
    assert main(argv) == 0
    store = Store(tmp_path)
    store.run(store.runs()[1].run_id).interrupt("interrupted (Ctrl-C)")  # as a Ctrl-C in fold 1 leaves it
    capsys.readouterr()
    assert main(argv) == 0  # fold 1 trained again: every fold finished
    out = capsys.readouterr().out
    assert re.findall(r"fold (\d): (\w+)", out) == [("0", "finished"), ("1", "finished")]
    assert "fold 1: finished (attempt 2), final val_accuracy" in out
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(f["fold"], f["status"], f["attempts"]) for f in data["folds"]] == [(0, "finished", 1), (1, "finished", 2)]
    assert len(store.runs(group=data["group_id"])) == 3  # the interrupted attempt stays in the store
    # `runs --group` lists every attempt, and names the run that stands for an earlier one.
    assert main(["runs", "--group", data["group_id"], "--runs", str(tmp_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    superseded = [(row["status"], row.get("superseded_by")) for row in listed if "superseded_by" in row]
    assert superseded == [("interrupted", data["folds"][1]["run_id"])] and len(listed) == 3
    assert main(["runs", "--group", data["group_id"], "--runs", str(tmp_path)]) == 0
    assert "interrupted, ran again" in capsys.readouterr().out
    # The fold bands are drawn over the two folds, not over three runs.
    import fitscope.report

    drawn: list[int] = []
    monkeypatch.setattr(fitscope.report, "plot_group", lambda runs, output, **_: drawn.append(len(runs)) or output)
    assert main(["plot", "--group", data["group_id"], "--runs", str(tmp_path), "-o", str(tmp_path / "g.png")]) == 0
    assert drawn == [2]


def _closes_at(marker: str) -> Any:
    """A ``say`` whose reader goes away (``| head``) at the first line holding ``marker``."""

    def say(line: str) -> None:
        if marker in line:
            raise BrokenPipeError(32, "Broken pipe")

    return say


def test_a_closed_output_stops_a_cv_between_folds_and_fails_no_fold(tmp_path: Path) -> None:
    """`fitscope cv ... | head -1`: the line after fold 0 finds no reader; no fold is failed or recorded twice."""
    with pytest.raises(BrokenPipeError):
        cross_validate(QUICK, folds=3, overrides=FAST, runs=tmp_path, say=_closes_at("fold0: finished"))
    store = Store(tmp_path)
    assert [(i.name, i.status, i.epochs) for i in store.runs()] == [("digits-quick-fold0", "finished", 2)]
    said: list[str] = []
    again = cross_validate(QUICK, folds=3, overrides=FAST, runs=tmp_path, say=said.append)  # resumes
    assert said[0].startswith("1 fold(s) already finished") and len(again.folds) == 3
    assert [i.status for i in store.runs()] == ["finished"] * 3


def test_a_closed_output_interrupts_the_trials_a_process_pool_trains(tmp_path: Path) -> None:
    """The reader goes away while both workers train (at the first progress line): both runs resumable."""
    started = time.monotonic()
    with pytest.raises(BrokenPipeError):
        cross_validate(QUICK, folds=2, overrides=["fit.epochs=5000"], runs=tmp_path, executor="process", workers=2,
                       say=_closes_at(" running: "))  # fmt: skip
    assert time.monotonic() - started < 60  # (5000 epochs each would take minutes)
    infos = Store(tmp_path).runs()
    assert {(i.status, i.reason) for i in infos} == {
        ("interrupted", "interrupted (its output was closed); re-run the same command to finish")
    } and len(infos) == 2


# A process-pool search whose trials have minutes to go.
_LONG_SEARCH = [sys.executable, "-m", "fitscope", "tune", str(QUICK), "--param", "model[0].Dense.units=4,8,16",
                "--set", "fit.epochs=5000", "--executor", "process"]  # fmt: skip


def _two_trials_training(runs: Path) -> Store:
    """Wait until both workers' trials have recorded an epoch (two minutes at most)."""
    store, deadline = Store(runs), time.monotonic() + 120
    while time.monotonic() < deadline:
        running = [i for i in store.runs() if i.status == "running"] if (runs / "fitscope.db").exists() else []
        if len(running) == 2 and all(store.run(i.run_id).next_epoch > 0 for i in running):
            break
        time.sleep(0.1)
    return store


@pytest.mark.parametrize(
    ("stop", "code", "how"),
    [
        (lambda pid: os.killpg(pid, signal.SIGINT), 130, "Ctrl-C"),  # a terminal's Ctrl-C reaches the whole group
        (lambda pid: os.kill(pid, signal.SIGTERM), 143, "SIGTERM"),  # `kill PID`, a scheduler: the driver alone
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_ctrl_c_or_sigterm_stops_process_workers_at_once(tmp_path: Path, stop: Any, code: int, how: str) -> None:
    """Ctrl-C or SIGTERM ends a process-pool search in seconds; its trials are marked interrupted."""
    job = subprocess.Popen([*_LONG_SEARCH, "--runs", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)  # fmt: skip
    try:
        store = _two_trials_training(tmp_path)
        pressed = time.monotonic()
        stop(job.pid)
        _, err = job.communicate(timeout=60)
        stopped = time.monotonic() - pressed
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    assert job.returncode == code, err
    assert stopped < 8, f"took {stopped:.1f} s to stop"  # the workers' trials had minutes to go
    infos = store.runs()
    assert len(infos) == 2 and {(i.status, i.reason) for i in infos} == {
        ("interrupted", f"interrupted ({how}); re-run the same command to finish")
    }, [(i.name, i.status, i.reason) for i in infos]
    assert store.integrity_check() == "ok"


def test_the_same_search_started_twice_refuses_to_train_its_trials_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second terminal runs the command while the first still trains: one error, nothing trained twice."""
    job = subprocess.Popen([*_LONG_SEARCH, "--runs", str(tmp_path)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        store = _two_trials_training(tmp_path)
        code = main([*_LONG_SEARCH[3:], "--runs", str(tmp_path)])
        infos = store.runs()
    finally:
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(timeout=10)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert re.fullmatch(
        rf"fitscope tune: error: digits-quick-trial[0-2] is being trained by process {job.pid} on \S+ right now "
        r"\(this command, started before\?\)\. Wait for that one to end, or stop it, then run this again: it skips "
        r"what finished\.",
        err.strip(),
    ), err
    assert len(infos) == 2  # the second command started nothing


@pytest.mark.slow
def test_a_killed_driver_takes_its_workers_with_it(tmp_path: Path) -> None:
    """kill -9 of a process-pool search: its workers end at once, and its trials read as interrupted."""
    job = subprocess.Popen([*_LONG_SEARCH, "--runs", str(tmp_path)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        store = _two_trials_training(tmp_path)
        os.kill(job.pid, signal.SIGKILL)  # the driver alone: its workers get no signal
        job.wait(timeout=10)
        killed, left = time.monotonic(), True
        while left and time.monotonic() - killed < 10:
            try:
                os.killpg(job.pid, 0)  # anyone left in the command's process group?
                time.sleep(0.1)
            except ProcessLookupError:
                left = False
        gone = time.monotonic() - killed
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(job.pid, signal.SIGKILL)
    assert not left and gone < 5, f"workers still alive {gone:.1f} s after the driver was killed"
    infos = store.runs()
    assert len(infos) == 2 and {(i.status, i.reason) for i in infos} == {
        ("interrupted", "its process ended without finishing it (killed or crashed); resume or re-run it")
    }
    assert store.integrity_check() == "ok"


def test_process_executor_matches_local(tmp_path: Path) -> None:
    local = cross_validate(QUICK, folds=2, overrides=FAST, runs=tmp_path / "local", say=quiet)
    pooled = cross_validate(QUICK, folds=2, overrides=FAST, runs=tmp_path / "pool", executor="process",
                            workers=2, say=quiet)  # fmt: skip
    for a, b in zip(local.folds, pooled.folds):
        assert a["val"]["accuracy"] == pytest.approx(b["val"]["accuracy"], abs=1e-6)
        assert a["val"]["loss"] == pytest.approx(b["val"]["loss"], rel=1e-4)
    history = Store(tmp_path / "pool").run(pooled.folds[0]["run_id"]).history()
    expected = Store(tmp_path / "local").run(local.folds[0]["run_id"]).history()
    assert len(history["val_loss"]) == 2  # epoch records came back from the worker
    np.testing.assert_allclose(history["val_loss"], expected["val_loss"], rtol=1e-4)


def test_a_crashing_worker_fails_only_its_trial(tmp_path: Path) -> None:
    result = search(QUICK, ["model=crash_helpers:crash_model,crash_helpers:good_model"], overrides=FAST,
                    runs=tmp_path, executor="process", workers=2, say=quiet)  # fmt: skip
    by_model = {r["params"]["model"]: r for r in result.ranking}
    assert by_model["crash_helpers:good_model"]["status"] == "finished"
    assert by_model["crash_helpers:crash_model"]["status"] == "failed"
    failed = [i for i in Store(tmp_path).runs() if i.status == "failed"]
    assert len(failed) == 1 and "worker process died (exit code 3)" in (failed[0].reason or "")


def test_workers_that_cannot_start_stop_the_search_with_one_clear_error(tmp_path: Path) -> None:
    # A script without a main guard: each spawned worker imports it again and dies starting up.
    # Before, every trial failed in turn ("the worker process died") and the script hung at exit,
    # waiting to send data into the pipe of a worker that was gone.
    script = tmp_path / "search_without_guard.py"
    script.write_text(
        "from fitscope.experiment import search\n"
        f"search({str(QUICK)!r}, ['model[0].Dense.units=8,16'], overrides=['fit.epochs=1'], "
        f"runs={str(tmp_path / 'runs')!r}, executor='process', workers=2)\n"
    )
    job = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert job.returncode == 1
    assert (
        "fitscope._errors.FitscopeError: the process executor's workers die as they start (exit code 1): their error "
        "is printed above. Each worker imports your main module again, so run the search from a script file whose "
        'code is under `if __name__ == "__main__":` (not from `python -`), or use the local executor.'
    ) in job.stderr
    assert Store(tmp_path / "runs").runs() == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cv", "--folds", "1"], "Invalid value for --folds: 1"),
        (["cv", "--folds", "400", "--stratify"], "the smallest class has"),
        (["tune"], "the search space is empty"),
        (
            ["tune", "--param", "model[0].Dense.units=8,16", "--param", "model[0].Dense.units=4"],
            "--param model[0].Dense.units is given twice; give all its values in one: "
            "--param model[0].Dense.units=v1,v2,...",
        ),
        (
            ["tune", "--param", "model[0]={Dense: {units: 8}}", "--param", "model[0].Dense.units=4"],
            "--param model[0].Dense.units lies inside --param model[0]: search one or the other.",
        ),
        (
            ["tune", "--param", "fit.epoch=1,2"],
            "--param fit.epoch: `fit.epoch` is not in the spec; did you mean `fit.epochs`?",
        ),
        (["tune", "--param", "fit.epochs=abc,2"], "--param fit.epochs='abc'"),
        (
            ["tune", "--param", "model[0].Dense.units=[8,16"],
            "--param model[0].Dense.units: cannot read the values '[8,16': expected ',' or ']', but got "
            "'<stream end>'. Separate the values with commas, and quote a value that holds one.",
        ),
        (
            ["tune", "--param", "model[0].Dense.kernel_initializr=he_normal,glorot_uniform"],
            "--param model[0].Dense.kernel_initializr: `Dense` takes no argument `kernel_initializr`; did you mean "
            "`kernel_initializer`?",
        ),
        (
            ["tune", "--param", "compile.optimizer.adam.learning_rat=0.1,0.01"],
            "--param compile.optimizer.adam.learning_rat: `adam` takes no argument `learning_rat`; did you mean "
            "`learning_rate`?",
        ),
        (
            ["cv", "--folds", "2", "--set", "model[0].Dense.kernel_initializr=he_normal"],
            "--set model[0].Dense.kernel_initializr: `Dense` takes no argument `kernel_initializr`; did you mean "
            "`kernel_initializer`?",
        ),
        (
            ["tune", "--param", "fit.epochs=1,2,1"],
            "--param fit.epochs: the value 1 is given twice; each configuration runs once.",
        ),
        (
            ["tune", "--param", "compile.optimizer.sgd.learning_rate=0.1,0.01"],
            "--param compile.optimizer.sgd.learning_rate: `compile.optimizer` is `adam`, so its settings are at "
            "`compile.optimizer.adam.learning_rate`; for another optimizer set the whole value, such as "
            "compile.optimizer='{sgd: {learning_rate: ...}}'.",
        ),
        (
            ["tune", "--param", "model[0].Dense.units=8,wide"],
            "--param model[0].Dense.units='wide': expected a number, like the spec's 32.",
        ),
        (
            ["tune", "--param", "model[0].Dense.activation=relu,2"],
            "--param model[0].Dense.activation=2: expected text, like the spec's 'relu'.",
        ),
        (
            ["tune", "--param", "model[0].Dense.activation=relu,rleu"],
            "fitscope tune: error: --param model[0].Dense.activation='rleu': model[0] (Dense): Could not interpret "
            "activation function identifier: rleu",
        ),
        # Missing data is one error before any trial (each trial failed on it, the local ones after a download try).
        (
            ["tune", "--param", "fit.batch_size=16,32", "--set", "data.dataset=no_such.npz"],
            "fitscope tune: error: no_such.npz: no such file.",
        ),
        (
            ["tune", "--param", "fit.batch_size=16,32", "--set", "data.dataset=no_such.npz", "--executor", "process"],
            "fitscope tune: error: no_such.npz: no such file.",
        ),
        (
            ["tune", "--param", "model[0].Dense.units=8,-1"],
            "fitscope tune: error: --param model[0].Dense.units=-1: model[0] (Dense): Received an invalid value for "
            "`units`, expected a positive integer. Received: units=-1",
        ),
        (
            ["tune", "--param", "compile.optimizer=adam,adamm", "--executor", "process"],
            "fitscope tune: error: --param compile.optimizer='adamm': unknown optimizer `adamm` at compile.optimizer; "
            "did you mean `adam`?",
        ),
        (
            ["tune", "--param", "fit.batch_size=16,32", "--set", "compile.loss=sparse_categorical_crossentropyy"],
            "fitscope tune: error: unknown loss `sparse_categorical_crossentropyy` at compile.loss; did you mean "
            "`sparse_categorical_crossentropy`?",
        ),
        (
            ["cv", "--folds", "2", "--set", "model[0].Dense.activation=rleu"],
            "fitscope cv: error: model[0] (Dense): Could not interpret activation function identifier: rleu",
        ),
        (
            ["tune", "--param", "split.test=0.2,all"],
            "fitscope tune: error: --param split.test='all': `split.test`: expected a number or 'provided' (got 'all')",
        ),
        (
            ["tune", "--param", "fit.epochs=1,2", "--metric", "val_nosuch"],
            "Invalid value for --metric: 'val_nosuch'. This spec's runs report val_loss, val_accuracy.",
        ),
        (["tune", "--param", "fit.epochs=1", "--search", "random"], "--search random needs --trials N"),
        (
            ["tune", "--param", "fit.epochs=1,2", "--trials", "3"],
            "--trials only applies with --search random or --search tpe; a grid search tries all 2 combinations.",
        ),
        (
            ["tune", "--param", "fit.epochs=1,2", "--seed", "3"],
            "fitscope tune: error: --seed goes with --search random or --search tpe (what is drawn), or with --prune "
            "(the order the trials run in): a grid search tries every combination in order.",
        ),
        (
            ["cv", "--folds", "2", "--workers", "3"],
            "fitscope cv: error: --workers goes with --executor process or --executor ray: the local executor trains "
            "one trial after another, here.",
        ),
        (["tune", "--param", "fit.epochs=1,2", "--folds", "3"], "--folds only applies with --select cv"),
        (["tune", "--param", "fit.epochs=1,2", "--stratify"], "--stratify only applies with --select cv"),
        (
            ["tune", "--param", "fit.epochs=1,2", "--select", "cv", "--folds", "400", "--stratify"],
            "the smallest class has",
        ),
        (["cv", "--folds", "2", "--executor", "ray", "--address", "127.0.0.1:9"], "cannot reach the Ray cluster"),
        (["cv", "--folds", "2", "--address", "127.0.0.1:9"], "--address only applies with --executor ray"),
    ],
)
def test_bad_search_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    pytest.importorskip("ray") if "ray" in argv else None
    start = time.monotonic()
    code = main([argv[0], str(QUICK), *argv[1:], "--runs", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert time.monotonic() - start < 30  # an unreachable cluster answers within seconds
    assert Store(tmp_path).runs() == []


def test_a_ray_cluster_that_refuses_the_driver_gets_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The port answers (not a Ray cluster, or one that wants a token): an error with what to do, exit 2."""
    ray = pytest.importorskip("ray", reason="Ray is the optional extra fitscope[ray]; .ci/run installs it")
    import concurrent.futures

    import grpc

    def refuse(**_: Any) -> None:
        raise ConnectionError("Failed to connect to Ray cluster at 127.0.0.1:1.\nmore detail")

    monkeypatch.setattr(ray, "init", refuse)
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(1))  # speaks gRPC, as Ray's services do
    address = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    server.start()
    try:
        code = main(["cv", str(QUICK), "--folds", "2", "--executor", "ray", "--address", address,
                     "--runs", str(tmp_path)])  # fmt: skip
    finally:
        server.stop(None)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"cannot connect to the Ray cluster at '{address}': Failed to connect to Ray cluster at 127.0.0.1:1." in err
    assert "`ray start --head` printed" in err and "RAY_AUTH_MODE=token" in err and "more detail" not in err


def test_an_address_that_is_not_a_ray_cluster_gets_an_error_within_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A web server (the dashboard's port, say) answers TCP; ray.init would wait on it for good."""
    pytest.importorskip("ray", reason="Ray is the optional extra fitscope[ray]; .ci/run installs it")
    import http.server
    import threading

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{web.server_address[1]}"
    start = time.monotonic()
    try:
        code = main(["cv", str(QUICK), "--folds", "2", "--executor", "ray", "--address", address,
                     "--runs", str(tmp_path)])  # fmt: skip
    finally:
        web.shutdown()
        web.server_close()
    err = capsys.readouterr().err
    assert time.monotonic() - start < 15
    assert code == 2 and "Traceback" not in err and Store(tmp_path).runs() == []
    assert f"fitscope cv: error: '{address}' answers, but not as a Ray cluster: no gRPC service there" in err


@pytest.mark.slow
@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time: two starting at once on 2 cores time out
def test_ray_on_a_local_cluster(tmp_path: Path) -> None:
    """Trials as Ray tasks; a model builder that sits next to the spec goes with them (Ray workers cannot see it)."""
    pytest.importorskip("ray", reason="Ray is the optional extra fitscope[ray]; .ci/run installs it")
    (tmp_path / "ray_task_builders.py").write_text(
        "import keras\n"
        "def build():\n"
        "    return keras.Sequential([keras.layers.Dense(16, activation='relu'), "
        "keras.layers.Dense(10, activation='softmax')])\n"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(QUICK.read_text().replace(
        "model:\n  - Dense: {units: 32, activation: relu}\n  - Dense: {units: 10, activation: softmax}\n",
        "model: ray_task_builders:build\n",
    ))  # fmt: skip
    runs = tmp_path / "runs"
    result = cross_validate(spec, folds=2, overrides=FAST, runs=runs, executor="ray", workers=2, say=quiet)
    assert [f["status"] for f in result.folds] == ["finished", "finished"], [f.get("reason") for f in result.folds]
    history = Store(runs).run(result.folds[1]["run_id"]).history()
    assert len(history["val_accuracy"]) == 2


@pytest.mark.parametrize("executor", ["process", pytest.param("ray", marks=pytest.mark.xdist_group("ray"))])
def test_workers_need_no_data_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: str) -> None:
    """The driver prepares the data once and ships it: the CSV is gone before any worker trains."""
    if executor == "ray":
        pytest.importorskip("ray", reason="Ray is the optional extra fitscope[ray]; .ci/run installs it")
    from fitscope.experiment.executors import _driver

    rng = np.random.default_rng(1)
    data = tmp_path / "points.csv"
    data.write_text("a,b,label\n" + "".join(f"{rng.normal(i % 2):.4f},{rng.normal():.4f},{i % 2}\n" for i in range(60)))
    prepared = []

    def prepare_then_delete(trial: Any, plans: Any = None) -> Any:
        prepared.append(trial.key)
        shipped = original(trial, plans)
        data.unlink()
        return shipped

    original = _driver.trial_data
    monkeypatch.setattr(_driver, "trial_data", prepare_then_delete)
    spec = {
        "name": "points", "data": {"dataset": str(data), "scale": False}, "split": {"val": 0.25, "test": 0.25},
        "model": [{"Dense": {"units": 2, "activation": "softmax"}}], "fit": {"epochs": 2, "batch_size": 8},
    }  # fmt: skip
    result = search(spec, ["compile.optimizer=sgd,adam"], runs=tmp_path / "runs", executor=executor, workers=2,
                    say=quiet)  # fmt: skip
    assert [row["status"] for row in result.ranking] == ["finished", "finished"]
    assert len(prepared) == 1  # both trials share one prepared copy
    infos = Store(tmp_path / "runs").runs(group=result.group_id)
    assert all(info.manifest.sizes == {"train": 30, "val": 15, "test": 15} for info in infos)


def _points_csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(1)
    path.write_text("a,b,label\n" + "".join(f"{rng.normal(i % 2):.4f},{rng.normal():.4f},{i % 2}\n"
                                             for i in range(rows)))  # fmt: skip
    return path


def test_a_search_prepares_each_distinct_data_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fitscope.experiment.executors import _executors
    from fitscope.experiment.preparing import TrialDataCache, _trial_data
    from fitscope.experiment.spec import validate_spec
    from fitscope.experiment.training import Trial

    prepared: list[str] = []
    original = _trial_data.trial_data_for

    def counted(trial: Any, spec: Any, plans: Any = None) -> Any:
        prepared.append(trial.data_key)
        return original(trial, spec, plans)

    monkeypatch.setattr(_trial_data, "trial_data_for", counted)
    data = _points_csv(tmp_path / "points.csv", 60)
    spec = {
        "name": "points", "data": {"dataset": str(data), "scale": False}, "split": {"val": 0.25, "test": 0.25},
        "model": [{"Dense": {"units": 2, "activation": "softmax"}}], "fit": {"epochs": 1, "batch_size": 8},
    }  # fmt: skip
    search(spec, ["compile.optimizer=sgd,adam,rmsprop"], runs=tmp_path / "runs", say=quiet)
    assert len(prepared) == 1  # three configurations, one split
    with pytest.raises(ArgumentError, match="`Dense` takes no argument `kernel_initializr`"):
        search(spec, ["compile.optimizer=sgd,adam"], overrides=["model[0].Dense.kernel_initializr=he_normal"],
               runs=tmp_path / "runs", say=quiet)  # fmt: skip
    assert "kernel_initializr" not in spec["model"][0]["Dense"]  # the caller's spec is left as it was
    # A later search in the same Python session reads the data again (the file may have changed).
    prepared.clear()
    _points_csv(data, 80)
    result = search(spec, ["compile.optimizer=adam,sgd"], runs=tmp_path / "runs", say=quiet)
    assert len(prepared) == 1
    infos = Store(tmp_path / "runs").runs(group=result.group_id)
    assert {info.manifest.sizes["train"] for info in infos} == {40}
    # Two configurations on the same two folds run fold by fold: a process that can keep
    # only one fold's data still prepares each fold once.
    checked = validate_spec(spec)
    fold = TrialDataCache().get(Trial(spec=checked.model_dump(mode="json"), name="f", fold=0, folds=2), checked)
    monkeypatch.setattr(_executors, "TrialDataCache", functools.partial(TrialDataCache, max_bytes=fold.nbytes))
    prepared.clear()
    search(spec, ["compile.optimizer=sgd,adam"], select="cv", folds=2, runs=tmp_path / "runs", say=quiet)
    assert len(prepared) == 2


@pytest.mark.parametrize("executor", ["local", "process"])
def test_a_cross_validation_loads_and_splits_its_data_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: str
) -> None:
    from fitscope.experiment.preparing import _holdout, _trial_data, trial_data
    from fitscope.experiment.spec import validate_spec
    from fitscope.experiment.training import Trial

    splits: list[Any] = []
    original = _holdout.split_of
    for module in (_holdout, _trial_data):  # (the holdout split of a run, and the folds' plans)
        monkeypatch.setattr(module, "split_of", lambda spec: splits.append(spec) or original(spec))
    spec = {
        "name": "points", "data": {"dataset": str(_points_csv(tmp_path / "points.csv", 60)), "scale": False},
        "split": {"val": 0.25, "test": 0.25}, "model": [{"Dense": {"units": 2, "activation": "softmax"}}],
        "fit": {"epochs": 1, "batch_size": 8},
    }  # fmt: skip
    result = cross_validate(spec, folds=3, stratify=True, executor=executor, runs=tmp_path / "runs",
                            workers=None if executor == "local" else 1, say=quiet)  # fmt: skip
    assert len(splits) == 1  # one split for the fold check and all three folds
    # Each fold is what preparing it on its own gives.
    data = validate_spec(spec).model_dump(mode="json")
    infos = {info.run_id: info for info in Store(tmp_path / "runs").runs(group=result.group_id)}
    for fold in result.folds:
        alone = trial_data(Trial(spec=data, name="alone", fold=fold["fold"], folds=3, stratify=True))
        assert infos[fold["run_id"]].manifest.index_hash == alone.manifest.index_hash


def test_process_workers_keep_to_the_data_they_hold() -> None:
    from fitscope.experiment.executors._executors import _grouped_by_data
    from fitscope.experiment.executors._process_pool import _Assigner
    from fitscope.experiment.training import Trial

    # Two configurations on three folds, as a cross-validated search lists them.
    trials = [Trial(spec={"model": [{"Dense": {"units": 4 + config}}]}, name=f"c{config}-f{fold}", fold=fold, folds=3)
              for config in range(2) for fold in range(3)]  # fmt: skip
    assigner = _Assigner(_grouped_by_data(trials))
    taken = {0: [], 1: []}
    for worker in (0, 1, 0, 1, 0, 1):  # each worker asks again as its trial ends
        taken[worker].append(assigner.next_for(worker).name)  # type: ignore[union-attr]
    # Each worker starts on a fold the other does not hold and goes on with it.
    assert taken == {0: ["c0-f0", "c1-f0", "c0-f2"], 1: ["c0-f1", "c1-f1", "c1-f2"]}
    assert assigner.next_for(0) is None


def test_kept_trial_data_is_read_only_and_within_its_budget(tmp_path: Path) -> None:
    from fitscope.experiment.preparing import TrialDataCache
    from fitscope.experiment.spec import validate_spec
    from fitscope.experiment.training import Trial

    data = _points_csv(tmp_path / "points.csv", 40)
    spec = validate_spec({"data": {"dataset": str(data)}, "split": {"val": 0.5}, "model": [{"Dense": {"units": 2}}]})
    trials = [Trial(spec=spec.model_dump(mode="json"), name=f"f{k}", fold=k, folds=2) for k in range(2)]
    one_fold = TrialDataCache().get(trials[0], spec).nbytes
    cache = TrialDataCache(max_bytes=one_fold)
    first = cache.get(trials[0], spec)
    assert cache.get(trials[0], spec) is first
    with pytest.raises(ValueError, match="read-only"):
        first.arrays["train"][0][0, 0] = 1.0
    cache.get(trials[1], spec)  # the budget holds one fold: the first goes
    assert cache.get(trials[0], spec) is not first
    small = TrialDataCache(max_bytes=one_fold - 1)
    given = small.get(trials[0], spec)
    assert given.nbytes == one_fold and small.get(trials[0], spec) is not given  # too big to keep, still given


def test_data_that_cannot_be_shipped_fails_only_its_trials(tmp_path: Path) -> None:
    from fitscope.experiment.executors import Driver
    from fitscope.experiment.executors._driver import ship_data
    from fitscope.experiment.spec import validate_spec
    from fitscope.experiment.training import Trial

    good = tmp_path / "good.csv"
    good.write_text("a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    specs = [{"data": {"dataset": str(path)}, "split": {"val": 0.5}, "model": [{"Dense": {"units": 2}}]}
             for path in (good, tmp_path / "missing.csv")]  # fmt: skip
    trials = [Trial(spec=validate_spec(spec).model_dump(mode="json"), name=f"t{i}") for i, spec in enumerate(specs)]
    store = Store(tmp_path / "runs")
    driver = Driver(store, "g", trials, say=quiet)
    shipped = list(ship_data(driver, trials, lambda data: data.arrays["train"][0].shape))
    assert shipped == [(trials[0], (10, 1))]
    (failed,) = store.runs(group="g")
    assert failed.status == "failed" and failed.reason.startswith("DataError: ") and "missing.csv" in failed.reason


def test_a_process_worker_goes_on_past_a_trial_whose_data_fails(tmp_path: Path) -> None:
    from fitscope.experiment.executors import Driver, execute
    from fitscope.experiment.spec import validate_spec
    from fitscope.experiment.training import Trial

    good = _points_csv(tmp_path / "good.csv", 40)
    specs = [{"data": {"dataset": str(path)}, "split": {"val": 0.5}, "model": [{"Dense": {"units": 2}}],
              "fit": {"epochs": 1}} for path in (tmp_path / "missing.csv", good)]  # fmt: skip
    trials = [Trial(spec=validate_spec(spec).model_dump(mode="json"), name=f"t{i}") for i, spec in enumerate(specs)]
    store = Store(tmp_path / "runs")
    execute(Driver(store, "g", trials, say=quiet), trials, executor="process", workers=1)
    statuses = {info.name: (info.status, info.reason or "") for info in store.runs(group="g")}
    assert statuses["t1"] == ("finished", "")
    status, reason = statuses["t0"]
    assert status == "failed" and reason.startswith("DataError: ") and "missing.csv" in reason


def test_the_driver_writes_a_bundle_s_epochs_of_one_trial_in_one_commit(tmp_path: Path) -> None:
    from fitscope.experiment.executors import Driver
    from fitscope.experiment.training import Trial
    from fitscope.store import Bundle, EpochEnded, EpochRecord, Started

    trials = [Trial(spec={"name": name, "seed": 0}, name=name) for name in ("a", "b")]
    store = Store(tmp_path)
    driver = Driver(store, "g", trials, say=quiet)
    a, b = (trial.key for trial in trials)
    for key in (a, b):
        driver.handle(Bundle(key, (Started(),)))

    def epochs(key: str, *numbers: int) -> Bundle:
        return Bundle(key, tuple(EpochEnded(EpochRecord(n, {"loss": float(n)}, 0.0, 0.1)) for n in numbers))

    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    for bundle in (epochs(a, 0, 1, 2), epochs(b, 0, 1), epochs(a, 3)):
        driver.handle(bundle)
    store._conn.set_trace_callback(None)
    assert statements.count("COMMIT") == 3  # a's first three epochs, b's two, a's fourth
    assert driver.runs[a].history() == {"loss": [0.0, 1.0, 2.0, 3.0]}
    assert driver.runs[b].history() == {"loss": [0.0, 1.0]}
    assert driver.progress._done_epochs == {a: 4, b: 2}


def test_progress_says_where_each_trial_is_every_few_seconds() -> None:
    from fitscope.experiment.executors._progress import TrialsProgress
    from fitscope.experiment.training import Trial

    trials = [Trial(spec={"fit": {"epochs": 10}, "seed": i}, name=f"t{i}") for i in range(3)]
    keys = [t.key for t in trials]
    now, lines = [0.0], []
    progress = TrialsProgress(trials, lines.append, every_secs=5, clock=lambda: now[0])
    progress.started(keys[0])
    progress.started(keys[1])  # two workers: two trials side by side
    now[0] = 2.0
    progress.epoch(keys[0], 0)  # first epochs: they also compiled, so the rate counts from here
    progress.epoch(keys[1], 0)
    assert lines == []  # not yet: at most one line every 5 s
    # No estimate until the trials have trained a while past their first epochs.
    assert progress.line(3.0) == "trials 0/3 done, 2 running: t0 1/10 epochs, t1 1/10 epochs · 3 s"
    now[0] = 6.0
    progress.epoch(keys[0], 4)  # each trial trains 1 epoch a second
    assert lines == ["trials 0/3 done, 2 running: t0 5/10 epochs, t1 1/10 epochs · 6 s, about 15 s left"]
    progress.epoch(keys[1], 4)
    # 5 epochs each to go, then t2's 10 on the first free worker: 15 s (not 20 epochs at 2 a second).
    assert progress.line(6.0) == "trials 0/3 done, 2 running: t0 5/10 epochs, t1 5/10 epochs · 6 s, about 15 s left"
    now[0] = 11.0
    progress.epoch(keys[1], 8)
    progress.ended(keys[0])
    progress.started(keys[2])
    assert progress.line(11.0) == "trials 1/3 done, 2 running: t1 9/10 epochs, t2 0/10 epochs · 11 s, about 11 s left"
    progress.ended(keys[1])
    now[0] = 13.0
    progress.epoch(keys[2], 0)
    now[0] = 17.0
    progress.epoch(keys[2], 4)  # the last trial, alone, is not expected to go twice as fast
    assert progress.line(17.0) == "trials 2/3 done, 1 running: t2 5/10 epochs · 17 s, about 5 s left"
    progress.ended(keys[2])
    assert progress.line(20.0) == "trials 3/3 done, 0 running · 20 s"
    # Under half a second to go reads as such, not "about 0 s left".
    short, clock = [Trial(spec={"fit": {"epochs": 400}}, name="s")], [0.0]
    quick = TrialsProgress(short, lines.append, clock=lambda: clock[0])
    quick.started(short[0].key)
    quick.epoch(short[0].key, 0)
    clock[0] = 3.0
    quick.epoch(short[0].key, 398)  # 398 epochs in 3 s: the last one takes under 0.01 s
    assert quick.line() == "trials 0/1 done, 1 running: s 399/400 epochs · 3 s, almost done"
    # The folds of one cross-validation are counted as folds.
    folds = [Trial(spec={"fit": {"epochs": 10}}, name=f"f{k}", fold=k, folds=2) for k in range(2)]
    assert TrialsProgress(folds, lines.append, clock=lambda: 0.0).line() == "folds 0/2 done, 0 running · 0 s"
    configs = [Trial(spec={"fit": {"epochs": 10}, "seed": k}, name=f"c{k}", fold=0, folds=2, params={"seed": k})
               for k in range(2)]  # fmt: skip
    assert TrialsProgress(configs, lines.append, clock=lambda: 0.0).line() == "trials 0/2 done, 0 running · 0 s"


def test_more_workers_than_cores_gets_a_note(tmp_path: Path) -> None:
    import os

    from fitscope.experiment.executors import Driver, execute

    said: list[str] = []
    cores = os.cpu_count() or 1
    execute(Driver(Store(tmp_path), "g", [], say=said.append), [], executor="process", workers=cores + 1)
    assert said == [
        f"note: {cores + 1} workers on {cores} CPU cores. Each worker computes on one core, so extra workers "
        f"take turns and the trials finish no sooner; --workers {cores} uses every core."
    ]
    said.clear()
    execute(Driver(Store(tmp_path), "g", [], say=said.append), [], executor="process", workers=cores)
    assert said == []


def test_selection_metric_by_any_name_and_a_search_where_nothing_finishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Keras reports the spec's "acc" as acc/val_acc: the selection still finds it as val_accuracy.
    result = search(QUICK, ["model[0].Dense.units=2,32"], metric="acc", overrides=[*FAST, "compile.metrics=[acc]"],
                    runs=tmp_path, say=quiet)  # fmt: skip
    assert result.metric == "val_accuracy"  # "acc", "accuracy", "val_acc": one metric
    scores = [row["score"] for row in result.ranking]
    assert None not in scores and scores == sorted(scores, reverse=True)  # higher accuracy ranks first
    # Builders fail in their trials (a spec's own names are checked before any trial starts).
    argv = ["tune", str(QUICK), "--param", "model=crash_helpers:no_such_model,crash_helpers:no_other_model",
            "--set", "fit.epochs=1", "--runs", str(tmp_path / "failing")]  # fmt: skip
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "no configuration finished: see the reasons above" in out and "winner" not in out
    assert "compare the curves" not in out


def test_errors_are_fitscope_errors() -> None:
    with pytest.raises(ArgumentError):
        search(QUICK, [], say=quiet)
    assert issubclass(ArgumentError, FitscopeError)


def test_search_curves_leave_out_a_configuration_that_failed_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["tune", str(QUICK), "--param", "model=crash_helpers:good_model,crash_helpers:no_such_model",
            "--set", "fit.epochs=2", "--runs", str(tmp_path), "--json"]  # fmt: skip
    assert main(argv) == 0
    group = json.loads(capsys.readouterr().out)["group_id"]
    failed = [info for info in Store(tmp_path).runs(group=group) if info.status == "failed"]
    assert len(failed) == 1 and failed[0].epochs == 0
    # As the search suggests after it ends: the curves of what trained, and a word on what did not.
    assert main(["plot", "--group", group, "--runs", str(tmp_path)]) == 0
    drawn = capsys.readouterr()
    assert drawn.out.strip() == str(tmp_path / f"{group}.png") and (tmp_path / f"{group}.png").stat().st_size > 0
    assert drawn.err == f"note: left out 1 run(s) without epochs: {failed[0].name} (failed).\n"
