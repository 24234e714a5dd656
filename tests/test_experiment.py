"""``fitscope run`` / ``fitscope test`` and the spec, on the bundled digits."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fitscope import SpecError, StoreError
from fitscope.cli import main
from fitscope.experiment import load_spec, run_spec
from fitscope.store import CheckpointDir, Store, doctor

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
QUICK = EXAMPLES / "digits_quick.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def builder_spec(tmp_path: Path, module: str, functions: str, function: str) -> Path:
    """A model builder module (``import keras`` plus ``functions``) beside a digits spec that uses ``function``."""
    (tmp_path / f"{module}.py").write_text("import keras\n" + functions)
    return write(tmp_path, f"data: {{dataset: digits}}\nmodel: {module}:{function}\nfit: {{epochs: 1}}\n")


def test_run_records_and_evaluates_validation_only(tmp_path: Path) -> None:
    result = run_spec(QUICK, overrides=["fit.epochs=3"], runs=tmp_path, progress=False)
    assert (result.status, result.epochs) == ("finished", 3)
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    run = Store(tmp_path).run(result.run_id)
    assert [e["split"] for e in run.evaluations()] == ["val"]
    assert result.val["accuracy"] == pytest.approx(result.history["val_accuracy"][-1], abs=1e-6)
    assert run.info().manifest.sizes == {"train": 1079, "val": 359, "test": 359}


def test_cli_run_names_its_store_in_the_commands_it_suggests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "my runs"
    assert main(["run", str(QUICK), "--set", "fit.epochs=1", "--runs", str(runs), "--quiet"]) == 0
    assert f"(fitscope board --runs '{runs}')\n" in capsys.readouterr().out


def test_cli_run_json_then_test_twice_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(QUICK), "--set", "fit.epochs=2", "--runs", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"run_id", "status", "epochs", "best_epoch", "history", "val", "tensorboard_dir"} <= set(result)
    assert main(["test", result["run_id"][:20], "--runs", str(tmp_path), "--json"]) == 0  # a prefix
    first = capsys.readouterr()
    assert "already evaluated" not in first.err
    assert {k: v for k, v in json.loads(first.out).items() if k != "test"} == {
        "run_id": result["run_id"], "epoch": 1, "weights": "last saved", "test_evaluations": 1  # the whole id
    }  # fmt: skip
    assert main(["test", result["run_id"], "--runs", str(tmp_path)]) == 0
    second = capsys.readouterr()
    assert "warning: this run's test set was already evaluated 1 time(s)" in second.err
    assert second.out.startswith("test (last saved weights, epoch 1): accuracy ")
    assert len(Store(tmp_path).run(result["run_id"]).evaluations("test")) == 2


def test_test_records_the_epoch_of_the_weights_it_evaluated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Killed after an epoch was recorded but before its checkpoint: the older weights are tested, and said so."""
    result = run_spec(QUICK, overrides=["fit.epochs=3", "record.checkpoint=1"], runs=tmp_path, progress=False)
    run = Store(tmp_path).run(result.run_id)
    checkpoints = CheckpointDir(run.checkpoint_dir)
    assert [epoch for epoch, _ in checkpoints.paths()] == [2, 1]  # newest first
    checkpoints.paths()[0][1].unlink()
    assert main(["test", result.run_id, "--runs", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("test (last saved weights, epoch 1): ")
    assert [row["epoch"] for row in run.evaluations("test")] == [1]


EARLY_STOP = [
    "model[0].Dense.units=64", "compile.optimizer={adam: {learning_rate: 0.05}}", "fit.batch_size=16",
    "fit.epochs=60", "callbacks=[{EarlyStopping: {monitor: val_loss, patience: 2, restore_best_weights: true}}]",
]  # fmt: skip


def test_weights_restored_by_early_stopping_are_named_and_tested(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The model ends with its best epoch's weights: the ledger, `run` and `fitscope test` say so and agree."""
    result = run_spec(QUICK, overrides=EARLY_STOP, runs=tmp_path, test=True, progress=False)
    best = result.best_epoch
    assert result.epochs < 60 and best is not None and result.weights_epoch == best != result.epochs - 1
    run = Store(tmp_path).run(result.run_id)
    assert [row["epoch"] for row in run.evaluations()] == [best, best]  # val, then test
    assert main(["test", result.run_id, "--runs", str(tmp_path), "--json"]) == 0
    tested = json.loads(capsys.readouterr().out)
    assert (tested["epoch"], tested["weights"]) == (best, "restored")
    assert tested["test"] == pytest.approx(result.test)  # the same weights as `run --test` evaluated

    # Restored weights fitscope did not keep (as when EarlyStopping monitors val_accuracy and
    # fitscope's best is by val_loss): the last saved ones are tested, and the note says so.
    (run.checkpoint_dir / "best.npz").unlink()
    assert main(["test", result.run_id, "--runs", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert err.endswith(
        f"note: this run ended with the weights of epoch {best} (restored by EarlyStopping), which were not kept "
        "(fitscope keeps the best by val_loss); these are its last saved weights.\n"
    )
    assert out.startswith(f"test (last saved weights, epoch {result.epochs - 1}): ")


def test_a_cv_fold_that_early_stopping_restored_is_named_and_tested_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fold's final weights come back from the worker as restored: ledger and `fitscope test` say which epoch."""
    from fitscope.experiment import cross_validate

    result = cross_validate(QUICK, folds=2, overrides=EARLY_STOP, runs=tmp_path, say=lambda *_: None)
    store = Store(tmp_path)
    stopped = [f for f in result.folds if store.run(f["run_id"]).info().epochs < 60]
    assert stopped, "no fold stopped early"
    for fold in stopped:
        run = store.run(fold["run_id"])
        (val,) = run.evaluations("val")
        assert val["epoch"] == fold["best_epoch"] < run.info().epochs - 1
        assert main(["test", run.run_id, "--runs", str(tmp_path), "--json"]) == 0
        tested = json.loads(capsys.readouterr().out)
        assert (tested["epoch"], tested["weights"]) == (fold["best_epoch"], "restored")
        assert run.evaluations("test")[-1]["fingerprint"] == val["fingerprint"]  # the very weights validated
    # A fold keeps its best-epoch weights as a run does (one training path): --best tests them.
    assert main(["test", stopped[0]["run_id"], "--best", "--runs", str(tmp_path), "--json"]) == 0
    tested = json.loads(capsys.readouterr().out)
    assert (tested["epoch"], tested["weights"]) == (stopped[0]["best_epoch"], "best")


def test_split_errors_name_the_spec_key(tmp_path: Path) -> None:
    """The data layer's "argument `val`" reads as the key the spec's user wrote."""
    with pytest.raises(SpecError) as refused:
        run_spec(QUICK, overrides=["split.val=0"], runs=tmp_path, progress=False)
    assert str(refused.value) == (
        "Invalid value for `split.val`. Received: split.val=0. Expected a fraction in (0, 1) or a whole number "
        "of samples."
    )
    assert not (tmp_path / "fitscope.db").exists()


def test_test_refuses_a_test_part_whose_data_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ["a,b,label", *(f"{i % 7},{i % 5},{'xy'[i % 2]}" for i in range(60))]
    data = tmp_path / "tiny.csv"
    data.write_text("\n".join(rows) + "\n")
    spec = write(tmp_path, "data: {dataset: tiny.csv}\nsplit: {val: 0.25, test: 0.25, shuffle: false}\n"
                           "model:\n  - Dense: {units: 2, activation: softmax}\nfit: {epochs: 1}\n")  # fmt: skip
    result = run_spec(spec, runs=tmp_path / "runs", progress=False)
    assert "warning: split: " in capsys.readouterr().err  # the tiny table repeats its rows across parts
    rows[-1] = "6,6,x"  # unshuffled: the last rows are the test part
    data.write_text("\n".join(rows) + "\n")
    assert main(["test", result.run_id, "--runs", str(tmp_path / "runs")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"fitscope test: error: run {result.run_id}: the data no longer splits as recorded (its test part differs)."
    )
    assert Store(tmp_path / "runs").run(result.run_id).evaluations("test") == []


def test_test_best_uses_the_best_epoch_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_spec(QUICK, overrides=["fit.epochs=4"], runs=tmp_path, progress=False)
    assert main(["test", result.run_id, "--best", "--runs", str(tmp_path), "--json"]) == 0
    (row,) = Store(tmp_path).run(result.run_id).evaluations("test")
    assert row["epoch"] == result.best_epoch
    capsys.readouterr()
    # Trained further after that look: said before it trains, the run still resumes.
    resumed = run_spec(QUICK, overrides=["fit.epochs=5"], runs=tmp_path, resume=result.run_id, progress=False)
    assert resumed.epochs == 5 and capsys.readouterr().err == (
        f"warning: run {result.run_id} was already evaluated on its test set 1 time(s). Training it further after "
        "seeing that score, then testing again, makes the test score optimistic; tune on the validation set (or "
        "with cross-validation) instead.\n"
    )


def test_resume_continues_the_same_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = run_spec(QUICK, overrides=["fit.epochs=3"], runs=tmp_path, progress=False)
    resumed = run_spec(QUICK, overrides=["fit.epochs=5"], runs=tmp_path, resume=first.run_id, progress=False)
    assert resumed.run_id == first.run_id and resumed.epochs == 5
    assert "warning" not in capsys.readouterr().err  # never tested: nothing to warn about
    run = Store(tmp_path).run(first.run_id)
    assert [e for e, _, _ in run.epochs()] == [0, 1, 2, 3, 4]
    assert resumed.history["loss"][:3] == first.history["loss"]
    with pytest.raises(StoreError, match=r"its batch_size \(recorded 32, now 8\) differ"):
        run_spec(QUICK, overrides=["fit.epochs=6", "fit.batch_size=8"], runs=tmp_path, resume=first.run_id,
                 progress=False)  # fmt: skip


def test_a_resume_without_a_readable_checkpoint_changes_nothing_and_from_scratch_keeps_the_old_epochs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = str(tmp_path)
    first = run_spec(QUICK, overrides=["fit.epochs=3", "record.checkpoint=null"], runs=runs, progress=False)
    store = Store(runs)
    run = store.run(first.run_id)
    with store.transaction() as conn:  # as a kill leaves it, once its process is gone
        conn.execute("UPDATE runs SET status = 'interrupted', reason = 'killed' WHERE run_id = ?", (run.run_id,))
    before = (run.info().status, run.info().reason, run.history())
    argv = ["run", str(QUICK), "--set", "fit.epochs=4", "--set", "record.checkpoint=null", "--runs", runs]
    assert main([*argv, "--resume", first.run_id]) == 2
    assert capsys.readouterr().err.strip() == (
        f"fitscope run: error: run {first.run_id} has 3 epoch(s) but no readable checkpoint (none was kept: "
        "record.checkpoint: null, or writing one failed), so it cannot continue where it stopped; its epochs were "
        "left as they are. To train it again from epoch 0, keeping those epochs in the store as an earlier attempt, "
        "resume it with --from-scratch."
    )
    assert (run.info().status, run.info().reason, run.history()) == before  # untouched, status included

    with pytest.warns(UserWarning, match=rf"run {first.run_id} starts again from epoch 0; its 3 earlier epoch\(s\) "
                      r"are kept as run \S+-digits-quick-earlier-[0-9a-f]{4}\."):  # fmt: skip
        assert main([*argv, "--resume", first.run_id, "--from-scratch"]) == 0
    capsys.readouterr()
    assert run.info().status == "finished" and [e for e, _, _ in run.epochs()] == [0, 1, 2, 3]
    (earlier,) = [info for info in store.runs() if info.run_id != run.run_id]
    assert earlier.name == "digits-quick-earlier" and earlier.status == "interrupted"
    assert earlier.reason == (f"an earlier attempt of run {run.run_id}, set aside when that run was trained again "
                              "from scratch")  # fmt: skip
    assert store.run(earlier.run_id).history() == before[2]  # the old epochs, kept whole
    assert (store.root / earlier.run_id / "tensorboard").is_dir()  # with their files
    assert main(["run", str(QUICK), "--from-scratch", "--runs", runs]) == 2
    assert "--from-scratch goes with --resume RUN" in capsys.readouterr().err


def test_an_unreadable_best_weights_file_is_set_aside_and_the_resume_goes_on(tmp_path: Path) -> None:
    first = run_spec(QUICK, overrides=["fit.epochs=3"], runs=tmp_path, progress=False)
    run = Store(tmp_path).run(first.run_id)
    best = run.checkpoint_dir / "best.npz"
    assert best.is_file()
    best.write_bytes(b"torn")
    with pytest.warns(RuntimeWarning, match=r"best\.npz is unreadable .* set aside as best\.npz\.unreadable"):
        resumed = run_spec(QUICK, overrides=["fit.epochs=5"], runs=tmp_path, resume=first.run_id, progress=False)
    assert resumed.epochs == 5 and (run.checkpoint_dir / "best.npz.unreadable").read_bytes() == b"torn"
    for path in CheckpointDir(run.checkpoint_dir).paths():  # and every checkpoint unreadable: refused
        path[1].write_bytes(b"torn")
    refused = r"has 5 epoch\(s\) but no readable checkpoint \(none of them is readable and covers its recorded epochs\)"
    with pytest.raises(StoreError, match=refused), pytest.warns(RuntimeWarning, match="is unreadable"):
        run_spec(QUICK, overrides=["fit.epochs=6"], runs=tmp_path, resume=first.run_id, progress=False)
    assert len(run.epochs()) == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: [\n  - Dense: {units: 10\n", r"invalid YAML at line 2, column 3"),
        ("model: []\nfit: {epoch: 3}\n", r"unknown key `fit.epoch`; did you mean `fit.epochs`\?"),
        ("model: []\nsplit: {seed: 3}\nfit: {optimizer: adam}\ndata: {shuffle: false}\n",
         r"spec.yaml: unknown key `data.shuffle` \(it belongs in `split.shuffle` or `fit.shuffle`\); "
         r"unknown key `split.seed` \(`seed` is a top-level key\); "
         r"unknown key `fit.optimizer` \(it belongs in `compile.optimizer`\)$"),
        ("fit: {epochs: 3}\n", r"missing key `model`"),
        ("data: {dataset: digits}\nmodel:\n  - Dence: {units: 10}\n",
         r"unknown layer `Dence` at model\[0\]; did you mean `Dense`\?"),
        ("data: {dataset: digits}\nmodel:\n  - Dense: {units: 7, activation: softmax}\n",
         r"output layer has 7 units but the data has 10 classes"),
        ("data: {dataset: digits, one_hot: false}\nmodel:\n  - Dense: {units: 10}\n"
         "compile: {loss: categorical_crossentropy}\n", r"needs one-hot labels.*sparse_categorical_crossentropy"),
        ("data: {dataset: digits}\nmodel:\n  - Dense: {units: 10}\ncompile: {optimizer: sgdd}\n",
         r"unknown optimizer `sgdd` at compile.optimizer; did you mean `sgd`\?"),
        ("data: {dataset: digits}\nmodel:\n  - Dense: {units: 10}\ncompile: {optimizer: {adam: {learning_rat: 1}}}\n",
         r"^compile.optimizer \(adam\): Argument\(s\) not recognized: \{'learning_rat': 1\}; did you mean "
         r"`learning_rate`\?$"),
        ("data: {dataset: digits}\nmodel: nowhere.module:build\n", r"cannot import the builder"),
        ("data: {dataset: digits}\nmodel: builtins:dict\n", r"the builder 'builtins:dict' returned dict, not a Keras"),
        ("data: {dataset: digits}\nmodel: json:dumps\n", r"the builder 'json:dumps' failed: TypeError"),
        ("data: {dataset: digits}\nmodel:\n  - Dense: {units: 10}\ncompile: {metrics: [acuracy]}\n",
         r"unknown metric `acuracy` at compile.metrics\[0\]; did you mean `accuracy`\?"),
        ("data: {dataset: digits}\nmodel:\n  - Dense: {units: 10}\ncompile: {loss: sparse_categorical_crossentrpy}\n",
         r"unknown loss `sparse_categorical_crossentrpy`.*did you mean `sparse_categorical_crossentropy`"),
        # a value that fits no member of a union: one message that lists them, not one per member
        ("model: []\nsplit: {test: all}\n", r"spec.yaml: `split.test`: expected a number or 'provided' \(got 'all'\)$"),
        ("model: []\ndata: {scale: standardise}\n",
         r"`data.scale`: expected true, false, a number or 'standardize' \(got 'standardise'\)$"),
        ("model: []\ndata: {scale: -1}\n", r"`data.scale`: Input should be greater than 0 \(got -1\)$"),
        ("model: []\nrecord: {checkpoint: often}\n", r"`record.checkpoint`: expected 'auto' or an integer"),
        ("model:\n  - Dense: 3\n", r"`model\[0\].Dense`: Input should be a valid dictionary \(got 3\)$"),
    ],
)  # fmt: skip
def test_bad_specs_fail_before_anything_is_written(tmp_path: Path, text: str, message: str) -> None:
    runs = tmp_path / "runs"
    with pytest.raises(SpecError, match=message):
        run_spec(write(tmp_path, text), runs=runs, progress=False)
    assert not (runs / "fitscope.db").exists() or Store(runs).runs() == []


def test_a_data_file_named_in_a_spec_is_found_next_to_the_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fitscope.experiment.spec import load_spec

    folder = tmp_path / "experiments"
    folder.mkdir()
    rows = ["a,b,label", *(f"{i % 7},{i % 5},{'xy'[i % 2]}" for i in range(40))]
    (folder / "tiny.csv").write_text("\n".join(rows) + "\n")
    spec = folder / "spec.yaml"
    spec.write_text("data: {dataset: tiny.csv}\nmodel:\n  - Dense: {units: 2, activation: softmax}\nfit: {epochs: 1}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_spec(spec).data.dataset == str((folder / "tiny.csv").resolve())
    # A path given on the command line is relative to where the command runs, as any argument.
    assert load_spec(spec, ["data.dataset=other.csv"]).data.dataset == "other.csv"
    (elsewhere / "cwd.csv").write_text("a,label\n1,x\n")
    spec.write_text(spec.read_text().replace("tiny.csv", "cwd.csv"))
    assert load_spec(spec).data.dataset == "cwd.csv"  # not beside the spec: from the working folder
    spec.write_text(spec.read_text().replace("cwd.csv", "tiny.csv"))
    assert main(["run", str(spec), "--runs", str(tmp_path / "runs"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "finished"


def test_a_layer_that_does_not_fit_the_one_before_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A learner's first CNN on unflattened digits: one error naming the layer, its input and the fix; no run."""
    layers = "  - Conv2D: {filters: 4, kernel_size: 3}\n  - Flatten: {}\n  - Dense: {units: 10}\n"
    spec = write(tmp_path, "data: {dataset: digits, flatten: false}\nmodel:\n" + layers)
    assert main(["run", str(spec), "--runs", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fitscope run: error: model[0] (Conv2D) cannot take inputs of shape (8, 8): ValueError: ")
    assert err.endswith(" Give the images a channel axis first: `- Reshape: {target_shape: [8, 8, 1]}`.")
    assert "Traceback" not in err and not (tmp_path / "runs" / "fitscope.db").exists()
    spec.write_text(spec.read_text().replace("flatten: false", "flatten: true"))
    assert main(["run", str(spec), "--runs", str(tmp_path / "runs")]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(" The images arrive flattened: set data.flatten: false, then Reshape them to [height, width, 1].")
    )


def test_a_builders_own_compile_is_replaced_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = (
        "def sgd_model():\n"
        "    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation='softmax')])\n"
        "    model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')\n"
        "    return model\n"
    )
    spec = builder_spec(tmp_path, "compiled_builders", code, "sgd_model")
    run_spec(spec, runs=tmp_path / "runs", progress=False)
    assert capsys.readouterr().err == (
        "note: the builder compiled_builders:sgd_model returned a compiled model; fitscope compiles it again with "
        "the spec's compile section, here its defaults (optimizer rmsprop, loss sparse_categorical_crossentropy, "
        "metrics accuracy). Write `compile:` in the spec to choose.\n"
    )
    from fitscope.experiment.training import _build

    _build._NOTED_RECOMPILE.clear()  # the note comes once per process and builder
    spec.write_text(spec.read_text() + "compile: {optimizer: sgd}\n")  # chosen in the spec: nothing to say
    run_spec(spec, runs=tmp_path / "runs", progress=False)
    assert capsys.readouterr().err == ""


def test_binary_classification_with_one_sigmoid_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Keras's usual two-class setup trains; a width or class count that cannot work is named up front."""
    rows = ["a,b,label", *(f"{i % 7},{i % 5},{int(i % 7 > 3)}" for i in range(80))]
    (tmp_path / "two.csv").write_text("\n".join(rows) + "\n")
    base = ("data: {dataset: two.csv}\ncompile: {loss: binary_crossentropy, optimizer: adam, metrics: [accuracy]}\n"
            "fit: {epochs: 2}\nmodel:\n  - Dense: {units: 4, activation: relu}\n")  # fmt: skip
    spec = write(tmp_path, base + "  - Dense: {units: 1, activation: sigmoid}\n")
    result = run_spec(spec, runs=tmp_path / "runs", progress=False)
    assert result.status == "finished" and "val_accuracy" in result.history
    assert "warning: split: " in capsys.readouterr().err  # the tiny table repeats its rows across parts
    spec.write_text(base + "  - Dense: {units: 3, activation: sigmoid}\n")
    assert main(["run", str(spec), "--runs", str(tmp_path / "runs")]) == 2
    assert capsys.readouterr().err.strip() == (
        "fitscope run: error: compile.loss `binary_crossentropy` scores one probability per sample, but the model's "
        "output layer has 3 units. Make the last layer Dense(1, activation='sigmoid'), or use "
        "sparse_categorical_crossentropy with Dense(2, activation='softmax')."
    )
    spec.write_text(base.replace("two.csv", "digits") + "  - Dense: {units: 1, activation: sigmoid}\n")
    assert main(["run", str(spec), "--runs", str(tmp_path / "runs")]) == 2
    assert capsys.readouterr().err.strip() == (
        "fitscope run: error: compile.loss `binary_crossentropy` is for two classes; the data has 10. Use "
        "sparse_categorical_crossentropy with Dense(10, activation='softmax')."
    )


def test_a_metric_keras_cannot_compute_here_is_bad_input_and_leaves_no_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Precision counts binary decisions: with ten classes and integer labels Keras fails at the first step."""
    runs = tmp_path / "runs"
    argv = ["run", str(QUICK), "--set", "compile.metrics=[accuracy, precision]", "--set", "fit.epochs=1"]
    assert main([*argv, "--runs", str(runs)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(
            "fitscope run: error: the model cannot train on this data (compile.loss, compile.metrics and the labels "
            "must fit its output layer): "
        )
        and "Traceback" not in err
    )
    assert Store(runs).runs() == []  # nothing was trained, nothing is kept


def test_a_builders_input_shape_is_checked_against_the_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = "def for_ten():\n    return keras.Sequential([keras.Input((10,)), keras.layers.Dense(10)])\n"
    spec = builder_spec(tmp_path, "input_builders", code, "for_ten")
    assert main(["run", str(spec), "--runs", str(tmp_path / "runs")]) == 2
    assert capsys.readouterr().err.strip() == (
        "fitscope run: error: model: the builder 'input_builders:for_ten' makes a model for samples of shape (10,), "
        "but the data's samples have shape (64,) (data.flatten is true). Build it with keras.Input(shape=(64,)), "
        "or change data.flatten to match."
    )
    assert not (tmp_path / "runs" / "fitscope.db").exists()  # refused before a run was recorded


def test_a_model_builder_next_to_the_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`model: module:function` finds a module beside the spec; a model without keras.Input is built for the data."""
    code = (
        "def plain():\n    return keras.Sequential([keras.layers.Dense(10, activation='softmax')])\n"
        "def broken():\n    return keras.Sequential([keras.layers.Reshape((5, 5))])\n"
    )
    spec = builder_spec(tmp_path, "beside_spec_builders", code, "plain")
    assert run_spec(spec, runs=tmp_path / "runs", progress=False).status == "finished"
    spec.write_text(spec.read_text().replace(":plain", ":broken"))
    with pytest.raises(SpecError) as caught:
        run_spec(spec, runs=tmp_path / "runs", progress=False)
    assert str(caught.value) == (
        "model: the builder 'beside_spec_builders:broken' returned a model that cannot be built for inputs of shape "
        "(64,): ValueError: The total size of the tensor must be unchanged. Received: input_shape=(64,), "
        "target_shape=(5, 5). Start it with keras.Input(shape=(64,))."
    )
    # Trials that fail before they start keep their fold in the summary, and say why they have nothing to show.
    spec.write_text(spec.read_text().replace("beside_spec_builders:broken", "no_such_module:build"))
    runs = str(tmp_path / "cv runs")
    assert main(["cv", str(spec), "--folds", "2", "--runs", runs]) == 1
    assert "  fold 0: failed\n  fold 1: failed\n" in capsys.readouterr().out
    assert main(["cv", str(spec), "--folds", "2", "--runs", runs, "--json"]) == 1  # tried again, failed again
    folds = json.loads(capsys.readouterr().out)
    why = (
        "it failed: SpecError: model: cannot import the builder 'no_such_module:build' (No module named "
        "'no_such_module'). Give it as 'package.module:function', importable from the spec's folder, the working "
        "folder or the Python path"
    )
    first = folds["folds"][0]["run_id"]
    for command, message in (
        (["plot", "--group", folds["group_id"]],
         f"no run of {folds['group_id']} has epochs yet (run-fold0 failed, run-fold1 failed): there is nothing to "
         "draw."),
        (["diagnose", first], f"run {first} has no epochs ({why}), so there is nothing to diagnose."),
        (["test", first], f"run {first} has no epochs ({why}), so it has no weights to test."),
    ):  # fmt: skip
        assert main([*command, "--runs", runs]) == 2
        assert capsys.readouterr().err.strip() == f"fitscope {command[0]}: error: {message}"


def test_overrides_reach_keyword_arguments_and_name_what_is_wrong(tmp_path: Path) -> None:
    from fitscope.experiment.spec import load_spec

    overrides = ["compile.optimizer.adam.learning_rate=1e-3", "model[0].Dense.kernel_initializer=he_normal"]
    spec = load_spec(QUICK, overrides)
    assert spec.compile.optimizer == {"adam": {"learning_rate": 0.001}}  # the name opened, 1e-3 a number
    assert spec.model[0] == {"Dense": {"units": 32, "activation": "relu", "kernel_initializer": "he_normal"}}
    file = write(tmp_path, "data: {dataset: digits}\nmodel:\n  - Dense: {units: 10}\ncompile: {optimizer: {sgd: "
                           "{learning_rate: 2.5e-2}}}\n")  # fmt: skip
    assert load_spec(file).compile.optimizer == {"sgd": {"learning_rate": 0.025}}
    for override, message in [
        ("model[0].Dense.unit=3", "--set model[0].Dense.unit: `model.0.Dense.unit` is not in the spec; did you mean "
                                  "`model.0.Dense.units`?"),
        ("units=16", "--set units: `units` is not in the spec; the spec has it at `model[0].Dense.units` and "
                     "`model[1].Dense.units`"),
        ("fit.epochs={a", "--set fit.epochs: cannot read the value '{a' at line 1, column 3: expected ',' or '}', "
                          "but got '<stream end>'."),
        ("compile.optimizer.sgd=1", "--set compile.optimizer.sgd: `compile.optimizer` is `adam`; set "
                                    "`compile.optimizer=sgd` to change it."),
        ("compile.loss.name=x", "--set compile.loss.name: cannot go inside the value at `compile.loss`."),
    ]:  # fmt: skip
        with pytest.raises(SpecError) as caught:
            load_spec(QUICK, [override])
        # Python names the argument as Python does; the command line words it as its option.
        assert str(caught.value) == message.replace("--set", "`overrides`", 1)
        assert caught.value.worded({"overrides": "--set"}.get) == message


def test_a_bad_override_value_is_one_error_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(QUICK), "--set", "fit.epochs={a", "--runs", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "cannot read the value '{a'" in err and "Traceback" not in err
    # A value of the wrong type is named as the command line's, not the file's (where it is not)
    assert main(["run", str(QUICK), "--set", "split.test=all", "--runs", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "fitscope run: error: --set: `split.test`: expected a number or 'provided' (got 'all')"
    )
    bad = write(tmp_path, "model: []\nfit: {epochs: zero}\n")  # the file's own mistake still names the file
    assert main(["run", str(bad), "--set", "fit.batch_size=3", "--runs", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().startswith(f"fitscope run: error: {bad}: `fit.epochs`: Input should be")


def test_test_needs_a_test_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_spec(QUICK, overrides=["fit.epochs=1", "split.test=0"], runs=tmp_path, progress=False)
    assert main(["test", result.run_id, "--runs", str(tmp_path)]) == 2
    assert "has no test split" in capsys.readouterr().err
    assert main(["run", str(QUICK), "--set", "split.test=0", "--test", "--runs", str(tmp_path)]) == 2
    assert "this spec's split has no test part" in capsys.readouterr().err


def test_test_needs_saved_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_spec(QUICK, overrides=["fit.epochs=1", "record.checkpoint=null"], runs=tmp_path, progress=False)
    assert main(["test", result.run_id, "--runs", str(tmp_path)]) == 2
    assert "has no saved weights" in capsys.readouterr().err


def test_set_unknown_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(QUICK), "--set", "fit.epoch=3", "--runs", str(tmp_path)]) == 2
    assert "did you mean `fit.epochs`?" in capsys.readouterr().err


def test_book_specs_validate() -> None:
    toy = load_spec(EXAMPLES / "book_toy.yaml")
    assert (toy.fit.epochs, toy.fit.batch_size, toy.split.subsample) == (1000, 10, (700, 300))
    full = load_spec(EXAMPLES / "book_full.yaml")
    assert (full.fit.epochs, full.compile.optimizer) == (5, "rmsprop")


def test_bundled_specs_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """The book's specs ship inside the package: a bare name finds them from any folder."""
    import fitscope
    from fitscope.experiment.spec import BUNDLED_SPECS, bundled_spec_names

    monkeypatch.chdir(tmp_path)
    assert load_spec("book_toy") == load_spec("book_toy.yaml") == load_spec(EXAMPLES / "book_toy.yaml")
    assert bundled_spec_names() == ["book_full", "book_toy", "digits_quick"]
    from fitscope.cli._runs import SPEC_HELP  # written out so that --help needs no import of the spec model

    assert sorted(SPEC_HELP.split(": ")[1].split(", ")) == bundled_spec_names()
    assert BUNDLED_SPECS.parent == Path(fitscope.__file__).resolve().parent  # inside the installed package
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11 reads TOML")
    pyproject = tomllib.loads((EXAMPLES.parent / "pyproject.toml").read_text())
    assert "specs/*.yaml" in pyproject["tool"]["setuptools"]["package-data"]["fitscope"]
    (tmp_path / "book_toy.yaml").write_text("model: [{Dense: {units: 3}}]\nfit: {epochs: 2}\n")
    assert load_spec("book_toy.yaml").fit.epochs == 2  # a file of that name comes first
    assert main(["run", "nosuch", "--runs", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith(
        "nosuch: no such file. Give the path of a YAML spec, or the name of a spec fitscope ships: "
        "book_full, book_toy, digits_quick."
    )
    assert not (tmp_path / "runs").exists() or Store(tmp_path / "runs").runs() == []


@pytest.mark.integration
@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)")  # fmt: skip
def test_run_on_real_fashion_mnist(tmp_path: Path) -> None:
    spec = {
        "name": "fashion", "data": {"dataset": "fashion_mnist"},
        "split": {"val": 10000, "test": "provided", "shuffle": False, "subsample": [2000, 500]},
        "model": [{"Dense": {"units": 64, "activation": "relu"}}, {"Dense": {"units": 10, "activation": "softmax"}}],
        "fit": {"epochs": 5, "batch_size": 32}, "seed": 0,
    }  # fmt: skip
    result = run_spec(spec, runs=tmp_path, progress=False)
    assert result.status == "finished" and result.epochs == 5
    assert result.val["accuracy"] > 0.7  # a small MLP on 2000 clothing images
    info = Store(tmp_path).run(result.run_id).info()
    assert info.manifest.sizes == {"train": 2000, "val": 500, "test": 10000}


def test_run_as_subprocess(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fitscope", "run", str(QUICK), "--set", "fit.epochs=2", "--runs", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "finished, 2 epochs" in out.stdout and "2/2 epochs" in out.stderr


@pytest.mark.integration
def test_book_toy_on_real_mnist_quick(mnist_path: Path, tmp_path: Path) -> None:
    result = run_spec(
        EXAMPLES / "book_toy.yaml", overrides=[f"data.data_dir={mnist_path.parent}", "fit.epochs=5"],
        runs=tmp_path, progress=False, test=True,
    )  # fmt: skip
    assert result.status == "finished" and result.epochs == 5
    assert result.test is not None and 0.0 < result.test["accuracy"] < 1.0
    manifest = Store(tmp_path).run(result.run_id).info().manifest
    assert manifest is not None and manifest.sizes == {"train": 700, "val": 300, "test": 10000}


@pytest.mark.slow
@pytest.mark.integration
def test_demo_quick_on_real_mnist(mnist_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--quick", "--quiet", "--data-dir", str(mnist_path.parent), "--runs", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "The toy model" in out and "The full model" in out and "stalls near 50 %" in out
    store = Store(tmp_path)
    runs = store.runs()
    assert [r.name for r in runs] == ["book-toy", "book-full"]
    for info in runs:
        assert len(store.run(info.run_id).evaluations("test")) == 1
    full_test = store.run(runs[1].run_id).evaluations("test")[0]["metrics"]["accuracy"]
    assert full_test > 0.95


def _ctrl_c_after_three_epochs(command: list[str], runs: Path) -> subprocess.CompletedProcess[str]:
    """Start a fitscope command, press Ctrl-C (SIGINT) once its first run has 3 epochs, wait for it to end."""
    import signal
    import time

    job = subprocess.Popen([sys.executable, "-m", "fitscope", *command, "--runs", str(runs)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (runs / "fitscope.db").exists() and (infos := Store(runs).runs()) and infos[0].epochs >= 3:
                break
            time.sleep(0.1)
        job.send_signal(signal.SIGINT)
        out, err = job.communicate(timeout=120)
    finally:
        job.kill()
    return subprocess.CompletedProcess(job.args, job.returncode, out, err)


@pytest.mark.integration
def test_ctrl_c_stops_the_demo_and_says_how_to_go_on(mnist_path: Path, tmp_path: Path) -> None:
    """The first experiment is interrupted (recorded, resumable) and the second one never starts."""
    ended = _ctrl_c_after_three_epochs(["demo", "--quiet", "--data-dir", str(mnist_path.parent)], tmp_path)
    assert ended.returncode == 130, ended.stderr
    assert ended.stderr.strip().splitlines()[-1] == "fitscope demo: interrupted"
    (info,) = Store(tmp_path).runs()  # no book-full run
    assert (info.name, info.status) == ("book-toy", "interrupted")
    assert ended.stdout.strip().splitlines()[-1] == (
        f"Stopped after {info.epochs} epochs; `fitscope run book_toy --set data.data_dir={mnist_path.parent} "
        f"--resume {info.run_id} --runs {tmp_path}` continues this run."
    )


def test_an_interrupted_run_says_how_to_resume_it(tmp_path: Path) -> None:
    runs = tmp_path / "my runs"
    ended = _ctrl_c_after_three_epochs(["run", "digits_quick", "--set", "fit.epochs=5000", "--quiet"], runs)
    assert ended.returncode == 1, ended.stderr
    (info,) = Store(runs).runs()
    assert info.status == "interrupted" and ended.stdout.strip().splitlines()[-1] == (
        f"resume: fitscope run digits_quick --set fit.epochs=5000 --resume {info.run_id} --runs '{runs}'"
    )


def test_only_processes_fitscope_owns_freeze_their_imports() -> None:
    """The CLI and workers take Keras's objects out of the collector; a library call leaves its caller's alone."""
    script = (
        "import gc\n"
        "from fitscope import _process\n"
        "_process.freeze_imports()\n"
        "library = gc.get_freeze_count()\n"
        "_process.own_process()\n"
        "_process.freeze_imports()\n"
        "print(library, gc.get_freeze_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    library, owned = map(int, done.stdout.split())
    assert library == 0 and owned > 1000


@pytest.mark.parametrize("owned", [True, False], ids=["fitscope's process", "a library user's"])
def test_keras_loads_without_its_optional_extras_only_in_processes_fitscope_owns(owned: bool) -> None:
    """The CLI and workers skip Keras's scikit-learn and matplotlib extras (1 s of its import);
    fitscope's own uses of both still work, and a program using fitscope as a library keeps Keras whole."""
    script = (
        "import sys\n"
        "from fitscope import _process\n"
        f"if {owned}: _process.own_process()\n"
        "import keras\n"
        "loaded = [name for name in ('sklearn', 'matplotlib') if name in sys.modules]\n"
        "from sklearn.model_selection import KFold\n"
        "from matplotlib.figure import Figure\n"
        "from keras.src.wrappers import fixes\n"
        "print(loaded, fixes.sklearn is not None)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    if owned:
        assert done.stdout.split() == ["[]", "False"]
    else:
        assert done.stdout.split() == ["['sklearn',", "'matplotlib']", "True"]


def test_folds_reuse_compiled_programs_from_a_private_cache_removed_at_exit(tmp_path: Path) -> None:
    """In fitscope's own processes the second fold finds the programs the first compiled;
    the cache folder is the process's own and goes when it ends, with any a killed process left."""
    orphan = tmp_path / "fitscope-xla-999999999-left"  # no process has this id
    orphan.mkdir()
    script = (
        "import sys\n"
        "from fitscope import _process\n"
        "_process.own_process()\n"
        "import jax\n"
        "hits = []\n"
        "jax.monitoring.register_event_listener(\n"
        "    lambda event, **_: hits.append(event) if event.endswith('cache_hits') else None)\n"
        "from fitscope.experiment import cross_validate\n"
        f"result = cross_validate({str(QUICK)!r}, folds=2, overrides=['fit.epochs=1'], runs=sys.argv[1],\n"
        "                        say=lambda *_: None)\n"
        "print(_process._compile_cache, len(hits), [f['status'] for f in result.folds])\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "runs")], capture_output=True, text=True,
                          check=True, env=env)  # fmt: skip
    folder, hits, statuses = done.stdout.strip().split(maxsplit=2)
    assert Path(folder).parent == tmp_path and Path(folder).name.startswith("fitscope-xla-")
    assert int(hits) >= 2 and statuses == "['finished', 'finished']"
    assert not Path(folder).exists() and not orphan.exists()


def test_a_compilation_cache_the_user_configured_is_kept(tmp_path: Path) -> None:
    script = (
        "from fitscope import _process\n"
        "_process.own_process()\n"
        "import jax, keras\n"
        "_process.reuse_compiled_programs()\n"
        "print(_process._compile_cache, jax.config.jax_compilation_cache_dir)\n"
    )
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(tmp_path / "mine")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.split() == ["None", str(tmp_path / "mine")]


def test_steps_per_execution_fuses_an_epoch_unless_a_step_hook_needs_each_step() -> None:
    import keras

    from fitscope.experiment.training import steps_per_execution

    spec = load_spec(QUICK, ["fit.batch_size=10"])

    class EveryBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            pass

    class CoarseView(EveryBatch):
        coarse_batches = True

    assert steps_per_execution(spec, 700, []) == 70  # the whole epoch
    assert steps_per_execution(spec, 50_000, []) == 1000  # capped
    assert steps_per_execution(spec, 700, [], per_batch=True) == 1
    assert steps_per_execution(spec, 700, [EveryBatch()]) == 1
    assert steps_per_execution(spec, 5_000, [CoarseView()], view=CoarseView()) == 25  # ~20 reports an epoch
    assert steps_per_execution(spec, 700, [CoarseView()], view=CoarseView()) == 70  # short epochs stay whole


def test_standardize_uses_the_training_parts_statistics_only(tmp_path: Path) -> None:
    from fitscope.experiment.preparing import prepare

    rows = "\n".join(f"{i},{1000 + 10 * i},{i % 2}" for i in range(40))
    (tmp_path / "table.csv").write_text("small,large,label\n" + rows + "\n")
    spec = load_spec(write(tmp_path, "data: {dataset: table.csv, scale: standardize}\nsplit: {val: 0.25, test: 0.25}\n"
                                     "model:\n  - Dense: {units: 2, activation: softmax}\n"))  # fmt: skip
    prepared = prepare(spec)
    train_x = prepared.split.take("train")[0].astype(np.float64)
    np.testing.assert_allclose(prepared.arrays["train"][0].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(prepared.arrays["train"][0].std(axis=0), 1, atol=1e-5)
    for part in ("val", "test"):  # the training part's mean and spread, not the part's own
        raw = prepared.split.take(part)[0]
        expected = (raw - train_x.mean(axis=0)) / train_x.std(axis=0)
        np.testing.assert_allclose(prepared.arrays[part][0], expected, rtol=1e-5)
        assert prepared.arrays[part][0].dtype == np.float32


def test_a_store_error_in_training_says_how_to_resume_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fitscope.store import Run

    record = Run._write_epochs

    def fills_the_disk_at_epoch_3(self: Run, conn: object, epochs: list, fresh: bool) -> None:
        if any(epoch.epoch == 3 for epoch in epochs):
            raise StoreError("the disk holding fitscope.db is full (database or disk is full).")
        record(self, conn, epochs, fresh)  # type: ignore[arg-type]

    monkeypatch.setattr(Run, "_write_epochs", fills_the_disk_at_epoch_3)
    runs = tmp_path / "my runs"
    import signal

    ctrl_c = signal.getsignal(signal.SIGINT)
    assert main(["run", "digits_quick", "--set", "fit.epochs=6", "--quiet", "--runs", str(runs)]) == 2
    assert signal.getsignal(signal.SIGINT) is ctrl_c  # the stopped fit's Ctrl-C handler is not left behind
    (info,) = Store(runs).runs()
    assert info.epochs == 3
    assert capsys.readouterr().err.strip().splitlines()[-2:] == [
        "fitscope run: error: the disk holding fitscope.db is full (database or disk is full).",
        f"resume: fitscope run digits_quick --set fit.epochs=6 --resume {info.run_id} --runs '{runs}'",
    ]
    monkeypatch.setattr(Run, "_write_epochs", record)  # space freed: the printed command finishes the run
    again = ["run", "digits_quick", "--set", "fit.epochs=6", "--resume", info.run_id, "--quiet", "--runs", str(runs)]
    assert main(again) == 0
    assert Store(runs).run(info.run_id).info().epochs == 6


def _prices_csv(folder: Path, rows: int = 80) -> Path:
    rng = np.random.default_rng(0)
    area, rooms = rng.uniform(20, 120, rows), rng.integers(1, 5, rows)
    price = 0.03 * area + 0.2 * rooms + rng.normal(0, 0.05, rows)  # a number to predict, not a class
    lines = [f"{a:.1f},{r},{p:.3f}" for a, r, p in zip(area, rooms, price, strict=True)]
    (folder / "prices.csv").write_text("area,rooms,price\n" + "\n".join(lines) + "\n")
    return folder / "prices.csv"


REGRESSION = (
    "data: {dataset: prices.csv, label: price, task: regression, scale: standardize}\nsplit: {val: 0.25, test: 0.25}\n"
)


def test_a_regression_spec_trains_on_numbers_with_mse_and_mae(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fitscope.analysis import diagnose_run

    _prices_csv(tmp_path)
    spec = write(tmp_path, REGRESSION + "model:\n  - Dense: {units: 8, activation: relu}\n  - Dense: {units: 1}\n"
                 "fit: {epochs: 4, batch_size: 8}\n")  # fmt: skip
    loaded = load_spec(spec)
    assert (loaded.compile.loss, loaded.compile.metrics) == ("mse", ["mae"])  # a regression's defaults
    result = run_spec(spec, runs=tmp_path / "runs", test=True, progress=False)
    assert result.status == "finished" and set(result.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert set(result.val) == set(result.test or {}) == {"loss", "mae"}
    run = Store(tmp_path / "runs").run(result.run_id)
    assert run.info().manifest.class_counts == {"train": {}, "val": {}, "test": {}}  # type: ignore[union-attr]
    sentences = diagnose_run(run).sentences  # R² from the mse loss, in place of error levels
    assert any(s.startswith("Explained variance (R², from the mean squared error): train ") for s in sentences)
    # cross-validation folds a regression without classes; stratifying one is refused
    assert main(["cv", str(spec), "--folds", "2", "--set", "fit.epochs=1", "--runs", str(tmp_path / "runs")]) == 0
    assert main(["cv", str(spec), "--folds", "2", "--stratify", "--runs", str(tmp_path / "runs")]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("--stratify keeps class shares in every fold, and a regression's targets have no classes: drop it.")
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("model:\n  - Dense: {units: 3, activation: softmax}\n",
         r"^the model's output layer has 3 units but each sample has 1 target value\(s\) to predict\. "
         r"Make the last layer Dense\(1\) \(linear: no activation\)\.$"),
        ("model:\n  - Dense: {units: 1}\ncompile: {loss: sparse_categorical_crossentropy}\n",
         r"^compile\.loss `sparse_categorical_crossentropy` is a classification loss, but data\.task is regression\."),
        ("model:\n  - Dense: {units: 1}\ncompile: {metrics: [mae, accuracy]}\n",
         r"^compile\.metrics\[1\] `accuracy` scores classes, but data\.task is regression\. Use mae"),
        ("model:\n  - Dense: {units: 1}\nsplit: {stratify: true}\n",
         r"Invalid value for `split\.stratify`\. Received: split\.stratify=True\. Stratifying keeps class shares"),
    ],
)  # fmt: skip
def test_a_regression_spec_that_scores_classes_is_refused(tmp_path: Path, extra: str, message: str) -> None:
    _prices_csv(tmp_path)
    text = REGRESSION.replace("split: {val: 0.25, test: 0.25}\n", "") if "split:" in extra else REGRESSION
    with pytest.raises(SpecError, match=message):
        run_spec(write(tmp_path, text + extra), runs=tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs" / "fitscope.db").exists() or Store(tmp_path / "runs").runs() == []


def test_run_says_what_the_split_audit_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [f"{i % 20},{(i % 20) * 2},{i % 2}" for i in range(40)]  # every row twice: copies land across parts
    (tmp_path / "twice.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    spec = write(tmp_path, "data: {dataset: twice.csv}\nsplit: {val: 0.25}\nmodel:\n  - Dense: {units: 2, "
                           "activation: softmax}\nfit: {epochs: 1}\n")  # fmt: skip
    assert main(["run", str(spec), "--quiet", "--runs", str(tmp_path / "runs")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: split: ")]
    leak = (r"warning: split: \d+ sample\(s\) of val also occur in train \(e\.g\. index \d+ = index \d+\): "
            r"scores on val are inflated by leakage\.")  # fmt: skip
    assert any(re.fullmatch(leak, w) for w in warnings), warnings
    # cross-validation folds the same train and val parts, and a search's trials share them: each says so once
    for command in (["cv", str(spec), "--folds", "2"], ["tune", str(spec), "--param", "model[0].Dense.units=2,3"]):
        assert main([*command, "--runs", str(tmp_path / "runs")]) == 0
        assert [
            line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: split: ")
        ] == warnings


def _shifted_digits(folder: Path) -> Path:
    """Digits to train on (source.npz) and the same kind of digits inverted, to meet (target.npz), with a spec."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = digits.images.reshape(-1, 64).astype("uint8"), digits.target
    np.savez(folder / "source.npz", x=x[:1200], y=y[:1200])
    np.savez(folder / "target.npz", x=(16 - x[1200:]).astype("uint8"), y=y[1200:])
    return write(
        folder,
        "name: shifted\ndata: {dataset: source.npz, target: target.npz}\nsplit: {val: 0.5, train_dev: 0.2}\n"
        "model:\n  - Dense: {units: 32, activation: relu}\n  - Dense: {units: 10, activation: softmax}\n"
        "compile: {optimizer: adam}\nfit: {epochs: 20}\n",
    )


def test_a_spec_with_target_data_gets_a_train_dev_set_and_the_mismatch_diagnosis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fitscope.analysis import diagnose_run
    from fitscope.experiment import search

    spec = _shifted_digits(tmp_path)
    result = run_spec(spec, runs=tmp_path / "runs", test=True, progress=False)
    # Train and train-dev from data.dataset (1200), dev (split.val) and test from data.target (597).
    run = Store(tmp_path / "runs").run(result.run_id)
    assert run.info().manifest.sizes == {"train": 960, "train_dev": 240, "val": 298, "test": 299}
    assert {"train_dev_loss", "train_dev_accuracy"} <= set(result.history)
    diagnosis = diagnose_run(run)
    assert diagnosis.gaps.errors["train_dev"] == pytest.approx(1 - result.history["train_dev_accuracy"][-1])
    assert diagnosis.gaps.primary == "data_mismatch"  # inverted digits: well on train-dev, lost on dev
    # A search on the dev split scores every trial on train-dev too; cross-validation would mix the two data.
    found = search(spec, ["model[0].Dense.units=8,16"], overrides=["fit.epochs=2"], runs=tmp_path / "runs",
                   say=lambda _: None)  # fmt: skip
    trial = Store(tmp_path / "runs").run(found.ranking[0]["run_ids"][0])
    assert "train_dev_accuracy" in trial.history() and trial.info().manifest.sizes["train_dev"] == 240
    assert main(["cv", str(spec), "--folds", "2", "--runs", str(tmp_path / "runs")]) == 2
    assert capsys.readouterr().err == (
        "fitscope cv: error: cross-validation folds one dataset, and this spec trains on data.dataset and validates "
        "on data.target (a train-dev split): tune it with --select val, or run it alone.\n"
    )


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "split.test=0.2",
            "split.test: with data.target the test set is the rest of the target data, after "
            "split.val (its dev part); leave split.test out.",
        ),
        (
            "split.train_dev=1200",
            "Invalid value for `split.train_dev`. Received: split.train_dev=1200. It leaves no "
            "training samples of the source's 1200.",
        ),
        (
            "split.val=597",
            "Invalid value for `split.val`. Received: split.val=597. It leaves no test samples of the target's 597.",
        ),
        (
            "data.target=null",
            "split.train_dev: a train-dev set is held out of the training data when the dev and "
            "test sets come from other data, the data the model will meet: name it in data.target. "
            "(Without it, split.val already comes from the training data.)",
        ),
    ],
)
def test_a_train_dev_split_s_bad_settings_name_their_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, message: str
) -> None:
    spec = _shifted_digits(tmp_path)
    assert main(["run", str(spec), "--set", setting, "--runs", str(tmp_path / "runs")]) == 2
    assert capsys.readouterr().err.endswith(f"fitscope run: error: {message}\n")
    assert not (tmp_path / "runs" / "fitscope.db").exists() or Store(tmp_path / "runs").runs() == []


def test_builders_that_end_the_program_or_return_no_model_leave_no_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A spec's builder is code the spec runs: whatever it does, the command ends with one error and no run."""
    code = "import sys\ndef quits():\n    sys.exit(3)\ndef text():\n    return 'a model'\n"
    runs = tmp_path / "runs"
    cases = {
        "quits": "model: the builder 'ending_builders:quits' tried to end the program (SystemExit(3)) instead of "
        "returning a Keras model.",
        "text": "model: the builder 'ending_builders:text' returned str, not a Keras model.",
    }
    for function, message in cases.items():
        spec = builder_spec(tmp_path, "ending_builders", code, function)
        assert main(["run", str(spec), "--runs", str(runs)]) == 2
        assert capsys.readouterr().err.strip() == f"fitscope run: error: {message}"
    for builtin in ("sys:exit", "os:abort"):  # (os.abort would kill the process before any message)
        assert main(["run", str(QUICK), "--set", f"model={builtin}", "--runs", str(runs)]) == 2
        assert capsys.readouterr().err.strip() == (
            f"fitscope run: error: model: '{builtin}' is not a model builder but a built-in of Python; give a "
            "function of your own that takes no arguments and returns a Keras model."
        )
    assert not runs.exists()  # nothing was recorded


def test_absurd_sizes_and_checkpoint_values_are_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    cases = {
        "fit.epochs=1000000000000": "`fit.epochs`: at most 1,000,000 epochs: a run that long would not end, and "
        "every epoch adds rows to the store. To train until the model stops improving, add an EarlyStopping "
        "callback (got 1000000000000)",
        "fit.batch_size=10000000000000": "`fit.batch_size`: at most 2,147,483,647 (2**31 - 1): Keras counts "
        "samples in 32-bit integers. A batch_size at least the training set's size trains on all of it at once "
        "(got 10000000000000)",
        "record.checkpoint=0": "`record.checkpoint`: Input should be greater than or equal to 1 (got 0)",
    }
    for override, message in cases.items():
        assert main(["run", str(QUICK), "--set", override, "--runs", str(runs)]) == 2
        assert capsys.readouterr().err.strip() == f"fitscope run: error: --set: {message}"
    assert not runs.exists()


def test_one_class_labels_get_advice_that_works(tmp_path: Path) -> None:
    rows = "\n".join(f"{i % 7},{i % 3},same" for i in range(60))
    (tmp_path / "one.csv").write_text("a,b,label\n" + rows + "\n")
    spec = write(tmp_path, f"data: {{dataset: {tmp_path / 'one.csv'}}}\nmodel:\n  - Dense: {{units: 1}}\n")
    advice = r"the training labels hold 1 class\(es\): a classifier needs at least two to learn anything\. .* set data"
    with pytest.raises(SpecError, match=advice) as caught:
        run_spec(spec, runs=tmp_path / "runs", progress=False)
    assert "softmax" not in str(caught.value) and not (tmp_path / "runs").exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's")
def test_a_builder_others_can_change_is_not_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A spec runs its builder's code: never from a file or folder every user of the machine may write."""
    code = "raise SystemExit('this module must never be imported')\ndef build():\n    pass\n"
    spec = builder_spec(tmp_path, "shared_builders", code, "build")
    module = tmp_path / "shared_builders.py"
    for place in (module, tmp_path):
        place.chmod(place.stat().st_mode | 0o002)
        assert main(["run", str(spec), "--runs", str(tmp_path / "runs")]) == 2
        assert capsys.readouterr().err.strip() == (
            f"fitscope run: error: model: fitscope will not run the builder 'shared_builders:build' from {place}: "
            "every user of this machine may change it, so the code a spec runs could be anyone's. Keep builder "
            "modules in a folder only you can write (chmod o-w)."
        )
        place.chmod(place.stat().st_mode & ~0o002)
    assert not (tmp_path / "runs").exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB filesystem (tmpfs), where this machine lets the tests mount one."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here ({mounted.stderr.decode().strip() or 'not root'})")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_stops_the_run_with_its_own_message_and_a_resume_after_freeing_space_goes_on(
    small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = small_disk / "runs"
    settings = ["--set", "record.checkpoint=1", "--set", "record.tensorboard=false", "--quiet", "--runs", str(runs)]
    assert main(["run", "digits_quick", "--set", "fit.epochs=1", *settings]) == 0
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(bytes(free - 120_000))  # about 120 kB left: a few epochs' worth
    assert main(["run", "digits_quick", "--set", "fit.epochs=400", *settings]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err) and len(err) == 2, err
    assert re.match(r"fitscope run: error: (the disk holding .*fitscope\.db is full|cannot write checkpoint .*No "
                    r"space left on device)", err[0]), err  # fmt: skip
    run_id = Store(runs).runs()[-1].run_id
    assert err[1].startswith("resume: fitscope run digits_quick --set fit.epochs=400 ") and run_id in err[1]
    stopped_at = Store(runs, readonly=True).run(run_id).info().epochs
    assert 0 < stopped_at < 400
    (small_disk / "filler").unlink()
    assert main(["run", "digits_quick", "--set", f"fit.epochs={stopped_at + 3}", "--resume", run_id, *settings]) == 0
    run = Store(runs, readonly=True).run(run_id)
    assert [epoch for epoch, _, _ in run.epochs()] == list(range(stopped_at + 3)) and run.info().status == "finished"
    assert doctor(runs).findings == ()


def test_a_new_store_on_a_full_disk_leaves_no_half_made_file(
    small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (small_disk / "filler").write_bytes(bytes(shutil.disk_usage(small_disk).free - 20_000))
    runs = small_disk / "runs"
    assert main(["run", "digits_quick", "--quiet", "--runs", str(runs)]) == 2
    assert re.fullmatch(
        rf"fitscope run: error: cannot create the run store {re.escape(str(runs))}/fitscope\.db \((database or disk "
        r"is full|disk I/O error)\); nothing was left behind\. Free some space, or choose another folder with --runs "
        r"DIR or FITSCOPE_HOME\.\n",
        capsys.readouterr().err,
    )
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
