"""``fitscope compare A B``: do two runs, or two groups of runs, differ beyond their noise?"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..._errors import ArgumentError, StoreError, invalid_argument
from ..._i18n import _
from ...analysis import Comparison, compare_scores
from ...store import RunInfo, Store
from ._groups import standing_runs
from ._repeats import run_scores

__all__ = ["code_warning", "compare_runs"]


def compare_runs(a: str, b: str, *, metric: str | None = None, runs: str | Path | None = None) -> Comparison:
    """Compare the final validation ``metric`` of ``a`` and ``b``: each a run or a group (its finished runs).

    The comparison is paired when both are groups whose runs share their seeds and
    their validation split, one run of each per seed. The default metric is
    ``val_accuracy`` when both report it, else ``val_loss``.

    Raises:
        StoreError: no such run or group.
        ArgumentError: a side has no finished run, or the metric is not reported by both.
    """
    store = Store(runs, readonly=True)  # (comparing only reads)
    sides = [_side(store, name) for name in (a, b)]
    if sides[0][0] == sides[1][0]:
        raise ArgumentError(f"both sides are {sides[0][0]}: give two different runs or groups to compare.")
    reported = [set.intersection(*(set(row["final"]) for row in rows)) for _label, rows, _infos in sides]
    shared = reported[0] & reported[1]
    if metric is None:
        metric = "val_accuracy" if "val_accuracy" in shared else "val_loss"
    wanted = metric if metric.startswith("val_") else f"val_{metric}"
    if wanted not in shared:
        raise invalid_argument("metric", metric, f"Both sides report {', '.join(sorted(shared)) or 'none'}.")
    (label_a, rows_a, read_a), (label_b, rows_b, read_b) = sides
    paired = _pairs(rows_a, rows_b)
    if paired:
        rows_a, rows_b = paired
    sizes = {row["val_size"] for row in rows_a + rows_b if row["val_size"]}
    found = compare_scores(
        [row["final"][wanted] for row in rows_a], [row["final"][wanted] for row in rows_b], metric=wanted,
        names=(label_a, label_b), paired=bool(paired), val_size=min(sizes) if sizes else None,
    )  # fmt: skip
    infos_a, infos_b = ([read[row["run_id"]] for row in rows] for rows, read in ((rows_a, read_a), (rows_b, read_b)))
    warning = code_warning(label_a, infos_a, (label_b, infos_b))
    if warning:
        found.sentences.append(warning)
    return found


def code_warning(label: str, infos: Sequence[RunInfo], *other: tuple[str, Sequence[RunInfo]]) -> str | None:
    """A warning when runs were trained by different code (another commit, or other uncommitted changes).

    With one side, its runs among themselves (a group's folds); with ``other`` (a label and
    its runs), the first side's runs against the other's. ``None`` when the code is the
    same or not known.
    """
    from ...store import code_differs, describe_code

    def known(side: Sequence[RunInfo]) -> list[str]:  # (runs outside git have no code to name)
        return list(dict.fromkeys(code for code in (describe_code(info.environment) for info in side) if code))

    first = [info.environment for info in infos]
    if not other:
        if not any(code_differs(one, two) for one in first for two in first):
            return None
        return _("Warning: the runs of {group} come from different code ({codes}): part of their differences may "
                 "be the code's.").format(group=label, codes="; ".join(known(infos)))  # fmt: skip
    (other_label, other_infos), = other  # fmt: skip
    if not any(code_differs(one, two.environment) for one in first for two in other_infos):
        return None
    return _("Warning: {a} and {b} come from different code ({code_a}; {code_b}): part of the difference may be "
             "the code's, not the settings'.").format(a=label, b=other_label, code_a=" / ".join(known(infos)),
                                                      code_b=" / ".join(known(other_infos)))  # fmt: skip


def _side(store: Store, name: str) -> tuple[str, list[dict[str, Any]], dict[str, RunInfo]]:
    """A side's label, its finished runs' scores and its runs by id: one run (as a RUN names it), else a group."""
    try:
        infos = [store.run(name).info()]
        label = infos[0].run_id
    except StoreError as not_a_run:
        try:
            label = store.group(name)
        except StoreError:
            raise StoreError(f"{not_a_run} Nor is it a group (`fitscope runs groups` lists them).") from None
        infos = [standing.info for standing in standing_runs(store.runs(group=label))]
    rows = [scores for info in infos if (scores := run_scores(store, info)) is not None]
    if not rows:
        raise ArgumentError(f"{name}: no finished run to compare; wait for it to finish, or compare another.")
    return label, rows, {info.run_id: info for info in infos}


def _pairs(
    a: list[dict[str, Any]], b: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """Both sides' runs matched seed by seed on one validation split, when they ran the same seeds; else ``None``."""

    def key(row: dict[str, Any]) -> tuple[Any, Any]:
        return (row["repeat"], row["seed"])

    by_a, by_b = {key(r): r for r in a}, {key(r): r for r in b}
    splits = {r["split"] for r in a + b}
    if len(a) < 2 or set(by_a) != set(by_b) or len(by_a) != len(a) or len(by_b) != len(b) or len(splits) != 1:
        return None
    order = sorted(by_a, key=str)
    return [by_a[k] for k in order], [by_b[k] for k in order]
