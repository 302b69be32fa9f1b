"""Only the tools a package's own server registers count: a vendored example or demo that the
console scripts' modules never import is left out (and said so); one they import is kept."""

from __future__ import annotations

from pathlib import Path

from catalog.extract import entry_modules, extract_tree

SERVER = '''from mcp.server.fastmcp import FastMCP

mcp = FastMCP("real")


@mcp.tool()
def real_tool() -> str:
    return ""


def main() -> None:
    mcp.run()
'''
EXAMPLE = '''from mcp.server.fastmcp import FastMCP

demo = FastMCP("demo")


@demo.tool()
def {name}() -> str:
    return ""
'''


def package(root: Path, server: str = SERVER) -> Path:
    """A source tree (src layout) whose package carries an examples folder and a demo module."""
    code = root / "src" / "mypkg"
    (code / "examples").mkdir(parents=True)
    (code / "__init__.py").write_text("")
    (code / "server.py").write_text(server)
    (code / "examples" / "weather.py").write_text(EXAMPLE.format(name="example_weather"))
    (code / "demo_server.py").write_text(EXAMPLE.format(name="demo_echo"))
    info = root / "mypkg-1.0.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text("[console_scripts]\nmypkg = mypkg.server:main\n")
    return root


def test_examples_the_entry_points_never_import_are_left_out(tmp_path):
    root = package(tmp_path)
    assert entry_modules(root) == ["mypkg.server"]
    found = extract_tree(root)
    assert [tool.name for tool in found.tools] == ["real_tool"]
    assert sorted(w for w in found.warnings if "left out" in w) == [
        "src/mypkg/demo_server.py: 1 tool(s) left out: an example the entry points (mypkg.server) never import",
        "src/mypkg/examples/weather.py: 1 tool(s) left out: an example the entry points (mypkg.server) "
        "never import",
    ]


def test_an_example_module_the_server_imports_is_kept(tmp_path):
    root = package(tmp_path, "from mypkg.examples import weather\n" + SERVER)
    assert sorted(tool.name for tool in extract_tree(root).tools) == ["example_weather", "real_tool"]


def test_without_entry_points_every_file_counts(tmp_path):
    root = package(tmp_path)
    (root / "mypkg-1.0.dist-info" / "entry_points.txt").unlink()
    assert sorted(tool.name for tool in extract_tree(root).tools) == ["demo_echo", "example_weather", "real_tool"]


def test_pyproject_scripts_are_entry_points_too(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[project.scripts]\nx = "x.cli:run"\n')
    assert entry_modules(tmp_path) == ["x.cli"]
