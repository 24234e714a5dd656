"""The layers of DESIGN.md import only downwards: data, store, analysis, report, keras_glue, experiment, cli.

Every ``import`` counts, the ones inside functions too (a lazy import is still a
dependency). The modules at the package's top (``_errors``, ``_process`` ...) sit
below every layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import fitscope

PACKAGE = Path(fitscope.__file__).parent
LAYERS = ("data", "store", "analysis", "report", "keras_glue", "experiment", "cli")


def _layer(module: str) -> int:
    """The rank of a module ``fitscope.x.y`` (-1: the shared modules at the package's top)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else -1


def _imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for each fitscope module imported by the file at ``path`` (``root``: the package's parent)."""
    relative = path.relative_to(root).with_suffix("")
    package = list(relative.parts if path.name == "__init__.py" else relative.parts[:-1])
    if path.name == "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            folder = root.joinpath(*module.split("."))
            # `from .. import x`: x is a module of that package, or a name the package itself defines.
            names = [module] if node.module else [
                f"{module}.{alias.name}" if _is_module(folder / alias.name) else module for alias in node.names
            ]  # fmt: skip
            found += [(node.lineno, name) for name in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, name) for line, name in found if name == "fitscope" or name.startswith("fitscope.")]


def _is_module(path: Path) -> bool:
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _upward_imports(package: Path = PACKAGE) -> list[str]:
    wrong = []
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
        if module in ("fitscope", "fitscope.__main__"):
            continue  # the public face re-exports every layer (lazily); ``python -m fitscope`` is the CLI
        mine = _layer(module)
        for line, imported in _imports(path, package.parent):
            if imported == "fitscope" or _layer(imported) > mine:
                wrong.append(f"{path.relative_to(package)}:{line} imports {imported}")
    return wrong


def test_no_layer_imports_a_layer_above_it() -> None:
    assert _upward_imports() == []


def test_the_walk_finds_upward_imports(tmp_path: Path) -> None:
    """The test above can fail: planted upward imports (store -> keras_glue, data -> the package) are found."""
    package = tmp_path / "fitscope"
    (package / "store").mkdir(parents=True)
    (package / "data").mkdir()
    (package / "store" / "_planted.py").write_text("def f():\n    from ..keras_glue import Recorder\n")
    (package / "store" / "_fine.py").write_text("from .._errors import StoreError\nfrom ..data import Split\n")
    (package / "data" / "__init__.py").write_text("import fitscope.analysis\nfrom . import _x\n")
    (package / "data" / "_x.py").write_text("from .. import __version__\nfrom .._version import __version__\n")
    (package / "_version.py").write_text("__version__ = '0'\n")
    assert _upward_imports(package) == [
        "data/__init__.py:1 imports fitscope.analysis",
        "data/_x.py:1 imports fitscope",
        "store/_planted.py:2 imports fitscope.keras_glue",
    ]


def test_no_layer_below_the_cli_words_its_errors_with_the_cli_s_options() -> None:
    """Errors name arguments as ``<<name>>`` (Python's name; the CLI words it as its option), never ``--flag``."""
    import re

    from fitscope.cli._main import _flags, build_parser

    options = "|".join(sorted((re.escape(flag) for flag in _flags(build_parser()).values()), key=len, reverse=True))
    worded = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent.name == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                text = " ".join(
                    part.value
                    for part in ast.walk(node.exc)
                    if isinstance(part, ast.Constant) and isinstance(part.value, str)
                )
                if re.search(rf"(^|[\s(])({options})\b", text):
                    worded.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert worded == []


def test_an_error_names_arguments_as_python_or_as_the_command_line_does() -> None:
    from fitscope._errors import argument_error, invalid_argument

    error = argument_error("<<group_by>> only applies with <<select=cv>>; <<trials=N>> too.")
    assert str(error) == "`group_by` only applies with select='cv'; trials=N too."
    flags = {"group_by": "--group-by", "select": "--select", "trials": "--trials"}.get
    assert error.worded(flags) == "--group-by only applies with --select cv; --trials N too."
    bad = invalid_argument("metric", "val_f1", "This spec's runs report val_loss.")
    assert (
        str(bad) == "Invalid value for argument `metric`. Received: metric='val_f1'. This spec's runs report val_loss."
    )
    assert (
        bad.worded({"metric": "--metric"}.get)
        == "Invalid value for --metric: 'val_f1'. This spec's runs report val_loss."
    )
