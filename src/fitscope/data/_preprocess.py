"""The book's preprocessing as an option: scale to [0, 1] (or standardise), flatten, one-hot."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._errors import ArgumentError, invalid_argument

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
            that number; ``"standardize"`` centres every feature and divides it by its
            standard deviation, both measured on the training part only (scikit-learn's
            ``StandardScaler``; call :meth:`fit` first), for tabular data whose columns
            differ in range; ``False`` only casts to float32.
        flatten: reshape each sample to one vector (28x28 -> 784).
        one_hot: encode labels as one-hot rows (for ``categorical_crossentropy``).

    Example:
        >>> import numpy as np
        >>> x, y = Preprocessing(one_hot=True).apply(
        ...     np.full((2, 2, 2), 255, np.uint8), np.array([0, 2]), value_max=255, num_classes=3)
        >>> x.shape, float(x.max()), y.tolist()
        ((2, 4), 1.0, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    """

    scale: bool | float | str = True
    flatten: bool = True
    one_hot: bool = False
    scaler: Any = field(default=None, repr=False, compare=False)  # the fitted StandardScaler of "standardize"

    def __post_init__(self) -> None:
        if (
            self.scale != "standardize"
            and not isinstance(self.scale, bool)
            and not (isinstance(self.scale, (int, float)) and self.scale > 0)
        ):
            raise invalid_argument("scale", self.scale, "Expected true, false, a positive number or 'standardize'.")

    def fit(self, x_train: np.ndarray) -> Preprocessing:
        """With ``scale="standardize"``, a copy holding each feature's mean and spread in ``x_train``; else itself.

        Only the training inputs are measured: statistics taken from validation or test
        data would leak them into training.
        """
        if self.scale != "standardize":
            return self
        if len(x_train) < 2:
            raise ArgumentError("scale='standardize' needs at least 2 training samples to measure their spread.")
        from sklearn.preprocessing import StandardScaler

        return replace(self, scaler=StandardScaler().fit(_rows(np.asarray(x_train, dtype=np.float32))))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape, with a fitted ``"standardize"``'s per-feature mean and scale."""
        out: dict[str, Any] = {"scale": self.scale, "flatten": self.flatten, "one_hot": self.one_hot}
        if self.scaler is not None:
            out["mean"] = self.scaler.mean_.tolist()
            out["std"] = self.scaler.scale_.tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        """The preprocessing :meth:`to_dict` described, fitted as it was."""
        made = cls(scale=data["scale"], flatten=bool(data["flatten"]), one_hot=bool(data.get("one_hot", False)))
        if made.scale != "standardize":
            return made
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler()  # fitted as it was on the training part (scikit-learn keeps these four)
        scaler.mean_ = np.asarray(data["mean"], dtype=np.float64)
        scaler.scale_ = np.asarray(data["std"], dtype=np.float64)
        scaler.var_ = scaler.scale_**2
        scaler.n_features_in_ = len(scaler.mean_)
        return replace(made, scaler=scaler)

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
        if self.scale == "standardize":
            if self.scaler is None:
                raise ArgumentError(
                    "scale='standardize' needs the training part's statistics: apply the copy that "
                    "Preprocessing.fit(x_train) returns."
                )
            if len(out):  # an empty part has nothing to transform (scikit-learn refuses zero rows)
                rows = self.scaler.transform(_rows(out)).astype(np.float32, copy=False)
                out = rows.reshape(out.shape)
        elif self.scale is True and value_max:
            out = out / np.float32(value_max)
        elif not isinstance(self.scale, bool):
            out = out / np.float32(self.scale)
        if self.flatten:
            out = _rows(out)
        labels = one_hot(y, num_classes) if self.one_hot else np.asarray(y)
        return out, labels


def _rows(x: np.ndarray) -> np.ndarray:
    """One row per sample (28x28 -> 784); zero samples too, where ``reshape(0, -1)`` fails."""
    return x.reshape(len(x), int(np.prod(x.shape[1:], dtype=np.int64)))
