"""The speed-ups: each patch's private parts exist in the installed Keras/JAX, one off-switch gives plain Keras."""

from __future__ import annotations

from pathlib import Path

import jax
import keras
import numpy as np
import pytest

from fitscope.experiment import run_spec
from fitscope.keras_glue import _speedups
from fitscope.keras_glue._fused import is_fused
from fitscope.store import Store

QUICK = Path(__file__).resolve().parents[1] / "examples" / "digits_quick.yaml"


@pytest.mark.parametrize("patch", _speedups.PATCHES, ids=lambda patch: patch.name)
def test_each_patch_finds_the_private_parts_it_relies_on(patch: _speedups.Patch) -> None:
    missing = _speedups.missing_private_parts(patch)
    assert not missing, (
        f"Keras {keras.__version__} / JAX {jax.__version__} no longer has {', '.join(missing)}, which fitscope's "
        f"'{patch.name}' speed-up relies on. fitscope now trains without it (plain Keras, slower); update "
        f"src/fitscope/keras_glue/_speedups.py and the patch's module for this version."
    )


def test_a_patch_whose_parts_are_gone_is_left_out_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    gone = _speedups.Patch("fused steps", ("keras.src.backend.jax.trainer:JAXTrainer.no_such_attribute",))
    assert _speedups.missing_private_parts(gone) == ["keras.src.backend.jax.trainer:JAXTrainer.no_such_attribute"]
    monkeypatch.setattr(_speedups, "PATCHES", (gone, *(p for p in _speedups.PATCHES if p.name != "fused steps")))
    monkeypatch.setattr(_speedups, "_checked", {})
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile("sgd", "mse", steps_per_execution=10)
    with pytest.warns(RuntimeWarning, match=r"fused steps left out: Keras .* lacks .*JAXTrainer.no_such_attribute"):
        applied = _speedups.accelerate(model)
    assert "fused steps" not in applied and not is_fused(model)


@pytest.mark.parametrize("switch", ["spec", "environment"])
def test_the_off_switch_gives_plain_keras_fit_with_the_same_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, switch: str
) -> None:
    settings = ["fit.epochs=3"]
    fast = run_spec(QUICK, overrides=settings, runs=tmp_path, progress=False)
    built: list[keras.Model] = []
    from fitscope.experiment.training import _trainer as _training

    original = _training.Trainer.__init__

    def keep(self: _training.Trainer, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        built.append(self.model)

    monkeypatch.setattr(_training.Trainer, "__init__", keep)
    if switch == "spec":
        settings.append("fit.accelerate=false")
    else:
        monkeypatch.setenv(_speedups.OFF_SWITCH, "1")
    plain = run_spec(QUICK, overrides=settings, runs=tmp_path, progress=False)
    (model,) = built
    assert model.steps_per_execution == 1 and not is_fused(model)
    assert type(model).reset_metrics is keras.Model.reset_metrics and "reset_metrics" not in vars(model)
    store = Store(tmp_path)
    a, b = store.run(fast.run_id).history(), store.run(plain.run_id).history()
    assert a.keys() == b.keys()
    for name in a:  # the same training; only float rounding may differ
        np.testing.assert_allclose(b[name], a[name], rtol=1e-5, err_msg=name)
