"""The Korean tutorial (docs/ko/tutorial.md) runs as written, in order, on the real MNIST.

Its ``console`` blocks hold the commands a reader types (``$ fitscope ...``), its ``python``
blocks the code a reader pastes; both run here in one folder, one after another, as a
reader would go through the page. The ``bash`` block of installation is not run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from fitscope._i18n import set_language
from fitscope.cli import main
from test_i18n import untranslated

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "ko" / "tutorial.md"
BLOCK = re.compile(r"^```(console|python)\n(.*?)^```", re.S | re.M)
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def steps() -> list[tuple[str, str]]:
    """The tutorial's commands and code, in the order of the page: ("command", line) or ("python", code)."""
    found: list[tuple[str, str]] = []
    for kind, body in BLOCK.findall(TUTORIAL.read_text(encoding="utf-8")):
        if kind == "python":
            found.append(("python", body))
        else:
            found += [("command", line[2:]) for line in body.splitlines() if line.startswith("$ ")]
    return found


def test_the_tutorial_is_korean_and_linked_from_the_readme() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    assert len(HANGUL.findall(text)) > 2000
    commands = [line for kind, line in steps() if kind == "command"]
    assert all(line.startswith("fitscope ") for line in commands), commands
    assert {"split", "cv", "run", "plot", "diagnose", "report", "board", "demo", "test"} <= {
        next(word for word in shlex.split(line)[1:] if not word.startswith("-") and word != "ko") for line in commands
    }
    readme = (TUTORIAL.parents[2] / "README.md").read_text(encoding="utf-8")
    assert "](docs/ko/tutorial.md)" in readme


def _board(folder: Path, argv: list[str]) -> str:
    """Start `fitscope board` as the reader does, read the address it prints, ask it for its runs, stop it."""
    # Ctrl-C as in the reader's terminal: pytest-xdist's workers ignore SIGINT, and a child would inherit that.
    job = subprocess.Popen([sys.executable, "-m", "fitscope", *argv], cwd=folder, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    try:
        assert job.stdout is not None
        first = job.stdout.readline()
        url = first.split(" at ", 1)[1].split(" ", 1)[0]
        with urllib.request.urlopen(url + "data/runs", timeout=60) as response:
            served = json.loads(response.read())
        job.send_signal(signal.SIGINT)  # Ctrl-C
        assert job.wait(timeout=60) == 0
        return "\n".join(served)
    finally:
        job.kill()


@pytest.mark.slow
@pytest.mark.integration
def test_every_step_of_the_korean_tutorial_runs(
    mnist_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FITSCOPE_DATA", str(mnist_path.parent))
    monkeypatch.delenv("FITSCOPE_HOME", raising=False)
    said: dict[str, str] = {}
    for number, (kind, step) in enumerate(steps()):
        if kind == "python":
            ran = subprocess.run([sys.executable, "-c", step], cwd=tmp_path, capture_output=True, text=True,
                                 env=dict(os.environ), timeout=600)  # fmt: skip
            assert ran.returncode == 0, (step, ran.stderr)
            said[f"python {number}"] = ran.stdout
            continue
        argv = shlex.split(step)[1:]
        if "board" in argv:
            said[step] = _board(tmp_path, argv)
            continue
        set_language(None)
        assert main(argv) == 0, (step, capsys.readouterr())
        captured = capsys.readouterr()
        said[step] = captured.out + captured.err
        if "--lang" in argv:  # what fitscope says in Korean has no English sentence left in it
            assert untranslated(said[step].splitlines()) == [], (step, said[step])
    # What the page promises the reader sees:
    assert "점검: 중복 없음, 클래스 비율 고름" in said[next(step for step in said if " split " in step)]
    assert "교차 검증 그룹 " in said["fitscope --lang ko cv book_toy --folds 3 --set fit.epochs=60"]
    assert "데이터 불일치" in said[next(step for step in said if "--errors" in step)]
    assert "100 에포크가 기록되었습니다" in "".join(said.values())
    assert "20 에포크가 한 곡선으로 기록되었습니다" in "".join(said.values())
    assert said["fitscope --lang ko diagnose book-toy"].startswith("가장 낮은 val_loss 값은 에포크 ")
    assert "/tensorboard/train" in said["fitscope board --port 0"]
    assert "경고" in said["fitscope --lang ko test last"]  # the second look at the sealed test set
    for image in ("cv-folds.png", "batch-size.png", "book-toy.png", "book-toy-python.png", "book-toy.html"):
        assert (tmp_path / image).stat().st_size > 10_000, image
