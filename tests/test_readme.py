"""The README's Python examples run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int) -> None:
    exec(compile(BLOCKS[index], f"README block {index}", "exec"), {"__name__": "readme"})


def test_tests_without_shared_material_stop_with_one_clear_message(tmp_path: Path) -> None:
    # The README's test command in a checkout without ../shared: one message and
    # pytest's usage-error code, not a FileNotFoundError from every test module.
    missing = tmp_path / "no-shared-here"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_readme.py"],
        cwd=ROOT,
        env={**os.environ, "SSEADAPT_SHARED": str(missing)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert f"{missing / 'fixtures'} is not a directory" in result.stdout + result.stderr
    assert "SSEADAPT_SHARED" in result.stdout + result.stderr
    assert "FileNotFoundError" not in result.stdout + result.stderr
