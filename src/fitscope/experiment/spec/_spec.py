"""Experiment spec files (YAML), validated with pydantic.

Every key has a default; unknown keys are errors that name the key path and
suggest the nearest valid name.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator

from ..._errors import SpecError, argument_error
from ._errors import describe_errors, fields_at

__all__ = [
    "BUNDLED_SPECS",
    "Spec",
    "apply_override",
    "as_spec",
    "bundled_spec_names",
    "data_dir_override",
    "format_override",
    "is_argument_path",
    "load_spec",
    "local_builder_files",
    "parse_yaml",
    "path_parts",
    "validate_spec",
    "yaml_problem",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSpec(_Section):
    dataset: str = "mnist"
    # The data the model will meet, when it differs from the training data: the dev (split.val) and test
    # sets come from it, and a train-dev set (split.train_dev) from data.dataset (Ng's recipe).
    target: str | None = None
    task: Literal["classification", "regression"] = "classification"
    data_dir: str | None = None
    label: str = "label"
    group_column: str | None = None
    # StrictBool: `scale: 1` divides by 1, not (as the boolean 1 would) by the largest pixel value.
    scale: StrictBool | Annotated[float, Field(gt=0)] | Literal["standardize"] = True
    flatten: bool = True
    one_hot: bool | None = None  # None: one-hot when the loss is categorical_crossentropy


class SplitSpec(_Section):
    val: int | float = 0.2
    test: int | float | Literal["provided"] = 0
    train_dev: int | float | None = None  # with data.target: the part of data.dataset held out (default 0.1)
    shuffle: bool = True
    stratify: bool = False
    subsample: tuple[int | float, int | float] | None = None
    replace: bool = False


class CompileSpec(_Section):
    loss: str = "sparse_categorical_crossentropy"
    optimizer: str | dict[str, Any] = "rmsprop"
    metrics: list[str] = Field(default_factory=lambda: ["accuracy"])


# Larger values are typos, not plans (10**12 epochs never ends); each limit says why it is where it is.
MAX_EPOCHS = 1_000_000
MAX_BATCH_SIZE = 2**31 - 1


class FitSpec(_Section):
    epochs: int = Field(default=10, ge=1)
    batch_size: int = Field(default=32, ge=1)
    shuffle: bool = True
    # fitscope's speed-ups of Keras on JAX; false: plain Keras fit (also FITSCOPE_PLAIN_KERAS=1).
    accelerate: bool = True

    @field_validator("epochs")
    @classmethod
    def _epochs_that_end(cls, epochs: int) -> int:
        if epochs > MAX_EPOCHS:
            raise ValueError(
                f"at most {MAX_EPOCHS:,} epochs: a run that long would not end, and every epoch adds rows to the "
                "store. To train until the model stops improving, add an EarlyStopping callback"
            )
        return epochs

    @field_validator("batch_size")
    @classmethod
    def _batch_size_keras_can_count(cls, batch_size: int) -> int:
        if batch_size > MAX_BATCH_SIZE:
            raise ValueError(
                f"at most {MAX_BATCH_SIZE:,} (2**31 - 1): Keras counts samples in 32-bit integers. "
                "A batch_size at least the training set's size trains on all of it at once"
            )
        return batch_size


class RecordSpec(_Section):
    per_batch: bool = False
    tensorboard: bool = True
    checkpoint: Literal["auto"] | Annotated[int, Field(ge=1)] | None = "auto"  # every N epochs: N is 1 or more


class Spec(_Section):
    """A whole experiment: data, split, model, compile, fit, callbacks, record, seed."""

    name: str = "run"
    data: DataSpec = Field(default_factory=DataSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    model: list[dict[str, dict[str, Any] | None]] | str
    compile: CompileSpec = Field(default_factory=CompileSpec)
    fit: FitSpec = FitSpec()
    callbacks: list[dict[str, dict[str, Any] | None]] = Field(default_factory=list)
    record: RecordSpec = Field(default_factory=RecordSpec)
    seed: int | None = 0
    # What `fitscope tune SPEC` searches when no --param is given: key.path -> a list of values or a range.
    search: dict[str, list[Any] | str] | None = None
    lang: Literal["en", "ko"] | None = None  # what fitscope says about this experiment; not part of a trial's key

    @model_validator(mode="after")
    def _regression_defaults(self) -> Spec:
        """A regression scores numbers: mse and mae where the spec names no loss or metrics of its own."""
        if self.data.task == "regression":
            written = self.compile.model_fields_set
            if "loss" not in written:
                self.compile.loss = "mse"
            if "metrics" not in written:
                self.compile.metrics = ["mae"]
        return self


def validate_spec(data: Any, *, source: str = "spec") -> Spec:
    """Validate a spec dict, turning pydantic's errors into one readable SpecError."""
    if not isinstance(data, dict):
        raise argument_error(f"{source}: a spec is a mapping of sections (name, data, split, model, ...).", SpecError)
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        problems = describe_errors(exc.errors(), Spec)  # type: ignore[arg-type]
        raise argument_error(f"{source}: {problems}", SpecError) from None


# Specs that ship with fitscope (the book's two experiments, a quick digits run): a
# bare name such as `book_toy` finds them when no file of that name exists.
BUNDLED_SPECS = Path(__file__).resolve().parents[2] / "specs"  # (fitscope/specs)


def bundled_spec_names() -> list[str]:
    return sorted(path.stem for path in BUNDLED_SPECS.glob("*.yaml"))


def resolve_spec_path(path: str | Path) -> Path:
    """``path`` itself, or the bundled spec it names (``book_toy``, ``book_toy.yaml``) when no such file exists."""
    path = Path(path)
    if path.exists() or path.parent != Path("."):
        return path
    bundled = BUNDLED_SPECS / (path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml")
    return bundled if bundled.is_file() else path


# YAML 1.2 numbers PyYAML (YAML 1.1) reads as text: `1e-3` (1.1 wants `1.0e-3`), a learning
# rate as people write it.
_FLOAT_12 = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_yaml_classes: tuple[Any, Any] | None = None


def _yaml() -> tuple[Any, Any]:
    """A SafeLoader and a SafeDumper that both take ``1e-3`` for a number."""
    global _yaml_classes
    import yaml

    if _yaml_classes is None:

        class Loader(yaml.SafeLoader):
            pass

        class Dumper(yaml.SafeDumper):  # so the text "1e-3" is written quoted
            pass

        for kind in (Loader, Dumper):
            kind.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789"))
        _yaml_classes = (Loader, Dumper)
    return _yaml_classes


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load``, except that ``1e-3`` is the number 0.001 (as in YAML 1.2), not text."""
    import yaml

    return yaml.load(text, Loader=_yaml()[0])


def format_override(key: str, value: Any) -> str:
    """``key=value`` as ``--set`` takes it: the value in YAML flow style, which :func:`parse_yaml` reads back."""
    import yaml

    text = yaml.dump(value, Dumper=_yaml()[1], default_flow_style=True, width=2**31, allow_unicode=True,
                     sort_keys=False).strip()  # fmt: skip
    return f"{key}={text.removesuffix('...').strip()}"  # a lone scalar is dumped as a document ending in "..."


def yaml_problem(exc: Exception, *, where: bool = True) -> str:
    """Where and what, from a YAML error: `` at line 1, column 2: expected ...`` (only what with ``where=False``)."""
    problem = str(getattr(exc, "problem", None) or exc)
    mark = getattr(exc, "problem_mark", None)
    if not where:
        return problem
    return f"{f' at line {mark.line + 1}, column {mark.column + 1}' if mark else ''}: {problem}"


def load_spec(path: str | Path, overrides: list[str] | None = None) -> Spec:
    """Read a YAML spec (a path, or the name of a bundled spec), apply ``key.path=value`` overrides, validate it."""
    import yaml

    path = resolve_spec_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError(
            f"{path}: no such file. Give the path of a YAML spec, or the name of a spec fitscope ships: "
            f"{', '.join(bundled_spec_names())}."
        ) from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read ({exc.strerror}).") from exc
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: invalid YAML{yaml_problem(exc)}.") from None
    section = data.get("data") if isinstance(data, dict) else None
    in_file = dict(section) if isinstance(section, dict) else {}
    as_written = copy.deepcopy(data) if overrides else None
    for override in overrides or []:
        data = apply_override(data, override)
    try:
        spec = validate_spec(data, source=str(path))
    except SpecError:
        if as_written is None:
            raise
        validate_spec(as_written, source=str(path))  # a mistake in the file is named by the file
        validate_spec(data, source="<<overrides>>")  # else a value given on the command line is the one to fix
        raise
    _find_data_beside(spec, path.parent, in_file)
    if isinstance(spec.model, str):
        _let_builders_import_from(path.parent)
    return spec


# The folders fitscope added to sys.path for model builders (see _let_builders_import_from).
_BUILDER_FOLDERS: list[Path] = []


def _let_builders_import_from(folder: Path) -> None:
    """A spec's ``model: module:function`` may live next to the spec file or in the working folder.

    Both go at the end of ``sys.path`` (installed packages keep precedence); process
    workers start with the same path, and Ray workers get the module itself
    (:func:`local_builder_files`). A console script's path holds neither by itself.
    """
    import os
    import sys

    for place in (folder.resolve(), Path(os.getcwd()).resolve()):
        if place not in _BUILDER_FOLDERS:
            _BUILDER_FOLDERS.append(place)
        if str(place) not in sys.path:
            sys.path.append(str(place))


def local_builder_files(specs: Iterable[dict[str, Any]]) -> list[str]:
    """The files of the specs' model builders that were found next to a spec or in the working folder.

    A module file, or a package's folder. Workers on other machines (Ray) cannot see
    those folders, so the Ray executor sends these along with the tasks.
    """
    import importlib.util

    found: list[str] = []
    for spec in specs:
        model = spec.get("model")
        if not isinstance(model, str):
            continue
        try:
            module = importlib.util.find_spec(model.partition(":")[0].split(".")[0])
        except (ImportError, ValueError):  # the trial reports a builder it cannot import
            continue
        if module is None or module.origin is None:
            continue
        place = Path(module.submodule_search_locations[0] if module.submodule_search_locations else module.origin)
        if any(place.resolve().is_relative_to(folder) for folder in _BUILDER_FOLDERS) and str(place) not in found:
            found.append(str(place))
    return found


def _find_data_beside(spec: Spec, folder: Path, in_file: dict[str, Any]) -> None:
    """A relative data path written in the spec is looked for next to the spec file first, then from the working folder.

    So ``dataset: animals.csv`` in ``experiments/spec.yaml`` finds ``experiments/animals.csv``
    wherever fitscope runs from (and the run records that full path, the same from
    anywhere); a path found only from the working folder is used as it is, and so is one
    given with ``--set`` (a command-line path is relative to where the command runs).
    """
    from ...data import BUILTIN_DATASETS

    for key in ("dataset", "target", "data_dir"):
        value = getattr(spec.data, key)
        if value is None or value != in_file.get(key) or value in BUILTIN_DATASETS or value == "fashion-mnist":
            continue
        given = Path(value).expanduser()
        if not given.is_absolute() and (folder / given).exists():
            setattr(spec.data, key, str((folder / given).resolve()))


def path_parts(key: str) -> list[str | int]:
    """``model[0].Dense.units`` or ``model.0.Dense.units`` -> ["model", 0, "Dense", "units"]."""
    parts: list[str | int] = []
    for piece in key.strip().replace("[", ".").replace("]", "").split("."):
        if piece == "":
            continue
        parts.append(int(piece) if piece.isdigit() else piece)
    return parts


def apply_override(data: Any, override: str, *, option: str = "<<overrides>>") -> dict[str, Any]:
    """Set ``key.path=value`` (value parsed as YAML) in a spec dict; the path must exist.

    List items are addressed by position: ``model[0].Dense.units=32`` (or ``model.0...``).
    A name that stands for ``{name: {settings}}`` (``compile.optimizer: adam``) can be
    gone into by that name: ``compile.optimizer.adam.learning_rate=0.01``. Keyword
    arguments of a layer, optimizer or callback may be added (``Dense.kernel_initializer``)
    unless the key looks like a typo of one already there (``Dense.unit``).
    Errors name ``option``, the argument the override came from (``<<overrides>>``: see ``argument_error``).
    """
    import yaml

    if "=" not in override:
        raise argument_error(f"{option} {override!r}: expected key.path=value, such as fit.epochs=5.", SpecError)
    key, _, text = override.partition("=")
    try:
        value = parse_yaml(text) if text else ""
    except yaml.YAMLError as exc:
        raise argument_error(
            f"{option} {key.strip()}: cannot read the value {text!r}{yaml_problem(exc)}.", SpecError
        ) from None
    parts = path_parts(key)
    if not parts:
        raise argument_error(f"{option} {override!r}: the key path is empty.", SpecError)
    node: Any = data if isinstance(data, dict) else {}
    parent: Any = None
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        shown = key.strip()
        if isinstance(node, str) and isinstance(parent, dict) and parts[:i] == ["compile", "optimizer"]:
            node = _expand_name(node, parts, i, option, shown)
            parent[parts[i - 1]] = node
        if isinstance(node, list):
            if not isinstance(part, int) or not 0 <= part < len(node):
                raise argument_error(
                    f"{option} {shown}: position {part!r} is not in a list of {len(node)} item(s).", SpecError
                )
        elif isinstance(node, dict):
            fields = fields_at(Spec, tuple(p for p in parts[: i + 1] if isinstance(p, str)))
            if part not in node and part not in fields:
                options = [str(k) for k in node] + fields
                close = difflib.get_close_matches(str(part), options, n=1)
                # A new keyword argument is let in (the class judges it when the model is
                # built); anything else, or a near miss of a key that is there, is refused.
                if close or fields or not is_argument_path(parts[: i + 1]):
                    prefix = ".".join(str(p) for p in parts[:i])
                    hint = f"; did you mean `{prefix + '.' if prefix else ''}{close[0]}`?" if close else ""
                    elsewhere = _paths_ending_in(data, str(part)) if not close else []
                    if elsewhere:  # (`units=...`: the key is there, deeper)
                        hint = f"; the spec has it at {' and '.join(f'`{path}`' for path in elsewhere[:3])}"
                    where = ".".join(str(p) for p in parts[: i + 1])
                    raise argument_error(f"{option} {shown}: `{where}` is not in the spec{hint}", SpecError)
        else:
            raise argument_error(
                f"{option} {shown}: cannot go inside the value at `{'.'.join(map(str, parts[:i]))}`.", SpecError
            )
        if last:
            node[part] = value
            continue
        parent = node
        if isinstance(node, dict) and node.get(part) is None:
            node[part] = {}
        node = node[part]
    return data  # type: ignore[no-any-return,unused-ignore]


def _paths_ending_in(data: Any, name: str) -> list[str]:
    """The paths in ``data`` whose last key is ``name``, written as overrides take them (``model[0].Dense.units``)."""
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                inner = f"{path}.{key}" if path else str(key)
                if str(key) == name:
                    found.append(inner)
                walk(value, inner)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    walk(data, "")
    return found


def is_argument_path(parts: list[str | int]) -> bool:
    """Whether ``parts`` leads to one keyword argument of a class.

    That is ``model[0].Dense.<arg>``, ``callbacks[0].EarlyStopping.<arg>`` or ``compile.optimizer.adam.<arg>``.
    """
    if len(parts) != 4:
        return False
    head, position = parts[0], parts[1]
    in_a_list = head in ("model", "callbacks") and isinstance(position, int)
    return in_a_list or [head, position] == ["compile", "optimizer"]


def _expand_name(name: str, parts: list[str | int], i: int, option: str, shown: str) -> dict[str, Any]:
    """The optimizer ``adam`` as ``{adam: {}}``, when the path goes on through that very name."""
    where = ".".join(str(p) for p in parts[:i])
    if parts[i] == name:
        return {name: {}}
    tail = ".".join(str(p) for p in parts[i + 1 :])
    if not tail:
        raise argument_error(
            f"{option} {shown}: `{where}` is `{name}`; set `{where}={parts[i]}` to change it.", SpecError
        )
    raise argument_error(
        f"{option} {shown}: `{where}` is `{name}`, so its settings are at `{where}.{name}.{tail}`; "
        f"for another optimizer set the whole value, such as {where}='{{{parts[i]}: {{{tail}: ...}}}}'.",
        SpecError,
    )


def data_dir_override(folder: str | Path) -> str:
    """The ``key.path=value`` override that points a spec's built-in dataset at ``folder`` (quoted if YAML needs it)."""
    import json

    import yaml

    text = str(folder)
    try:
        plain = yaml.safe_load(text) == text
    except yaml.YAMLError:
        plain = False
    return f"data.data_dir={text if plain else json.dumps(text)}"


def as_spec(spec: Spec | dict[str, Any] | str | Path, overrides: list[str] | None) -> Spec:
    """A validated spec from a :class:`Spec`, a dict or a YAML path, with ``key.path=value`` overrides applied."""
    if isinstance(spec, Spec):
        if overrides:
            data = spec.model_dump()
            for override in overrides:
                data = apply_override(data, override)
            return validate_spec(data)
        return spec
    if isinstance(spec, dict):
        data = copy.deepcopy(spec)  # the caller's dict stays as it was
        for override in overrides or []:
            data = apply_override(data, override)
        return validate_spec(data)
    return load_spec(spec, overrides)
