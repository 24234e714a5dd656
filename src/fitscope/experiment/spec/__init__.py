"""Experiment specs: the YAML file (or dict) that says what to train, validated with pydantic."""

from __future__ import annotations

from ._spec import (
    BUNDLED_SPECS,
    Spec,
    apply_override,
    as_spec,
    bundled_spec_names,
    data_dir_override,
    format_override,
    is_argument_path,
    load_spec,
    local_builder_files,
    parse_yaml,
    path_parts,
    validate_spec,
    yaml_problem,
)

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
