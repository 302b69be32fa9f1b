"""Python files with syntax newer than the crawler's interpreter are parsed by the newest Python on
the machine (parse only, never run), and their tools are read like any other file's."""

from __future__ import annotations

import pytest

from catalog.extract import SourceFile, python
from catalog.extract.budget import Budget, Limits
from catalog.extract.python.newer import interpreters

pytestmark = pytest.mark.skipif(not interpreters(), reason="no Python 3.12 or newer on this machine")

NEWER = '''from mcp.server.fastmcp import FastMCP

mcp = FastMCP("demo")
type Names = list[str]


def first[T](items: list[T]) -> T:
    return items[0]


@mcp.tool()
def greet(name: str) -> str:
    """Say hello."""
    return f"{"hello"} {name}"


@mcp.tool(name=f"{'count'}_{"items"}")
def count(items: list[str]) -> int:
    return len(items)
'''
OLD = "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('x')\n\n@mcp.tool()\ndef before() -> str:\n    return ''\n"


def test_newer_syntax_is_parsed_and_its_tools_read_in_file_order():
    budget = Budget(Limits(package_seconds=600, file_seconds=600))
    files = [SourceFile("a.py", OLD), SourceFile("new.py", NEWER), SourceFile("broken.py", "def (:\n")]
    found = python.extract(files, (), budget)
    assert [(tool.name, tool.origin) for tool in found.tools] == [
        ("before", "a.py:5"),
        ("greet", "new.py:12"),
        ("count_items", "new.py:18"),
    ]
    greet = found.tools[1]
    assert greet.description == "Say hello."
    assert greet.input_schema["required"] == ["name"]
    assert found.warnings == ["broken.py: not parsed (SyntaxError)"]


def test_the_subprocess_only_parses(tmp_path):
    marker = tmp_path / "ran"
    source = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\ndef f[T](x: T) -> T:\n    return x\n"
    found = python.extract([SourceFile("side_effect.py", source)], (), Budget(Limits(package_seconds=600)))
    assert found.warnings == [] and found.tools == []
    assert not marker.exists()
