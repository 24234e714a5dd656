"""Run an experiment spec: split, build, train with the recorder, evaluate on validation.

The test split is never evaluated unless asked (``test=True``); each evaluation is
a row in the store's ledger.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import ArgumentError, SpecError, StoreError
from .._process import freeze_imports
from ..data import Preprocessing, Split, SplitManifest, load_dataset, split_dataset, train_dev_split
from ..store import Run, RunSink, Store
from ._build import build_model, keras_reason
from ._spec import Spec, load_spec, validate_spec
from ._training import Trainer, evaluate_on

__all__ = ["RunResult", "SealedEvaluation", "evaluate_test", "prepare", "resume_command", "run_spec", "test_run"]


@dataclass
class RunResult:
    """What ``fitscope run`` reports."""

    run_id: str
    status: str
    epochs: int
    best_epoch: int | None
    history: dict[str, list[float]]
    val: dict[str, float]
    test: dict[str, float] | None
    tensorboard_dir: str
    run_dir: str
    report: str | None = None
    weights_epoch: int | None = None  # the epoch of the weights evaluated at the end (EarlyStopping may restore one)
    stopped_by: str | None = None  # what interrupted the run: "Ctrl-C" or "SIGTERM"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "extra"} | self.extra


@dataclass(frozen=True)
class SealedEvaluation:
    """What ``fitscope test`` reports: one look at a run's test split."""

    run_id: str
    epoch: int  # the epoch whose weights were evaluated
    weights: str  # which: "last saved", "best" or "restored" (what EarlyStopping put back at the end)
    metrics: dict[str, float]
    earlier: list[dict[str, Any]]  # ledger rows of earlier test evaluations (non-empty: the set was used before)
    note: str | None = None


@dataclass
class Prepared:
    spec: Spec
    split: Split
    arrays: dict[str, tuple[Any, Any]]
    num_classes: int
    one_hot: bool


def _as_spec(spec: Spec | dict[str, Any] | str | Path, overrides: list[str] | None) -> Spec:
    if isinstance(spec, Spec):
        if overrides:
            from ._spec import apply_override

            data = spec.model_dump()
            for override in overrides:
                data = apply_override(data, override)
            return validate_spec(data)
        return spec
    if isinstance(spec, dict):
        from ._spec import apply_override

        data = copy.deepcopy(spec)  # the caller's dict stays as it was
        for override in overrides or []:
            data = apply_override(data, override)
        return validate_spec(data)
    return load_spec(spec, overrides)


def _load(spec: Spec, dataset: str | None = None) -> Any:
    """The spec's ``data.dataset`` (or another dataset of the spec, ``data.target``), read with its data options."""
    name = spec.data.dataset if dataset is None else dataset
    group = spec.data.group_column if dataset is None else None  # (groups fold the training data only)
    options: dict[str, Any] = {"task": spec.data.task}
    if name.lower().endswith((".csv", ".txt")):
        options |= {"label": spec.data.label, "group": group}
    elif name.lower().endswith(".npz"):
        options |= {"group": group}
    return load_dataset(name, data_dir=spec.data.data_dir, **options)


def prepare(spec: Spec, split: Split | None = None) -> Prepared:
    """Load and split the data and preprocess every part (nothing written anywhere).

    ``split`` is the spec's holdout split when the caller made it already (:func:`split_of`).
    """
    split = split_of(spec) if split is None else split
    return _prepared(spec, split.dataset, split)


def split_of(spec: Spec) -> Split:
    """Load the spec's data and make its holdout split (no preprocessing).

    With ``data.target``, Ng's train-dev split: train and train-dev from ``data.dataset``,
    dev (``val``) and test from ``data.target``.
    """
    s = spec.split
    if spec.data.target is None and s.train_dev is not None:
        raise SpecError(
            "split.train_dev: a train-dev set is held out of the training data when the dev and test sets come "
            "from other data, the data the model will meet: name it in data.target. (Without it, split.val "
            "already comes from the training data.)"
        )
    dataset = _load(spec)
    names = {"dev": "val"}  # the data layer's argument names, as the spec's user wrote them
    try:
        if spec.data.target is not None:
            _check_train_dev_split(s)
            return train_dev_split(
                dataset, _load(spec, spec.data.target), train_dev=0.1 if s.train_dev is None else s.train_dev,
                dev=s.val, shuffle=s.shuffle, seed=spec.seed if s.shuffle else None, stratify=s.stratify,
            )  # fmt: skip
        return split_dataset(
            dataset, val=s.val, test=s.test, shuffle=s.shuffle, seed=spec.seed if (s.shuffle or s.subsample) else None,
            stratify=s.stratify, subsample=s.subsample, replace=s.replace,
        )  # fmt: skip
    except ArgumentError as exc:  # the data layer names its arguments (val=0); the spec's user wrote split.val
        if exc.name is None:
            raise SpecError(str(exc)) from None
        key = exc.name if exc.name == "seed" else f"split.{names.get(exc.name, exc.name)}"
        raise SpecError(f"Invalid value for `{key}`. Received: {key}={exc.value!r}. {exc.expected}") from None


def _check_train_dev_split(split: Any) -> None:
    """With data.target, the target's rest is the test set, and nothing is subsampled."""
    if split.test != 0:
        raise SpecError(
            "split.test: with data.target the test set is the rest of the target data, after split.val (its dev "
            "part); leave split.test out."
        )
    if split.subsample is not None or split.replace:
        raise SpecError("split.subsample: not with data.target (a train-dev split uses all of both datasets).")


def prepare_parts(
    spec: Spec, dataset: Any, parts: dict[str, Any], *, kind: str, fold: int | None = None, folds: int | None = None
) -> Prepared:
    """Like :func:`prepare`, for parts chosen by the caller (a cross-validation fold)."""
    split = Split.from_parts(
        dataset, parts, kind=kind, seed=spec.seed, params={"folds": folds, "fold": fold}, fold=fold
    )
    return _prepared(spec, dataset, split)


def _prepared(spec: Spec, dataset: Any, split: Split) -> Prepared:
    one_hot = spec.data.one_hot if spec.data.one_hot is not None else spec.compile.loss == "categorical_crossentropy"
    if dataset.is_regression:
        if spec.data.one_hot:
            raise SpecError("data.one_hot: a regression's targets are numbers, not classes to encode; leave it out.")
        one_hot = False  # (a classification loss is named by the model's checks)
    prep = Preprocessing(scale=spec.data.scale, flatten=spec.data.flatten, one_hot=one_hot)
    if prep.scale == "standardize":  # the training part's statistics, never validation's or test's
        prep = prep.fit(split.take("train")[0])
    arrays = {
        part: prep.apply(*split.take(part), value_max=dataset.value_max, num_classes=dataset.num_classes)
        for part in split.parts
    }
    return Prepared(spec, split, arrays, dataset.num_classes, one_hot)


def run_spec(
    spec: Spec | dict[str, Any] | str | Path,
    *,
    overrides: list[str] | None = None,
    runs: str | Path | None = None,
    name: str | None = None,
    resume: str | None = None,
    test: bool = False,
    progress: bool = True,
    group: str | None = None,
    warn_split: bool = True,
) -> RunResult:
    """Run an experiment and return its summary.

    Everything that can be checked (spec, data, split, model) is checked before a
    run is created, so bad input leaves nothing in the store.

    Args:
        spec: a :class:`Spec`, a dict, or the path of a YAML file.
        overrides: ``key.path=value`` strings (as ``--set``).
        runs: the store folder.
        name: the run name (default: the spec's).
        resume: a run id to continue from its last checkpoint.
        test: also evaluate once on the sealed test split.
        progress: print a progress line every few seconds.
        warn_split: print what the split's audit found (leakage, missing classes) before a new run.
    """
    from ..keras_glue import architecture_fingerprint, progress_callback, resume_model

    freeze_imports()
    spec = _as_spec(spec, overrides)
    prepared = prepare(spec)
    if test and "test" not in prepared.split.parts:
        raise SpecError("--test: this spec's split has no test part; set split.test (e.g. provided or 0.2).")
    view = progress_callback(spec.fit.epochs) if progress else None
    trainer = Trainer(spec, prepared, view=view)
    model = trainer.model
    store = Store(runs)
    resume_key = {
        "model": architecture_fingerprint(model),
        "split": prepared.split.index_hash,
        "batch_size": spec.fit.batch_size,
    }
    initial_epoch = 0
    if resume:
        run = store.run(resume)
        run.check_resume_key(resume_key)
        run.claim()
        initial_epoch = resume_model(run, model)
        _warn_if_tested(run)
    else:
        import keras

        if warn_split:
            warn_about_split(prepared.split.audit.warnings)
        run = store.start_run(
            name=name or spec.name, params=_params(spec), split=prepared.split, spec=spec.model_dump(mode="json"),
            seed=spec.seed, group=group, resume_key=resume_key, backend=keras.backend.backend(),
        )  # fmt: skip
    sink = RunSink(run, tensorboard=spec.record.tensorboard)
    test_metrics = None
    try:
        with run:
            trained = trainer.fit(sink, initial_epoch=initial_epoch)
            if trained.status == "finished" and test:
                test_metrics = evaluate_test(run, model, prepared, epoch=trained.weights_epoch)
    except StoreError as exc:  # a full disk, say: the run stays resumable, and the caller can say how
        exc.run_id = run.run_id
        raise
    except (ValueError, TypeError) as exc:
        if resume or run.next_epoch > 0:
            raise
        # Keras refused the first step (a metric, loss or label shape that cannot fit the
        # model): bad input, found before anything was trained, so nothing is kept.
        sink.close()
        store.delete(run.run_id)
        raise SpecError(
            f"the model cannot train on this data (compile.loss, compile.metrics and the labels must fit its "
            f"output layer): {keras_reason(exc)}"
        ) from exc
    finally:
        sink.close()
    info = run.info()
    history = run.history()
    if history:
        _write_figures(run)
    val_metrics = (run.evaluations("val") or [{"metrics": {}}])[-1]["metrics"]
    return RunResult(
        run_id=run.run_id, status=info.status, epochs=info.epochs, best_epoch=_best_epoch(history),
        history=history, val=val_metrics, test=test_metrics if info.status == "finished" else None,
        tensorboard_dir=str(run.tensorboard_dir.resolve()), run_dir=str(run.dir.resolve()),
        report=str((run.dir / "report.html").resolve()) if history else None, weights_epoch=trained.weights_epoch,
        extra={"reason": info.reason}, stopped_by=trained.stopped_by,
    )  # fmt: skip


def resume_command(spec: str | Path, overrides: list[str] | None, run_id: str, runs: str | Path | None) -> str:
    """The ``fitscope run`` command line that continues ``run_id`` with the same spec values (shell-quoted)."""
    import shlex

    words = [str(spec), *(part for item in overrides or [] for part in ("--set", item)), "--resume", run_id]
    if runs:
        words += ["--runs", str(runs)]
    return "fitscope run " + " ".join(shlex.quote(word) for word in words)


def warn_about_split(warnings: Iterable[str]) -> None:
    """What a split's audit found (leakage, missing classes, tiny parts), before training on it."""
    import sys

    for warning in warnings:
        print(f"warning: split: {warning}", file=sys.stderr)


def _warn_if_tested(run: Run) -> None:
    """Training a run further after its test score was seen turns the test set into a validation set."""
    import sys

    looks = run.evaluations("test")
    if looks:
        print(
            f"warning: run {run.run_id} was already evaluated on its test set {len(looks)} time(s). Training it "
            "further after seeing that score, then testing again, makes the test score optimistic; tune on the "
            "validation set (or with cross-validation) instead.",
            file=sys.stderr,
        )


def _write_figures(run: Run) -> None:
    """The book-style figure and the HTML report in the run folder (derived; rebuildable)."""
    from ..report import plot_history, write_report

    figures = run.dir / "figures"
    figures.mkdir(exist_ok=True)
    plot_history(run, figures / "curves.png")
    write_report(run)


def evaluate_test(run: Run, model: Any, prepared: Prepared, *, epoch: int | None = None) -> dict[str, float]:
    """Evaluate on the sealed test split and add a ledger row."""
    from ..keras_glue import weights_fingerprint

    metrics = evaluate_on(model, prepared.arrays["test"], prepared.spec.fit.batch_size)
    at = run.next_epoch - 1 if epoch is None else epoch
    run.record_evaluation("test", metrics, fingerprint=weights_fingerprint(model), epoch=at)
    return metrics


def _best_epoch(history: dict[str, list[float]]) -> int | None:
    losses = history.get("val_loss") or []
    finite = [(v, i) for i, v in enumerate(losses) if math.isfinite(v)]
    return min(finite)[1] if finite else None


def _params(spec: Spec) -> dict[str, Any]:
    """The parameters worth comparing runs by (flat, JSON-ready)."""
    params: dict[str, Any] = {
        "epochs": spec.fit.epochs, "batch_size": spec.fit.batch_size, "loss": spec.compile.loss,
        "optimizer": spec.compile.optimizer if isinstance(spec.compile.optimizer, str) else str(spec.compile.optimizer),
        "seed": spec.seed,
    }  # fmt: skip
    if isinstance(spec.model, list):
        for i, entry in enumerate(spec.model):
            ((layer, arguments),) = entry.items()
            for key in ("units", "rate", "filters"):
                if arguments and key in arguments:
                    params[f"model[{i}].{layer}.{key}"] = arguments[key]
    return params


def test_run(run_id: str, *, runs: str | Path | None = None, best: bool = False) -> SealedEvaluation:
    """Evaluate a finished run's final (or best-epoch) weights on its sealed test split.

    Raises:
        SpecError: the run has no spec, no test split or no saved weights.
        StoreError: another live process is still training the run.
    """
    from ..keras_glue import restore_state, weights_fingerprint
    from ..store import CheckpointDir

    store = Store(runs, create=False)
    run = store.run(run_id)
    info = run.info()
    busy = info.trained_elsewhere()
    if busy:
        raise StoreError(f"{busy} Test it once it has finished, or stop it first (its last checkpoint is then tested).")
    if info.spec is None:
        raise SpecError(f"run {run.run_id} was not started from a spec; evaluate it from Python instead.")
    spec = validate_spec(info.spec, source=f"run {run.run_id}")
    if CheckpointDir(run.checkpoint_dir).load_latest() is None:
        if run.next_epoch == 0:
            raise SpecError(f"run {run.run_id} has no epochs{info.why_it_ended()}, so it has no weights to test.")
        raise SpecError(f"run {run.run_id} has no saved weights (checkpoints were off); it cannot be tested.")
    prepared = prepare(spec)
    if "test" not in prepared.split.parts:
        raise SpecError(f"run {run.run_id} has no test split (its spec sets split.test to 0).")
    if not _same_test_split(info.manifest, prepared.split.manifest):
        raise StoreError(f"run {run.run_id}: the data no longer splits as recorded (its test part differs).")
    x, y = prepared.arrays["train"]
    model = build_model(
        spec, input_shape=tuple(x.shape[1:]), num_classes=prepared.num_classes, one_hot=prepared.one_hot,
        target_shape=tuple(y.shape[1:]),
    )  # fmt: skip
    earlier = run.evaluations("test")
    checkpoints = CheckpointDir(run.checkpoint_dir)
    note = None
    if best:
        found = checkpoints.load_best()
        if found is None:
            raise SpecError(f"run {run.run_id} kept no best-epoch weights (it had no validation loss or no "
                            "checkpoints); test its final weights without --best.")  # fmt: skip
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
    metrics = evaluate_test(run, model, prepared, epoch=epoch)
    from ..report import write_report

    write_report(run)  # the report shows the new test count
    return SealedEvaluation(run.run_id, epoch, weights, metrics, earlier, note)


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
    from ..keras_glue import restore_state
    from ..store import CheckpointDir

    found = CheckpointDir(run.checkpoint_dir).load_latest()
    if found is None:  # checked by the caller
        raise StoreError(f"run {run.run_id} has no readable checkpoint.")
    restore_state(model, found.arrays)
    return found.epoch
