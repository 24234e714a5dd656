"""The book's preprocessing as an option: scale to [0, 1], flatten, one-hot."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import invalid_argument

__all__ = ["Preprocessing", "one_hot"]


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Encode integer labels ``0..num_classes-1`` as float32 one-hot rows."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise invalid_argument(
            "labels", f"values in {labels.min()}..{labels.max()}",
            f"Expected integers in 0..{num_classes - 1}.",
        )  # fmt: skip
    encoded = np.zeros((len(labels), num_classes), dtype=np.float32)
    encoded[np.arange(len(labels)), labels] = 1.0
    return encoded


@dataclass(frozen=True)
class Preprocessing:
    """How inputs and labels are turned into what a model is fed.

    Args:
        scale: ``True`` divides inputs by the dataset's largest possible value
            (255 for 8-bit images) as float32, as the book does; a number divides by
            that number; ``False`` only casts to float32.
        flatten: reshape each sample to one vector (28x28 -> 784).
        one_hot: encode labels as one-hot rows (for ``categorical_crossentropy``).

    Example:
        >>> import numpy as np
        >>> x, y = Preprocessing(one_hot=True).apply(
        ...     np.full((2, 2, 2), 255, np.uint8), np.array([0, 2]), value_max=255, num_classes=3)
        >>> x.shape, float(x.max()), y.tolist()
        ((2, 4), 1.0, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    """

    scale: bool | float = True
    flatten: bool = True
    one_hot: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.scale, bool) and not (isinstance(self.scale, (int, float)) and self.scale > 0):
            raise invalid_argument("scale", self.scale, "Expected true, false or a positive number.")

    def apply(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        value_max: float | None,
        num_classes: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return preprocessed copies of ``x`` and ``y``."""
        out = np.asarray(x, dtype=np.float32)
        if self.scale is True and value_max:
            out = out / np.float32(value_max)
        elif not isinstance(self.scale, bool):
            out = out / np.float32(self.scale)
        if self.flatten:
            out = out.reshape(len(out), -1)
        labels = one_hot(y, num_classes) if self.one_hot else np.asarray(y)
        return out, labels
