"""Where are the errors? A classifier's confusion matrix, per-class scores and its most confident mistakes.

Andrew Ng's error analysis (Machine Learning Yearning, chapters 14-19): look at the
misclassified validation samples, count what they have in common, and fix the biggest
group first. Pure functions over labels and predicted probabilities; scikit-learn
computes the matrix and the scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._i18n import _

__all__ = ["ConfusedPair", "ErrorAnalysis", "analyse_errors"]


@dataclass(frozen=True)
class ConfusedPair:
    """One cell off the diagonal: samples of ``true`` predicted as ``predicted``, and their share of ``true``."""

    true: str
    predicted: str
    count: int
    share: float


@dataclass(frozen=True)
class ErrorAnalysis:
    """A classifier's errors on one split.

    ``matrix[i][j]`` counts the samples of class ``i`` predicted as class ``j``;
    ``per_class`` gives each class's support, error (1 - recall), precision and recall;
    ``mistakes`` the misclassified samples, most confident first: their position in the
    split, true and predicted class and the predicted class's probability.
    """

    split: str
    class_names: list[str]
    matrix: list[list[int]]
    per_class: list[dict[str, Any]]
    accuracy: float
    pairs: list[ConfusedPair]
    mistakes: list[dict[str, Any]] = field(repr=False)

    @property
    def normalised(self) -> list[list[float]]:
        """The matrix with each row divided by its class's count (what share of each class went where)."""
        rows = np.asarray(self.matrix, dtype=float)
        totals = rows.sum(axis=1, keepdims=True)
        return (rows / np.where(totals == 0, 1, totals)).tolist()

    @property
    def sentences(self) -> list[str]:
        """What the numbers say, most important first."""
        total = int(np.sum(self.matrix))
        said = [_("On the {split} split ({count} samples): accuracy {accuracy}, {mistakes} mistakes.").format(
            split=self.split, count=total, accuracy=f"{self.accuracy:.1%}", mistakes=len(self.mistakes))]  # fmt: skip
        if self.pairs:
            shown = "; ".join(
                _("{true} taken for {predicted} {count} times ({share} of the {true} samples)").format(
                    true=p.true, predicted=p.predicted, count=p.count, share=f"{p.share:.1%}")
                for p in self.pairs[:3]
            )  # fmt: skip
            said.append(_("Most confused: {pairs}.").format(pairs=shown))
            hardest = max(self.per_class, key=lambda c: (c["error"], c["support"]))
            said.append(_("Hardest class: {name} (error {error}, precision {precision}, recall {recall}).").format(
                name=hardest["name"], error=f"{hardest['error']:.1%}", precision=f"{hardest['precision']:.1%}",
                recall=f"{hardest['recall']:.1%}"))  # fmt: skip
            sure = sum(1 for m in self.mistakes if m["confidence"] >= 0.9)
            if sure:
                said.append(_("{count} mistakes were made with 90% confidence or more: look at them first; such "
                              "samples are often mislabelled, ambiguous, or unlike the training data.")
                            .format(count=sure))  # fmt: skip
        return said

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split, "class_names": self.class_names, "accuracy": self.accuracy, "matrix": self.matrix,
            "matrix_normalised": self.normalised, "per_class": self.per_class,
            "pairs": [asdict(p) for p in self.pairs], "mistakes": self.mistakes, "summary": self.sentences,
        }  # fmt: skip


def analyse_errors(
    labels: Sequence[int] | np.ndarray, probabilities: np.ndarray, class_names: Sequence[str], *, split: str = "val"
) -> ErrorAnalysis:
    """The error analysis of predicted class ``probabilities`` (one row per sample) against integer ``labels``."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y = np.asarray(labels).astype(int).ravel()
    probs = np.asarray(probabilities, dtype=float)
    if probs.ndim != 2 or len(probs) != len(y):
        raise ValueError(f"expected one row of class probabilities per label; got {probs.shape} for {len(y)} labels")
    names = [str(name) for name in class_names]
    classes = list(range(len(names)))
    predicted = probs.argmax(axis=1)
    matrix = confusion_matrix(y, predicted, labels=classes)
    precision, recall, _f1, support = precision_recall_fscore_support(y, predicted, labels=classes, zero_division=0)
    per_class = [
        {"name": names[c], "support": int(support[c]), "error": float(1 - recall[c]) if support[c] else 0.0,
         "precision": float(precision[c]), "recall": float(recall[c])}
        for c in classes
    ]  # fmt: skip
    off = [(int(matrix[t, p]), t, p) for t in classes for p in classes if t != p and matrix[t, p] > 0]
    off.sort(key=lambda cell: (-cell[0], cell[1], cell[2]))
    pairs = [ConfusedPair(names[t], names[p], count, count / max(int(support[t]), 1)) for count, t, p in off]
    wrong = np.flatnonzero(predicted != y)
    confidence = probs[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")]
    mistakes = [{"index": int(i), "true": names[y[i]], "predicted": names[predicted[i]],
                 "confidence": float(probs[i, predicted[i]])} for i in order]  # fmt: skip
    accuracy = float(np.mean(predicted == y)) if len(y) else 0.0
    return ErrorAnalysis(split, names, matrix.astype(int).tolist(), per_class, accuracy, pairs, mistakes)
