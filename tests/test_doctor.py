"""`fitscope doctor` and damaged stores: real files, damaged as disks and kills damage them."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fitscope import StoreError
from fitscope.cli import main
from fitscope.store import CheckpointDir, Store, doctor

_DAMAGED = (
    r"the run store .*fitscope\.db is damaged: SQLite cannot read part of it \({what}\)\. Run `fitscope doctor` on "
    r".* to see what is damaged and to copy what can still be read into a fresh store \(the damaged file is kept "
    r"aside, never edited\)\. Each run's TensorBoard files remain readable\."
)


def _store(root: Path, runs: int = 4, epochs: int = 60) -> list[str]:
    """Runs with enough epochs to fill several pages of the metrics table."""
    store = Store(root)
    ids = []
    for number in range(runs):
        run = store.start_run(name=f"r{number}", params={"units": number})
        for epoch in range(epochs):
            metrics = {"loss": 1 / (epoch + 1), "val_loss": 1.2 / (epoch + 1), "accuracy": 0.5, "val_accuracy": 0.4}
            run.record_epoch(epoch, metrics, started_at=epoch, duration=1)
        run.finish()
        ids.append(run.run_id)
    store.close()
    return ids


def _pages_of(path: Path, table: str) -> list[int]:
    with sqlite3.connect(path) as conn:
        pages = [row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'",
                                                (table,))]  # fmt: skip
    conn.close()
    return pages


def _garble(path: Path, page: int, size: int = 4096) -> None:
    with path.open("r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(b"\xde\xad\xbe\xef" * (size // 4))


@pytest.fixture
def page_damaged(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "runs"
    ids = _store(root)
    _garble(root / "fitscope.db", _pages_of(root / "fitscope.db", "metrics")[2])
    return root, ids


def _one_clear_error(argv: list[str], capsys: pytest.CaptureFixture[str], what: str) -> None:
    assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, (argv, err)
    assert re.search(_DAMAGED.format(what=what), err), (argv, err)


def test_a_damaged_page_is_one_clear_error_from_every_command_that_reaches_it(
    page_damaged: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, ids = page_damaged
    damaged_run = ids[0]  # (its metrics are on the garbled page)
    out = tmp_path / "out"
    out.mkdir()
    for argv in (["runs"], ["runs", "show", damaged_run], ["diagnose", damaged_run], ["plot", damaged_run, "-o",
                 str(out / "c.png")], ["report", damaged_run, "-o", str(out / "r.html")],
                 ["runs", "rm", damaged_run]):  # fmt: skip
        _one_clear_error([*argv, "--runs", str(root)], capsys, "database disk image is malformed")
    with pytest.raises(StoreError, match=_DAMAGED.format(what="database disk image is malformed")):
        Store(root, readonly=True).run(damaged_run).history()  # the Python API says the same


def test_a_garbled_header_is_one_clear_error_from_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "runs"
    (run_id,) = _store(root, runs=1, epochs=2)
    with (root / "fitscope.db").open("r+b") as handle:
        handle.write(b"garbage!" * 12)
    before = (root / "fitscope.db").read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    for argv in (["runs"], ["runs", "show", run_id], ["runs", "groups"], ["diagnose", run_id], ["plot", run_id,
                 "-o", str(out / "c.png")], ["report", run_id, "-o", str(out / "r.html")], ["runs", "rm", run_id],
                 ["test", run_id], ["board"], ["run", "digits_quick", "--resume", run_id]):  # fmt: skip
        _one_clear_error([*argv, "--runs", str(root)], capsys, "file is not a database")
    assert (root / "fitscope.db").read_bytes() == before and sorted(p.name for p in root.glob("fitscope.db*")) == [
        "fitscope.db"]  # fmt: skip


def test_doctor_finds_damage_without_touching_the_file_and_repair_keeps_every_readable_row(
    page_damaged: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, ids = page_damaged
    before = (root / "fitscope.db").read_bytes()
    assert main(["doctor", "--runs", str(root)]) == 1
    out = capsys.readouterr().out
    assert "- damaged database: " in out and f"1 to repair with `fitscope doctor --repair --runs {root}`." in out
    assert (root / "fitscope.db").read_bytes() == before and sorted(p.name for p in root.glob("fitscope.db*")) == [
        "fitscope.db"]  # fmt: skip

    assert main(["doctor", "--repair", "--runs", str(root), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["healthy"] and report["runs"] == 4 and report["findings"][0]["problem"] == "damaged database"
    kept = Path(report["damaged_copy"])
    assert kept.read_bytes() == before  # the damaged file, never edited, kept beside the new one
    lost = [note for note in report["notes"] if "metrics unreadable" in note]
    assert lost and all(note.startswith(f"run {ids[0]}") or note.startswith(f"run {ids[1]}") for note in lost)
    store = Store(root, readonly=True)
    assert store.integrity_check() == "ok" and [info.run_id for info in store.runs()] == ids
    for run_id in ids[2:]:  # untouched runs whole
        assert len(store.run(run_id).history()["loss"]) == 60
    losses = [store.run(run_id).history()["loss"] for run_id in ids[:2]]
    lost_epochs = sum(np.isnan(loss).sum() for loss in losses)
    assert 0 < lost_epochs < 60  # what the garbled page held is lost (NaN), the rest of those runs is not
    assert main(["doctor", "--runs", str(root)]) == 0
    assert capsys.readouterr().out.endswith("no problems found\n")


def test_repair_reads_a_store_whose_header_is_garbled_or_that_was_cut_short(tmp_path: Path) -> None:
    garbled, cut = tmp_path / "garbled", tmp_path / "cut"
    ids = _store(garbled)
    _store(cut)
    with (garbled / "fitscope.db").open("r+b") as handle:
        handle.write(b"garbage!" * 12)  # the 100-byte header, but for its last 4 bytes
    with pytest.raises(StoreError, match=_DAMAGED.format(what="file is not a database")):
        Store(garbled, readonly=True)
    report = doctor(garbled, repair=True)
    assert report.healthy and any("header was unreadable" in note for note in report.notes)
    assert [len(Store(garbled, readonly=True).run(i).history()["loss"]) for i in ids] == [60] * 4

    size = (cut / "fitscope.db").stat().st_size
    with (cut / "fitscope.db").open("r+b") as handle:
        handle.truncate(size // 2)
    report = doctor(cut, repair=True)
    assert any("cut short" in note for note in report.notes) and report.healthy
    assert len(Store(cut, readonly=True).runs()) == 4  # the runs' rows were on the first pages


def test_an_empty_store_file_is_reported_not_rebuilt_by_checking(tmp_path: Path) -> None:
    _store(tmp_path, runs=1, epochs=2)
    (tmp_path / "fitscope.db").write_bytes(b"")
    report = doctor(tmp_path)
    assert not report.healthy and "empty (0 bytes)" in report.findings[0].detail
    assert (tmp_path / "fitscope.db").stat().st_size == 0


def _dead_owner() -> str:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return f"{socket.gethostname()}:{int(done.stdout)}"


def test_doctor_checks_runs_folders_weights_tensorboard_and_leftovers_and_repairs_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path)
    orphan = store.start_run(name="orphan")  # its process killed: still marked running
    with store.transaction() as conn:
        conn.execute("UPDATE runs SET owner = ? WHERE run_id = ?", (_dead_owner(), orphan.run_id))
    logged = store.start_run(name="logged")
    for epoch in range(3):
        logged.record_epoch(epoch, {"loss": 1.0 - epoch / 10}, started_at=epoch, duration=1)
    logged.rebuild_tensorboard()
    logged.record_epoch(3, {"loss": 0.6}, started_at=3, duration=1)  # (its event files miss epoch 3)
    logged.finish()
    checkpoints = CheckpointDir(logged.checkpoint_dir)
    good = checkpoints.save(2, {"w": np.ones(3)}, {})
    torn = checkpoints.save(3, {"w": np.ones(3)}, {})
    torn.write_bytes(torn.read_bytes()[:40])  # cut short
    (checkpoints.folder / "best.npz").write_bytes(b"not a zip")
    leftover = checkpoints.folder / ".tmp-k1ll3d.npz"  # a kill during a checkpoint write
    leftover.write_bytes(b"half")
    gone = store.start_run(name="gone")
    gone.finish()
    gone.dir.rmdir()
    stray = tmp_path / "20260101-000000-stray-abcd"
    stray.mkdir()
    store.close()

    report = doctor(tmp_path)
    found = {(f.problem, Path(f.where).name if "/" in f.where else f.where) for f in report.findings}
    assert found == {
        ("temporary file", ".tmp-k1ll3d.npz"),
        ("run marked running, its process gone", orphan.run_id),
        ("run folder without a row", stray.name),
        ("run without its folder", gone.run_id),
        ("unreadable checkpoint", torn.name),
        ("unreadable best weights", "best.npz"),
        ("TensorBoard files disagree with the store", logged.run_id),
    }
    assert [f.detail for f in report.findings if f.problem.startswith("TensorBoard")] == ["missing epochs 3"]
    assert not report.healthy and leftover.exists()  # checking changed nothing

    assert main(["doctor", "--repair", "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.endswith("5 repaired; 2 left to you (see above).\n"), out
    assert not leftover.exists() and good.exists() and (checkpoints.folder / f"{torn.name}.unreadable").exists()
    assert Store(tmp_path, readonly=True).run(orphan.run_id).info().status == "interrupted"
    from fitscope.store._doctor import _logged_steps

    assert sorted(_logged_steps(logged.tensorboard_dir / "train")) == [0, 1, 2, 3]
    again = doctor(tmp_path)
    assert again.healthy and {f.problem for f in again.findings} == {"run folder without a row",
                                                                     "run without its folder"}  # fmt: skip


def test_repair_refuses_while_a_live_process_trains_in_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path)
    run = store.start_run(name="busy")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with store.transaction() as conn:
            conn.execute("UPDATE runs SET owner = ? WHERE run_id = ?",
                         (f"{socket.gethostname()}:{sleeper.pid}", run.run_id))  # fmt: skip
        with pytest.raises(StoreError, match=r"is still being trained by process \d+ .* Repair the store once "
                                             r"nothing is training in it"):  # fmt: skip
            doctor(tmp_path, repair=True)
        assert doctor(tmp_path).healthy  # checking is fine meanwhile
    finally:
        sleeper.kill()
        sleeper.wait()


def test_doctor_on_a_folder_without_a_store_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--runs", str(tmp_path / "nowhere")]) == 2
    assert "no run store in" in capsys.readouterr().err
