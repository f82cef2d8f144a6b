"""Every ```python block of crates/python/README.md runs as printed."""

import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {})
    assert out.getvalue().strip()


TOP_README = pathlib.Path(__file__).resolve().parents[3] / "README.md"


def test_top_readme_from_python_block_runs():
    """The repository README's "From Python" snippet runs as printed."""
    text = TOP_README.read_text()
    start = text.index("## From Python")
    end = text.index("\n## ", start + 1)
    blocks = re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)
    assert blocks, "no python block in the README's From Python section"
    for i, block in enumerate(blocks):
        exec(compile(block, f"README.md From Python block {i}", "exec"), {})
