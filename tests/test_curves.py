"""Curve verdicts on synthetic curves, including noisy ones that must not trigger a false onset."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fitscope import ArgumentError
from fitscope.analysis import analyse_curves

EPOCHS = np.arange(300)


def history(train: np.ndarray, val: np.ndarray, **extra: np.ndarray) -> dict[str, list[float]]:
    return {"loss": list(train), "val_loss": list(val), **{k: list(v) for k, v in extra.items()}}


def overfitting_curves(noise: float = 0.0, seed: int = 0) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    train = 2.0 * np.exp(-EPOCHS / 40) + 0.05
    val = 2.0 * np.exp(-EPOCHS / 40) + 0.3 + 0.004 * np.maximum(EPOCHS - 120, 0)
    return history(train, val + rng.normal(0, noise, EPOCHS.size))


def test_overfitting_onset_is_found() -> None:
    report = analyse_curves(overfitting_curves())
    assert report.verdict == "overfitting"
    assert report.overfit_onset is not None and 100 <= report.overfit_onset <= 140
    assert report.best_epoch is not None and 100 <= report.best_epoch <= 140
    assert any(f"overfitting starts around epoch {report.overfit_onset} (on the smoothed curve)" in f
               for f in report.findings)  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_a_slow_u_shaped_rise_is_overfitting(seed: int) -> None:
    """As the book's toy model over 300 epochs: lowest near epoch 150, then rising gently (~8 %) to the end."""
    rng = np.random.default_rng(seed)
    train = 1.0 * np.exp(-EPOCHS / 60) + 0.6
    val = 0.8 * np.exp(-EPOCHS / 30) + 1.27 + 4e-6 * np.maximum(EPOCHS - 150, 0) ** 2
    report = analyse_curves(history(train, val + rng.normal(0, 0.02, EPOCHS.size)))
    assert report.verdict == "overfitting" and 120 <= (report.overfit_onset or 0) <= 180


def test_noisy_overfitting_still_found() -> None:
    report = analyse_curves(overfitting_curves(noise=0.03, seed=1))
    assert report.verdict == "overfitting" and 80 <= (report.overfit_onset or 0) <= 170


@pytest.mark.parametrize("seed", range(5))
def test_noise_on_a_flat_curve_is_not_overfitting(seed: int) -> None:
    rng = np.random.default_rng(seed)
    train = 2.0 * np.exp(-EPOCHS / 30) + 0.1
    val = 2.0 * np.exp(-EPOCHS / 30) + 0.2 + rng.normal(0, 0.02, EPOCHS.size)
    report = analyse_curves(history(train, val))
    assert report.overfit_onset is None and report.verdict != "overfitting"


def test_single_uptick_is_not_an_onset() -> None:
    train = 1.0 / (1 + EPOCHS / 10)
    val = 1.2 / (1 + EPOCHS / 10) + 0.1
    val[150] += 0.5
    assert analyse_curves(history(train, val)).overfit_onset is None


def test_underfitting_like_the_books_two_unit_model() -> None:
    train = 1.0 + 1.3 * np.exp(-EPOCHS / 20)
    val = 1.1 + 1.2 * np.exp(-EPOCHS / 20)
    acc = np.full(EPOCHS.size, 0.55)
    acc[-1] = 0.6  # the last epoch differs from the average the verdict takes
    report = analyse_curves(history(train, val, accuracy=acc, val_accuracy=acc - 0.05), num_classes=10)
    assert report.verdict == "underfitting" and report.underfitting
    assert report.findings[0].startswith("training accuracy is only 55.2% on average over the last 30 epochs:")


def test_underfitting_from_chance_level_loss() -> None:
    near_chance = np.linspace(math.log(10) * 0.95, math.log(10) * 0.9, 50)  # learning, barely (exactly flat: stalled)
    assert analyse_curves(history(near_chance, near_chance + 0.01), num_classes=10).verdict == "underfitting"


def test_still_improving() -> None:
    epochs = np.arange(40)
    train = 2.0 * np.exp(-epochs / 30)
    report = analyse_curves(history(train, train + 0.1))
    assert report.verdict == "still_improving"
    assert report.best_epoch == 39


def test_diverging_on_nan_and_on_rising_loss() -> None:
    nan = analyse_curves(history(np.array([1.0, 2.0, np.nan]), np.array([1.0, 2.0, np.nan])))
    assert nan.verdict == "diverging" and "epoch 2" in nan.findings[0]
    rising = np.linspace(1, 5, 30)
    assert analyse_curves(history(rising, rising)).verdict == "diverging"


def test_a_model_that_stopped_learning_is_stalled_not_underfitting() -> None:
    # Unscaled wine measurements (proline over 1000) and sgd: one step, then every ReLU dead.
    stuck = np.full(40, 10.7961)
    report = analyse_curves(history(stuck, np.full(40, 10.7454), accuracy=np.full(40, 0.3302)), num_classes=3)
    assert report.verdict == "stalled" and report.overfit_onset is None
    assert report.findings == [
        "the training loss has not moved since epoch 0 (10.8 at every epoch): the model stopped learning (dead ReLU "
        "units or a saturated output, typically after a first step too large for the inputs). Scale the inputs "
        "(`data.scale: standardize` for columns of different ranges) or lower the learning rate."
    ]
    late = np.concatenate([np.linspace(2.0, 1.2, 12), np.full(30, 1.1)])  # learned for 12 epochs, then froze
    assert "has not moved since epoch 12 " in analyse_curves(history(late, late + 0.1), num_classes=3).findings[0]
    # A model that froze at a good fit is no problem: it is not underfitting.
    assert (
        analyse_curves(history(np.full(40, 0.05), np.full(40, 0.08), accuracy=np.full(40, 0.99))).verdict == "good_fit"
    )
    # Not stalled: a loss still creeping down, a few flat epochs at the end, or a perfect fit at zero loss.
    assert analyse_curves(history(np.linspace(1.0, 0.999, 40), np.linspace(1.1, 1.099, 40))).verdict != "stalled"
    brief = np.concatenate([np.linspace(2.0, 1.0, 37), np.full(3, 1.0)])
    assert analyse_curves(history(brief, brief + 0.1)).verdict != "stalled"
    assert analyse_curves(history(np.full(40, 1e-5), np.full(40, 0.2))).verdict != "stalled"


def test_oscillation() -> None:
    epochs = np.arange(60)
    train = 0.5 + 0.3 * (epochs % 2)
    report = analyse_curves(history(train, train + 0.05))
    assert any("jumps up and down" in f for f in report.findings)


def test_good_fit() -> None:
    epochs = np.arange(100)
    train = 0.5 * np.exp(-epochs / 5) + 0.02
    report = analyse_curves(history(train, train + 0.01, accuracy=np.full(100, 0.99)))
    assert report.verdict == "good_fit"


def test_suggested_early_stopping() -> None:
    report = analyse_curves(overfitting_curves())
    assert report.suggested_patience is not None and 3 <= report.suggested_patience <= 50
    assert report.suggested_epochs == (report.best_epoch or 0) + 1 + report.suggested_patience


@pytest.mark.parametrize(
    ("hist", "message"),
    [({"loss": [1.0, 0.9, 0.8]}, r"has no `val_loss` curve \(metrics: loss\)"),
     ({"loss": [1.0, 0.9], "val_loss": [1.0, 0.9]}, r"at least 3 epochs; the run has 2")],
)  # fmt: skip
def test_bad_histories(hist: dict, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        analyse_curves(hist)


def test_epoch_bands_over_runs_of_different_lengths() -> None:
    from fitscope.analysis import epoch_bands

    bands = epoch_bands([
        {"loss": [1.0, 0.5, 0.25], "val_loss": [2.0, float("nan")]},
        {"loss": [3.0, 1.5], "val_loss": [4.0, 1.0]},
        {"loss": [2.0, 1.0, 0.5, 0.1]},
    ])  # fmt: skip
    assert bands["loss"].mean == [2.0, 1.0] and bands["loss"].runs == 3  # as long as the shortest run
    assert bands["loss"].std == pytest.approx([np.std([1, 3, 2]), np.std([0.5, 1.5, 1.0])])
    assert bands["val_loss"].runs == 2 and bands["val_loss"].mean == [3.0, 1.0]  # NaN left out
    assert bands["val_loss"].std == [1.0, 0.0]


def test_the_folds_mean_curves_get_one_verdict_and_their_range_is_the_lesson() -> None:
    from fitscope.analysis import diagnose_folds, epoch_bands

    # Three folds that each overfit from about epoch 120, with their own noise.
    folds = [overfitting_curves(noise=0.02, seed=seed) for seed in range(3)]
    finals = [{"accuracy": 0.48, "loss": 1.86}, {"accuracy": 0.56, "loss": 1.42}, {"accuracy": 0.51, "loss": 1.69}]
    result = diagnose_folds(epoch_bands(folds), finals, num_classes=10)
    assert result.curve is not None and result.curve.verdict == "overfitting"
    assert 100 <= (result.curve.overfit_onset or 0) <= 140
    assert result.sentences[0] == f"The lowest val_loss, {result.curve.best_value:.4g}, was at epoch " \
        f"{result.curve.best_epoch} (the best epoch)."  # fmt: skip
    assert result.sentences[1].startswith("Overfitting starts around epoch")
    assert result.sentences[-1] == (
        "One validation split alone could have read a final val_accuracy anywhere from 0.4800 to 0.5600 (the folds' "
        f"range); the mean over the 3 folds, 0.5167 ± {np.std([0.48, 0.56, 0.51], ddof=1) / math.sqrt(3):.4f} (its "
        "standard error), is the figure to compare models by."
    )
    assert result.to_dict()["curve"]["verdict"] == "overfitting"
    # Too short for a verdict, and one fold has no range: nothing to say; without accuracy, the loss's range.
    short = epoch_bands([{"loss": [1.0, 0.9], "val_loss": [1.1, 1.0]}])
    assert diagnose_folds(short, [{"loss": 1.0}]).sentences == []
    two = diagnose_folds(short, [{"loss": 1.0}, {"loss": 1.5}]).sentences
    assert two == [
        "One validation split alone could have read a final val_loss anywhere from 1.0000 to 1.5000 (the folds' "
        "range); the mean over the 2 folds, 1.2500 ± 0.2500 (its standard error), is the figure to compare models by."
    ]
