"""``fitscope runs`` / ``runs show`` / ``runs rm`` / ``board`` on a real store."""

from __future__ import annotations

import json
import math
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from fitscope import StoreError
from fitscope.cli import main
from fitscope.report import board_command, start_board
from fitscope.store import EpochRecord, Store


@pytest.fixture
def store_with_runs(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "runs 폴더"
    store = Store(root)
    ids = []
    for name, losses in (("first", [1.0, 0.8, 0.9]), ("second", [2.0, math.nan])):
        run = store.start_run(name=name, params={"units": 2})
        for epoch, loss in enumerate(losses):
            run.record_epoch(epoch, {"loss": loss, "val_loss": loss + 0.1, "val_acc": 0.5},
                             started_at=epoch, duration=1)  # fmt: skip
        run.finish()
        ids.append(run.run_id)
    store.run(ids[0]).record_evaluation("test", {"accuracy": 0.9})
    return root, ids


def test_runs_json(store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = store_with_runs
    assert main(["runs", "--runs", str(root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in rows] == ids
    assert rows[0]["epochs"] == 3 and rows[0]["status"] == "finished"
    assert rows[0]["best"] == {"metric": "val_loss", "value": pytest.approx(0.9), "epoch": 1}


def test_runs_last_n(store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = store_with_runs
    assert main(["runs", "--runs", str(root), "--last", "1", "--json"]) == 0
    assert [row["run_id"] for row in json.loads(capsys.readouterr().out)] == ids[1:]
    assert main(["runs", "--runs", str(root), "--last", "1"]) == 0
    out = capsys.readouterr().out
    assert ids[1] in out and ids[0] not in out and out.endswith("1 older run(s) not shown (--last 1)\n")
    assert main(["runs", "--runs", str(root), "--last", "5"]) == 0
    assert "older" not in capsys.readouterr().out
    assert main(["runs", "--runs", str(root), "--last", "0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "fitscope runs: error: --last 0: give the number of recent runs to show, 1 or more."
    )


def test_runs_table_keeps_ids_whole_and_brackets_literal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # set, it decides the width
    root = tmp_path / "runs [lab]"
    run = Store(root).start_run(name="lr [b]0.1[/b]")
    run.record_epoch(0, {"loss": 1.0, "val_loss": 1.1}, started_at=0, duration=1)
    run.finish()
    assert main(["runs", "--runs", str(root)]) == 0
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if run.run_id in line]  # the id whole
    assert "lr [b]0.1[/b]" in row and "val_loss 1.1 @ 0" in row  # a pipe gets each row on one line, for grep
    assert "runs [lab]" in out  # as typed, not read as markup


def test_runs_show_of_a_trial_keeps_bookkeeping_out_of_its_params(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trial = {"key": "0123abcd", "initial_weights": "f" * 64, "fold": 1}
    run = Store(tmp_path).start_run(name="trial0", params={"model[0].Dense.units": 8}, group="search-toy-1234",
                                    trial=trial)  # fmt: skip
    run.record_epoch(0, {"loss": 1.0, "val_loss": 1.1}, started_at=0, duration=1)
    run.finish()
    assert main(["runs", "show", run.run_id, "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "params: {'model[0].Dense.units': 8}\n" in out and "0123abcd" not in out
    assert "group: search-toy-1234, fold 1  (fitscope runs --group search-toy-1234)" in out
    assert "initial weights: fingerprint ffffffffffffffff…" in out


def test_runs_show_json(store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = store_with_runs
    assert main(["runs", "--runs", str(root), "show", ids[0][:-2], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["run_id"], shown["status"], shown["epochs"]) == (ids[0], "finished", 3)
    assert shown["history"]["val_accuracy"] == [0.5, 0.5, 0.5]
    assert shown["test_evaluations"] == 1


def test_runs_of_one_group(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(tmp_path)
    ids = {name: store.start_run(name=name, group="cv-a" if name != "alone" else None).run_id
           for name in ("fold0", "fold1", "alone")}  # fmt: skip
    assert main(["runs", "--runs", str(tmp_path), "--group", "cv-a", "--json"]) == 0
    assert [row["run_id"] for row in json.loads(capsys.readouterr().out)] == [ids["fold0"], ids["fold1"]]
    assert main(["runs", "--runs", str(tmp_path), "--group", "cv-b"]) == 2
    assert capsys.readouterr().err == (f"fitscope runs: error: no group 'cv-b' in {tmp_path}. Did you mean cv-a?\n")
    assert main(["plot", "--runs", str(tmp_path), "--group", "search-z"]) == 2
    assert capsys.readouterr().err == (
        f"fitscope plot: error: no group 'search-z' in {tmp_path}. List groups with `fitscope runs groups`.\n"
    )


def test_groups_are_listed_and_named_by_a_unique_prefix_or_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path)
    assert main(["runs", "groups", "--runs", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"no cv or tune groups in {tmp_path} yet\n"
    assert main(["runs", "--group", "last", "--runs", str(tmp_path)]) == 2
    assert f"no cv or tune groups in {tmp_path} yet, so there is no last group." in capsys.readouterr().err
    runs = {}
    for group, status in [("cv-toy-1a", "finished"), ("cv-toy-1a", "failed"), ("search-toy-1b", "finished"),
                          ("search-toy-2c", "interrupted"), ("search-toy-2c", "finished")]:  # fmt: skip
        run = store.start_run(name=group, group=group)
        getattr(run, {"finished": "finish", "failed": "fail", "interrupted": "interrupt"}[status])(
            *(["boom"] if status == "failed" else [])
        )
        runs.setdefault(group, []).append(run.run_id)
    store.start_run(name="alone").finish()  # in no group
    assert main(["runs", "groups", "--runs", str(tmp_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(g["group_id"], g["runs"], g["statuses"]) for g in listed] == [
        ("cv-toy-1a", 2, {"failed": 1, "finished": 1}),
        ("search-toy-1b", 1, {"finished": 1}),
        ("search-toy-2c", 2, {"finished": 1, "interrupted": 1}),
    ]
    assert main(["runs", "groups", "--runs", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "│ cv-toy-1a " in table and "1 failed, 1 finished" in table and "alone" not in table
    # A unique prefix, or `last`, names a group wherever one is taken.
    for named, group in [("cv", "cv-toy-1a"), ("search-toy-1", "search-toy-1b"), ("last", "search-toy-2c")]:
        assert main(["runs", "--group", named, "--runs", str(tmp_path), "--json"]) == 0
        assert [row["run_id"] for row in json.loads(capsys.readouterr().out)] == runs[group]
    assert main(["runs", "--group", "search-toy", "--runs", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "fitscope runs: error: group id 'search-toy' is ambiguous: search-toy-1b, search-toy-2c. Give more of it.\n"
    )


def test_json_output_is_strict_json(
    store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """The second run's loss went NaN: the JSON says null, which every parser reads."""
    root, ids = store_with_runs
    assert main(["runs", "--runs", str(root), "show", ids[1], "--json"]) == 0

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    shown = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert shown["history"]["loss"] == [2.0, None]


def test_runs_show_table(store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = store_with_runs
    assert main(["runs", "show", ids[0], "--runs", str(root)]) == 0
    out = capsys.readouterr().out
    assert "val_accuracy" in out and "3 epochs" in out and "test set evaluated 1 time(s)" in out
    assert re.search(r"\n  test at [0-9-]+ [0-9:]+: accuracy 0\.9000\n", out)
    Store(root).run(ids[0]).record_evaluation("val", {"accuracy": 0.75, "loss": 0.5}, epoch=1)
    assert main(["runs", "show", ids[0], "--runs", str(root)]) == 0
    assert re.search(r"\n  val at [0-9-]+ [0-9:]+, weights of epoch 1: accuracy 0\.7500, loss 0\.5000\n",
                     capsys.readouterr().out)  # fmt: skip
    empty = Store(root).start_run(name="failed early")
    empty.fail("SpecError: the builder failed")
    assert main(["runs", "show", empty.run_id, "--runs", str(root)]) == 0
    out = capsys.readouterr().out
    assert "reason: SpecError: the builder failed\n" in out and "no epochs recorded\n" in out and "┏" not in out


def test_unknown_run(store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    root, _ids = store_with_runs
    assert main(["runs", "show", "secnd", "--runs", str(root)]) == 2
    err = capsys.readouterr().err
    assert "no run 'secnd'" in err and "Traceback" not in err


def test_last_names_the_most_recent_run(
    store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, ids = store_with_runs
    assert main(["runs", "show", "last", "--json", "--runs", str(root)]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == ids[1]
    later = Store(root).start_run(name="third")
    assert Store(root).run("last").run_id == later.run_id
    with pytest.raises(StoreError, match=r"^no runs in .*empty yet, so there is no last run\.$"):
        Store(root.parent / "empty").run("last")


def test_runs_rm(store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = store_with_runs
    assert main(["runs", "rm", ids[1], "--runs", str(root)]) == 0
    assert capsys.readouterr().out == f"removed {ids[1]}\n"
    assert [r.run_id for r in Store(root).runs()] == [ids[0]]


def test_runs_rm_several_or_a_group_all_or_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(tmp_path)
    trials = [store.start_run(name=f"trial{i}", group="search-x") for i in range(3)]
    single = [store.start_run(name=name) for name in ("a", "b", "c")]
    for run in trials + single:
        run.finish()
    assert main(["runs", "rm", single[0].run_id, "no-such-run", "--runs", str(tmp_path)]) == 2
    assert "error: no run 'no-such-run'" in capsys.readouterr().err
    assert len(store.runs()) == 6 and single[0].dir.is_dir()  # one unknown id: nothing removed
    assert main(["runs", "rm", single[0].run_id, single[1].run_id, single[0].run_id, "--runs", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split() == ["removed", single[0].run_id, "removed", single[1].run_id]
    assert main(["runs", "rm", "--group", "search-x", "--runs", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("removed ") == 3
    assert [r.run_id for r in store.runs()] == [single[2].run_id]
    assert not any(run.dir.exists() for run in trials + single[:2])
    for wrong in ([], [single[2].run_id, "--group", "search-x"]):
        assert main(["runs", "rm", *wrong, "--runs", str(tmp_path)]) == 2
        assert capsys.readouterr().err.strip() == (
            "fitscope runs: error: give the runs to remove (RUN ...) or --group GROUP, not both and not neither."
        )
    assert main(["runs", "rm", "--group", "search-x", "--runs", str(tmp_path)]) == 2  # gone already
    assert "no group 'search-x' in " in capsys.readouterr().err


def test_runs_option_before_the_command(
    store_with_runs: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fitscope --runs DIR COMMAND` as `fitscope COMMAND --runs DIR`; after the command it wins."""
    root, ids = store_with_runs
    assert main(["--runs", str(root), "runs", "show", ids[0], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == ids[0]
    assert main(["--runs", str(tmp_path / "elsewhere"), "runs", "--runs", str(root), "--json"]) == 0
    assert [row["run_id"] for row in json.loads(capsys.readouterr().out)] == ids
    # A command that uses no store says so in one line, wherever --runs is placed.
    for argv in (["--runs", str(root), "split", "--dataset", "digits"], ["split", "--dataset", "digits", "--runs", "x"],
                 ["--runs", "x", "data", "ls"], ["data", "ls", "--runs", "x"]):  # fmt: skip
        assert main(argv) == 2
        command = "split" if "split" in argv else "data"
        assert capsys.readouterr().err == (
            f"fitscope {command}: error: --runs: `fitscope {command}` does not read or write runs; leave --runs out\n"
        )


@pytest.mark.parametrize(
    "command",
    [
        ["runs"],
        ["runs", "show", "last"],
        ["runs", "groups"],
        ["diagnose", "last"],
        ["plot", "last", "-o", "{out}"],
        ["report", "last", "-o", "{out}"],
    ],
)
def test_every_command_that_uses_a_store_takes_runs_before_or_after_it(
    store_with_runs: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    root, _ = store_with_runs
    out = str(tmp_path / "out.svg" if command[0] == "plot" else tmp_path / "out.html")
    argv = [part.replace("{out}", out) for part in command]
    assert main(["--runs", str(root), *argv]) == 0
    before = capsys.readouterr().out
    assert main([*argv, "--runs", str(root)]) == 0
    assert capsys.readouterr().out == before


def test_a_run_is_named_by_id_prefix_suffix_name_or_last(
    store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, ids = store_with_runs
    store = Store(root)
    target = ids[0]
    info = store.run(target).info()
    unique_name = [i.name for i in store.runs()].count(info.name) == 1
    for name in (target, target[:-3], target[-4:], "last", *([info.name] if unique_name else [])):
        expected = ids[-1] if name == "last" else target
        assert store.run(name).run_id == expected, name
    twin = store.start_run(name=info.name)
    with pytest.raises(StoreError, match=rf"'{info.name}' names 2 runs \(by name\): "):
        store.run(info.name)
    twin.finish()


def test_runs_show_prints_the_last_epochs_or_the_ones_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Store(tmp_path).start_run(name="long")
    for epoch in range(100):
        run.record_epoch(epoch, {"loss": 1 / (epoch + 1)}, started_at=0.0, duration=0.1)
    run.finish()

    def epochs_shown(*options: str) -> list[int]:
        assert main(["runs", "show", run.run_id, "--runs", str(tmp_path), *options]) == 0
        out = capsys.readouterr().out
        return [int(line.split()[1]) for line in out.splitlines() if line.startswith("│") and line.split()[1].isdigit()]

    assert epochs_shown() == list(range(80, 100))
    assert epochs_shown("--tail", "3") == [97, 98, 99]
    assert epochs_shown("--epochs", "10:13") == [10, 11, 12]
    assert epochs_shown("--epochs", "95:") == list(range(95, 100))
    assert epochs_shown("--epochs", "200:") == []
    with pytest.raises(SystemExit):
        main(["runs", "show", run.run_id, "--runs", str(tmp_path), "--epochs", "ten"])
    assert "expected A:B (epochs A to B-1, either side may be left out); got 'ten'" in capsys.readouterr().err


def test_a_store_in_an_unwritable_place(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create the run store folder"):
        Store(blocker / "sub")


def test_looking_at_a_folder_without_a_store_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped --runs is an error for every command that only looks (exit 2); no folder appears.

    A folder that exists but holds no store yet is just empty: `runs` says so.
    """
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["runs", "--runs", str(empty)]) == 0
    assert capsys.readouterr().out.split() == (
        f"no runs in {empty} yet (no fitscope.db there; check --runs or FITSCOPE_HOME)".split()
    )
    typo = tmp_path / "fitscope-rnus"
    for command in (["runs"], ["runs", "show", "x"], ["runs", "rm", "x"], ["board"], ["plot", "x"], ["diagnose", "x"],
                    ["test", "x"]):  # fmt: skip
        assert main([*command, "--runs", str(typo)]) == 2, command
        assert capsys.readouterr().err.strip() == (
            f"fitscope {command[0]}: error: no run store in {typo} "
            "(no fitscope.db there). Check --runs DIR or FITSCOPE_HOME; `fitscope run`, `cv`, `tune` and `demo` "
            "create one."
        ), command
    assert not typo.exists()


def test_fitscope_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FITSCOPE_HOME", str(tmp_path / "home"))
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing trained yet, nothing created
    assert not (tmp_path / "home").exists()
    Store().start_run(name="here")
    assert main(["runs", "--json"]) == 0
    assert [row["name"] for row in json.loads(capsys.readouterr().out)] == ["here"]
    assert (tmp_path / "home" / "fitscope.db").is_file()


def test_board_serves_a_path_with_spaces_and_korean(store_with_runs: tuple[Path, list[str]]) -> None:
    root, ids = store_with_runs
    Store(root).run(ids[0]).rebuild_tensorboard()
    assert board_command(root) == f"tensorboard --logdir '{root.resolve()}'"
    url, _ = start_board(root, port=0)
    with urllib.request.urlopen(url + "data/runs", timeout=30) as response:
        runs = json.loads(response.read())
    assert f"{ids[0]}/tensorboard/train" in runs


def test_board_on_a_port_in_use_or_an_address_not_here(
    store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = store_with_runs
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["board", "--runs", str(root), "--port", str(port)]) == 2
        assert capsys.readouterr().err.strip() == (
            f"fitscope board: error: cannot serve TensorBoard on port {port}: it is already in use (another "
            "TensorBoard?). Choose another with --port, or --port 0 for any free port."
        )
    # 192.0.2.1 is reserved for documentation (RFC 5737): no machine has it.
    assert main(["board", "--runs", str(root), "--port", "0", "--host", "192.0.2.1"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("fitscope board: error: cannot serve TensorBoard on 192.0.2.1:0: ")
        and err.endswith(". Check --host and --port.")
        and "Traceback" not in err
    )


def test_runs_show_of_a_run_that_records_an_epoch_meanwhile(
    store_with_runs: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A training process commits an epoch while `runs show` reads: the table shows the epochs it listed."""
    from fitscope.store import Run

    root, ids = store_with_runs
    read_history = Run.history

    def history_after_a_new_epoch(run: Run) -> dict[str, list[float]]:
        Store(root).run(run.run_id).record_epoch(3, {"loss": 0.7, "val_loss": 0.8, "val_acc": 0.6},
                                                 started_at=3, duration=1)  # fmt: skip
        return read_history(run)

    monkeypatch.setattr(Run, "history", history_after_a_new_epoch)
    assert main(["runs", "show", ids[0], "--runs", str(root)]) == 0
    table = capsys.readouterr().out
    assert "0.9000" in table and "0.7000" not in table  # epochs 0-2, as listed before epoch 3 came


@pytest.mark.parametrize("shown", [["--json"], ["--epochs", "0:"]], ids=["json", "table"])
def test_output_cut_short_by_its_reader_ends_quietly(tmp_path: Path, shown: list[str]) -> None:
    """`fitscope runs show RUN --json | head`: no BrokenPipeError traceback, the exit status of a closed pipe.

    The same for a table (rich, which would exit with status 1 on its own).
    """
    run = Store(tmp_path).start_run(name="long")
    run.record_epochs([EpochRecord(e, {"loss": 1.0, "val_loss": 1.1}, started_at=e, duration=1) for e in range(5000)])
    run.finish()
    show = subprocess.Popen([sys.executable, "-m", "fitscope", "runs", "show", run.run_id, *shown,
                             "--runs", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert show.stdout is not None and show.stdout.read(100)  # the reader takes a little, then goes away
    show.stdout.close()
    _, err = show.communicate(timeout=60)
    assert (show.returncode, err.decode()) == (128 + signal.SIGPIPE, "")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_commands_that_only_read_leave_the_store_byte_for_byte_as_it_was(
    store_with_runs: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite's mode=ro: no migration, no WAL switch, no -wal/-shm files, nothing written."""
    import gc
    import sqlite3

    root, ids = store_with_runs
    with sqlite3.connect(root / "fitscope.db") as conn:  # as schema 2 wrote it: reading must not upgrade it
        conn.execute("ALTER TABLE runs DROP COLUMN group_kind")
        conn.execute("PRAGMA user_version = 2")
    conn.close()
    gc.collect()  # the fixture's writers gone: the log folded back into the file, its -wal/-shm removed
    before = _snapshot(root)
    assert sorted(before) == ["fitscope.db"]
    out = tmp_path / "elsewhere"
    out.mkdir()
    readers = [["runs"], ["runs", "--json"], ["runs", "show", ids[0]], ["runs", "groups"], ["diagnose", ids[0]],
               ["plot", ids[0], "-o", str(out / "c.png")], ["report", ids[0], "-o", str(out / "r.html")]]  # fmt: skip
    for argv in readers:
        assert main([*argv, "--runs", str(root)]) == 0, argv
    capsys.readouterr()
    assert _snapshot(root) == before
    reader = Store(root, readonly=True)
    assert reader.schema == 2 and [info.run_id for info in reader.runs()] == ids
    with pytest.raises(StoreError, match="read-only"):
        reader.run(ids[0]).finish()  # a reader cannot write, even by mistake
    assert _snapshot(root) == before


def test_a_store_on_a_read_only_mount_is_listed_shown_plotted_diagnosed_and_checked(
    store_with_runs: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read-only bind mount: the readers work, a writer is refused with one clear error."""
    import gc
    import subprocess

    root, ids = store_with_runs
    gc.collect()  # (the fixture's writer gone: its log folded into the file)
    mounted = tmp_path / "read-only"
    mounted.mkdir()
    if subprocess.run(["mount", "--bind", str(root), str(mounted)], capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount a folder here (not root, or no mount namespace)")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(mounted)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount a bind mount read-only here")
        out = tmp_path / "out"
        out.mkdir()
        readers = [["runs"], ["runs", "show", ids[0]], ["runs", "groups"], ["diagnose", ids[0]], ["doctor"],
                   ["plot", ids[0], "-o", str(out / "c.png")],
                   ["report", ids[0], "-o", str(out / "r.html")], ["compare", ids[0], ids[1]],
                   ["runs", "--where", "status == 'finished'", "--sort", "-best.val_loss"],
                   ["runs", "export", "-o", str(out / "runs.csv")]]  # fmt: skip
        for argv in readers:
            assert main([*argv, "--runs", str(mounted)]) == 0, (argv, capsys.readouterr().err)
        capsys.readouterr()
        assert main(["runs", "rm", ids[0], "--runs", str(mounted)]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and "read-only" in err and len(err.strip().splitlines()) == 1, err
    finally:
        subprocess.run(["umount", "-l", str(mounted)], check=False)
