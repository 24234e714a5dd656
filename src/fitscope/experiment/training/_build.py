"""Build a compiled Keras model from a spec, checking it against the data first."""

from __future__ import annotations

import contextlib
import difflib
import importlib
import inspect
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from ..._errors import SpecError
from ..spec import Spec, is_argument_path

__all__ = [
    "build_callbacks",
    "build_model",
    "check_argument_name",
    "check_names",
    "keras_reason",
    "needs_every_step",
    "restored_epoch",
    "steps_per_execution",
]

_CATEGORICAL = {"categorical_crossentropy", "categorical_focal_crossentropy"}


def _lookup(module: Any, name: str, kind: str, where: str) -> Any:
    found = getattr(module, name, None)
    if found is None or not callable(found):
        options = [n for n in dir(module) if not n.startswith("_")]
        close = difflib.get_close_matches(name, options, n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        raise SpecError(f"unknown {kind} `{name}` at {where}{hint}")
    return found


def _layers(spec: Spec, input_shape: tuple[int, ...]) -> Any:
    import keras

    if isinstance(spec.model, str):
        builder = import_builder(spec.model)
        if not callable(builder) or isinstance(builder, type(len)):  # (sys:exit, os:abort: not Python functions)
            raise SpecError(
                f"model: {spec.model!r} is not a model builder but a built-in of Python; give a function of your "
                "own that takes no arguments and returns a Keras model."
            )
        try:
            model = builder()
        except SystemExit as exc:  # (a builder that calls sys.exit or exit(): the command ends with an error)
            raise SpecError(
                f"model: the builder {spec.model!r} tried to end the program (SystemExit({exc.code!r})) "
                "instead of returning a Keras model."
            ) from None
        except Exception as exc:
            raise SpecError(f"model: the builder {spec.model!r} failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(model, keras.Model):
            raise SpecError(f"model: the builder {spec.model!r} returned {type(model).__name__}, not a Keras model.")
        return model
    layers = _instantiate(keras.layers, spec.model, "layer", "model")
    model = keras.Sequential([keras.Input(input_shape)])
    shape = input_shape
    for i, (entry, layer) in enumerate(zip(spec.model, layers)):
        try:  # one at a time, so a layer that does not fit what comes before it is named
            model.add(layer)
        except (ValueError, TypeError) as exc:
            name = next(iter(entry))
            reason = f"{keras_reason(exc)}.{_shape_hint(name, shape)}"
            raise SpecError(f"model[{i}] ({name}) cannot take inputs of shape {shape}: {reason}") from None
        shape = tuple(model.output_shape[1:])
    return model


def import_builder(builder: str) -> Any:
    """The function a spec names as ``'package.module:function'`` (its module imported: its Keras classes registered).

    Raises:
        SpecError: it cannot be imported, or its module is not safe to run.
    """
    module_name, _, function = builder.partition(":")
    try:
        _refuse_untrusted(builder, module_name)  # (before its code runs: importing runs it)
        return getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SpecError(
            f"model: cannot import the builder {builder!r} ({exc}). "
            "Give it as 'package.module:function', importable from the spec's folder, the working folder "
            "or the Python path."
        ) from exc


def _refuse_untrusted(builder: str, module_name: str) -> None:
    """A spec runs its builder's code: never code that other users of the machine could have changed.

    A module file or its folder that everyone may write (a folder without the sticky
    bit), or that another user owns, is not trusted. Checked for the top-level package
    before anything is imported, then for the module itself.
    """
    import importlib.util

    if os.name != "posix" or not module_name:
        return
    top = module_name.split(".")[0]
    places: list[Path] = []
    for name in dict.fromkeys((top, module_name)):
        found = importlib.util.find_spec(name)
        if found is None or not found.origin or not Path(found.origin).is_file():
            return  # (not found: the import says so; built in or frozen: Python's own)
        path = Path(found.origin).resolve()
        places += [path, path.parent]
    me = os.getuid()
    for place in dict.fromkeys(places):
        status = place.stat()
        others_write = bool(status.st_mode & stat.S_IWOTH) and not (place.is_dir() and status.st_mode & stat.S_ISVTX)
        if others_write or status.st_uid not in (me, 0):
            who = "every user of this machine may change it" if others_write else "another user owns it"
            raise SpecError(
                f"model: fitscope will not run the builder {builder!r} from {place}: {who}, so the code a spec runs "
                "could be anyone's. Keep builder modules in a folder only you can write (chmod o-w)."
            )


def _single_input_shape(model: Any) -> tuple[int | None, ...] | None:
    """The per-sample input shape of a one-input model, or ``None`` (several inputs, or not known)."""
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):  # a subclassed model
        return None
    if not isinstance(shape, tuple) or not all(d is None or isinstance(d, int) for d in shape):
        return None
    return tuple(shape[1:])


def _fits(expected: tuple[int | None, ...], actual: tuple[int, ...]) -> bool:
    return len(expected) == len(actual) and all(e is None or e == a for e, a in zip(expected, actual))


_NOTED_RECOMPILE: set[str] = set()


def _note_recompiled(spec: Spec) -> None:
    """A builder compiled its model, the spec has no compile section: say whose settings train it (once)."""
    import sys

    if str(spec.model) in _NOTED_RECOMPILE:
        return
    _NOTED_RECOMPILE.add(str(spec.model))
    c = spec.compile
    print(
        f"note: the builder {spec.model} returned a compiled model; fitscope compiles it again with the spec's "
        f"compile section, here its defaults (optimizer {c.optimizer}, loss {c.loss}, metrics "
        f"{', '.join(c.metrics)}). Write `compile:` in the spec to choose.",
        file=sys.stderr,
    )


def _shape_hint(layer: str, shape: tuple[int, ...]) -> str:
    """What to add for the common mismatch: images without a channel axis into a convolution."""
    if "Conv2D" not in layer and "Pooling2D" not in layer:
        return ""
    if len(shape) == 2:
        return f" Give the images a channel axis first: `- Reshape: {{target_shape: [{shape[0]}, {shape[1]}, 1]}}`."
    if len(shape) == 1:
        return " The images arrive flattened: set data.flatten: false, then Reshape them to [height, width, 1]."
    return ""


def _instantiate(module: Any, entries: list[dict[str, Any]], kind: str, section: str) -> list[Any]:
    """Objects from spec entries written `- ClassName: {arguments}` (layers, callbacks)."""
    built = []
    for i, entry in enumerate(entries):
        if len(entry) != 1:
            raise SpecError(f"{section}[{i}]: give one {kind} as `- Name: {{arguments}}`.")
        ((name, arguments),) = entry.items()
        cls = _lookup(module, name, kind, f"{section}[{i}]")
        try:
            built.append(cls(**(arguments or {})))
        except (TypeError, ValueError) as exc:
            raise SpecError(f"{section}[{i}] ({name}): {exc}") from exc
    return built


def check_argument_name(path: list[str | int]) -> None:
    """Refuse a likely typo of a keyword argument (``model[0].Dense.kernel_initializr``) before any training.

    ``path`` leads to one argument of a layer, callback or optimizer, such as
    ``["model", 0, "Dense", "kernel_initializer"]``. A name the class takes, or one
    near none of them, passes: the class itself judges it when the model is built.
    """
    if not is_argument_path(path):
        return
    import keras

    head, _, name, argument = path
    cls: Any = None
    if head in ("model", "callbacks"):
        cls = getattr(keras.layers if head == "model" else keras.callbacks, str(name), None)
    else:
        cls = _optimizer_class(str(name))
    if not isinstance(cls, type):
        return
    accepted = _accepted_arguments(cls)
    close = difflib.get_close_matches(str(argument), sorted(accepted), n=1)
    if argument not in accepted and close:
        raise SpecError(f"`{name}` takes no argument `{argument}`; did you mean `{close[0]}`?")


def _accepted_arguments(cls: type) -> set[str]:
    """The keyword arguments of ``cls`` and of the base classes its ``**kwargs`` go on to."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        parameters = inspect.signature(init).parameters.values()
        names |= {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {"self"}
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    return names


_OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax", "nadam", "ftrl", "lion")


def _optimizer_class(name: str) -> Any:
    """The Keras optimizer class called ``name`` (``adam``, ``SGD``...), or None when there is none."""
    import keras

    try:
        return type(keras.optimizers.get(name))
    except (ValueError, TypeError):
        return None


def _optimizer(spec: Spec) -> Any:

    chosen = spec.compile.optimizer
    name, arguments = (chosen, {}) if isinstance(chosen, str) else next(iter(chosen.items()), ("", {}))
    optimizer_class = _optimizer_class(name)
    if optimizer_class is None:
        close = difflib.get_close_matches(str(name).lower(), _OPTIMIZERS, n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        raise SpecError(f"unknown optimizer `{name}` at compile.optimizer{hint}") from None
    try:  # from_config, as keras.optimizers.get does: a learning-rate schedule may be given as a mapping
        return optimizer_class.from_config(dict(arguments or {}))
    except (ValueError, TypeError) as exc:  # a known optimizer: its arguments are wrong
        accepted = _accepted_arguments(optimizer_class)
        unknown = [str(k) for k in (arguments or {}) if k not in accepted]
        close = difflib.get_close_matches(unknown[0], sorted(accepted), n=1) if unknown else []
        hint = f"; did you mean `{close[0]}`?" if close else ""
        raise SpecError(f"compile.optimizer ({name}): {exc}{hint}") from None


def build_model(
    spec: Spec,
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    one_hot: bool,
    steps_per_execution: int = 1,
    target_shape: tuple[int, ...] = (),
) -> Any:
    """The compiled model of ``spec`` for inputs of ``input_shape`` (checked before any training).

    ``target_shape`` is a regression's per-sample target shape (``()`` for one number).

    ``steps_per_execution`` > 1 lets Keras run that many steps between callback
    dispatches: the same training, without per-step Python overhead (on JAX, the
    steps run as one compiled loop, the metrics reset in one call and their results come
    from the last step's logs: see :func:`fitscope.keras_glue.accelerate`). With the
    speed-ups off (``fit.accelerate: false``, ``FITSCOPE_PLAIN_KERAS=1``) the model is
    plain Keras.
    """
    import keras

    from ...keras_glue import accelerate, carry_rnn_states, speedups_on, weight_programs

    speedups = speedups_on(spec.fit.accelerate)
    loss = spec.compile.loss
    regression = spec.data.task == "regression"
    _check_compile_names(spec)
    if not regression and loss in _CATEGORICAL and not one_hot:
        raise SpecError(
            f"compile.loss `{loss}` needs one-hot labels but data.one_hot is false. "
            "Use `sparse_categorical_crossentropy` with integer labels, or set data.one_hot: true."
        )
    if spec.seed is not None:
        keras.utils.set_random_seed(spec.seed)
    with weight_programs() if speedups else contextlib.nullcontext():
        model = _layers(spec, input_shape)
        if not model.built:  # a builder's model without keras.Input: built for the data, as fit would
            try:
                model.build((None, *input_shape))
            except Exception as exc:
                raise SpecError(
                    f"model: the builder {spec.model!r} returned a model that cannot be built for inputs of shape "
                    f"{input_shape}: {keras_reason(exc)}. Start it with keras.Input(shape={input_shape})."
                ) from exc
    if getattr(model, "compiled", False) and "compile" not in spec.model_fields_set:
        _note_recompiled(spec)
    expected = _single_input_shape(model)
    if expected is not None and not _fits(expected, input_shape):
        raise SpecError(
            f"model: the builder {spec.model!r} makes a model for samples of shape {expected}, but the data's "
            f"samples have shape {input_shape} (data.flatten is {str(spec.data.flatten).lower()}). Build it with "
            f"keras.Input(shape={input_shape}), or change data.flatten to match."
        )
    try:
        width = model.output_shape[-1] if isinstance(model.output_shape, tuple) else None
    except AttributeError:  # a subclassed model has no output_shape: the output is checked by training
        width = None
    if regression:
        targets = math.prod(target_shape)
        if width is not None and width != targets:
            raise SpecError(
                f"the model's output layer has {width} units but each sample has {targets} target value(s) to "
                f"predict. Make the last layer Dense({targets}) (linear: no activation)."
            )
    elif num_classes < 2:
        raise SpecError(
            f"the training labels hold {num_classes} class(es): a classifier needs at least two to learn anything. "
            "Check data.label (or the dataset's labels) and the split (split.stratify keeps every class in each "
            "part); to predict a number instead, set data.task: regression."
        )
    elif "binary" in loss and "crossentropy" in loss:  # one sigmoid unit for two classes
        if width is not None and width != 1 and not (one_hot and width == 2):
            raise SpecError(
                f"compile.loss `{loss}` scores one probability per sample, but the model's output layer has {width} "
                f"units. Make the last layer Dense(1, activation='sigmoid'), or use "
                f"sparse_categorical_crossentropy with Dense({num_classes}, activation='softmax')."
            )
        if num_classes != 2:
            raise SpecError(
                f"compile.loss `{loss}` is for two classes; the data has {num_classes}. Use "
                f"sparse_categorical_crossentropy with Dense({num_classes}, activation='softmax')."
            )
    elif "crossentropy" in loss and width is not None and width != num_classes:
        raise SpecError(
            f"the model's output layer has {width} units but the data has {num_classes} classes. "
            f"Make the last layer Dense({num_classes}, activation='softmax')."
        )
    try:
        model.compile(
            loss=loss, optimizer=_optimizer(spec), metrics=list(spec.compile.metrics),
            steps_per_execution=steps_per_execution,
        )  # fmt: skip
    except ValueError as exc:
        raise SpecError(f"compile: {exc}") from exc
    if speedups:
        accelerate(model)
    carry_rnn_states(model)  # (not a speed-up: without it a stateful RNN on JAX keeps no state)
    return model


def check_names(spec: Spec) -> None:
    """Check the names in ``spec`` that Keras looks up (loss, metrics, optimizer, layers, callbacks), without data.

    Raises the :class:`SpecError` that :func:`build_model` would raise later, so a
    search can refuse a misspelt activation or optimizer before its first trial. A
    model builder (``model: package.module:function``) is left to the trial.
    """
    from ..._process import import_keras

    import_keras()  # a search's first Keras import is here: with the collector paused
    import keras

    _check_compile_names(spec)
    _optimizer(spec)
    if not isinstance(spec.model, str):
        _instantiate(keras.layers, spec.model, "layer", "model")
    build_callbacks(spec)


def _check_compile_names(spec: Spec) -> None:
    """The loss and metrics are ones Keras knows, and fit the task."""
    import keras

    loss = spec.compile.loss
    if spec.data.task == "regression":
        _check_regression_compile(spec)  # (refuses every classification loss, the categorical ones too)
    try:
        keras.losses.get(loss)
    except ValueError:
        close = difflib.get_close_matches(loss, [n for n in dir(keras.losses) if n.islower()], n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        raise SpecError(f"unknown loss `{loss}` at compile.loss{hint}") from None
    for i, metric in enumerate(spec.compile.metrics):
        _check_metric(metric, f"compile.metrics[{i}]")


# Metrics that count correct classes, and loss words of classification: meaningless on numbers to predict.
_CLASS_METRICS = re.compile(r"(^|_)(acc|accuracy|auc|precision|recall|crossentropy|ce|hinge)$|^f1|^fbeta")
_CLASS_LOSSES = ("crossentropy", "hinge", "focal")


def _check_regression_compile(spec: Spec) -> None:
    """A regression (``data.task: regression``) is scored by errors, not by classes."""
    loss = spec.compile.loss
    if any(word in loss for word in _CLASS_LOSSES):
        raise SpecError(
            f"compile.loss `{loss}` is a classification loss, but data.task is regression. Use a loss for "
            "numbers: mse (mean squared error), mae or huber."
        )
    for i, metric in enumerate(spec.compile.metrics):
        if _CLASS_METRICS.search(metric.lower()):
            raise SpecError(
                f"compile.metrics[{i}] `{metric}` scores classes, but data.task is regression. Use mae "
                "(mean absolute error), mse or root_mean_squared_error."
            )


def keras_reason(exc: Exception) -> str:
    """The line that says what went wrong in a Keras error (which adds a header, colours and the arguments)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(exc).splitlines()]
    reasons = [line for line in lines if line and not line.startswith(("Exception encountered", "Arguments received",
                                                                        "•"))]  # fmt: skip
    return f"{type(exc).__name__}: {(reasons or [''])[0]}".rstrip(": ")


# Names Keras's compile() accepts besides the metric functions and classes.
_METRIC_ALIASES = {"accuracy", "acc", "crossentropy", "ce", "mse", "mae", "mape", "msle", "auc"}


def _check_metric(name: str, where: str) -> None:
    import keras

    if name.lower() in _METRIC_ALIASES:
        return
    try:
        keras.metrics.get(name)
    except ValueError:
        options = sorted(_METRIC_ALIASES | {n for n in dir(keras.metrics) if n.islower() and not n.startswith("_")})
        close = difflib.get_close_matches(name, options, n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        raise SpecError(f"unknown metric `{name}` at {where}{hint}") from None


def build_callbacks(spec: Spec) -> list[Any]:
    """Keras callbacks named in the spec (EarlyStopping, ReduceLROnPlateau, ...)."""
    import keras

    return _instantiate(keras.callbacks, spec.callbacks, "callback", "callbacks")


def steps_per_execution(
    spec: Spec, train_size: int, callbacks: list[Any], *, per_batch: bool = False, view: Any = None
) -> int:
    """How many steps Keras runs per execution: a whole epoch unless something needs every step.

    The same training, without per-step Python overhead (and on JAX one compiled loop:
    see ``fuse_steps``). A live view on a terminal gets ~20 reports in a long epoch.
    """
    import keras

    from ...keras_glue import speedups_on

    steps = math.ceil(train_size / spec.fit.batch_size)
    if not speedups_on(spec.fit.accelerate):
        return 1  # plain Keras fit
    if per_batch or needs_every_step(callbacks) or keras.backend.backend() == "torch":
        return 1  # Keras's PyTorch trainer runs one step per call only
    if view is not None and getattr(view, "coarse_batches", False) and steps > 100:
        return math.ceil(steps / 20)
    return min(1000, steps)


def restored_epoch(callbacks: list[Any]) -> int | None:
    """The epoch whose weights EarlyStopping put back at the end of ``fit``, or ``None`` (the last epoch's)."""
    import keras

    for callback in callbacks:
        if (
            isinstance(callback, keras.callbacks.EarlyStopping)
            and callback.restore_best_weights
            and callback.best_weights is not None
        ):
            return int(callback.best_epoch)  # Keras counts from initial_epoch on: the run's own epoch numbers
    return None


def needs_every_step(callbacks: list[Any]) -> bool:
    """Whether any callback overrides a per-batch hook (then steps must run one by one).

    Callbacks marked ``coarse_batches`` (the live view) are content with a report
    every few steps and do not count.
    """
    import keras

    base = keras.callbacks.Callback
    hooks = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
    return any(
        getattr(type(cb), hook) is not getattr(base, hook)
        for cb in callbacks
        if not getattr(cb, "coarse_batches", False)
        for hook in hooks
    )
