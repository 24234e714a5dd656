"""Run an experiment spec: prepare its data, train one model into the run's own sink, evaluate on validation.

``fitscope run`` is one trial with a local sink (:mod:`.training`). The test split
is never evaluated unless asked (``test=True``); each evaluation is a row in the
store's ledger.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import FitscopeError, SpecError, StoreError, argument_error
from .._i18n import prefer_language
from .._process import freeze_imports
from ..analysis import lowest_epoch
from ..store import Run, RunSink, Store
from .preparing import prepare, warn_about_split
from .sealed import evaluate_test
from .spec import Spec, as_spec
from .training import Trainer, keras_reason

__all__ = ["RunResult", "resume_command", "run_spec"]


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


def run_spec(
    spec: Spec | dict[str, Any] | str | Path,
    *,
    overrides: list[str] | None = None,
    runs: str | Path | None = None,
    name: str | None = None,
    resume: str | None = None,
    from_scratch: bool = False,
    force: bool = False,
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
        from_scratch: with ``resume``, train the run again from epoch 0, keeping its epochs as an earlier attempt.
        force: with ``resume``, take the run even from a process that looks alive (you know it is gone).
        test: also evaluate once on the sealed test split.
        progress: print a progress line every few seconds.
        warn_split: print what the split's audit found (leakage, missing classes) before a new run.
    """
    from ..keras_glue import architecture_fingerprint, check_resumable, progress_callback, resume_model

    freeze_imports()
    if from_scratch and not resume:
        raise argument_error("<<from_scratch>> goes with <<resume=RUN>>: it starts that run again from epoch 0.")
    if force and not resume:
        raise argument_error("<<force>> goes with <<resume=RUN>>: it takes that run from a process that looks alive.")
    spec = as_spec(spec, overrides)
    prefer_language(spec.lang)
    prepared = prepare(spec)
    if test and "test" not in prepared.split.parts:
        raise argument_error(
            "<<test>>: this spec's split has no test part; set split.test (e.g. provided or 0.2).", SpecError
        )
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
        # Before the claim, so that a refused resume changes nothing; its checkpoint is read once.
        checked = {} if from_scratch else {"checkpoint": check_resumable(run)}
        run.claim(force=force)
        initial_epoch = resume_model(run, model, from_scratch=from_scratch, **checked)
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
        try:
            with run:
                trained = trainer.fit(sink, initial_epoch=initial_epoch)
                if trained.status == "finished" and test:
                    test_metrics = evaluate_test(run, model, prepared, epoch=trained.weights_epoch)
        except StoreError as exc:  # a full disk, say: the run stays resumable, and the caller can say how
            exc.run_id = run.run_id
            raise
        except (ValueError, TypeError) as exc:
            if resume or run.next_epoch > 0 or isinstance(exc, FitscopeError):
                raise
            # Keras refused the first step (a metric, loss or label shape that cannot fit the
            # model): bad input, found before anything was trained, so nothing is kept.
            sink.close()
            store.delete(run.run_id)
            raise SpecError(
                f"the model cannot train on this data (compile.loss, compile.metrics and the labels must fit its "
                f"output layer): {keras_reason(exc)}"
            ) from exc
    except BaseException:
        with contextlib.suppress(StoreError):  # (TensorBoard on a full disk: the error that stopped the run first)
            sink.close()
        raise
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


def _best_epoch(history: dict[str, list[float]]) -> int | None:
    return lowest_epoch(history.get("val_loss") or [])


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
