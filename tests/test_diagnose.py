"""``fitscope diagnose`` on stored runs and on error tables; the mismatch example end to end."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fitscope.analysis import diagnose_run
from fitscope.cli import main
from fitscope.store import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def stored_run(root: Path, epochs: int = 200, *, val: bool = True) -> str:
    store = Store(root)
    run = store.start_run(name="synthetic", split={"index_hash": "abc", "class_counts": {"train": {"0": 5, "1": 5}}})
    t = np.arange(epochs)
    train = 2.0 * np.exp(-t / 20) + 0.05
    val_loss = 2.0 * np.exp(-t / 20) + 0.3 + 0.004 * np.maximum(t - 80, 0)
    for e in range(epochs):
        metrics = {"loss": train[e], "accuracy": 0.99}
        if val:
            metrics |= {"val_loss": val_loss[e], "val_accuracy": 0.90}
        run.record_epoch(e, metrics, started_at=e, duration=1)
    run.finish()
    return run.run_id


def test_diagnose_run_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = stored_run(tmp_path)
    assert main(["diagnose", run_id, "--runs", str(tmp_path), "--human-error", "0.005", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["errors"]) == {"human", "train", "train_dev", "dev", "test"}
    assert data["errors"]["train_dev"] is None and data["errors"]["test"] is None
    assert data["errors"]["train"] == pytest.approx(0.01) and data["errors"]["dev"] == pytest.approx(0.10)
    assert set(data["gaps"]) == {"avoidable_bias", "variance", "data_mismatch", "dev_overfitting"}
    assert data["primary"] == "variance" and data["actions"]
    curve = data["curve"]
    assert curve["verdict"] == "overfitting" and 60 <= curve["overfit_onset"] <= 100
    assert {"best_epoch", "suggested_patience"} <= set(curve)


def test_diagnose_run_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = stored_run(tmp_path)
    assert main(["diagnose", run_id, "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Overfitting starts around epoch" in out and "Primary problem: variance" in out
    assert "EarlyStopping(monitor='val_loss', patience=" in out
    diagnosis = diagnose_run(Store(tmp_path).run(run_id))
    assert str(diagnosis).splitlines() == diagnosis.sentences and diagnosis.sentences[0] in out  # print() in Python


def test_dev_reuse_is_counted(tmp_path: Path) -> None:
    stored_run(tmp_path)
    store = Store(tmp_path)
    other = store.start_run(name="other", params={"units": 64}, split={"index_hash": "abc"})
    for e in range(3):
        other.record_epoch(e, {"loss": 1.0, "val_loss": 1.1}, started_at=e, duration=1)
    for _ in range(2):
        other.record_evaluation("test", {"accuracy": 0.8})
    diagnosis = diagnose_run(other)
    assert diagnosis.configurations_on_split == 2 and diagnosis.test_evaluations == 2
    assert diagnosis.gaps.errors["test"] == pytest.approx(0.2)
    assert any("2 different configurations" in s for s in diagnosis.sentences)
    # Removing the first run does not undo that the split judged its configuration.
    (first,) = [info.run_id for info in store.runs() if info.run_id != other.run_id]
    store.delete(first)
    assert diagnose_run(other).configurations_on_split == 2


def test_short_run_still_gets_gap_analysis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = stored_run(tmp_path, epochs=2)
    assert main(["diagnose", run_id, "--runs", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["curve"] is None and "at least 3 epochs" in data["curve_note"]
    assert data["primary"] == "variance"


def test_run_without_validation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = stored_run(tmp_path, epochs=5, val=False)
    assert main(["diagnose", run_id, "--runs", str(tmp_path)]) == 2
    assert "has no validation metrics" in capsys.readouterr().err


def test_errors_alone(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["diagnose", "--errors", "human=0.01,train=0.08,train_dev=0.09,dev=0.10,test=0.11", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["primary"] == "avoidable_bias" and data["curve"] is None
    assert data["gaps"]["avoidable_bias"] == pytest.approx(0.07)
    assert main(["diagnose", "--errors", "train=0.1,dev=0.2"]) == 0  # as a table: notes read as sentences
    out = capsys.readouterr().out
    assert "\nNo human-level error given: 0 is used, so avoidable bias is the whole training error.\n" in out
    assert "\nWithout a train-dev set, variance is measured as dev - train" in out


def test_errors_with_the_sizes_of_their_sets(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["diagnose", "--errors", "human=0,train=0.005,dev=0.02,test=0.08"]
    assert main([*argv, "--sizes", "dev=10000,test=10000"]) == 0
    assert "Primary problem: dev overfitting." in capsys.readouterr().out
    assert main([*argv, "--sizes", "dev=50,test=50"]) == 0  # the 6-point gap is within the noise of 50 images
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Error levels: human 0.0%, train 0.5%, dev 2.0% (±3.1%), test 8.0% (±4.3%)."
    assert (
        "Primary problem: none." in out
        and out[-1] == "Next: measure on bigger held-out sets before acting on these gaps."
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--errors", "train=1.5"], "outside [0, 1]"),
        (["--errors", "trian=0.1"], "unknown error name 'trian'"),
        ([], "give a RUN to diagnose, a cv group (--group GROUP), or --errors NAME=VALUE,... (one)."),
        (["last", "--group", "cv"], "give a RUN to diagnose, a cv group (--group GROUP), or --errors"),
        (
            ["--errors", "dev=0.1", "--sizes", "train=300"],
            "--sizes: 'train' is not a held-out set. Use train_dev, dev, test.",
        ),
        (["--errors", "dev=0.1", "--sizes", "dev=3.5"], "--sizes: dev='3.5' is not a whole number of samples."),
        (["--errors", "dev=0.1", "--sizes", "dev=0"], "--sizes: dev=0: a set needs at least one sample."),
        (["last", "--sizes", "dev=30"], "--sizes goes with --errors; a recorded run knows the sizes of its sets."),
    ],
)
def test_bad_diagnose_input(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.integration
def test_mismatch_example_names_data_mismatch(mnist_path: Path, tmp_path: Path) -> None:
    env = {**os.environ, "FITSCOPE_DATA": str(mnist_path.parent)}
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "mismatch" / "mismatch.py"), "--train", "3000", "--target", "2000",
         "--epochs", "3", "--runs", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Primary problem: data mismatch" in out.stdout and "train-dev set is held-out data" in out.stdout
    (info,) = Store(tmp_path).runs()
    history = Store(tmp_path).run(info.run_id).history()
    assert len(history["train_dev_accuracy"]) == 3 and not math.isnan(history["train_dev_loss"][0])
    report = diagnose_run(Store(tmp_path).run(info.run_id))
    assert report.gaps.primary == "data_mismatch"


@pytest.mark.integration
def test_the_mismatch_spec_names_data_mismatch_without_python_code(mnist_path: Path, tmp_path: Path) -> None:
    env = {**os.environ, "FITSCOPE_DATA": str(mnist_path.parent)}
    subprocess.run(
        [sys.executable, str(EXAMPLES / "mismatch" / "mismatch.py"), "--train", "3000", "--target", "2000",
         "--write-data", str(tmp_path)],
        check=True, capture_output=True, timeout=300, env=env,
    )  # fmt: skip
    spec = tmp_path / "mismatch.yaml"
    spec.write_text((EXAMPLES / "mismatch" / "mismatch.yaml").read_text())  # beside its data, as in examples/
    assert main(["run", str(spec), "--set", "fit.epochs=3", "--runs", str(tmp_path / "runs")]) == 0
    (info,) = Store(tmp_path / "runs").runs()
    assert info.manifest.sizes == {"train": 2700, "train_dev": 300, "val": 1000, "test": 1000}
    assert diagnose_run(Store(tmp_path / "runs").run(info.run_id)).gaps.primary == "data_mismatch"


def test_a_run_without_accuracy_gets_its_curves_read_and_no_made_up_error_levels(tmp_path: Path) -> None:
    """A regression recorded through the recorder: the curve verdict stands, the error analysis says it cannot run."""
    run = Store(tmp_path).start_run(name="regression")
    for epoch in range(40):
        loss = 1.0 / (epoch + 1)
        run.record_epoch(epoch, {"loss": loss, "mae": loss, "val_loss": loss + 0.1, "val_mae": loss},
                         started_at=epoch, duration=1)  # fmt: skip
    run.finish()
    sentences = diagnose_run(run).sentences
    assert "No error levels: the run records no accuracy, so the error analysis (avoidable bias, variance, data " \
        "mismatch), which compares error rates, is left out." in sentences  # fmt: skip
    assert not any(s.startswith(("Error levels", "Next:", "No human-level", "Primary problem")) for s in sentences)
    assert sentences[0] == "The lowest val_loss, 0.125, was at epoch 39 (the best epoch)."
    assert sentences[1].startswith("Validation loss was still falling")


def test_no_gap_standing_out_reads_as_one_sentence(tmp_path: Path) -> None:
    run = Store(tmp_path).start_run(name="fine")
    for epoch in range(40):
        run.record_epoch(epoch, {"loss": 0.1, "accuracy": 0.99, "val_loss": 0.11, "val_accuracy": 0.985},
                         started_at=epoch, duration=1)  # fmt: skip
    run.finish()
    sentences = diagnose_run(run, human_error=0.005).sentences
    assert sentences[-1] == "Next: no gap stands out: the model is near the best this data allows."


def test_small_held_out_sets_show_their_noise_and_keep_chance_gaps_out(tmp_path: Path) -> None:
    sizes = {"train": 90, "val": 30, "test": 30}
    run = Store(tmp_path).start_run(name="iris", split={"index_hash": "abc", "sizes": sizes})
    for epoch in range(40):
        run.record_epoch(epoch, {"loss": 0.1, "accuracy": 0.995, "val_loss": 0.35, "val_accuracy": 0.90},
                         started_at=epoch, duration=1)  # fmt: skip
    run.record_evaluation("test", {"loss": 0.4, "accuracy": 0.8667}, epoch=39)
    run.finish()
    sentences = diagnose_run(run, human_error=0.0).sentences
    # One standard error on 30 samples: about 6 points. The 9.5-point variance gap is within two of them.
    assert (
        "Error levels (the weights after epoch 39, the last): human 0.0%, train 0.5%, dev 10.0% (±6.1%), "
        "test 13.3% (±6.5%)." in sentences
    )
    assert "No gap stands out beyond the sampling noise of the held-out sets." in sentences
    assert sentences[-1] == "Next: measure on bigger held-out sets before acting on these gaps."


def test_a_stalled_run_is_told_to_learn_first_not_to_grow(tmp_path: Path) -> None:
    classes = {"train": {"a": 40, "b": 40, "c": 40}}
    run = Store(tmp_path).start_run(name="wine", split={"index_hash": "abc", "class_counts": classes})
    for epoch in range(40):  # unscaled inputs: one step, then nothing moves
        run.record_epoch(epoch, {"loss": 10.7961, "accuracy": 0.3302, "val_loss": 10.7454, "val_accuracy": 0.3333},
                         started_at=epoch, duration=1)  # fmt: skip
    run.finish()
    diagnosis = diagnose_run(run)
    assert diagnosis.curve is not None and diagnosis.curve.verdict == "stalled"
    assert diagnosis.sentences[0].startswith("The training loss has not moved since epoch 0 (10.8 at every epoch)")
    assert not any(s.startswith(("Best epoch", "Training accuracy is only")) for s in diagnosis.sentences)
    assert diagnosis.sentences[-1] == (
        "Next: make the model learn first: scale the inputs or lower the learning rate, and train again; "
        "then read the error levels."
    )


def test_a_regression_gets_its_explained_variance(tmp_path: Path) -> None:
    stats = {"train": {"mean": 150.0, "variance": 6000.0}, "val": {"mean": 152.0, "variance": 6400.0},
             "test": {"mean": 149.0, "variance": 5000.0}}  # fmt: skip
    run = Store(tmp_path).start_run(name="diabetes", spec={"compile": {"loss": "mse"}},
                                    split={"index_hash": "abc", "target_stats": stats})  # fmt: skip
    for epoch in range(20):
        run.record_epoch(epoch, {"loss": 2220.0 + (20 - epoch), "mae": 40.0, "val_loss": 3136.0 + (20 - epoch),
                                 "val_mae": 44.0}, started_at=epoch, duration=1)  # fmt: skip
    run.record_evaluation("val", {"loss": 3136.0, "mae": 44.0}, epoch=19)
    run.record_evaluation("test", {"loss": 3500.0, "mae": 45.0}, epoch=19)
    run.finish()
    diagnosis = diagnose_run(run)
    assert diagnosis.explained == pytest.approx({"train": 1 - 2221 / 6000, "val": 1 - 3136 / 6400, "test": 0.3})
    assert "Explained variance (R², from the mean squared error): train 0.63, val 0.51, test 0.30. 0 is what " \
        "predicting the mean scores, 1 a perfect fit." in diagnosis.sentences  # fmt: skip
    assert not any(s.startswith("No error levels") for s in diagnosis.sentences)
    assert diagnosis.to_dict()["explained_variance"] == diagnosis.explained
    # worse than the mean on validation data: said in words
    worse = Store(tmp_path).start_run(name="bad", spec={"compile": {"loss": "mse"}},
                                      split={"index_hash": "abc", "target_stats": stats})  # fmt: skip
    for epoch in range(5):
        worse.record_epoch(epoch, {"loss": 9000.0 - epoch, "val_loss": 9000.0 - epoch}, started_at=epoch, duration=1)
    worse.finish()
    assert "On validation data the model does worse than predicting the mean: it has not learned yet." \
        in diagnose_run(worse).sentences  # fmt: skip


def _book_toy(root: Path) -> str:
    """The book's toy model as fitscope recorded it (300 epochs, seed 0), with an MNIST manifest."""
    recorded = json.loads((Path(__file__).parent / "data" / "book_toy_300.json").read_text())
    store = Store(root)
    split = {"index_hash": "toy", "dataset": "mnist", "sizes": recorded["sizes"],
             "class_counts": {"train": {str(c): 70 for c in range(10)}}}  # fmt: skip
    run = store.start_run(name="book-toy", split=split)
    history = recorded["history"]
    for epoch in range(len(history["loss"])):
        run.record_epoch(epoch, {name: values[epoch] for name, values in history.items()}, started_at=epoch,
                         duration=1)  # fmt: skip
    run.finish()
    return run.run_id


def test_the_book_s_toy_curve_tells_one_story(tmp_path: Path) -> None:
    """One best epoch (the raw minimum), the onset labelled as smoothed, both problems, one ordered list."""
    sentences = diagnose_run(Store(tmp_path).run(_book_toy(tmp_path))).sentences
    text = "\n".join(sentences)
    assert sentences[0] == "The lowest val_loss, 1.255, was at epoch 150 (the best epoch)."
    assert "bottomed out" not in text and text.count("best epoch") >= 1
    assert "Overfitting starts around epoch 146 (on the smoothed curve)" in text
    assert (
        "After epoch 150 validation loss rose (1.255 -> 1.381) while validation accuracy stayed about the same "
        "(57.3% -> 56.3%): the model grows more confident in its wrong answers." in text
    )
    assert "Error levels (the weights after epoch 299, the last): human 0.2%, train 22.0%, dev 43.7% (±2.8%)." in text
    assert "Human-level error 0.2% is the human error usually quoted for MNIST (LeCun et al., 1995)" in text
    assert "At the best epoch (150) they were train 30.7%, dev 42.7%: a model stopped there would be judged" in text
    assert "The model both underfits and overfits from about epoch 146 (variance 21.7%). Fix the bias first" in text
    assert (
        "EarlyStopping(monitor='val_loss', patience=0) would have stopped after epoch 37, keeping that epoch's "
        "weights (epoch 37: val_loss 1.467, val_accuracy 47.0%); with restore_best_weights=True it keeps epoch 36's"
    ) in text
    assert "EarlyStopping(monitor='val_loss', patience=41) would have stopped after epoch 191" in text
    (next_line,) = [s for s in sentences if s.startswith("Next: ")]
    assert next_line.startswith("Next: train a bigger model (more units or layers)")  # bias first...
    assert next_line.endswith("; then stop at the best epoch (the EarlyStopping above).")  # ...then the overfitting
    assert next_line.index("bigger model") < next_line.index("then get more training data")


def test_the_best_epoch_is_the_same_in_runs_diagnose_and_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = _book_toy(tmp_path)
    assert main(["runs", "--runs", str(tmp_path)]) == 0
    assert "val_loss 1.255 @ 150" in capsys.readouterr().out
    assert main(["diagnose", run_id, "--runs", str(tmp_path), "--json"]) == 0
    curve = json.loads(capsys.readouterr().out)["curve"]
    assert (curve["best_epoch"], round(curve["best_value"], 3), curve["overfit_onset"]) == (150, 1.255, 146)
    assert [(r["patience"], r["stopped_epoch"], r["best_epoch"]) for r in curve["early_stopping"]] == [
        (0, 37, 36), (41, 191, 150)]  # fmt: skip


def test_a_given_human_error_replaces_the_dataset_s(tmp_path: Path) -> None:
    diagnosis = diagnose_run(Store(tmp_path).run(_book_toy(tmp_path)), human_error=0.01)
    assert diagnosis.gaps.errors["human"] == 0.01 and diagnosis.human_source == "given"
    assert not any("usually quoted" in s for s in diagnosis.sentences)


def test_early_stopping_replay_follows_keras_rule() -> None:
    from fitscope.analysis._early_stopping import replay_early_stopping

    values = [1.0, 0.8, 0.9, 0.7, 0.75, 0.76, 0.77, 0.6]
    assert replay_early_stopping(values, patience=0).stopped_epoch == 2  # the first epoch without improvement
    two = replay_early_stopping(values, patience=2)
    assert (two.stopped_epoch, two.best_epoch, two.kept_epoch) == (5, 3, 5)
    never = replay_early_stopping(values, patience=10)
    assert (never.stopped_epoch, never.best_epoch, never.kept_epoch) == (None, 7, 7)


@pytest.mark.parametrize("patience", [0, 2, 10])
def test_early_stopping_replay_matches_keras_itself(patience: int) -> None:
    """Keras's EarlyStopping, fed the same monitored values, stops after the same epoch."""
    import keras

    from fitscope.analysis._early_stopping import replay_early_stopping

    values = [1.0, 0.8, 0.9, 0.7, 0.75, 0.76, 0.77, 0.6, 0.65, 0.66, 0.67]

    class Feed(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            assert logs is not None
            logs["val_loss"] = values[epoch]

    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.zeros((4, 2)), np.zeros(4), epochs=len(values), verbose=0, callbacks=[Feed(), stopper])
    replay = replay_early_stopping(values, patience=patience)
    trained = len(history.history["loss"])
    assert (replay.stopped_epoch if replay.stopped_epoch is not None else len(values) - 1) == trained - 1
    assert replay.best_epoch == stopper.best_epoch


def test_a_model_that_cannot_fit_its_training_data_is_told_to_suspect_the_data(tmp_path: Path) -> None:
    from fitscope.data import Dataset, split_dataset

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    x[100:120] = x[:20]  # the same inputs again...
    y = np.repeat([0, 1], 100)  # ...with the other label
    split = split_dataset(Dataset("conflicts", x, y, ["a", "b"]), val=0.25, seed=0)
    assert split.audit.conflicting_labels["train"] > 0
    assert any("share their input with a sample of another label" in w for w in split.audit.warnings)
    run = Store(tmp_path).start_run(name="conflicts", split=split)
    for epoch in range(60):
        run.record_epoch(epoch, {"loss": 0.9 - epoch / 1000, "accuracy": 0.6, "val_loss": 0.95 - epoch / 1000,
                                 "val_accuracy": 0.55}, started_at=epoch, duration=1)  # fmt: skip
    run.finish()
    sentences = diagnose_run(run).sentences
    conflicting = split.audit.conflicting_labels["train"]
    assert (
        f"The data may be part of it: {conflicting} training sample(s) share their input with a sample of another "
        "label, and no model can fit both. Check those labels (the split's audit lists examples)."
    ) in sentences


def test_a_test_error_far_above_validation_is_explained(tmp_path: Path) -> None:
    sizes = {"train": 5000, "val": 2000, "test": 2000}
    run = Store(tmp_path).start_run(name="tuned", split={"index_hash": "abc", "sizes": sizes})
    for epoch in range(30):
        run.record_epoch(epoch, {"loss": 0.1, "accuracy": 0.97, "val_loss": 0.15, "val_accuracy": 0.95},
                         started_at=epoch, duration=1)  # fmt: skip
    run.record_evaluation("test", {"loss": 0.5, "accuracy": 0.85}, epoch=29)
    run.finish()
    sentences = diagnose_run(run, human_error=0.02).sentences
    assert (
        "The test error (15.0%) is well above the validation error (5.0%), beyond the sets' sampling noise: training "
        "and validation look fine but the test does not. Either the validation set was tuned on too often (only one "
        "configuration was scored on the validation split, so tuning on it explains little), or the test data "
        "differs from the validation data (a mismatch: compare a few of each by hand)."
    ) in sentences
