"""Who trains a run: a reused process id, another machine's heartbeat, --force."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fitscope import StoreError
from fitscope.cli import main
from fitscope.store import Run, Store
from fitscope.store._owner import STALE_AFTER, Owner, heartbeats


@pytest.fixture
def other_process() -> Iterator[int]:
    """A live process that is not fitscope's (its id is what a reboot could hand a new process)."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()


def _owned_by(run: Run, owner: str, heartbeat: float | None = None) -> None:
    with run.store.transaction() as conn:
        conn.execute("UPDATE runs SET owner = ?, heartbeat = ? WHERE run_id = ?", (owner, heartbeat, run.run_id))


def test_a_reused_process_id_never_makes_a_dead_run_look_alive(
    tmp_path: Path, other_process: int, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path)
    run = store.start_run(name="before-reboot")
    started = Owner(socket.gethostname(), other_process).token + ":1000000.00"  # that id, an earlier process
    _owned_by(run, started)
    info = run.info()
    assert info.status == "interrupted" and info.holder is None and "its process ended" in (info.reason or "")
    assert main(["runs", "rm", run.run_id, "--runs", str(tmp_path)]) == 0  # removable, no --force needed
    capsys.readouterr()


def test_the_owner_recorded_with_its_start_time_is_verified_and_named_for_kill(
    tmp_path: Path, other_process: int, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path)
    run = store.start_run(name="busy")
    from fitscope.store._owner import start_time

    _owned_by(run, Owner(socket.gethostname(), other_process, start_time(other_process)).token)
    assert run.info().holder == (socket.gethostname(), str(other_process))
    assert main(["runs", "rm", run.run_id, "--runs", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"fitscope runs: error: run {run.run_id} is still being trained by process {other_process} on "
        f"{socket.gethostname()}. Stop it first (Ctrl-C where it runs, or `kill {other_process}`), then remove it."
    )


def test_an_owner_without_a_start_time_may_be_anyone_so_kill_is_not_advised_and_force_takes_over(
    tmp_path: Path, other_process: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stores before schema 4 recorded host:pid only: that id may be an unrelated process now."""
    store = Store(tmp_path)
    run = store.start_run(name="old-owner")
    _owned_by(run, f"{socket.gethostname()}:{other_process}")
    assert main(["runs", "rm", run.run_id, "--runs", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"fitscope runs: error: run {run.run_id} is still being trained by process {other_process} on "
        f"{socket.gethostname()}. Stop it first (Ctrl-C where it runs), then remove it. If you know that process "
        "is gone (its machine was switched off, say), add --force."
    )
    assert "kill" not in err
    with pytest.raises(StoreError, match=r"add `force`\.$"):
        run.claim()
    run.claim(force=True)
    assert Owner.parse(run.info().owner) == Owner.here()


def test_another_machine_s_run_is_alive_while_its_heartbeat_is_fresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path)
    fresh, stale = store.start_run(name="fresh"), store.start_run(name="stale")
    _owned_by(fresh, "gpu-box:4242:1700000000.00", heartbeat=time.time() - 30)
    _owned_by(stale, "gpu-box:4243:1700000000.00", heartbeat=time.time() - STALE_AFTER - 60)
    assert fresh.info().status == "running" and fresh.info().holder == ("gpu-box", "4242")
    assert stale.info().status == "interrupted" and stale.info().holder is None
    assert main(["runs", "rm", fresh.run_id, "--runs", str(tmp_path)]) == 2
    assert re.search(r"by process 4242 on gpu-box, last heard from 3\d s ago\. Stop it first \(Ctrl-C where it "
                     r"runs\), then remove it\. If you know that process is gone .* add --force\.$",
                     capsys.readouterr().err.strip())  # fmt: skip
    assert main(["runs", "rm", fresh.run_id, "--force", "--runs", str(tmp_path)]) == 0
    assert [info.run_id for info in store.runs()] == [stale.run_id]


def test_a_training_process_beats(tmp_path: Path) -> None:
    store = Store(tmp_path)
    run = store.start_run(name="beating")
    _owned_by(run, Owner.here().token, heartbeat=1.0)
    heartbeats.beat()
    assert time.time() - (run.info().heartbeat or 0) < 5
    run.finish()
    _owned_by(run, Owner.here().token, heartbeat=1.0)
    heartbeats.beat()  # a finished run is no longer this process's to stamp
    assert run.info().heartbeat == 1.0
