"""The README's "Python API" section runs as it is: its code blocks are executed in a temporary folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_api_blocks(text: str) -> list[str]:
    """The ```python blocks of the ``## Python API`` section (up to the next ``## `` heading)."""
    match = re.search(r"^## Python API\n(.*?)(?=^## )", text, flags=re.S | re.M)
    if match is None:
        return []
    return re.findall(r"^```python\n(.*?)^```", match.group(1), flags=re.S | re.M)


def test_section_extraction_finds_blocks_only_in_that_section() -> None:
    text = "## A\n```python\nx = 1\n```\n## Python API\ntext\n```python\ny = 2\n```\n## B\n```python\nz\n```\n"
    assert python_api_blocks(text) == ["y = 2\n"]
    assert python_api_blocks("## Other\n") == []


def test_readme_python_api_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_api_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README.md has no ```python block under '## Python API'"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONVAPPS_HOME", str(tmp_path / "home"))
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # the blocks assert their own results
    assert (tmp_path / "team.db").exists()
