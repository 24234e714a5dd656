"""The run store on its own: no Keras, real SQLite."""

from __future__ import annotations

import errno
import math
import multiprocessing
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from fitscope import StoreError
from fitscope.store import CheckpointDir, EpochRecord, Store, normalize_metric_name


def test_run_ids_and_layout(tmp_path: Path) -> None:
    root = tmp_path / "내 실험 runs"
    store = Store(root)
    run = store.start_run(name="book toy: 2 units", params={"units": 2})
    assert re.fullmatch(r"\d{8}-\d{6}-book-toy-2-units-[0-9a-f]{4}", run.run_id)
    assert (root / "fitscope.db").is_file() and run.dir.is_dir()
    info = run.info()
    assert (info.status, info.params, info.epochs) == ("running", {"units": 2}, 0)
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == 6
    assert store._conn.execute("PRAGMA application_id").fetchone()[0] == 0x46534350  # "FSCP": fitscope's


def test_a_store_of_schema_1_is_upgraded_in_place(tmp_path: Path) -> None:
    store = Store(tmp_path)
    run = store.start_run(name="old", params={"units": 2}, split={"index_hash": "abc"})
    run.record_epoch(0, {"loss": 1.0}, started_at=0, duration=1)
    run.finish()
    with store.transaction() as conn:  # as fitscope wrote stores before removed runs were remembered
        _drop_schema_6(conn)
        conn.execute("DROP TABLE removed_runs")
        conn.execute("ALTER TABLE runs DROP COLUMN group_kind")
        conn.execute("ALTER TABLE runs DROP COLUMN trial")
        conn.execute("ALTER TABLE runs DROP COLUMN heartbeat")
        conn.execute("PRAGMA user_version = 1")
        conn.execute("PRAGMA application_id = 0")
    store.close()
    again = Store(tmp_path)
    assert again._conn.execute("PRAGMA user_version").fetchone()[0] == 6
    assert again.run(run.run_id).history() == {"loss": [1.0]}  # (schema 5 made the runs table anew: epochs kept)
    again.run(run.run_id).prune("stopped early by a search")  # a status schema 5 allows
    assert (again.run(run.run_id).info().status, again.run(run.run_id).info().reason) == (
        "pruned", "stopped early by a search")  # fmt: skip
    again.delete(run.run_id)  # (its epochs go with it: the foreign keys name the new table)
    assert again._conn.execute("SELECT count(*) FROM epochs").fetchone()[0] == 0
    assert again.params_on_split("abc") == [{"units": 2}] and again.runs() == []


def test_a_group_s_kind_is_stored_and_read_from_older_stores_ids(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.start_run(name="fold0", group="cv-toy-1234abcd", group_kind="cv").finish()
    store.start_run(name="trial0", group="my-own-group", group_kind="tune").finish()
    assert {g.group_id: g.kind for g in store.groups()} == {"cv-toy-1234abcd": "cv", "my-own-group": "tune"}
    assert store.group_kind("my-own-group") == "tune" and store.group_kind("nothing") is None
    with store.transaction() as conn:  # as schema 2 wrote them: the kind only in the id's prefix
        _drop_schema_6(conn)
        conn.execute("ALTER TABLE runs DROP COLUMN group_kind")
        conn.execute("ALTER TABLE runs DROP COLUMN trial")
        conn.execute("ALTER TABLE runs DROP COLUMN heartbeat")
        conn.execute("ALTER TABLE removed_runs DROP COLUMN trial")
        conn.execute("PRAGMA user_version = 2")
    store.close()
    again = Store(tmp_path)
    assert {g.group_id: g.kind for g in again.groups()} == {"cv-toy-1234abcd": "cv", "my-own-group": None}


def _drop_schema_6(conn: sqlite3.Connection) -> None:
    """Take away what schema 6 added (tags and notes), as a store written before it lacks them."""
    conn.execute("DROP TABLE tags")
    conn.execute("ALTER TABLE runs DROP COLUMN note")


def _as_schema_3(root: Path) -> None:
    """Rewrite a store as fitscope wrote schema 3: trial bookkeeping inside params, no application id."""
    with sqlite3.connect(root / "fitscope.db") as conn:
        _drop_schema_6(conn)
        conn.execute(
            "UPDATE runs SET params = json_set(params, '$.trial_key', json_extract(trial, '$.key'),"
            " '$.fold', json_extract(trial, '$.fold'), '$.initial_weights', json_extract(trial, '$.initial_weights'))"
            " WHERE trial IS NOT NULL"
        )
        conn.execute("ALTER TABLE runs DROP COLUMN trial")
        conn.execute("ALTER TABLE runs DROP COLUMN heartbeat")
        conn.execute("ALTER TABLE removed_runs DROP COLUMN trial")
        conn.execute("PRAGMA user_version = 3")
        conn.execute("PRAGMA application_id = 0")
    conn.close()


def test_trial_bookkeeping_is_kept_apart_from_params_and_older_stores_are_upgraded_after_a_backup(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    trial = {"key": "k0", "fold": 1, "initial_weights": "ab" * 32}
    folded = store.start_run(
        name="t-fold1", params={"units": 2}, group="cv-t-1", trial=trial, split={"index_hash": "h"}
    )
    plain = store.start_run(name="plain", params={"fold": "mine", "units": 3})  # a user's own "fold" stays a param
    assert (folded.info().params, folded.info().trial) == ({"units": 2}, trial)
    assert (plain.info().params, plain.info().trial) == ({"fold": "mine", "units": 3}, {})
    store.close()
    _as_schema_3(tmp_path)
    before = (tmp_path / "fitscope.db").read_bytes()
    with sqlite3.connect(tmp_path / "fitscope.db") as conn:
        rows = conn.execute("SELECT run_id, params FROM runs ORDER BY run_id").fetchall()
    conn.close()

    reader = Store(tmp_path, readonly=True)  # read as it is, not upgraded: bookkeeping told apart all the same
    assert reader.schema == 3 and (reader.run(folded.run_id).info().params, reader.run(folded.run_id).info().trial) == (
        {"units": 2}, trial)  # fmt: skip
    assert reader.params_on_split("h") == [{"units": 2}]
    reader.close()
    assert not list(tmp_path.glob("*.bak-*")) and (tmp_path / "fitscope.db").read_bytes() == before

    again = Store(tmp_path)  # a writer upgrades, after copying the old store aside
    assert again.schema == 6
    with sqlite3.connect(tmp_path / "fitscope.db.bak-3") as backup:  # the old store, as it was
        assert backup.execute("PRAGMA user_version").fetchone()[0] == 3
        assert backup.execute("SELECT run_id, params FROM runs ORDER BY run_id").fetchall() == rows
    backup.close()
    assert not list(tmp_path.glob("*.partial"))
    assert (again.run(folded.run_id).info().params, again.run(folded.run_id).info().trial) == ({"units": 2}, trial)
    assert (again.run(plain.run_id).info().params, again.run(plain.run_id).info().trial) == (
        {"fold": "mine", "units": 3}, {})  # fmt: skip
    again.delete(folded.run_id)
    assert again.params_on_split("h") == [{"units": 2}]


def test_an_upgrade_that_fails_leaves_the_old_store_whole(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.start_run(name="r", params={"units": 2}).finish()
    store.close()
    _as_schema_3(tmp_path)
    with sqlite3.connect(tmp_path / "fitscope.db") as conn:  # a column in the way: the upgrade's second step fails
        conn.execute("ALTER TABLE removed_runs ADD COLUMN trial TEXT")
    conn.close()
    with pytest.raises(StoreError, match="duplicate column"):
        Store(tmp_path)
    with sqlite3.connect(tmp_path / "fitscope.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert "trial" not in {row[1] for row in conn.execute("PRAGMA table_info(runs)")}  # the first step undone
    conn.close()


def test_history_round_trip_keeps_nan_and_inf(tmp_path: Path) -> None:
    run = Store(tmp_path).start_run(name="r")
    run.record_epoch(0, {"loss": 1.5, "acc": 0.5, "val_acc": 0.25}, started_at=1.0, duration=0.1)
    run.record_epoch(1, {"loss": math.nan, "accuracy": math.inf, "val_accuracy": -math.inf},
                     started_at=2.0, duration=0.1)  # fmt: skip
    history = run.history()
    assert set(history) == {"loss", "accuracy", "val_accuracy"}
    assert history["loss"][0] == 1.5 and math.isnan(history["loss"][1])
    assert history["accuracy"] == [0.5, math.inf] and history["val_accuracy"] == [0.25, -math.inf]


def test_replayed_epoch_replaces_its_rows(tmp_path: Path) -> None:
    store = Store(tmp_path)
    run = store.start_run(name="r")
    run.record_epoch(0, {"loss": 2.0, "extra": 1.0}, started_at=0, duration=1)
    run.record_epoch(0, {"loss": 1.0}, started_at=0, duration=1)
    assert run.history() == {"loss": [1.0]}
    assert store._conn.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == 1


def test_epochs_recorded_together_land_all_or_none(tmp_path: Path) -> None:
    store = Store(tmp_path)
    run = store.start_run(name="r")
    run.record_epochs([EpochRecord(0, {"loss": 2.0, "acc": 0.25}, 0.0, 1.0), EpochRecord(1, {"loss": 1.0}, 1.0, 1.0)])
    assert run.history()["loss"] == [2.0, 1.0] and run.history()["accuracy"][0] == 0.25
    with pytest.raises(sqlite3.IntegrityError):  # the second epoch breaks a constraint: the first is not kept
        run.record_epochs([EpochRecord(2, {"loss": 0.5}, 2.0, 1.0), EpochRecord(-1, {"loss": 0.5}, 3.0, 1.0)])
    assert run.info().epochs == 2 and run.history()["loss"] == [2.0, 1.0]
    run.record_epochs([EpochRecord(0, {"loss": 1.5}, 0.0, 1.0)])  # replayed: replaces the epoch's rows
    assert run.history() == {"loss": [1.5, 1.0]}


def test_history_read_while_a_process_records_more_epochs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = Store(tmp_path).start_run(name="r")
    run.record_epoch(0, {"loss": 2.0}, started_at=0, duration=1)
    listed = run.epochs()  # read just before the training process commits epoch 1
    run.record_epoch(1, {"loss": 1.0}, started_at=1, duration=1)
    monkeypatch.setattr(run, "epochs", lambda: listed)
    assert run.history() == {"loss": [2.0]}  # a consistent prefix, not a KeyError


def test_metric_names_are_normalised() -> None:
    assert [normalize_metric_name(n) for n in ("acc", "val_acc", "accuracy", "val_loss", "lr")] == [
        "accuracy", "val_accuracy", "accuracy", "val_loss", "learning_rate",
    ]  # fmt: skip


def test_statuses_and_context_manager(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.start_run(name="ok") as run:
        run.record_epoch(0, {"loss": 1.0}, started_at=0, duration=1)
    assert run.info().status == "finished"
    with pytest.raises(KeyboardInterrupt), store.start_run(name="stopped") as stopped:
        raise KeyboardInterrupt
    assert stopped.info().status == "interrupted"
    with pytest.raises(RuntimeError), store.start_run(name="broken") as broken:
        raise RuntimeError("boom")
    assert (broken.info().status, broken.info().reason) == ("failed", "RuntimeError: boom")
    with pytest.raises(BrokenPipeError), store.start_run(name="piped") as piped:  # `python train.py | head`
        raise BrokenPipeError(32, "Broken pipe")
    assert (piped.info().status, piped.info().reason) == ("interrupted", "interrupted (its output was closed)")


def test_unknown_run_suggests(tmp_path: Path) -> None:
    store = Store(tmp_path)
    run = store.start_run(name="alpha")
    assert store.run(run.run_id[:10]).run_id == run.run_id
    with pytest.raises(StoreError, match=rf"no run 'alph' in .*Did you mean {run.run_id}\?"):
        store.run("alph")


def test_delete(tmp_path: Path) -> None:
    store = Store(tmp_path)
    run = store.start_run(name="gone")
    run.record_epoch(0, {"loss": 1.0}, started_at=0, duration=1)
    store.delete(run.run_id)
    assert store.runs() == [] and not run.dir.exists()


def test_best_epochs_of_all_runs_at_once(tmp_path: Path) -> None:
    store = Store(tmp_path)
    curves = {
        "loss": [{"val_loss": v, "val_accuracy": 0.9} for v in (1.0, math.nan, 0.5, 0.7, 0.5)],  # tie: the first
        "accuracy only": [{"val_accuracy": v} for v in (0.2, 0.6, 0.6, 0.1)],
        "no validation": [{"loss": 1.0}],
        "all nan": [{"val_loss": math.nan}],
    }
    ids = {}
    for name, epochs in curves.items():
        run = store.start_run(name=name)
        for epoch, metrics in enumerate(epochs):
            run.record_epoch(epoch, metrics, started_at=epoch, duration=1)
        ids[name] = run.run_id
    assert store.best_epochs() == {
        ids["loss"]: ("val_loss", 0.5, 2),
        ids["accuracy only"]: ("val_accuracy", pytest.approx(0.6), 1),
    }
    # Limited to some runs (the rows `fitscope runs --group/--last` shows): the same answers for those only.
    assert store.best_epochs([ids["loss"], ids["no validation"]]) == {ids["loss"]: ("val_loss", 0.5, 2)}
    assert store.best_epochs([]) == {}


def test_evaluation_ledger(tmp_path: Path) -> None:
    run = Store(tmp_path).start_run(name="r")
    run.record_evaluation("test", {"accuracy": 0.9}, fingerprint="abc", epoch=3)
    run.record_evaluation("val", {"accuracy": 0.8})
    assert [e["split"] for e in run.evaluations()] == ["test", "val"]
    assert run.evaluations("test")[0]["fingerprint"] == "abc"
    with pytest.raises(ValueError, match=r"Received: split='train'"):
        run.record_evaluation("train", {})


def test_unwritable_store_fails_before_anything(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=r"cannot create the run store folder .*a-file/runs"):
        Store(blocker / "runs")


def test_newer_schema_is_refused_naming_both_versions(tmp_path: Path) -> None:
    from fitscope import __version__

    store = Store(tmp_path)
    store.start_run(name="r").finish()
    store.close()
    with sqlite3.connect(tmp_path / "fitscope.db") as conn:
        conn.execute("UPDATE runs SET versions = json_set(versions, '$.fitscope', '9.1.0')")
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = (tmp_path / "fitscope.db").read_bytes()
    for readonly in (False, True):
        with pytest.raises(StoreError, match=re.escape(
            f"was written by fitscope 9.1.0 (schema 99); this is fitscope {__version__} (schema 6). "
            "Upgrade fitscope to use it; it was left as it was.")):  # fmt: skip
            Store(tmp_path, readonly=readonly)
    assert (tmp_path / "fitscope.db").read_bytes() == before and not list(tmp_path.glob("*.bak-*"))


def test_disk_full_leaves_store_consistent_and_resumable(tmp_path: Path) -> None:
    store = Store(tmp_path)
    run = store.start_run(name="full")
    run.record_epoch(0, {"loss": 1.0}, started_at=0, duration=1)
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    big = {f"metric_{i}": float(i) for i in range(3000)}
    with pytest.raises(StoreError, match=r"is full .* nothing of this epoch was written\. Free some space, then "
                       r"resume the run \(cv and tune: run the same command again\)\."):  # fmt: skip
        run.record_epoch(1, big, started_at=1, duration=1)
    assert store.integrity_check() == "ok"
    assert [e for e, _, _ in run.epochs()] == [0]
    store._conn.execute("PRAGMA max_page_count = 1073741823")
    run.record_epoch(1, big, started_at=1, duration=1)
    assert len(run.history()["metric_7"]) == 2


def test_checkpoints_keep_two_and_fall_back(tmp_path: Path) -> None:
    folder = CheckpointDir(tmp_path / "ck")
    for epoch in range(4):
        folder.save(epoch, {"w0000": np.full(3, epoch)}, {"k": epoch})
    assert [e for e, _ in folder.paths()] == [3, 2]
    newest = folder.paths()[0][1]
    newest.write_bytes(newest.read_bytes()[:40])
    with pytest.warns(RuntimeWarning, match=r"epoch-000003.npz is unreadable .*; falling back to an older one\."):
        found = folder.load_latest()
    assert found is not None and found.epoch == 2 and found.arrays["w0000"].tolist() == [2, 2, 2]
    assert folder.load_latest(at_most=1) is None
    (tmp_path / "ck" / "epoch-000002.npz").unlink()  # the torn one alone: said so, not "falling back"
    with pytest.warns(RuntimeWarning, match=r"epoch-000003.npz is unreadable .*; there is no older one\."):
        assert folder.load_latest() is None


def test_checkpoint_disk_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = CheckpointDir(tmp_path)
    folder.save(0, {"w0000": np.zeros(2)}, {})

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.fsync", no_space)
    with pytest.raises(StoreError, match=r"cannot write checkpoint .*epoch-000001.npz \(No space left on device\)\. "
                       r".*then resume the run \(cv and tune: run the same command again\)\."):  # fmt: skip
        folder.save(1, {"w0000": np.ones(2)}, {})
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["epoch-000000.npz"]


def _writer(root: str, worker: int, runs: int, epochs: int) -> None:
    store = Store(root)
    for r in range(runs):
        run = store.start_run(name=f"w{worker}-{r}", group="concurrency")
        for e in range(epochs):
            run.record_epoch(e, {"loss": 1.0 / (e + 1), "accuracy": e / epochs}, started_at=e, duration=0.01)
        run.finish()


def test_concurrent_writers(tmp_path: Path) -> None:
    Store(tmp_path).close()
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(tmp_path), w, 3, 40)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    store = Store(tmp_path)
    assert len(store.runs(group="concurrency")) == 12
    assert store._conn.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == 12 * 40
    assert store._conn.execute("SELECT COUNT(*) FROM metrics").fetchone()[0] == 12 * 40 * 2
    assert store.integrity_check() == "ok"


def test_resume_key_mismatch_is_named(tmp_path: Path) -> None:
    run = Store(tmp_path).start_run(name="r", resume_key={"batch_size": 10, "split": "abc"})
    run.check_resume_key({"batch_size": 10, "split": "abc"})
    with pytest.raises(StoreError, match=r"its batch_size \(recorded 10, now 32\) differ"):
        run.check_resume_key({"batch_size": 32, "split": "abc"})


def test_tensorboard_event_files_read_as_tensorboard_s_own(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    from fitscope.store import TensorBoardWriter

    for first in (0, 3):  # two writers of one folder in the same second (a resumed run): one file each
        writer = TensorBoardWriter(tmp_path)
        for epoch in range(first, first + 3):
            writer.add_scalars(epoch, {"loss": 1.0 / (epoch + 1), "val_loss": 2.0})
        writer.close()
    files = sorted((tmp_path / "train").glob("events.out.tfevents.*"))
    assert len(files) == 2
    first_event = next(iter(EventFileLoader(str(files[0])).Load()))
    assert first_event.file_version == "brain.Event:2"
    accumulator = EventAccumulator(str(tmp_path / "train"))
    accumulator.Reload()
    assert [(e.step, round(e.value, 4)) for e in accumulator.Scalars("epoch_loss")] == [
        (epoch, round(1.0 / (epoch + 1), 4)) for epoch in range(6)
    ]


def test_a_full_disk_stops_tensorboard_files_with_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    from fitscope.store import TensorBoardWriter, _tensorboard

    writer = TensorBoardWriter(tmp_path)
    writer.add_scalars(0, {"loss": 1.0})
    writer.flush()
    # From here on every event file is Linux's /dev/full: each write fails with ENOSPC, as on a full disk.
    monkeypatch.setattr(_tensorboard, "open", lambda path, mode: builtins.open("/dev/full", "wb"), raising=False)  # noqa: SIM115
    writer.add_scalars(1, {"val_loss": 1.0})  # a new file, for validation/
    with pytest.raises(StoreError) as caught:
        writer.flush()
    assert re.fullmatch(
        r"cannot write the TensorBoard file .*/validation/events\.out\.tfevents\.\S+ \(No space left on device\)\. "
        r"Free disk space or fix the folder's permissions, then resume the run \(cv and tune: run the same command "
        r"again\); the store keeps every recorded epoch and `run\.rebuild_tensorboard\(\)` writes the files again\.",
        str(caught.value),
    )
    writer.close()  # no second error on the way out


def test_an_open_event_file_that_fills_the_disk_fails_once(tmp_path: Path) -> None:
    """The disk fills while a file is open: one StoreError; closing it then raises nothing more."""
    from tensorboard.summary.writer.record_writer import RecordWriter

    from fitscope.store import TensorBoardWriter

    writer = TensorBoardWriter(tmp_path)
    writer.add_scalars(0, {"loss": 1.0})
    writer.flush()
    train = writer._writers["train"]
    train._records = RecordWriter(open("/dev/full", "wb"))  # noqa: SIM115 (the same file, now on a full disk)
    writer.add_scalars(1, {"loss": 0.5})
    with pytest.raises(StoreError, match=r"cannot write the TensorBoard file .*/train/events\.out\.tfevents\.\S+ "
                       r"\(No space left on device\)"):  # fmt: skip
        writer.flush()
    writer.close()  # what is still buffered cannot be written either: no second error


def test_another_program_s_sqlite_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    import hashlib
    import sqlite3

    with sqlite3.connect(tmp_path / "fitscope.db") as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.close()
    before = hashlib.sha256((tmp_path / "fitscope.db").read_bytes()).hexdigest()
    for readonly in (False, True):
        with pytest.raises(StoreError, match=r"is not a fitscope run store: it is another program's SQLite database "
                                             r"\(tables notes\)\. fitscope left it as it was"):  # fmt: skip
            Store(tmp_path, readonly=readonly)
    assert hashlib.sha256((tmp_path / "fitscope.db").read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fitscope.db"]


def test_a_sqlite_file_marked_as_another_program_s_is_refused_even_with_a_runs_table(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "fitscope.db") as conn:  # looks like a store, but its header names another owner
        conn.execute("CREATE TABLE runs (run_id TEXT)")
        conn.execute("PRAGMA user_version = 3")
        conn.execute("PRAGMA application_id = 1234")
    conn.close()
    before = (tmp_path / "fitscope.db").read_bytes()
    for readonly in (False, True):
        with pytest.raises(StoreError, match=r"is not a fitscope run store: it is another program's SQLite database"):
            Store(tmp_path, readonly=readonly)
    assert (tmp_path / "fitscope.db").read_bytes() == before and not list(tmp_path.glob("*.bak-*"))


def test_an_empty_store_beside_run_folders_is_reported_lost_not_started_afresh(tmp_path: Path) -> None:
    run = Store(tmp_path).start_run(name="kept")
    run.finish()
    run.store.close()
    (tmp_path / "fitscope.db").write_bytes(b"")  # truncated to nothing
    for readonly in (False, True):
        with pytest.raises(StoreError, match=r"is empty \(0 bytes\) but 1 run folder\(s\) lie beside it"):
            Store(tmp_path, readonly=readonly)
    assert (tmp_path / "fitscope.db").stat().st_size == 0


def test_runs_naming_a_file_or_a_missing_folder_is_an_error_for_readers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fitscope.cli import main

    (tmp_path / "a file").write_text("")
    for target, said in ((tmp_path / "a file", "is a file, not a run store folder"),
                         (tmp_path / "missing", "no run store in")):  # fmt: skip
        for argv in (["runs"], ["runs", "show", "last"], ["diagnose", "last"], ["runs", "groups"]):
            assert main([*argv, "--runs", str(target)]) == 2, argv
            assert said in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()
