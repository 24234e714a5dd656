"""Where are the errors? The error analysis of a run: its numbers, the command, the kept predictions, the report."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fitscope.analysis import analyse_errors
from fitscope.cli import main
from fitscope.store import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_matrix_the_scores_and_the_surest_mistakes_on_known_labels() -> None:
    labels = [0, 0, 0, 1, 1, 2, 2, 2]
    probabilities = np.array([
        [0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.8, 0.1, 0.1],  # one cat taken for a dog (70% sure)
        [0.1, 0.9, 0.0], [0.05, 0.95, 0.0],
        [0.0, 0.6, 0.4], [0.0, 0.99, 0.01], [0.1, 0.1, 0.8],  # two birds taken for dogs (60%, 99% sure)
    ])  # fmt: skip
    found = analyse_errors(labels, probabilities, ["cat", "dog", "bird"])
    assert found.matrix == [[2, 1, 0], [0, 2, 0], [0, 2, 1]]
    assert found.normalised[2] == pytest.approx([0, 2 / 3, 1 / 3])
    assert found.accuracy == pytest.approx(5 / 8)
    assert [(p.true, p.predicted, p.count) for p in found.pairs] == [("bird", "dog", 2), ("cat", "dog", 1)]
    assert [(m["index"], m["confidence"]) for m in found.mistakes] == [(6, 0.99), (1, 0.7), (5, 0.6)]
    dog = found.per_class[1]
    assert (dog["support"], dog["precision"], dog["recall"], dog["error"]) == (2, 0.4, 1.0, 0.0)
    assert found.sentences == [
        "On the val split (8 samples): accuracy 62.5%, 3 mistakes.",
        "Most confused: bird taken for dog 2 times (66.7% of the bird samples); cat taken for dog 1 times (33.3% of "
        "the cat samples).",
        "Hardest class: bird (error 66.7%, precision 100.0%, recall 33.3%).",
        "1 mistakes were made with 90% confidence or more: look at them first; such samples are often mislabelled, "
        "ambiguous, or unlike the training data.",
    ]


@pytest.fixture
def digits_run(tmp_path: Path) -> tuple[Path, str]:
    assert main(["run", "digits_quick", "--set", "fit.epochs=3", "--quiet", "--runs", str(tmp_path)]) == 0
    return tmp_path, Store(tmp_path).runs()[-1].run_id


def test_errors_of_a_run_are_kept_and_shown_in_its_report(
    digits_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, run_id = digits_run
    capsys.readouterr()
    assert main(["errors", run_id, "--json", "--runs", str(root)]) == 0
    found = json.loads(capsys.readouterr().out)
    store = Store(root)
    run = store.run(run_id)
    val = run.info().manifest.sizes["val"]
    assert found["split"] == "val" and sum(map(sum, found["matrix"])) == val
    assert found["class_names"] == [str(i) for i in range(10)]
    assert found["accuracy"] == pytest.approx(run.evaluations("val")[-1]["metrics"]["accuracy"], abs=1e-6)
    kept = Path(found["predictions"])
    assert kept.parent == run.dir / "predictions" and kept.is_file()
    assert [Path(p).name for p in found["figures"]] == ["confusion-val.png", "errors-val.png"]  # 8x8 digits: a gallery
    modified = kept.stat().st_mtime_ns
    assert main(["errors", run_id, "--runs", str(root)]) == 0  # again: read, not predicted again
    out = capsys.readouterr().out
    assert kept.stat().st_mtime_ns == modified
    assert out.startswith(f"errors of run {run_id} (the weights of epoch 2):\nOn the val split ({val} samples): ")
    assert "Most confused: " in out and "the surest mistakes" in out
    assert len(run.evaluations("test")) == 0  # the validation split only: the test set stays sealed
    assert main(["report", run_id, "--runs", str(root)]) == 0
    html = (run.dir / "report.html").read_text(encoding="utf-8")
    errors = html[html.index('<section id="errors">') : html.index('<section id="split">')]
    assert "Most confused: " in errors and errors.count("<svg") == 2


def test_the_test_split_is_a_counted_look(digits_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    root, run_id = digits_run
    capsys.readouterr()
    assert main(["errors", run_id, "--split", "test", "--runs", str(root)]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == "note: a look at the sealed test set, counted in the run's ledger."
    assert "On the test split (" in captured.out
    assert len(Store(root).run(run_id).evaluations("test")) == 1


def test_a_table_s_mistakes_are_listed_with_their_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(EXAMPLES / "tabular" / "wine.yaml", tmp_path)
    made = subprocess.run([sys.executable, str(EXAMPLES / "tabular" / "make_csv.py"), "wine", "--output",
                           str(tmp_path / "wine.csv")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    runs = ["--runs", str(tmp_path / "runs")]
    assert main(["run", str(tmp_path / "wine.yaml"), "--set", "fit.epochs=1", "--quiet", *runs]) == 0
    capsys.readouterr()
    assert main(["errors", "last", "--top", "3", *runs]) == 0
    out = capsys.readouterr().out
    assert "proline" in out and "errors-val.png" not in out  # rows with their columns, no picture gallery


def test_errors_of_a_fold_or_a_learning_curve_s_run_are_on_the_part_it_validated_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stratified cross-validation's fold and a learning curve's smaller training set: the data each trial drew."""
    from fitscope.experiment import cross_validate, learning_curve

    quick = EXAMPLES / "digits_quick.yaml"
    runs = tmp_path / "runs"
    cv = cross_validate(quick, folds=3, stratify=True, overrides=["fit.epochs=2"], runs=runs, say=lambda _: None)
    curve = learning_curve(quick, sizes=[100, 1079], overrides=["fit.epochs=2"], runs=runs, say=lambda _: None)
    store = Store(runs)
    fold = store.run(cv.folds[1]["run_id"])
    small = next(info for info in store.runs(group=curve.group_id) if info.trial.get("train_size") == 100)
    for run in (fold, store.run(small.run_id)):
        capsys.readouterr()
        assert main(["errors", run.run_id, "--json", "--runs", str(runs)]) == 0
        found = json.loads(capsys.readouterr().out)
        assert sum(map(sum, found["matrix"])) == run.info().manifest.sizes["val"]
        assert found["accuracy"] == pytest.approx(run.evaluations("val")[-1]["metrics"]["accuracy"], abs=1e-6)
    assert fold.info().manifest.sizes["val"] == 479  # (the fold's part, not the spec's 359)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        ("regression", "run {run} is a regression (data.task: regression): there are no classes to confuse. Its "
                       "errors are residuals: look at `fitscope diagnose` for its R² per part."),
        ("no checkpoints", "run {run} has no saved weights (checkpoints were off); it cannot be analysed."),
    ],
)  # fmt: skip
def test_errors_of_a_run_it_cannot_analyse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str, error: str
) -> None:
    if make == "regression":
        run = Store(tmp_path).start_run(name="prices", spec={"data": {"task": "regression"}})
        run.finish()
        run_id = run.run_id
    else:
        argv = ["run", "digits_quick", "--set", "fit.epochs=1", "--set", "record.checkpoint=null", "--quiet"]
        assert main([*argv, "--runs", str(tmp_path)]) == 0
        run_id = Store(tmp_path).runs()[-1].run_id
    capsys.readouterr()
    assert main(["errors", run_id, "--runs", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "fitscope errors: error: " + error.format(run=run_id)
    assert not (Store(tmp_path).run(run_id).dir / "predictions").exists()


@pytest.mark.integration
@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)")  # fmt: skip
def test_fashion_mnist_s_shirts_are_among_the_most_confused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "fashion.yaml"
    spec.write_text(
        "name: fashion\ndata: {dataset: fashion_mnist}\n"
        "split: {val: 10000, test: provided, shuffle: false, subsample: [3000, 2000]}\n"
        "model:\n  - Dense: {units: 64, activation: relu}\n  - Dense: {units: 10, activation: softmax}\n"
        "fit: {epochs: 5, batch_size: 32}\nseed: 0\n",
        encoding="utf-8",
    )
    assert main(["run", str(spec), "--quiet", "--runs", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["errors", "last", "--json", "--runs", str(tmp_path)]) == 0
    found = json.loads(capsys.readouterr().out)
    top = {(p["true"], p["predicted"]) for p in found["pairs"][:4]}
    assert top & {("Shirt", "T-shirt/top"), ("T-shirt/top", "Shirt"), ("Shirt", "Pullover"), ("Pullover", "Shirt"),
                  ("Shirt", "Coat"), ("Coat", "Shirt")}, found["pairs"][:4]  # fmt: skip
    assert "Shirt" in found["summary"][1]
