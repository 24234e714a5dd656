from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fitscope.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_split_json_on_digits(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "split", "--dataset", "digits", "--val", "0.2", "--test", "0.1",
                           "--stratify", "--seed", "0", "--json")  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["dataset"] == "digits"
    assert {k: v["size"] for k, v in data["parts"].items()} == {"train": 1258, "val": 359, "test": 180}
    assert data["manifest"]["seed"] == 0
    assert set(data["audit"]) >= {"duplicates_within", "duplicates_across", "warnings"}


def test_split_folds_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "split", "--dataset", "digits", "--folds", "3", "--seed", "1", "--json")
    folds = json.loads(out)["folds"]
    assert code == 0 and [f["fold"] for f in folds] == [0, 1, 2]
    assert sum(f["parts"]["val"]["size"] for f in folds) == 1797


def test_split_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "split", "--dataset", "digits", "--seed", "0")
    assert code == 0 and "class 9" in out and "index hash" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--val", "abc"], "Invalid value for option --val: 'abc'"),
        (["--val", "0.9", "--test", "0.5"], "leave no training samples"),
        (["--folds", "1"], "Invalid value for --folds: 1. Expected a whole number of folds, at least 2."),
        (["--folds", "5000"], "Only 1797 samples are available; use at most 1797 folds"),
        (["--subsample", "700"], "Expected TRAIN,VAL such as 700,300"),
        (["--replace"], "--replace only applies with --subsample"),
        (["--test", "provided"], "ships no test set"),
        (
            ["--train-dev", "0.1"],
            "--train-dev: a train-dev part is held out of --dataset when --target gives the dev "
            "and test data; add --target.",
        ),
        (
            ["--target", "digits", "--test", "0.2"],
            "--test does not apply with --target: the test set is the rest of the target after --val",
        ),
        (["--target", "digits", "--folds", "3"], "--folds does not apply with --target"),
        (
            ["--label", "y"],
            "--label names the label column of a CSV file; digits is not one (a built-in dataset or an .npz file "
            "knows its labels). Leave --label out.",
        ),
    ],
)
def test_split_bad_input_exits_2_without_traceback(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, "split", "--dataset", "digits", *argv)
    assert code == 2
    assert message in err and "Traceback" not in err and out == ""


def test_split_with_a_target_is_ngs_train_dev_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    for name, n in (("web", 400), ("phone", 100)):
        np.savez(tmp_path / f"{name}.npz", x=rng.integers(0, 255, (n, 8)).astype("uint8"), y=np.arange(n) % 4)
    argv = ["split", "--dataset", str(tmp_path / "web.npz"), "--target", str(tmp_path / "phone.npz"), "--val", "0.5",
            "--train-dev", "50", "--seed", "0"]  # fmt: skip
    code, out, _ = run_cli(capsys, *argv, "--json")
    assert code == 0
    assert {k: v["size"] for k, v in json.loads(out)["parts"].items()} == {
        "train": 350, "train_dev": 50, "val": 50, "test": 50
    }  # fmt: skip
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0 and "(train-dev split)" in out and "train_dev" in out


def test_bad_file_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ragged data.csv"
    path.write_text("a,label\n1,0\n2\n")
    code, _, err = run_cli(capsys, "split", "--dataset", str(path))
    assert code == 2 and f"{path}, row 3: has 1 cells, expected 2" in err


def test_split_table_shows_bracketed_labels_as_typed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "labels [v2].csv"
    path.write_text("a,label\n" + "".join(f"{i},{'[red]' if i % 2 else 'plain'}\n" for i in range(40)))
    code, out, _ = run_cli(capsys, "split", "--dataset", str(path), "--val", "0.25")
    assert code == 0 and "class [red]" in out and "labels [v2]" in out


def test_split_of_a_regression_shows_its_parts_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("area,price\n" + "".join(f"{i},{i * 0.5 + 0.25}\n" for i in range(160)))
    code, out, _ = run_cli(capsys, "split", "--dataset", str(path), "--label", "price", "--task", "regression",
                           "--val", "0.25", "--seed", "0")  # fmt: skip
    assert code == 0 and "target mean" in out and "target std" in out and "class" not in out
    assert out.rstrip().endswith("audit: no duplicates")  # no classes to call balanced
    code, _, err = run_cli(capsys, "split", "--dataset", str(path), "--label", "price", "--task", "regression",
                           "--stratify")  # fmt: skip
    assert code == 2 and "Stratifying keeps class shares, and a regression's targets have no classes" in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    from fitscope import ArgumentError

    with pytest.raises(ArgumentError):
        main(["--debug", "split", "--dataset", "digits", "--val", "2.5"])


def test_data_ls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "data", "ls", "--data-dir", str(tmp_path), "--json")
    found = {d["name"]: d for d in json.loads(out)}
    assert code == 0 and found["digits"]["found"] and set(found) == {"mnist", "fashion_mnist", "digits"}


def test_light_commands_do_not_import_keras(tmp_path: Path) -> None:
    # (nor MLflow, nor shtab: `completion` and `export mlflow` alone load them)
    code = (
        "import sys\n"
        "from fitscope.cli import main\n"
        "main(['data', 'ls'])\n"
        "try:\n    main(['split', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('keras', 'jax', 'tensorflow', 'torch', 'mlflow', 'shtab') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("command", ["split", "run", "diagnose", "cv", "tune", "plot"])
def test_help_prose_fits_the_terminal(
    command: str, lang: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted in terminal columns: a Hangul syllable takes two."""
    from rich.cells import cell_len as cells

    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main(["--lang", lang, command, "--help"])
    lines = capsys.readouterr().out.splitlines()
    prose = [line for line in lines if line[:1].strip()]  # examples are indented and kept whole
    assert prose and all(cells(line) <= 80 for line in prose), [line for line in prose if cells(line) > 80]
    helps = [line for line in lines if line.startswith("  -")]  # an option and its help
    assert all(cells(line) <= 80 for line in helps), [line for line in helps if cells(line) > 80]


def _every_help(argv: list[str]) -> dict[str, str]:
    """Every command's --help, by command, as ``fitscope ARGV... COMMAND --help`` prints it."""
    import argparse

    from fitscope.cli._main import build_parser, main

    helps: dict[str, str] = {}

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        with contextlib.redirect_stdout(io.StringIO()) as out, pytest.raises(SystemExit):
            main([*argv, *words, "--help"])
        helps[" ".join(words)] = out.getvalue()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*words, name])

    walk(build_parser(), [])
    return helps


def test_every_help_speaks_korean_with_the_same_options_and_example_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--lang ko` (or a Korean locale): argparse's words, each option's help, the examples' commands unchanged."""
    from fitscope._i18n import set_language

    monkeypatch.setenv("COLUMNS", "100")
    english = _every_help(["--lang", "en"])
    korean = _every_help(["--lang", "ko"])
    set_language(None)
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "FITSCOPE_LANG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert _every_help([])["run"] == korean["run"]  # the locale, without --lang
    assert set(korean) == set(english) and len(korean) > 20
    assert sum(len(_example_commands(text)) for text in english.values()) > 30
    hangul = re.compile(r"[\uac00-\ud7a3]")
    for command, text in korean.items():
        assert text.startswith("사용법: fitscope") and "\n옵션:\n" in text, command
        assert "usage:" not in text and "show this help" not in text, command
        for line in text.splitlines():
            if line.startswith("  -") and "  " in line.strip():  # an option with its help on the line
                assert hangul.search(line), (command, line)
        assert _example_commands(text) == _example_commands(english[command]), command


def _example_commands(help_text: str) -> list[str]:
    """The command lines of a help's examples (and their continuations), without their comments."""
    example = re.compile(r"^  (fitscope|mlflow|eval) |^      --")
    return [line.split("  #")[0].rstrip() for line in help_text.splitlines() if example.match(line)]


def test_console_script_smoke(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("fitscope")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "fitscope"]
    out = subprocess.run([*command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "fitscope split" in out.stdout
    bad = subprocess.run([*command, "split", "--dataset", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown dataset 'nope'" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.integration
def test_book_split_on_real_mnist(mnist_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "split", "--dataset", "mnist", "--data-dir", str(mnist_path.parent), "--val", "10000",
        "--no-shuffle", "--test", "provided", "--subsample", "700,300", "--seed", "3", "--json",
    ]  # fmt: skip
    code, out, _ = run_cli(capsys, *argv)
    first = json.loads(out)
    assert code == 0
    assert {k: v["size"] for k, v in first["parts"].items()} == {"train": 700, "val": 300, "test": 10000}
    assert sum(first["parts"]["test"]["class_counts"].values()) == 10000
    assert first["audit"]["duplicates_across"] == {"train-val": 0, "train-test": 0, "val-test": 0}
    run_cli(capsys, *argv)  # warm
    code, out, _ = run_cli(capsys, *argv)
    assert json.loads(out)["manifest"]["index_hash"] == first["manifest"]["index_hash"]
    env = {**os.environ, "FITSCOPE_DATA": str(mnist_path.parent)}
    fresh = subprocess.run([sys.executable, "-m", "fitscope", *argv], capture_output=True, text=True, env=env)
    assert json.loads(fresh.stdout)["manifest"]["index_hash"] == first["manifest"]["index_hash"]


def test_backend_note_only_when_keras_json_picked_another_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fitscope._backend import backend_note

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert backend_note() is None  # no keras.json: fitscope's default, nothing to say
    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    assert backend_note() is None
    (tmp_path / "keras.json").write_text('{"backend": "numpy"}')
    assert backend_note() == (
        f"Keras runs on numpy, as {tmp_path / 'keras.json'} names it (Keras writes that file on its first import). "
        "KERAS_BACKEND=jax trains small models like the book's about 5x faster on CPUs (setting KERAS_BACKEND "
        "either way silences this note)."
    )
    monkeypatch.setenv("KERAS_BACKEND", "numpy")  # chosen on purpose: no note
    assert backend_note() is None


@pytest.mark.integration
def test_every_command_that_reads_built_in_data_takes_data_dir(
    mnist_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The missing-MNIST error says to pass --data-dir: run, test, cv, tune, demo and split take it."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("FITSCOPE_DATA", str(empty))  # MNIST is only where --data-dir says
    data, runs = ["--data-dir", str(mnist_path.parent)], ["--runs", str(tmp_path / "runs")]
    few = ["--set", "fit.epochs=2", "--set", "split.subsample=[100,50]"]
    assert main(["run", "book_toy", *few, "--quiet", *data, *runs]) == 0
    assert main(["test", "last", *data, *runs]) == 0
    assert main(["cv", "book_toy", "--folds", "2", *few, *data, *runs]) == 0
    assert main(["tune", "book_toy", "--param", "fit.batch_size=10,20", *few, *data, *runs]) == 0
    assert main(["split", "--dataset", "mnist", "--val", "10000", "--test", "provided", "--no-shuffle", *data]) == 0
    capsys.readouterr()
    assert main(["run", "book_toy", *few, "--quiet", *runs]) == 2  # without it: the error that names it
    assert "--data-dir" in capsys.readouterr().err


def test_the_quick_demo_s_time_is_stated_once_in_the_help_and_the_readme(capsys: pytest.CaptureFixture[str]) -> None:
    from fitscope.cli._run import QUICK_DEMO_TIME

    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert QUICK_DEMO_TIME in " ".join(capsys.readouterr().out.split())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"`fitscope demo --quick` trims the epochs: {QUICK_DEMO_TIME}" in " ".join(readme.split())
