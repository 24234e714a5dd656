"""Shared fixtures: tiny data for unit tests, the real MNIST for marked integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import fitscope  # chooses the Keras backend before any test module imports Keras

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def tiny() -> fitscope.Dataset:
    """96 samples, 4 features, 3 balanced classes; every row distinct."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype(np.float32)
    y = np.repeat(np.arange(3), 32)
    return fitscope.Dataset.from_arrays(x, y, name="tiny")


@pytest.fixture
def mnist_path() -> Path:
    """The real MNIST in ../shared/data (integration tests only)."""
    folder = Path(os.environ.get("FITSCOPE_DATA", SHARED_DATA))
    path = folder / "mnist.npz"
    if not path.is_file():
        pytest.skip(f"real MNIST not found at {path}; set FITSCOPE_DATA")
    return path


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests away from the user's Keras cache and run folders."""
    home = tmp_path_factory.mktemp("keras-home")
    monkeypatch.setenv("KERAS_HOME", str(home))
    # Tables are as wide as a pipe gets them (pytest-xdist's workers inherit the terminal's COLUMNS).
    monkeypatch.delenv("COLUMNS", raising=False)
    # English, whatever the developer's locale (LANG=ko_KR.UTF-8 would make fitscope speak Korean);
    # the tests of the Korean catalog choose it themselves.
    monkeypatch.setenv("FITSCOPE_LANG", "en")
    from fitscope._i18n import set_language

    set_language(None)
