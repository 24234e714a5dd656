"""``fitscope completion bash|zsh``: Tab completes commands, options, choices and run ids.

(That other commands never load shtab: tests/test_cli.py::test_light_commands_do_not_import_keras.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fitscope.cli import main
from fitscope.store import Store


def _script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


@pytest.fixture
def store_with_runs(tmp_path: Path) -> tuple[Path, list[str]]:
    store = Store(tmp_path / "fitscope-runs")
    ids = [store.start_run(name=name, params={}).run_id for name in ("first", "second")]
    store.close()
    return tmp_path, ids


def _bash_complete(script: Path, cwd: Path, *words: str) -> list[str]:
    """What bash offers for the last of ``words``, as it would on Tab."""
    program = (
        f"source {script}\n"
        'COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}\n'
        '_shtab_fitscope\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    bin_dir = Path(sys.executable).parent  # (`fitscope` itself, for the run ids)
    done = subprocess.run(["bash", "-c", program, "bash", *words], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd)},
                          check=True)  # fmt: skip
    return [line for line in done.stdout.splitlines() if line]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_options_choices_and_run_ids(
    store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, ids = store_with_runs
    script = folder / "fitscope.bash"
    script.write_text(_script("bash", capsys))
    assert _bash_complete(script, folder, "fitscope", "ru") == ["run", "runs"]
    assert _bash_complete(script, folder, "fitscope", "export", "mlflow", "--tr") == ["--tracking-uri"]
    assert _bash_complete(script, folder, "fitscope", "--lang", "") == ["en", "ko"]
    assert _bash_complete(script, folder, "fitscope", "runs", "show", "") == ["last", *ids]
    other = Store(folder / "elsewhere")  # a store named on the line: its runs, before or after the command
    elsewhere = other.start_run(name="third", params={}).run_id
    other.close()
    for words in (["--runs", "elsewhere", "runs", "show"], ["runs", "show", "--runs", "~/elsewhere"]):
        assert _bash_complete(script, folder, "fitscope", *words, "") == ["last", elsewhere], words
    assert _bash_complete(script, folder, "fitscope", "predict", ids[1][:-2]) == [ids[1]]
    (folder / "mine.yaml").write_text("name: mine\n")
    assert _bash_complete(script, folder, "fitscope", "run", "mi") == ["mine.yaml"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="needs zsh (Debian's zsh package)")
def test_zsh_takes_the_script_from_fpath_or_by_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    functions = tmp_path / "functions"
    functions.mkdir()
    script = _script("zsh", capsys)
    assert script.startswith("#compdef fitscope\n")
    (functions / "_fitscope").write_text(script)
    assert subprocess.run(["zsh", "-n", str(functions / "_fitscope")], capture_output=True).returncode == 0
    # compinit with zsh's own Completion folder only: what is checked is fitscope's script, not every
    # completion file the machine has.
    start = "autoload -Uz compinit; compinit -u -D;"
    core = "${(M)fpath:#*/Completion}"
    from_fpath = f"fpath=({functions} {core}); {start} print -r -- $_comps[fitscope]"
    evaluated = f'fpath=({core}); {start} eval "$(<{functions}/_fitscope)"; print -r -- $_comps[fitscope]'
    for program, registered in ((from_fpath, "_fitscope"), (evaluated, "_shtab_fitscope")):
        # A clean environment and folder, as a new shell has (not the test worker's).
        found = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, cwd=tmp_path,
                               stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                               timeout=120)  # fmt: skip
        assert (found.returncode, found.stdout.strip()) == (0, registered), found.stderr


@pytest.mark.skipif(shutil.which("zsh") is None, reason="needs zsh (Debian's zsh package)")
def test_zsh_offers_the_run_ids_of_the_store_the_line_names(
    store_with_runs: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, ids = store_with_runs
    other = Store(folder / "elsewhere")
    elsewhere = other.start_run(name="third", params={}).run_id
    other.close()
    (folder / "_fitscope").write_text(_script("zsh", capsys))
    bin_dir = Path(sys.executable).parent
    for words, offered in (("fitscope runs show ''", ["last", *ids]),
                           ("fitscope --runs elsewhere runs show ''", ["last", elsewhere]),
                           ("fitscope runs show --runs=~/elsewhere ''", ["last", elsewhere])):  # fmt: skip
        # The script's run-id function, with `compadd` printing what it is given (no terminal needed).
        program = (f"autoload -Uz compinit; compinit -u -D; eval \"$(<{folder}/_fitscope)\"; "
                   f"words=({words}); compadd() {{ print -l -- ${{(P)2}} }}; _fitscope_run_ids")  # fmt: skip
        found = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, cwd=folder,
                               stdin=subprocess.DEVNULL, timeout=120,
                               env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(folder)})  # fmt: skip
        assert (found.returncode, found.stdout.split()) == (0, offered), found.stderr


def test_an_unknown_shell_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["completion", "fish"])
    assert exit_.value.code == 2
    assert "fitscope completion: error: argument shell: invalid choice: 'fish'" in capsys.readouterr().err
