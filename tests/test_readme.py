"""The README's Python examples marked as runnable run as a user would paste them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- README example: tests/test_readme.py runs it -->"
EXAMPLES = re.findall(re.escape(MARKER) + r"\n```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_marks_its_examples() -> None:
    assert len(EXAMPLES) == README.read_text(encoding="utf-8").count(MARKER) == 2


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs(code: str, tmp_path: Path, mnist_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "FITSCOPE_DATA": str(mnist_path.parent), "FITSCOPE_HOME": str(tmp_path / "runs")}
    ran = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip()  # each example prints what it shows
