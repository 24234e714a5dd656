"""The leakage audit: exact duplicates within and across parts, class balance, sizes.

Duplicates are found by hashing each sample's input bytes (blake2b, 16 bytes), so
two parts that share an image are caught whether or not they share an index.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from .._i18n import _
from ._datasets import Dataset

__all__ = ["AuditReport", "audit_parts"]

# A part this small gives metrics too noisy to compare models on.
_NOISY_PART = 30
_EXAMPLES = 5
# More classes than this (and than a tenth of the samples) reads as a quantity, not classes.
_MANY_CLASSES = 50


@dataclass(frozen=True)
class AuditReport:
    """What the audit found about a split.

    Attributes:
        duplicates_within: per part, the samples that repeat an earlier sample of
            the same part (``size - distinct samples``).
        duplicates_across: per pair of parts (``"train-val"``), the samples of the
            second part whose input also occurs in the first.
        examples_within: per part, up to 5 groups of dataset indices holding the
            same input.
        examples_across: per pair, up to 5 ``(index in first, index in second)``.
        class_counts: per part, samples per class name.
        warnings: plain-sentence findings, most serious first.
        conflicting_labels: per part, the samples whose input occurs in that part with
            another label too (no model can fit both).
    """

    duplicates_within: dict[str, int]
    duplicates_across: dict[str, int]
    examples_within: dict[str, list[list[int]]] = field(default_factory=dict)
    examples_across: dict[str, list[list[int]]] = field(default_factory=dict)
    class_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    conflicting_labels: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "conflicting_labels": dict(self.conflicting_labels),
            "duplicates_within": dict(self.duplicates_within),
            "duplicates_across": dict(self.duplicates_across),
            "examples_within": {k: [list(g) for g in v] for k, v in self.examples_within.items()},
            "examples_across": {k: [list(p) for p in v] for k, v in self.examples_across.items()},
            "warnings": list(self.warnings),
        }


def class_counts(dataset: Dataset, indices: np.ndarray) -> dict[str, int]:
    """Samples per class name in ``indices`` (every class listed, zeros included; none for a regression)."""
    if dataset.is_regression:
        return {}
    counts = np.bincount(dataset.y[indices], minlength=dataset.num_classes)
    return {name: int(n) for name, n in zip(dataset.class_names, counts)}


def audit_parts(dataset: Dataset, parts: dict[str, np.ndarray]) -> AuditReport:
    """Audit the parts of a split of ``dataset`` (a mapping of name to indices)."""
    hashes = dataset.sample_hashes()
    within: dict[str, int] = {}
    examples_within: dict[str, list[list[int]]] = {}
    first_seen: dict[str, dict[bytes, int]] = {}
    conflicting: dict[str, int] = {}
    for name, idx in parts.items():
        seen: dict[bytes, int] = {}
        groups: dict[bytes, list[int]] = defaultdict(list)
        for i in idx.tolist():
            h = hashes[i]
            if h in seen:
                groups[h].append(i)
            else:
                seen[h] = i
        within[name] = len(idx) - len(seen)
        examples_within[name] = [[seen[h], *rest] for h, rest in list(groups.items())[:_EXAMPLES]]
        if not dataset.is_regression:
            members = ([seen[h], *rest] for h, rest in groups.items())
            conflicting[name] = sum(len(group) for group in members if len(set(dataset.y[group].tolist())) > 1)
        first_seen[name] = seen

    across: dict[str, int] = {}
    examples_across: dict[str, list[list[int]]] = {}
    for a, b in combinations(parts, 2):
        key = f"{a}-{b}"
        seen_a = first_seen[a]
        shared = [(seen_a[hashes[i]], i) for i in parts[b].tolist() if hashes[i] in seen_a]
        across[key] = len(shared)
        examples_across[key] = [list(p) for p in shared[:_EXAMPLES]]

    counts = {name: class_counts(dataset, idx) for name, idx in parts.items()}
    warnings = _leak_warnings(across, examples_across, within, examples_within)
    warnings += [
        _(
            "{count} sample(s) of {part} share their input with a sample of another label: no model can fit both; "
            "check those labels."
        ).format(count=n, part=part)
        for part, n in conflicting.items()
        if n
    ]  # fmt: skip
    warnings += _label_warnings(dataset, counts)  # before the class warnings it explains
    warnings += _balance_warnings(dataset, parts, counts)
    warnings += _size_warnings(dataset, parts)
    return AuditReport(within, across, examples_within, examples_across, counts, warnings, conflicting)


def _leak_warnings(
    across: dict[str, int],
    examples_across: dict[str, list[list[int]]],
    within: dict[str, int],
    examples_within: dict[str, list[list[int]]],
) -> list[str]:
    found = []
    for pair, n in across.items():
        if n:
            a, b = pair.split("-", 1)
            example = examples_across[pair][0]
            found.append(
                _(
                    "{count} sample(s) of {second} also occur in {first} (e.g. index {index} = index {other}): scores "
                    "on {second} are inflated by leakage."
                ).format(count=n, second=b, first=a, index=example[1], other=example[0])
            )
    for part, n in within.items():
        if n:
            example = examples_within[part][0]
            found.append(
                _("{part} holds {count} repeated sample(s) (e.g. indices {indices} are the same input).").format(
                    part=part, count=n, indices=", ".join(map(str, example))
                )
            )
    return found


def _balance_warnings(dataset: Dataset, parts: dict[str, np.ndarray], counts: dict[str, dict[str, int]]) -> list[str]:
    if dataset.is_regression:
        return []  # no classes to balance
    all_idx = np.concatenate(list(parts.values())) if parts else np.arange(0)
    overall = np.bincount(dataset.y[all_idx], minlength=dataset.num_classes)
    total = max(int(overall.sum()), 1)
    found = []
    for name, idx in parts.items():
        size = len(idx)
        for cls, n_overall in zip(dataset.class_names, overall):
            if n_overall == 0:
                continue
            share = n_overall / total
            expected = share * size
            got = counts[name][cls]
            if got == 0 and expected >= 1:
                found.append(
                    _(
                        "class {name} is missing from {part} (about {expected} expected from its {share} overall "
                        "share)."
                    ).format(name=repr(cls), part=name, expected=f"{expected:.0f}", share=f"{share:.1%}")
                )
            elif expected >= 10 and got < 0.5 * expected:
                found.append(
                    _(
                        "class {name} is under-represented in {part}: {got} of {size} ({fraction}) against {share} "
                        "overall. Consider stratify."
                    ).format(
                        name=repr(cls),
                        part=name,
                        got=got,
                        size=size,
                        fraction=f"{got / size:.1%}",
                        share=f"{share:.1%}",
                    )
                )
    return found


def _label_warnings(dataset: Dataset, counts: dict[str, dict[str, int]]) -> list[str]:
    """Whole-number labels with very many values are more often a quantity to predict than classes."""
    present = {name for part in counts.values() for name, n in part.items() if n}
    samples = sum(sum(part.values()) for part in counts.values())
    if len(present) <= max(_MANY_CLASSES, samples / 10):
        return []
    return [
        _(
            "{classes} classes for {samples} samples: if the labels are numbers to predict (a measurement, a "
            "price), make this a regression (`fitscope split --task regression`; a spec's `data.task: regression`)."
        ).format(classes=len(present), samples=samples)
    ]


def _size_warnings(dataset: Dataset, parts: dict[str, np.ndarray]) -> list[str]:
    found = []
    for name, idx in parts.items():
        if name != "train" and 0 < len(idx) < _NOISY_PART:
            if dataset.is_regression:
                said = _("{part} has only {count} samples: its metrics will be noisy.")
            else:
                said = _("{part} has only {count} samples: its metrics will be noisy (one sample moves accuracy by "
                         "{points} points).")  # fmt: skip
            found.append(said.format(part=name, count=len(idx), points=f"{100 / len(idx):.1f}"))
        if 0 < len(idx) < dataset.num_classes:  # (a regression has none)
            found.append(
                _("{part} has {count} samples for {classes} classes: some classes cannot appear in it.").format(
                    part=name, count=len(idx), classes=dataset.num_classes
                )
            )
    if "train" in parts and "val" in parts and len(parts["train"]) < len(parts["val"]):
        found.append(
            _("train ({train}) is smaller than val ({val}): the model sees less data than it is judged on.").format(
                train=len(parts["train"]), val=len(parts["val"])
            )
        )
    return found
