"""What a search varies: ``--param`` values, read and checked before any trial.

A search space's mistakes (a path not in the spec, a value of the wrong kind, a
misspelt activation) would otherwise fail every trial that has them, perhaps late in
a long search; so does a ``--set`` that adds a misspelt keyword argument.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..._errors import SpecError, argument_error
from ..spec import Spec, apply_override, as_spec, is_argument_path, parse_yaml, path_parts, validate_spec, yaml_problem
from ._distributions import Distribution, parse_distribution

__all__ = ["check_distinct", "check_keras_names", "check_new_arguments", "parse_param", "set_path"]


def check_distinct(keys: list[str]) -> None:
    """Each searched value once: a repeated or nested --param would silently replace the other."""
    for i, key in enumerate(keys):
        for other in keys[i + 1 :]:
            if other == key:
                raise argument_error(
                    f"<<params>> {key} is given twice; give all its values in one: <<params>> {key}=v1,v2,..."
                )
            inner, outer = sorted((key, other), key=len, reverse=True)
            if inner.startswith((f"{outer}.", f"{outer}[")):
                raise argument_error(f"<<params>> {inner} lies inside <<params>> {outer}: search one or the other.")


def parse_param(text: str, spec_data: dict[str, Any]) -> tuple[str, list[Any] | Distribution]:
    """Parse ``key.path=v1,v2,...`` (or a range, ``key.path=loguniform(1e-4,1e-1)``) and check it fits the spec.

    The values are read as one YAML flow sequence, so a value may itself be a mapping
    or a list (``model[0]={Dense: {units: 8}},{Dense: {units: 64}}``). A range is
    checked at its ends (every choice of a ``choice``).
    """
    import yaml

    key, sep, values_text = text.partition("=")
    if not sep or not values_text.strip():
        raise argument_error(f"<<params>> {text!r}: expected key.path=v1,v2,... such as fit.batch_size=16,32.")
    key = key.strip()
    spread = parse_distribution(key, values_text)
    if spread is not None:
        _check_new_argument(spec_data, key, "<<params>>")
        for value in spread.endpoints():
            _check_value(spec_data, key, value)
        return key, spread
    try:
        values = parse_yaml(f"[{values_text}]")
    except yaml.YAMLError as exc:
        raise argument_error(
            f"<<params>> {key}: cannot read the values {values_text!r}: {yaml_problem(exc, where=False)}. "
            "Separate the values with commas, and quote a value that holds one."
        ) from None
    if not values:
        raise argument_error(f"<<params>> {key}: the list of values is empty.")
    seen: set[str] = set()
    for value in values:
        described = json.dumps(value, sort_keys=True)
        if described in seen:
            raise argument_error(f"<<params>> {key}: the value {value!r} is given twice; each configuration runs once.")
        seen.add(described)
    _check_new_argument(spec_data, key, "<<params>>")
    for value in values:
        _check_value(spec_data, key, value)
    return key, values


def _check_value(spec_data: dict[str, Any], key: str, value: Any) -> None:
    """``value`` at ``key`` makes a valid spec, of the kind the spec writes there."""
    try:
        probe = apply_override(json.loads(json.dumps(spec_data)), f"{key}={json.dumps(value)}", option="<<params>>")
        validate_spec(probe)
    except SpecError as exc:
        # A bad path already names the argument; a bad value is shown in front (without "spec: ",
        # which names the file a spec error is in: here there is none).
        message = (exc.template or str(exc)).removeprefix("spec: ")
        raise argument_error(
            message if message.startswith("<<params>>") else f"<<params>> {key}={value!r}: {message}"
        ) from None
    _check_kind(key, value, spec_data)


def check_new_arguments(spec: Spec | dict[str, Any] | str | Path, overrides: list[str] | None) -> None:
    """Check each ``--set`` that adds a keyword argument against its Keras class, before any trial."""
    keys = [o.partition("=")[0].strip() for o in overrides or []]
    keys = [key for key in keys if is_argument_path(path_parts(key))]
    if not keys:
        return  # nothing to check: the spec is not read a second time
    written = as_spec(spec, None).model_dump(mode="json")
    for key in keys:
        _check_new_argument(written, key, "<<overrides>>")


def _check_new_argument(spec_data: dict[str, Any], key: str, option: str) -> None:
    """A keyword argument the spec does not write (``model[0].Dense.kernel_initializr``) must not be a typo.

    Checked once here, as a typo would fail every trial; Keras is imported only then.
    """
    parts = path_parts(key)
    if not is_argument_path(parts) or _value_at(spec_data, parts) is not _MISSING:
        return
    from ..training import check_argument_name

    try:
        check_argument_name(parts)
    except SpecError as exc:
        raise argument_error(f"{option} {key}: {exc.template or exc}") from None


_MISSING = object()


def _value_at(data: Any, parts: list[str | int]) -> Any:
    """The spec data's value at ``parts``, or ``_MISSING`` where it writes none."""
    node = data
    for part in parts:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_dict or in_list):
            return _MISSING
        node = node[part]
    return node


def _check_kind(key: str, value: Any, spec_data: dict[str, Any]) -> None:
    """A layer's or callback's argument keeps its kind (number, text, true/false) across the search.

    The spec's typed sections are checked by the spec model; layer and callback
    arguments are free-form, and a wrong kind there would only fail in every trial.
    """
    if not key.startswith(("model", "callbacks")):
        return
    current = _value_at(spec_data, path_parts(key))
    if current is _MISSING:
        return  # a new argument: nothing to compare with
    kinds = {bool: "true or false", int: "a number", float: "a number", str: "text"}
    expected, given = kinds.get(type(current)), kinds.get(type(value))
    if expected is not None and value is not None and given != expected:
        raise argument_error(f"<<params>> {key}={value!r}: expected {expected}, like the spec's {current!r}.")


# The spec sections whose values Keras looks up by name (activations, optimizers, losses...).
_NAMED_SECTIONS = ("model", "compile", "callbacks")


def check_keras_names(spec: Spec, parsed: list[tuple[str, list[Any]]], executor: str) -> None:  # (ranges: their ends)
    """Refuse a name Keras does not know, in the spec or in a ``--param`` value, before any trial.

    A misspelt activation would otherwise fail every trial that has it, perhaps late in
    a long search. This imports Keras: a local search does anyway; the process and Ray
    drivers (which need no Keras themselves) do it only when a searched value of those
    sections holds text. Searched numbers are checked by the spec's types, and by their
    trials.
    """
    named = [(key, values) for key, values in parsed if key.startswith(_NAMED_SECTIONS)]
    if executor != "local" and not any(isinstance(v, (str, dict, list)) for _, values in named for v in values):
        return
    from ..training import check_names

    check_names(spec)
    base = spec.model_dump(mode="json")
    for key, values in named:
        for value in values:
            try:
                check_names(validate_spec(set_path(base, key, value)))
            except SpecError as exc:
                raise argument_error(f"<<params>> {key}={value!r}: {exc.template or exc}") from None


def set_path(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return apply_override(json.loads(json.dumps(data)), f"{key}={json.dumps(value)}")
