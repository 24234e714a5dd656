"""The split manifest: what a run records about the data it was scored on.

One frozen type for every layer (the store saves it as JSON with each run, the
analysis reads the part sizes from it, the report and ``runs show`` print it, a
search groups runs by its index hash), so no reader depends on string keys into a
dict. :meth:`SplitManifest.to_dict` and :meth:`SplitManifest.from_dict` are the JSON
round trip; manifests recorded by older fitscope versions read back with what they
hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["SplitManifest"]


@dataclass(frozen=True)
class SplitManifest:
    """Sizes, class counts, seed, parameters and hashes of one split.

    Attributes:
        kind: ``holdout``, ``kfold``, ``train_dev`` or ``custom``.
        dataset: the dataset's name; ``source`` where it was loaded from.
        n_samples: samples in the dataset.
        seed: the int seed the split drew with (``None``: nothing was random).
        params: the split's parameters as given (val, test, shuffle...).
        sizes: samples per part.
        class_counts: per part, samples per class (empty for a regression).
        index_hash: sha256 over the parts' names and indices: two runs with the same one
            were scored on the same validation set.
        content_hash: per part, sha256 over its samples and labels.
        fitscope_version: the version that made the split.
        target_stats: a regression's per-part target mean and variance.
        fold: the fold number of a k-fold split.
        audit: the audit's findings, when recorded with a run.
    """

    kind: str
    dataset: str
    index_hash: str
    source: str | None = None
    n_samples: int = 0
    seed: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    sizes: Mapping[str, int] = field(default_factory=dict)
    class_counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    content_hash: Mapping[str, str] = field(default_factory=dict)
    fitscope_version: str | None = None
    target_stats: Mapping[str, Mapping[str, float | None]] | None = None
    fold: int | None = None
    audit: Mapping[str, Any] | None = None

    @property
    def audit_warnings(self) -> list[str]:
        """What the audit found worth a warning (leakage, missing classes, tiny parts)."""
        return list((self.audit or {}).get("warnings", []))

    @property
    def num_classes(self) -> int | None:
        """Classes in the training part (``None`` for a regression or when not recorded)."""
        return len(self.class_counts.get("train", {})) or None

    def with_audit(self, audit: Mapping[str, Any]) -> SplitManifest:
        """This manifest with the audit's findings (``AuditReport.to_dict()``) attached."""
        return replace(self, audit=dict(audit))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (optional entries left out when empty)."""
        out: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is None and spec.name in ("target_stats", "fold", "audit"):
                continue
            out[spec.name] = dict(value) if isinstance(value, Mapping) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SplitManifest:
        """A manifest from its JSON shape (keys it does not know are ignored)."""
        known = {spec.name for spec in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values.setdefault("kind", "custom")
        values.setdefault("dataset", "")
        values.setdefault("index_hash", "")
        return cls(**values)
