"""The error analysis drawn: the confusion matrix (counts and row shares) and the gallery of mistakes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._i18n import _
from ._figures import _figure
from ._fonts import with_korean_fonts

__all__ = ["confusion_figure", "gallery_figure", "image_shape"]


@with_korean_fonts
def confusion_figure(analysis: Any, *, title: str = "") -> Any:
    """The confusion matrix of a :class:`fitscope.analysis.ErrorAnalysis`: counts, and each row's shares."""
    names = analysis.class_names
    size = min(4.0 + 0.45 * len(names), 14.0)
    figure = _figure(width=2 * size + 1, height=size)
    panels = (
        (np.asarray(analysis.matrix), _("counts")),
        (np.asarray(analysis.normalised), _("share of each true class")),
    )
    for i, (values, label) in enumerate(panels):
        ax = figure.add_subplot(1, 2, i + 1)
        ax.imshow(values, cmap="Blues")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize="small")
        ax.set_yticks(range(len(names)), names, fontsize="small")
        ax.set_xlabel(_("predicted class"))
        ax.set_ylabel(_("true class"))
        ax.set_title(label)
        if len(names) <= 20:
            top = values.max() or 1
            for (row, col), value in np.ndenumerate(values):
                text = f"{value:.0%}" if i else str(int(value))
                ax.text(col, row, text, ha="center", va="center", fontsize="x-small",
                        color="white" if value > 0.6 * top else "black")  # fmt: skip
    if title:
        figure.suptitle(title)
    return figure


def image_shape(sample: np.ndarray) -> tuple[int, ...] | None:
    """How to show one input as an image: its own 2-D (or colour) shape, a flat square, or ``None`` (a table row)."""
    shape = tuple(np.shape(sample))
    if len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3)):
        return shape[:2] if len(shape) == 3 and shape[-1] == 1 else shape
    if len(shape) == 1 and shape[0] >= 16 and math.isqrt(shape[0]) ** 2 == shape[0]:
        side = math.isqrt(shape[0])
        return (side, side)
    return None


@with_korean_fonts
def gallery_figure(images: np.ndarray, mistakes: Sequence[dict[str, Any]], *, title: str = "") -> Any:
    """The misclassified samples, most confident first: each with its true and predicted class and confidence."""
    count = min(len(images), len(mistakes))
    columns = min(count, 5) or 1
    rows = max(math.ceil(count / columns), 1)
    figure = _figure(width=2.3 * columns, height=2.5 * rows + 0.4)
    for i in range(count):
        ax = figure.add_subplot(rows, columns, i + 1)
        shape = image_shape(images[i])
        picture = np.asarray(images[i], dtype=float).reshape(shape) if shape else np.asarray(images[i])
        ax.imshow(picture, cmap="gray_r" if picture.ndim == 2 else None)
        mistake = mistakes[i]
        ax.set_title(_("{true} → {predicted}\n{confidence} sure").format(
            true=mistake["true"], predicted=mistake["predicted"], confidence=f"{mistake['confidence']:.0%}"),
            fontsize="small")  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        figure.suptitle(title)
    return figure
