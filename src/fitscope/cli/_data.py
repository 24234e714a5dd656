"""``fitscope data ls``: the built-in datasets and where each was found."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._i18n import _
from ._output import console, print_json
from ._runs import add_runs_option


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "data",
        help=_("list the built-in datasets and where they are"),
        description=_("Inspect the datasets fitscope knows about."),
    )
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    ls = actions.add_parser(
        "ls",
        help=_("list built-in datasets and where each was found, or why not"),
        description=_(
            "List the built-in datasets (mnist, fashion_mnist, digits) and where "
            "each would be loaded from. Loads nothing and downloads nothing."
        ),
    )
    ls.add_argument("--data-dir", type=Path, help=_("a folder to look in first (default: $FITSCOPE_DATA)"))
    ls.add_argument("--json", action="store_true", help=_("print JSON instead of a table"))
    add_runs_option(ls, uses_store=False)
    ls.set_defaults(handler=run_ls)


def run_ls(args: argparse.Namespace) -> int:
    from ..data import BUILTIN_DATASETS, locate_builtin

    found = [locate_builtin(name, data_dir=args.data_dir) for name in BUILTIN_DATASETS]
    if args.json:
        print_json([{"name": f.name, "found": f.found, "where": f.where} for f in found])
        return 0
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="built-in datasets")
    table.add_column("name")
    table.add_column("status")
    table.add_column("where / why not", overflow="fold")
    for f in found:
        table.add_row(f.name, "[green]found[/]" if f.found else "[yellow]missing[/]", escape(f.where))
    console().print(table)
    return 0
