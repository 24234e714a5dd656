"""Metric names and values as the store keeps them.

SQLite turns a bound NaN into NULL, so a non-finite value is stored as NULL plus
an explicit ``special`` flag (``nan``, ``inf``, ``-inf``) and read back exactly.
"""

from __future__ import annotations

import math

__all__ = ["decode_value", "encode_value", "normalize_metric_name"]

# Keras 2 spelled accuracy "acc"; Keras 3 and `metrics=["accuracy"]` give "accuracy".
_ALIASES = {"acc": "accuracy", "lr": "learning_rate"}


def normalize_metric_name(name: str) -> str:
    """One name per metric whatever Keras version produced it.

    Example:
        >>> normalize_metric_name("val_acc"), normalize_metric_name("accuracy")
        ('val_accuracy', 'accuracy')
    """
    prefix = ""
    if name.startswith("val_"):
        prefix, name = "val_", name[4:]
    return prefix + _ALIASES.get(name, name)


def encode_value(value: float) -> tuple[float | None, str | None]:
    """``(value, special)`` columns for one metric value."""
    value = float(value)
    if math.isnan(value):
        return None, "nan"
    if math.isinf(value):
        return None, "inf" if value > 0 else "-inf"
    return value, None


def decode_value(value: float | None, special: str | None) -> float:
    """The float that :func:`encode_value` stored."""
    if special is not None:
        return float(special)
    return float(value) if value is not None else math.nan
