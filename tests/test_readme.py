"""The README's Python examples run as written."""

from __future__ import annotations

import re

import pytest

from .helpers import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int) -> None:
    exec(compile(BLOCKS[index], f"README block {index}", "exec"), {"__name__": "readme"})
