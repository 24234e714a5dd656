"""Finding runs among hundreds: --where and --sort in SQL, --columns, tags and notes."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from fitscope.cli import main
from fitscope.store import Store


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    """300 runs made with the store's API, and what each one is, computed in Python."""
    root = tmp_path_factory.mktemp("crowded")
    store = Store(root)
    rng = random.Random(0)
    expected: dict[str, dict[str, Any]] = {}
    for number in range(300):
        units, rate = rng.choice([2, 8, 16, 32, 64]), rng.choice([0.001, 0.01, 0.1])
        params = {"model[0].Dense.units": units, "compile.optimizer.sgd.learning_rate": rate, "batch_size": 10}
        run = store.start_run(name=f"toy-{number}", params=params, group=f"g{number % 3}")
        curve = [(rng.uniform(0.5, 2.5), rng.uniform(0.1, 0.95)) for _ in range(rng.randint(1, 6))]
        for epoch, (loss, accuracy) in enumerate(curve):
            run.record_epoch(epoch, {"loss": loss, "val_loss": loss + 0.1, "val_accuracy": accuracy},
                             started_at=1000.0 + number, duration=0.01)  # fmt: skip
        status = rng.choice(["finished", "finished", "failed"])
        run.finish() if status == "finished" else run.fail("a NaN loss")
        tags = ["baseline"] if number % 7 == 0 else []
        if tags:
            run.tag(*tags)
        expected[run.run_id] = {
            "name": f"toy-{number}", "status": status, "units": units, "rate": rate, "tags": tags,
            "best_accuracy": max(a for _l, a in curve), "final_accuracy": curve[-1][1],
            "best_val_loss": min(loss + 0.1 for loss, _a in curve), "epochs": len(curve),
        }  # fmt: skip
    store.close()
    return root, expected


@pytest.mark.parametrize(
    ("where", "holds"),
    [
        ("params.model[0].Dense.units >= 16 and best.val_accuracy > 0.5",
         lambda r: r["units"] >= 16 and r["best_accuracy"] > 0.5),
        ('status == "failed" or final.val_accuracy < 0.2',
         lambda r: r["status"] == "failed" or r["final_accuracy"] < 0.2),
        ("'baseline' in tags and not epochs > 3", lambda r: "baseline" in r["tags"] and not r["epochs"] > 3),
        ("params.compile.optimizer.sgd.learning_rate in [0.001, 0.1] and 0.9 <= best.val_loss < 1.5",
         lambda r: r["rate"] in (0.001, 0.1) and 0.9 <= r["best_val_loss"] < 1.5),
        ("'baseline' not in tags and name == 'toy-1'", lambda r: r["name"] == "toy-1"),
    ],
)  # fmt: skip
def test_where_filters_in_sql_as_python_would(crowded: tuple[Path, dict[str, Any]], where: str, holds: Any) -> None:
    root, expected = crowded
    found = {info.run_id for info in Store(root, readonly=True).runs(where=where)}
    assert found == {run_id for run_id, run in expected.items() if holds(run)}
    assert found  # (each expression picks some runs out of the 300)


def test_sort_orders_by_best_then_name_with_runs_without_a_value_last(
    crowded: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, expected = crowded
    infos = Store(root, readonly=True).runs(sort="-best.val_accuracy,name")
    assert [info.run_id for info in infos] == sorted(expected, key=lambda i: (-expected[i]["best_accuracy"],
                                                                               expected[i]["name"]))  # fmt: skip
    command = ["runs", "--where", "status == 'finished'", "--sort", "-final.val_accuracy", "--last", "5",
               "--columns", "name,params.model[0].Dense.units,final.val_accuracy,tags", "--json",
               "--runs", str(root)]  # fmt: skip
    assert main(command) == 0
    rows = json.loads(capsys.readouterr().out)
    finished = sorted((i for i in expected if expected[i]["status"] == "finished"),
                      key=lambda i: -expected[i]["final_accuracy"])[:5]  # fmt: skip
    assert [row["run_id"] for row in rows] == finished
    first = expected[finished[0]]
    assert rows[0] == {"run_id": finished[0], "name": first["name"], "params.model[0].Dense.units": first["units"],
                       "final.val_accuracy": pytest.approx(first["final_accuracy"]), "tags": first["tags"]}  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--where", "params.units >="], "--where at position 16: the expression ends too soon.\n"
                                         "  params.units >=\n                 ^"),
        (["--where", "status = 'x'"], "--where at position 8: invalid syntax; compare with ==.\n  status = 'x'\n"
                                      "         ^"),
        (["--where", "best.val_accuracy > 0.5 and colour == 'red'"], "--where at position 29: unknown field "
                                                                      "'colour'. Fields: run_id, name, status"),
        (["--sort", "-best.val_accuracy,,name"], "--sort at position 20: empty sort key."),
        (["--where", "tags == 'x'"], "--where at position 1: tags are tested with `in`: 'baseline' in tags."),
    ],
)  # fmt: skip
def test_a_malformed_expression_is_one_error_pointing_at_the_position(
    crowded: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    root, _expected = crowded
    assert main(["runs", *argv, "--runs", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fitscope runs: error: " + error), err
    assert "Traceback" not in err


def test_tags_and_notes_are_kept_shown_and_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(tmp_path)
    kept, other = store.start_run(name="kept"), store.start_run(name="other")
    kept.finish()
    other.finish()
    runs = ["--runs", str(tmp_path)]
    assert main(["runs", "tag", kept.run_id, "baseline", "for the paper", *runs]) == 0
    assert capsys.readouterr().out == f"{kept.run_id}: tags baseline, for the paper\n"
    assert main(["runs", "note", kept.run_id, "the one to beat", *runs]) == 0
    assert main(["runs", "untag", kept.run_id, "for the paper", *runs]) == 0
    capsys.readouterr()
    assert main(["runs", "show", kept.run_id, *runs]) == 0
    out = capsys.readouterr().out
    assert "\ntags: baseline\nnote: the one to beat\n" in out
    assert [i.run_id for i in Store(tmp_path).runs(where="'baseline' in tags and note == 'the one to beat'")] == [
        kept.run_id]  # fmt: skip
    assert main(["report", kept.run_id, *runs]) == 0
    html = (Store(tmp_path).run(kept.run_id).dir / "report.html").read_text(encoding="utf-8")
    assert "tags: baseline · note: the one to beat" in html
    assert main(["runs", "tag", kept.run_id, "a, b", *runs]) == 2
    assert "Invalid value for argument `tag`" in capsys.readouterr().err
    Store(tmp_path).delete(kept.run_id)
    assert Store(tmp_path)._conn.execute("SELECT COUNT(*) FROM tags").fetchone()[0] == 0


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_writes_one_row_per_run_read_back_value_for_value(
    crowded: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    pd = pytest.importorskip("pandas", reason="pandas is the optional extra fitscope[export]; .ci/run installs it")
    root, expected = crowded
    path = tmp_path / f"runs.{fmt}"
    assert main(["runs", "export", "-o", str(path), "--where", "'baseline' in tags", "--runs", str(root)]) == 0
    tagged = {run_id: run for run_id, run in expected.items() if run["tags"]}
    assert capsys.readouterr().out == f"{len(tagged)} row(s) of {len(tagged)} run(s) written to {path}\n"
    frame = {"csv": pd.read_csv, "json": pd.read_json, "parquet": pd.read_parquet}[fmt](path)
    assert sorted(frame["run_id"]) == sorted(tagged)
    for row in frame.to_dict("records"):
        run = tagged[row["run_id"]]
        assert (row["name"], row["status"], row["tags"], row["epochs"]) == (run["name"], run["status"], "baseline",
                                                                            run["epochs"])  # fmt: skip
        assert row["params.model[0].Dense.units"] == run["units"]
        assert row["params.compile.optimizer.sgd.learning_rate"] == pytest.approx(run["rate"])
        assert row["best.val_accuracy"] == pytest.approx(run["best_accuracy"])
        assert row["final.val_accuracy"] == pytest.approx(run["final_accuracy"])
        assert row["best.val_loss"] == pytest.approx(run["best_val_loss"])  # a loss: its lowest
    if fmt == "parquet":  # the same table from Python
        same = Store(root, readonly=True).to_dataframe(where="'baseline' in tags")
        pd.testing.assert_frame_equal(same.reset_index(drop=True), frame, check_dtype=False)


def test_export_of_every_epoch_is_the_long_form(
    crowded: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd = pytest.importorskip("pandas", reason="pandas is the optional extra fitscope[export]; .ci/run installs it")
    root, expected = crowded
    path = tmp_path / "curves.csv"
    assert main(["runs", "export", "--epochs", "-o", str(path), "--runs", str(root)]) == 0
    frame = pd.read_csv(path)
    assert len(frame) == sum(run["epochs"] for run in expected.values())
    assert list(frame.columns) == ["run_id", "name", "epoch", "loss", "val_accuracy", "val_loss"]
    last = frame.groupby("run_id")["val_accuracy"].last()
    assert {run_id: pytest.approx(value) for run_id, value in last.items()} == {
        run_id: run["final_accuracy"] for run_id, run in expected.items()}  # fmt: skip


def test_export_needs_pandas_for_parquet_and_says_so(
    crowded: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import sys

    root, _expected = crowded
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert main(["runs", "export", "-o", str(tmp_path / "runs.parquet"), "--runs", str(root)]) == 2
    assert capsys.readouterr().err == (
        "fitscope runs: error: --format parquet needs pandas and pyarrow: pip install 'fitscope[export]'.\n"
    )
    assert not (tmp_path / "runs.parquet").exists()
    assert main(["runs", "export", "-o", str(tmp_path / "runs.txt"), "--runs", str(root)]) == 2
    assert "Invalid value for --format: 'txt'. Expected one of csv, json, parquet" in capsys.readouterr().err


def test_every_run_records_the_code_that_produced_it_and_compare_warns_when_it_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    from fitscope.store import _environment

    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text("print('train')\n")
    git = ["git", "-c", "user.email=a@b.c", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "."], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "first"], cwd=project, check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()
    monkeypatch.chdir(project)
    monkeypatch.setattr(_environment, "FRESH_SECS", 0.0)  # (ask git at every run, as minutes apart would)
    store = Store(tmp_path / "runs")
    clean = store.start_run(name="clean", params={})
    folds = [store.start_run(name="fold", params={}, group="cv-a", group_kind="cv", trial={"fold": 0})]
    spec = {"fit": {"epochs": 1}}
    sizes = [store.start_run(name="lc", params={}, spec=spec, group="lc-a", group_kind="learning-curve",
                             trial={"train_size": size}) for size in (10, 20)]  # fmt: skip
    (project / "train.py").write_text("print('train harder')\n")
    changed = store.start_run(name="changed", params={}, spec=spec)
    folds.append(store.start_run(name="fold", params={}, group="cv-a", group_kind="cv", trial={"fold": 1}))
    for run in (clean, changed, *folds, *sizes):
        run.record_epoch(0, {"loss": 1.0, "val_loss": 1.0, "val_accuracy": 0.5}, started_at=0, duration=1)
        run.record_evaluation("val", {"loss": 1.0, "accuracy": 0.5})
        run.finish()
    first, second = clean.info().environment, changed.info().environment
    assert first["git"] == {"commit": commit, "dirty": False, "diff": None}
    assert second["git"]["commit"] == commit and second["git"]["dirty"] and len(second["git"]["diff"]) == 16
    assert first["cwd"] == str(project) and first["cores"] >= 1 and first["command"]
    runs = ["--runs", str(tmp_path / "runs")]
    capsys.readouterr()
    assert main(["runs", "show", changed.run_id, *runs]) == 0
    assert f"code: git {commit[:12]}, with uncommitted changes (diff {second['git']['diff']})\n" in \
        capsys.readouterr().out  # fmt: skip
    assert main(["compare", clean.run_id, changed.run_id, *runs]) == 0
    assert f"Warning: {clean.run_id} and {changed.run_id} come from different code (code: git {commit[:12]}; " in \
        capsys.readouterr().out  # fmt: skip
    assert main(["diagnose", "--group", "cv-a", *runs]) == 0  # a cross-validation resumed after the code changed
    assert f"Warning: the runs of cv-a come from different code (code: git {commit[:12]}; code: git {commit[:12]}, " \
        "with uncommitted changes" in capsys.readouterr().out  # fmt: skip
    assert main(["diagnose", "--group", "cv-a", "--json", *runs]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"][0].startswith("Warning: the runs of cv-a come from")
    assert main(["diagnose", changed.run_id, *runs]) == 0  # beside a learning curve of older code
    assert (
        f"Warning: {changed.run_id} and lc-a come from different code (code: git {commit[:12]}, with "
        f"uncommitted changes (diff {second['git']['diff']}); code: git {commit[:12]})" in capsys.readouterr().out
    )
    assert main(["diagnose", clean.run_id, *runs]) == 0  # (no spec: no learning curve, nothing to warn about)
    assert "different code" not in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)  # outside any repository: the code is not known, and nothing is said
    elsewhere = store.start_run(name="elsewhere", params={})
    assert elsewhere.info().environment["git"] is None


def test_ids_prints_only_the_matching_run_ids_for_scripts(
    crowded: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, expected = crowded
    assert main(["runs", "--where", "'baseline' in tags", "--ids", "--runs", str(root)]) == 0
    assert capsys.readouterr().out.splitlines() == [i for i in expected if "baseline" in expected[i]["tags"]]
    assert main(["runs", "--ids", "--json", "--runs", str(root)]) == 2
    assert capsys.readouterr().err == (
        "fitscope runs: error: --ids prints only the run ids: leave out --json and --columns.\n"
    )
