"""Models people can use: every finished run's final.keras and best.keras, and `fitscope predict`."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fitscope.cli import main
from fitscope.experiment.preparing import prepare
from fitscope.experiment.spec import load_spec
from fitscope.store import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Loads a .keras file in a process where fitscope cannot be imported, predicts on the arrays of an .npz,
# prints the class probabilities as JSON.
LOAD_WITHOUT_FITSCOPE = """
import json, sys
sys.modules["fitscope"] = None  # import fitscope fails here
import keras, numpy as np
custom = {}
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])
    import layers_of_mine
    custom = {"mine>Twice": layers_of_mine.Twice}
model = keras.saving.load_model(sys.argv[1], custom_objects=custom)
print(json.dumps(model.predict(np.load(sys.argv[2])["x"], verbose=0).tolist()))
"""


def _load_elsewhere(backend: str, model: Path, arrays: Path, *extra: str) -> np.ndarray:
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_FITSCOPE, str(model), str(arrays), *extra],
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return np.asarray(json.loads(done.stdout))


def _backends() -> list[str]:
    return ["jax", *(name for name in ("torch", "tensorflow") if importlib.util.find_spec(name) is not None)][:2]


@pytest.fixture
def digits_run(tmp_path: Path) -> tuple[Path, str]:
    assert main(["run", "digits_quick", "--set", "fit.epochs=4", "--quiet", "--runs", str(tmp_path)]) == 0
    return tmp_path, Store(tmp_path).runs()[-1].run_id


def test_a_finished_run_keeps_its_final_and_best_models_loadable_without_fitscope(
    digits_run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, run_id = digits_run
    run = Store(root).run(run_id)
    final, best = run.checkpoint_dir / "final.keras", run.checkpoint_dir / "best.keras"
    assert final.is_file() and best.is_file()
    x_val, y_val = prepare(load_spec("digits_quick")).arrays["val"]
    np.savez(tmp_path / "val.npz", x=x_val)
    history = run.history()
    best_epoch = int(np.argmin(history["val_loss"]))
    for backend in _backends():  # the default backend and one other, when installed
        ended = _load_elsewhere(backend, final, tmp_path / "val.npz")
        accuracy = float(np.mean(ended.argmax(axis=1) == y_val))
        assert accuracy == pytest.approx(run.evaluations("val")[-1]["metrics"]["accuracy"], abs=1e-6), backend
        kept = _load_elsewhere(backend, best, tmp_path / "val.npz")
        assert float(np.mean(kept.argmax(axis=1) == y_val)) == pytest.approx(
            history["val_accuracy"][best_epoch], abs=1e-6
        )
    capsys.readouterr()
    assert main(["runs", "show", run_id, "--runs", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"final model (keras.saving.load_model): {final}\n" in out
    assert f"best model (keras.saving.load_model): {best}\n" in out
    assert "custom_objects" not in out  # Keras's own layers only


def test_a_builder_s_own_layer_is_named_and_the_model_still_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "layers_of_mine.py").write_text(
        "import keras\n\n"
        "@keras.saving.register_keras_serializable(package='mine')\n"
        "class Twice(keras.layers.Layer):\n"
        "    def call(self, x):\n        return 2 * x\n\n"
        "def build():\n"
        "    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation='relu'), Twice(),\n"
        "                             keras.layers.Dense(10, activation='softmax')])\n"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text("data: {dataset: digits}\nmodel: layers_of_mine:build\nfit: {epochs: 2}\nseed: 1\n")
    root = tmp_path / "runs"
    assert main(["run", str(spec), "--quiet", "--runs", str(root)]) == 0
    run = Store(root).runs()[-1]
    capsys.readouterr()
    assert main(["runs", "show", run.run_id, "--runs", str(root)]) == 0
    assert "loading it needs these classes importable or as custom_objects: mine>Twice\n" in capsys.readouterr().out
    prepared = prepare(load_spec(spec))
    np.savez(tmp_path / "five.npz", x=prepared.arrays["val"][0][:5])
    loaded = _load_elsewhere("jax", Store(root).run(run.run_id).checkpoint_dir / "final.keras", tmp_path / "five.npz",
                             str(tmp_path))  # fmt: skip
    assert loaded.shape == (5, 10)
    digits = tmp_path / "digits.npy"
    np.save(digits, prepared.split.take("val")[0][:5])  # the same five, raw
    assert main(["predict", run.run_id, str(digits), "--json", "--runs", str(root)]) == 0  # (imports the builder)
    found = json.loads(capsys.readouterr().out)
    assert np.asarray([row[2:] for row in found["rows"]], dtype=float) == pytest.approx(loaded, abs=1e-5)


def _wine_run(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copy(EXAMPLES / "tabular" / "wine.yaml", tmp_path)
    made = subprocess.run([sys.executable, str(EXAMPLES / "tabular" / "make_csv.py"), "wine", "--output",
                           str(tmp_path / "wine.csv")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    root = tmp_path / "runs"
    assert main(["run", str(tmp_path / "wine.yaml"), "--set", "fit.epochs=5", "--quiet", "--runs", str(root)]) == 0
    return tmp_path / "wine.yaml", root


def test_predict_applies_the_run_s_preprocessing_and_gives_class_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, root = _wine_run(tmp_path)
    prepared = prepare(load_spec(spec))
    val = prepared.split.parts["val"]
    with (tmp_path / "wine.csv").open(encoding="utf-8") as file:
        rows = list(csv.reader(file))
    header, body = rows[0], [rows[1 + i] for i in val]
    # New samples as a user has them: raw measurements, the columns in another order, the label column too.
    order = list(reversed(range(len(header))))
    with (tmp_path / "new.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([header[i] for i in order])
        writer.writerows([[row[i] for i in order] for row in body])
    out = tmp_path / "predictions.csv"
    capsys.readouterr()
    assert main(["predict", "last", str(tmp_path / "new.csv"), "-o", str(out), "--runs", str(root)]) == 0
    assert f"{len(val)} predictions written to {out}\n" in capsys.readouterr().out
    with out.open(encoding="utf-8") as file:
        written = list(csv.reader(file))
    assert written[0] == ["predicted", "probability", "p_cultivar_0", "p_cultivar_1", "p_cultivar_2"]
    probabilities = np.asarray([row[2:] for row in written[1:]], dtype=float)
    assert probabilities.sum(axis=1) == pytest.approx(1.0, abs=1e-4)
    import keras

    model = keras.saving.load_model(Store(root).run("last").checkpoint_dir / "final.keras")
    expected = model.predict(prepared.arrays["val"][0], verbose=0)  # the standardised arrays training used
    assert probabilities == pytest.approx(expected, abs=1e-5)
    names = np.asarray(prepared.inputs.class_names)[expected.argmax(axis=1)]
    assert [row[0] for row in written[1:]] == names.tolist()

    assert main(["predict", "last", str(tmp_path / "new.csv"), "--best", "-o", str(tmp_path / "p.npz"),
                 "--runs", str(root)]) == 0  # fmt: skip
    with np.load(tmp_path / "p.npz") as kept:
        assert kept["classes"].tolist() == ["cultivar_0", "cultivar_1", "cultivar_2"]
        assert kept["probabilities"].shape == (len(val), 3) and set(kept["predicted"]) <= set(kept["classes"])


@pytest.mark.parametrize(
    ("data", "output", "error"),
    [
        ("missing.csv", "p.csv", "{tmp}/missing.csv: lacks the column(s) the model was trained on: proline (its "
                                 "columns: "),
        ("images.npy", "p.csv", "{tmp}/images.npy: holds samples of shape (8, 8), but the model was trained on "
                                "samples of shape (13,). Give the same kind of samples (the same image size, or the "
                                "same columns)."),
        ("nowhere.csv", "p.csv", "{tmp}/nowhere.csv: no such file. Give an .npy, .npz or .csv file of samples."),
        ("missing.csv", "p.txt", "Invalid value for --output: '{tmp}/p.txt'. Write predictions to a .csv or an .npz "
                                 "file."),
    ],
)  # fmt: skip
def test_predict_refuses_data_it_cannot_feed_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: str, output: str, error: str
) -> None:
    _spec, root = _wine_run(tmp_path)
    with (tmp_path / "wine.csv").open(encoding="utf-8") as file:
        rows = list(csv.reader(file))
    at = rows[0].index("proline")
    with (tmp_path / "missing.csv").open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([row[:at] + row[at + 1 :] for row in rows[:10]])
    np.save(tmp_path / "images.npy", np.zeros((3, 8, 8), dtype=np.float32))
    capsys.readouterr()
    assert main(["predict", "last", str(tmp_path / data), "-o", str(tmp_path / output), "--runs", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fitscope predict: error: " + error.format(tmp=tmp_path)), err
    assert "Traceback" not in err and not (tmp_path / output).exists()


def test_predict_with_a_run_that_kept_no_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(tmp_path / "runs")
    assert main(["run", "digits_quick", "--set", "fit.epochs=1", "--set", "record.checkpoint=null", "--quiet",
                 "--runs", root]) == 0  # fmt: skip
    np.save(tmp_path / "x.npy", np.zeros((2, 8, 8), dtype=np.float32))
    run_id = Store(root).runs()[-1].run_id
    capsys.readouterr()
    assert main(["predict", run_id, str(tmp_path / "x.npy"), "--runs", root]) == 2
    assert capsys.readouterr().err == (
        f"fitscope predict: error: run {run_id} kept no model (checkpoints were off, or an earlier fitscope trained "
        "it). Run it again with record.checkpoint on.\n"
    )


def test_tune_refit_trains_the_winner_on_training_and_validation_data_and_that_run_is_tested(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "runs"
    command = ["tune", "digits_quick", "--param", "model[0].Dense.units=8,32", "--set", "fit.epochs=6", "--refit",
               "--test-best", "--runs", str(root), "--json"]  # fmt: skip
    assert main(command) == 0
    result = json.loads(capsys.readouterr().out)
    store = Store(root)
    winner = store.run(result["winner"]["run_ids"][0])
    refit = store.run(result["refit"]["run_id"])
    info, trained = refit.info(), winner.info()
    assert info.status == "finished" and info.trial["refit"] is True and info.name == "digits-quick-refit"
    assert info.manifest.sizes == {"train": trained.manifest.sizes["train"] + trained.manifest.sizes["val"],
                                   "test": trained.manifest.sizes["test"]}  # fmt: skip
    assert info.manifest.content_hash["test"] == trained.manifest.content_hash["test"]
    epochs = int(np.argmin(winner.history()["val_loss"])) + 1  # where the winner's validation loss was lowest
    assert info.epochs == result["refit"]["epochs"] == epochs
    assert set(refit.history()) == {"loss", "accuracy"}  # nothing left to validate on
    assert [e["split"] for e in refit.evaluations()] == ["test"] and winner.evaluations("test") == []
    assert result["test"] == refit.evaluations("test")[0]["metrics"]
    assert (refit.checkpoint_dir / "final.keras").is_file() and not (refit.checkpoint_dir / "best.keras").exists()
    assert main([c for c in command if c != "--json"]) == 0  # again: nothing trained twice
    out = capsys.readouterr().out
    assert f"refit on training + validation data ({info.manifest.sizes['train']} samples, {epochs} epochs): run " \
           f"{refit.run_id} (finished)\n" in out  # fmt: skip
    assert len(store.runs(group=f"{result['group_id']}-refit")) == 1
    # Its curves have no validation side: diagnose points at the trial it trained again.
    assert main(["diagnose", refit.run_id, "--runs", str(root)]) == 2
    assert capsys.readouterr().err == (
        f"fitscope diagnose: error: run {refit.run_id} is the refit of search {result['group_id']}: it trained on "
        "the training and validation data together, so it has no validation metrics to diagnose; diagnose the "
        f"trial it trained again: `fitscope diagnose {winner.run_id}`.\n"
    )
    assert main(["errors", refit.run_id, "--runs", str(root)]) == 2
    assert capsys.readouterr().err == (
        f"fitscope errors: error: run {refit.run_id} is a search's refit: it trained on the training and validation "
        "data together, so it has no val split; analyse its --split test (a counted look), or the validation errors "
        "of the trial it trained again.\n"
    )
