"""The sealed test set: evaluated only on request, every look a ledger row.

:func:`test_run` evaluates a finished run's final (or best-epoch) weights on its
test split; :func:`evaluate_test` is the one look ``fitscope run --test`` takes as a
run ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._errors import SpecError, StoreError, argument_error
from ...data import SplitManifest
from ...store import Run, Store
from ..preparing import Prepared, prepare, prepare_trial
from ..spec import validate_spec
from ..training import Trial, build_model, evaluate_on

__all__ = ["EndedModel", "SealedEvaluation", "evaluate_test", "load_ended_model", "test_run"]


@dataclass(frozen=True)
class SealedEvaluation:
    """What ``fitscope test`` reports: one look at a run's test split."""

    run_id: str
    epoch: int  # the epoch whose weights were evaluated
    weights: str  # which: "last saved", "best" or "restored" (what EarlyStopping put back at the end)
    metrics: dict[str, float]
    earlier: list[dict[str, Any]]  # ledger rows of earlier test evaluations (non-empty: the set was used before)
    note: str | None = None


def evaluate_test(run: Run, model: Any, prepared: Prepared, *, epoch: int | None = None) -> dict[str, float]:
    """Evaluate on the sealed test split and add a ledger row."""
    from ...keras_glue import weights_fingerprint

    metrics = evaluate_on(model, prepared.arrays["test"], prepared.spec.fit.batch_size)
    at = run.next_epoch - 1 if epoch is None else epoch
    run.record_evaluation("test", metrics, fingerprint=weights_fingerprint(model), epoch=at)
    return metrics


@dataclass(frozen=True)
class EndedModel:
    """A finished run's model rebuilt from its spec with the weights it ended with, and its prepared data."""

    model: Any
    prepared: Prepared
    epoch: int  # the epoch whose weights these are
    weights: str  # "last saved", "best" or "restored" (what EarlyStopping put back at the end)
    note: str | None = None


def test_run(
    run_id: str, *, runs: str | Path | None = None, best: bool = False, data_dir: str | Path | None = None
) -> SealedEvaluation:
    """Evaluate a finished run's final (or best-epoch) weights on its sealed test split.

    ``data_dir`` is where the run's built-in dataset lies now, if not where its spec says.

    Raises:
        SpecError: the run has no spec, no test split or no saved weights.
        StoreError: another live process is still training the run.
    """
    run = Store(runs, create=False).run(run_id)
    earlier = run.evaluations("test")
    ended = load_ended_model(run, best=best, data_dir=data_dir, needs_test=True)
    metrics = evaluate_test(run, ended.model, ended.prepared, epoch=ended.epoch)
    from ...report import write_report

    write_report(run)  # the report shows the new test count
    return SealedEvaluation(run.run_id, ended.epoch, ended.weights, metrics, earlier, ended.note)


def _prepare_as_recorded(spec: Any, info: Any) -> Prepared:
    """The data ``info``'s run trained on: its spec's split, or the fold or training subset of it a trial drew.

    A trial's run keeps its fold, training size and repeat, and its key, which digests
    the rest (stratified folds or not, the grouping column): the trial rebuilt with the
    settings whose key is the recorded one draws the same parts.
    """
    kept = info.trial or {}
    if kept.get("fold") is None and kept.get("train_size") is None and not kept.get("refit"):
        return prepare(spec)  # (a repeat keeps its spec's split)
    folds = (info.manifest.params.get("folds") if info.manifest else None) if kept.get("fold") is not None else None
    for stratify in (False, True):
        for group_by in dict.fromkeys([None, kept.get("group_by")]):
            trial = Trial(spec=info.spec, name=info.name, fold=kept.get("fold"), folds=folds, stratify=stratify,
                          group_by=group_by, train_size=kept.get("train_size"), repeat=kept.get("repeat"),
                          refit=bool(kept.get("refit")))  # fmt: skip
            if trial.key == kept.get("key"):
                return prepare_trial(trial, spec)
    raise SpecError(f"run {info.run_id} trained on a part of its spec's data that cannot be rebuilt from what it "
                    "recorded (a fold grouped by a column, from an earlier fitscope); train the configuration alone "
                    "with `fitscope run` and use that run.")  # fmt: skip


def load_ended_model(
    run: Run, *, best: bool = False, data_dir: str | Path | None = None, verb: str = "tested",
    needs_test: bool = False,
) -> EndedModel:  # fmt: skip
    """Rebuild ``run``'s model from its spec with the weights it ended with (or its best epoch's, ``best``).

    The weights a finished run ended with: EarlyStopping's restored ones when it put
    them back, else the newest checkpoint. ``verb`` says what is done with them, in errors.

    Raises:
        SpecError: the run has no spec or no saved weights (or, ``needs_test``, no test split).
        StoreError: another live process is still training the run; the data splits otherwise now.
    """
    from ...keras_glue import restore_state, weights_fingerprint
    from ...store import CheckpointDir

    info = run.info()
    busy = info.trained_elsewhere()
    if busy:
        what = "Test" if verb == "tested" else "Analyse"
        raise StoreError(f"{busy} {what} it once it has finished, or stop it first (its last checkpoint is then "
                         f"{verb}).")  # fmt: skip
    if info.spec is None:
        raise SpecError(f"run {run.run_id} was not started from a spec; evaluate it from Python instead.")
    spec = validate_spec(info.spec, source=f"run {run.run_id}")
    if data_dir is not None:
        spec = spec.model_copy(update={"data": spec.data.model_copy(update={"data_dir": str(data_dir)})})
    if CheckpointDir(run.checkpoint_dir).load_latest() is None:
        noun = "test" if verb == "tested" else "analyse"
        if run.next_epoch == 0:
            raise SpecError(f"run {run.run_id} has no epochs{info.why_it_ended()}, so it has no weights to {noun}.")
        raise SpecError(f"run {run.run_id} has no saved weights (checkpoints were off); it cannot be {verb}.")
    prepared = _prepare_as_recorded(spec, info)
    if needs_test:
        if "test" not in prepared.split.parts:
            raise SpecError(f"run {run.run_id} has no test split (its spec sets split.test to 0).")
        if not _same_test_split(info.manifest, prepared.split.manifest):
            raise StoreError(f"run {run.run_id}: the data no longer splits as recorded (its test part differs).")
    x, y = prepared.arrays["train"]
    model = build_model(
        spec, input_shape=tuple(x.shape[1:]), num_classes=prepared.num_classes, one_hot=prepared.one_hot,
        target_shape=tuple(y.shape[1:]),
    )  # fmt: skip
    checkpoints = CheckpointDir(run.checkpoint_dir)
    note = None
    if best:
        found = checkpoints.load_best()
        if found is None:
            raise argument_error(f"run {run.run_id} kept no best-epoch weights (it had no validation loss or no "
                                 "checkpoints); test its final weights without <<best>>.", SpecError)  # fmt: skip
        restore_state(model, found.arrays)
        epoch, weights = found.epoch, "best"
    else:
        # The newest checkpoint, which after a kill can be older than the last recorded epoch.
        epoch, weights = resume_model_readonly(run, model), "last saved"
        ended = _restored_at_the_end(run, info.status, epoch)
        if ended is not None:  # test what the run ended with, as its final validation did
            if weights_fingerprint(model) == ended["fingerprint"]:  # saved as the run ended (a cv/tune trial)
                epoch, weights = ended["epoch"], "restored"
            elif (found := checkpoints.load_best()) is not None and found.epoch == ended["epoch"]:
                restore_state(model, found.arrays)
                epoch, weights = found.epoch, "restored"
            else:
                note = (
                    f"this run ended with the weights of epoch {ended['epoch']} (restored by EarlyStopping), "
                    "which were not kept (fitscope keeps the best by val_loss); these are its last saved weights."
                )
    return EndedModel(model, prepared, epoch, weights, note)


def _same_test_split(recorded: SplitManifest | None, now: SplitManifest) -> bool:
    """Whether the test part is the data the run recorded (a cv fold's too: every fold holds the same one out)."""
    if recorded is None:
        return False
    before = recorded.content_hash.get("test")
    if before is None:  # a manifest without part hashes: the whole split must match
        return recorded.index_hash == now.index_hash
    return before == now.content_hash.get("test")


def _restored_at_the_end(run: Run, status: str, last_saved: int) -> dict[str, Any] | None:
    """The validation evaluation of a finished run that ended with other weights than its last epoch's.

    That evaluation (recorded as training ends) names the epoch EarlyStopping restored
    and the weights' fingerprint. Only once the newest checkpoint is the run's last epoch:
    a later attempt that was stopped leaves it stale.
    """
    finals = run.evaluations("val")
    if status != "finished" or not finals or last_saved != run.next_epoch - 1:
        return None
    ended = finals[-1]
    return ended if ended["epoch"] is not None and ended["epoch"] != last_saved else None


def resume_model_readonly(run: Run, model: Any) -> int:
    """Load the newest checkpoint's weights without touching the run's records."""
    from ...keras_glue import restore_state
    from ...store import CheckpointDir

    found = CheckpointDir(run.checkpoint_dir).load_latest()
    if found is None:  # checked by the caller
        raise StoreError(f"run {run.run_id} has no readable checkpoint.")
    restore_state(model, found.arrays)
    return found.epoch
