"""Model builders for the executor tests: one that kills its worker process, one that works."""

from __future__ import annotations

import os


def crash_model() -> object:
    os._exit(3)  # the worker process dies mid-trial, as a segfault or OOM kill would


def good_model() -> object:
    import keras

    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
