"""``fitscope export mlflow``: runs into an MLflow tracking store, read back with MLflow's client value for value."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from fitscope.cli import main
from fitscope.report import mlflow_key
from fitscope.store import Store
from fitscope.store._owner import heartbeats

mlflow = pytest.importorskip("mlflow", reason="mlflow is an optional extra: pip install 'fitscope[mlflow]'")
from mlflow.tracking import MlflowClient  # noqa: E402

STATUS = {"finished": "FINISHED", "failed": "FAILED", "interrupted": "KILLED", "pruned": "KILLED", "running": "RUNNING"}


@pytest.fixture(autouse=True)
def _quiet_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "WARNING")


def _crowded_store(root: Path, count: int) -> Store:
    """``count`` runs made with the store's API: every status, tags, notes, a NaN, evaluations, groups."""
    store = Store(root)
    rng = random.Random(1)
    for number in range(count):
        params = {"model[0].Dense.units": rng.choice([8, 16, 32]), "compile.optimizer": rng.choice(["sgd", "adam"]),
                  "layers": [3, 4], "batch_size": 10}  # fmt: skip
        run = store.start_run(name=f"toy-{number}", params=params, group=f"g{number % 4}", seed=number)
        for epoch in range(rng.randint(1, 5)):
            loss = math.nan if number % 50 == 3 and epoch == 0 else rng.uniform(0.5, 2.5)
            run.record_epoch(epoch, {"loss": loss, "val_loss": rng.uniform(0.5, 2.5),
                                     "val_accuracy": rng.uniform(0.1, 0.9)},
                             started_at=1_700_000_000.0 + number * 10 + epoch, duration=0.5)  # fmt: skip
        if number % 9 == 0:
            run.record_evaluation("test", {"loss": 0.7, "accuracy": 0.75}, epoch=run.next_epoch - 1)
        if number % 7 == 0:
            run.tag("baseline", "big model")
        if number % 11 == 0:
            run.set_note("첫 실험: 학습률이 너무 크다")
        ending = number % 5
        if ending == 0:
            run.fail("a NaN loss")
        elif ending == 1:
            run.interrupt()
        elif ending == 2:
            run.prune("pruned at rung 1")
        elif ending == 3:
            run.finish()
        # (ending 4: still running)
    return store


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crowded")
    store = _crowded_store(root, 200)
    # (this process would stamp its running runs' heartbeat every minute: a write while the test reads)
    for info in store.runs(where="status == 'running'"):
        heartbeats.remove(store.path, info.run_id)
    store.close()
    return root


def _mlflow_runs(client: MlflowClient, experiment: str, tag: str = "fitscope.run_id") -> dict[str, Any]:
    """The experiment's runs with ``tag``, by its value: fitscope's runs, or with ``fitscope.group_id`` its groups."""
    found = client.get_experiment_by_name(experiment)
    runs, token = [], None
    while True:
        page = client.search_runs([found.experiment_id], max_results=1000, page_token=token)
        runs += list(page)
        token = page.token
        if not token:
            return {run.data.tags[tag]: run for run in runs if tag in run.data.tags}


def _export(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["export", "mlflow", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _assert_same(store: Store, client: MlflowClient, infos: list[Any], exported: dict[str, Any]) -> None:
    """Every value of every run, as MLflow's client reads it back; each group's runs nested under the group's."""
    assert set(exported) == {info.run_id for info in infos}
    experiment = next(iter(exported.values())).info.experiment_id
    groups = _mlflow_runs(client, client.get_experiment(experiment).name, "fitscope.group_id")
    assert set(groups) == {info.group_id for info in infos if info.group_id}
    for group, parent in groups.items():
        members = store.runs(group=group)
        assert parent.info.run_name == group
        assert parent.info.status == ("FINISHED" if all(m.ended_at for m in members) else "RUNNING")
        assert parent.info.start_time == round(min(m.started_at for m in members) * 1000)
    for info in infos:
        got = exported[info.run_id]
        assert got.info.run_name == info.name
        assert got.info.status == STATUS[info.status]
        assert got.info.start_time == round(info.started_at * 1000)
        assert got.info.end_time == (round(info.ended_at * 1000) if info.ended_at else None)
        assert got.data.params == {mlflow_key(k): v if isinstance(v, str) else json.dumps(v)
                                   for k, v in info.params.items()}  # fmt: skip
        assert got.data.params["model.0.Dense.units"] == str(info.params["model[0].Dense.units"])
        tags = got.data.tags
        assert tags.get("mlflow.parentRunId") == (groups[info.group_id].info.run_id if info.group_id else None)
        assert tags["fitscope.status"] == info.status
        assert tags["fitscope.group"] == info.group_id
        assert tags["fitscope.seed"] == str(info.seed)
        assert tags["fitscope.tags"] == ",".join(info.tags)
        assert {tag for tag in ("baseline", "big model", "kept") if tag in tags} == set(info.tags)
        assert tags.get("mlflow.note.content") == info.note
        commit = (info.environment.get("git") or {}).get("commit")
        assert tags.get("mlflow.source.git.commit") == commit
        assert {k: tags[f"fitscope.versions.{k}"] for k in info.libraries} == info.libraries
        assert info.libraries["fitscope"]
        run = store.run(info.run_id)
        ended = {epoch: started + duration for epoch, started, duration in run.epochs()}
        history = run.history()
        for name, values in history.items():
            points = client.get_metric_history(got.info.run_id, name)
            assert [p.step for p in points] == sorted(ended)
            assert [p.timestamp for p in points] == [round(ended[e] * 1000) for e in sorted(ended)]
            for point, value in zip(points, values, strict=True):
                assert (math.isnan(point.value) and math.isnan(value)) or point.value == value
        evaluations = run.evaluations("test")
        assert ("evaluation/test_accuracy" in got.data.metrics) == bool(evaluations)
        if evaluations:
            assert got.data.metrics["evaluation/test_accuracy"] == evaluations[-1]["metrics"]["accuracy"]
        evaluated = {f"evaluation/test_{name}" for evaluation in evaluations for name in evaluation["metrics"]}
        assert set(got.data.metrics) == set(history) | evaluated


def _digest(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in root.rglob("*") if path.is_file()}  # fmt: skip


def test_runs_go_to_mlflow_value_for_value_and_exporting_again_duplicates_nothing(
    crowded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    before = _digest(crowded)
    done = _export(["--tracking-uri", uri, "--experiment", "book", "--no-artifacts", "--runs", str(crowded)], capsys)
    assert len(done["created"]) == 200 and not done["updated"] and not done["unchanged"]
    assert set(done["groups"]) == {"g0", "g1", "g2", "g3"}
    assert _digest(crowded) == before  # the store is only read
    client = MlflowClient(tracking_uri=uri)
    store = Store(crowded, readonly=True)
    infos = store.runs()
    exported = _mlflow_runs(client, "book")
    assert {info.run_id: exported[info.run_id].info.run_id for info in infos} == done["created"]
    _assert_same(store, client, infos, exported)
    assert {info.status for info in infos} == set(STATUS)

    again = _export(["--tracking-uri", uri, "--experiment", "book", "--no-artifacts", "--runs", str(crowded)], capsys)
    assert again["unchanged"] == done["created"] and not again["created"] and not again["updated"]
    assert len(_mlflow_runs(client, "book")) == 200
    assert again["groups"] == done["groups"]
    assert len(client.search_runs([exported[infos[0].run_id].info.experiment_id], max_results=1000)) == 204


def test_what_changed_in_fitscope_is_updated_in_mlflow_and_only_that(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "runs"
    store = _crowded_store(root, 12)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    argv = ["--tracking-uri", uri, "--no-artifacts", "--runs", str(root)]
    first = _export(argv, capsys)
    infos = {info.name: info for info in store.runs()}
    untagged, tagged, running = infos["toy-0"], infos["toy-1"], infos["toy-4"]
    assert untagged.tags == ("baseline", "big model") and running.status == "running"
    store.run(untagged.run_id).untag("big model")
    store.run(tagged.run_id).tag("kept")
    store.run(tagged.run_id).set_note("a second look")
    more = store.run(running.run_id)
    more.record_epoch(more.next_epoch, {"loss": 0.25, "val_loss": 0.5, "val_accuracy": 0.9},
                      started_at=1_800_000_000.0, duration=1.0)  # fmt: skip
    more.finish()

    second = _export(argv, capsys)
    changed = {untagged.run_id, tagged.run_id, running.run_id}
    assert set(second["updated"]) == changed and not second["created"]
    assert set(second["unchanged"]) == set(first["created"]) - changed
    client = MlflowClient(tracking_uri=uri)
    exported = _mlflow_runs(client, "fitscope")
    assert len(exported) == 12
    _assert_same(store, client, store.runs(), exported)
    assert "big model" not in exported[untagged.run_id].data.tags
    assert _mlflow_runs(client, "fitscope", "fitscope.group_id")["g0"].info.status == "FINISHED"  # (toy-4's group)
    assert exported[tagged.run_id].data.tags["kept"] == ""


def test_only_the_runs_asked_for_are_exported(
    crowded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = _export(["--tracking-uri", uri, "--no-artifacts", "--where", "'baseline' in tags and status == 'failed'",
                    "--runs", str(crowded)], capsys)  # fmt: skip
    wanted = Store(crowded, readonly=True).runs(where="'baseline' in tags and status == 'failed'")
    assert set(done["created"]) == {info.run_id for info in wanted} and wanted
    assert set(_mlflow_runs(MlflowClient(tracking_uri=uri), "fitscope")) == set(done["created"])


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        ([], "fitscope export: error: --tracking-uri is needed: where the runs go, e.g. sqlite:///mlflow.db "
             "(or set MLFLOW_TRACKING_URI).\n"),
        (["--tracking-uri", "nosuch://here"], "fitscope export: error: MLflow at nosuch://here refused: "),
        (["--tracking-uri", "sqlite:///{tmp}/m.db", "--where", "best.val_accuracy >"],
         "fitscope export: error: --where at position 20: the expression ends too soon."),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_error(
    crowded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    argv: list[str], error: str,
) -> None:  # fmt: skip
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    argv = [word.replace("{tmp}", str(tmp_path)) for word in argv]
    assert main(["export", "mlflow", *argv, "--no-artifacts", "--runs", str(crowded)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(error), err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3


def test_an_existing_experiment_keeps_its_artifact_location(
    crowded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["export", "mlflow", "--tracking-uri", "sqlite:///m.db", "--where", "name == 'toy-1'", "--no-artifacts",
            "--runs", str(crowded)]  # fmt: skip
    assert main([*argv, "--artifact-location", "art"]) == 0
    assert main([*argv, "--artifact-location", f"file://{tmp_path}/art"]) == 0  # the same place, spelt otherwise
    assert main([*argv, "--artifact-location", "other"]) == 2
    assert capsys.readouterr().err == (
        f"fitscope export: error: --artifact-location other: the experiment 'fitscope' keeps its artifacts in "
        f"{tmp_path}/art, and an existing experiment's place cannot change; leave it out, or name another "
        "experiment.\n"
    )


def test_an_artifact_folder_that_cannot_be_written_is_one_error(
    crowded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    argv = ["export", "mlflow", "--tracking-uri", f"sqlite:///{tmp_path}/m.db", "--artifact-location",
            str(tmp_path / "a-file" / "artifacts"), "--where", "name == 'toy-1'", "--runs", str(crowded)]  # fmt: skip
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"fitscope export: error: MLflow at sqlite:///{tmp_path}/m.db could not write: [Errno 20] Not a directory: "
        f"'{tmp_path}/a-file/artifacts'\n"
    )


def test_without_mlflow_the_error_says_how_to_install_it(
    crowded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)  # (import mlflow.tracking now fails)
    assert main(["export", "mlflow", "--tracking-uri", f"sqlite:///{tmp_path}/m.db", "--runs", str(crowded)]) == 2
    assert capsys.readouterr().err == (
        "fitscope export: error: Exporting to MLflow needs mlflow: pip install 'fitscope[mlflow]'.\n"
    )
    assert not (tmp_path / "m.db").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_a_trained_run_s_files_reach_mlflow_and_mlflow_s_own_server_answers_for_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "runs"
    assert main(["run", "digits_quick", "--set", "fit.epochs=3", "--test", "--quiet", "--runs", str(root)]) == 0
    capsys.readouterr()
    database, artifacts = tmp_path / "mlflow.db", tmp_path / "artifacts"
    uri = f"sqlite:///{database}"
    done = _export(["--tracking-uri", uri, "--artifact-location", str(artifacts), "--runs", str(root)], capsys)
    (run_id, mlflow_id), = done["created"].items()  # fmt: skip
    client = MlflowClient(tracking_uri=uri)
    listed = {item.path for item in client.list_artifacts(mlflow_id)}
    assert listed == {"split.json", "report.html", "curves.png", "models"}
    assert {item.path for item in client.list_artifacts(mlflow_id, "models")} == {"models/final.keras",
                                                                                   "models/best.keras"}  # fmt: skip
    store = Store(root, readonly=True)
    run = store.run(run_id)
    fetched = Path(client.download_artifacts(mlflow_id, "models/final.keras", str(tmp_path)))
    assert fetched.read_bytes() == (run.checkpoint_dir / "final.keras").read_bytes()
    split = json.loads(Path(client.download_artifacts(mlflow_id, "split.json", str(tmp_path))).read_text())
    assert split["index_hash"] == run.info().manifest.index_hash
    assert run_id in Path(client.download_artifacts(mlflow_id, "report.html", str(tmp_path))).read_text()
    assert client.get_run(mlflow_id).data.metrics["evaluation/test_accuracy"] == run.evaluations("test")[-1][
        "metrics"]["accuracy"]  # fmt: skip

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri, "--host", "127.0.0.1", "--port",
         str(port), "--workers", "1"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "MLFLOW_LOGGING_LEVEL": "WARNING"},
    )  # fmt: skip
    try:
        remote = MlflowClient(tracking_uri=f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 120
        while True:
            try:
                answered = remote.get_run(mlflow_id)
                break
            except Exception:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stderr.read().decode() if server.stderr else "no server") from None
                time.sleep(0.5)
        assert answered.data.tags["fitscope.run_id"] == run_id
        assert answered.data.params == client.get_run(mlflow_id).data.params
        history = run.history()["val_loss"]
        assert [p.value for p in remote.get_metric_history(mlflow_id, "val_loss")] == history
        found = remote.search_runs([answered.info.experiment_id], filter_string=f"tags.`fitscope.run_id` = '{run_id}'")
        assert [r.info.run_id for r in found] == [mlflow_id]
    finally:
        server.terminate()
        server.wait(timeout=30)
