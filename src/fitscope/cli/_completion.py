"""``fitscope completion bash|zsh``: the shell completion script, generated from the argument parser by shtab.

shtab is imported here only, when the script is asked for: the other commands never
load it. Paths complete as files or folders, and a run argument as the store's run ids
(``fitscope runs --ids``, asked when Tab is pressed).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._i18n import _
from ._output import HelpFormatter

SHELLS = ("bash", "zsh")
_FOLDERS = {"DIR", "OUT_DIR"}  # metavars of options that name a folder


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "completion", help=_("print the shell completion script (bash or zsh)"), formatter_class=HelpFormatter,
        description=_("Print the script that lets bash or zsh complete fitscope's commands, options, file names and "
        "run ids with Tab. Install it once (a new shell then has it):"),
        epilog=_("install:\n"
        "  fitscope completion bash > ~/.local/share/bash-completion/completions/fitscope   # bash\n"
        '  fitscope completion zsh > "${fpath[1]}/_fitscope"                              # zsh\n'
        "or, for this shell only:\n"
        '  eval "$(fitscope completion bash)"     # or zsh'),
    )  # fmt: skip
    parser.add_argument("shell", choices=SHELLS, help=_("the shell: bash or zsh"))
    parser.set_defaults(handler=run_completion)


def run_completion(args: argparse.Namespace) -> int:
    import shtab

    from ._main import build_parser

    parser = build_parser()
    _mark_completions(parser, shtab)
    print(shtab.complete(parser, args.shell))
    return 0


# `last` and the store's run ids, asked at Tab time; of the store a `--runs DIR` on the line names, if one does.
_RUN_IDS = {
    "bash": r"""
_fitscope_run_ids() {
  local runs="" i
  for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
    case "${COMP_WORDS[i]}" in
      --runs) runs="${COMP_WORDS[i + 1]}"; [[ $runs == "=" ]] && runs="${COMP_WORDS[i + 2]}" ;;
      --runs=*) runs="${COMP_WORDS[i]#--runs=}" ;;
    esac
  done
  runs="${runs/#\~/$HOME}"
  compgen -W "last $(fitscope runs --ids ${runs:+--runs "$runs"} 2>/dev/null)" -- "$1"
}""",
    "zsh": r"""
_fitscope_run_ids() {
  local runs="" i
  local -a store ids
  for ((i = 2; i <= $#words; i++)); do
    case $words[i] in
      --runs) runs=$words[i+1] ;;
      --runs=*) runs=${words[i]#--runs=} ;;
    esac
  done
  [[ -n $runs ]] && store=(--runs ${~runs})
  ids=(last ${(f)"$(fitscope runs --ids $store 2>/dev/null)"})
  compadd -a ids
}""",
}


def _mark_completions(parser: argparse.ArgumentParser, shtab: Any) -> None:
    """Tell shtab which arguments are files, folders and run ids (set here, so that parsing never imports it)."""
    run_ids = {"bash": "_fitscope_run_ids", "zsh": "_fitscope_run_ids", "preamble": _RUN_IDS}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # (aliases share a parser)
                _mark_completions(sub, shtab)
        elif action.metavar == "RUN" or action.dest == "run":
            action.complete = run_ids  # type: ignore[attr-defined]
        elif action.metavar in _FOLDERS:
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
        elif action.type is Path or action.metavar in ("SPEC.yaml", "FILE", "DATA"):
            action.complete = shtab.FILE  # type: ignore[attr-defined]
