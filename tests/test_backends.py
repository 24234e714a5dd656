"""fitscope on Keras's other backends (TensorFlow, PyTorch), each in a process of its own.

Keras picks its backend once per process, so every check starts ``python -m fitscope``
(or an example) with ``KERAS_BACKEND`` set. A backend that is not installed is skipped
with the command that installs it; `.ci/run` installs PyTorch when its CPU wheel lies
on the machine's disk.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fitscope.store import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
INSTALL = {"tensorflow": "pip install -e '.[tensorflow]'", "torch": "pip install torch (CPU build)"}


def _python(backend: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Python (``-m fitscope ...`` or a script) in a fresh process on ``backend``."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(params=["tensorflow", "torch"])
def backend(request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"Keras's {name} backend is not installed ({INSTALL[name]})")
    return name


@pytest.mark.slow
def test_run_test_and_cv_on_another_backend(backend: str, tmp_path: Path) -> None:
    """Fused epochs where the backend allows them, TensorBoard without TensorFlow, checkpoints, workers."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    runs = str(tmp_path)
    ran = _python(backend, "-m", "fitscope", "run", "digits_quick", "--set", "fit.epochs=3", "--test",
                    "--runs", runs, "--json")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    run = Store(runs).run(result["run_id"])
    info = run.info()
    assert (info.backend, info.status, info.epochs) == (backend, "finished", 3)
    for folder, name in (("train", "loss"), ("validation", "val_loss")):
        events = EventAccumulator(str(run.tensorboard_dir / folder))
        events.Reload()
        scalars = events.Scalars("epoch_loss")
        assert [e.step for e in scalars] == [0, 1, 2]
        assert [e.value for e in scalars] == pytest.approx(result["history"][name], rel=1e-6)

    tested = _python(backend, "-m", "fitscope", "test", result["run_id"], "--runs", runs, "--json")
    assert tested.returncode == 0, tested.stderr
    again = json.loads(tested.stdout)
    assert again["epoch"] == 2 and again["test"] == pytest.approx(result["test"], rel=1e-5)  # the saved weights

    cv = _python(backend, "-m", "fitscope", "cv", "digits_quick", "--folds", "2", "--set", "fit.epochs=1",
                   "--executor", "process", "--workers", "2", "--runs", runs, "--json")  # fmt: skip
    assert cv.returncode == 0, cv.stderr
    folds = json.loads(cv.stdout)["folds"]
    assert len(folds) == 2 and all(Store(runs).run(f["run_id"]).info().backend == backend for f in folds)


def test_a_backend_named_only_in_keras_json_is_used_and_noted(backend: str, tmp_path: Path) -> None:
    """Keras writes keras.json on its first import: a learner may train on TensorFlow without choosing it."""
    (tmp_path / "keras.json").write_text(json.dumps({"backend": backend}))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(KERAS_HOME=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "fitscope", "run", "digits_quick", "--set", "fit.epochs=1", "--quiet",
               "--runs", str(tmp_path / "runs")]  # fmt: skip
    ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr
    assert (
        f"note: Keras runs on {backend}, as {tmp_path / 'keras.json'} names it (Keras writes that file on its first "
        "import). KERAS_BACKEND=jax trains small models like the book's about 5x faster on CPUs (setting "
        "KERAS_BACKEND either way silences this note).\n"
    ) in ran.stderr
    (info,) = Store(tmp_path / "runs").runs()
    assert info.backend == backend


def test_stateful_rnn_example_on_another_backend(backend: str, tmp_path: Path) -> None:
    ran = _python(backend, str(EXAMPLES / "stateful_rnn.py"), "--epochs", "3", "--runs", str(tmp_path))
    assert ran.returncode == 0, ran.stderr
    assert "3 epochs recorded (0..2)" in ran.stdout
