"""Find the MCP tools a Python source tree registers, by reading its syntax tree (never importing it).

Modules by concern: `project` (parsed files, imports, name lookups), `values` (string and literal
folding), `schemas` (input schemas and docstrings as the SDKs derive them), `idioms` (the SDK
registration forms, one table entry each with an example).

Forms understood: FastMCP of ``mcp`` 1.x and ``MCPServer`` of ``mcp`` 2.x (``@x.tool()``,
``@x.tool(name=, title=, description=, annotations=)``, ``x.add_tool(fn, ...)``), standalone
``fastmcp`` (``@x.tool``, ``@x.tool("name")``, ``x.tool(fn, name=)``, annotations as a dict), and
low-level servers that build ``Tool(name=..., description=..., inputSchema=...)`` objects (names
from string constants, Enum members, concatenation and f-strings, across the files of the tree).

Description rule: ``mcp`` 1.x and 2.x send ``description or fn.__doc__ or ""``, the raw docstring;
standalone ``fastmcp`` sends ``description or inspect.getdoc(fn)``, the cleaned docstring. We store
what that server would send when run on CPython 3.11: ``ast.get_docstring(node, clean=False)`` for
``mcp`` servers and ``inspect.cleandoc`` of it for servers that import ``fastmcp``. (CPython 3.13
strips docstring indentation at compile time, so a live crawl there differs in whitespace only.)
Standalone ``fastmcp`` from 3.2.4 on parses the docstring (griffe's Google, NumPy, then Sphinx
parser; the first that finds parameters or another section wins): the description is the text
before the first section and ``Args:`` entries describe properties that have no description yet.
That rule applies when the package's declared requirements (``requirements=``, the wheel's
``Requires-Dist``) let the installer pick such a version; without them the older rule is kept.

Input schemas of decorated functions follow what the SDK derives from the signature: parameter
names, ``required`` for parameters without a default, simple JSON types, enums from ``Literal``,
``anyOf`` with null for optionals, descriptions from ``Field``; pydantic's property titles for ``mcp``
servers, none for ``fastmcp`` (it prunes them). A type we cannot resolve leaves the property typeless.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from functools import partial

from catalog.extract import Extraction, SourceFile
from catalog.extract.budget import Budget
from catalog.extract.python.idioms import FileReader
from catalog.extract.python.newer import parse_newer
from catalog.extract.python.project import Module, Project, module_of, parse_into, parse_python
from catalog.extract.python.schemas import fastmcp_parses_docstrings, split_docstring


def extract(
    files: list[SourceFile],
    requirements: Sequence[str] = (),
    budget: Budget | None = None,
    entry_modules: Sequence[str] = (),
) -> Extraction:
    """Parse every Python file and return the tools registered anywhere in them; `requirements`
    are the package's declared dependencies (``Requires-Dist`` lines), when known. Each file is
    parsed and read within `budget` (a fresh default one when not given). With `entry_modules`
    (where the console scripts start), tools of example and demo files the server never imports
    are left out."""
    budget = budget or Budget()
    first_hit = len(budget.hits)
    result = Extraction(files_scanned=len(files))
    modules: list[Module] = []
    retry: list[tuple[int, int, SourceFile]] = []  # files with syntax newer than this interpreter's
    for source in files:
        budget.read(
            source.path, len(source.text), partial(parse_into, source, modules, result.warnings, retry)
        )
    if retry:
        _parse_newer_syntax(retry, modules, result, budget)
    project = Project(modules)
    project.parses_docstrings = fastmcp_parses_docstrings(requirements)
    for module in modules:
        budget.read(module.path, module.size, FileReader(project, module, result).read)
    result.record_budget(budget, first_hit)
    if entry_modules:
        _leave_out_vendored(result, project, entry_modules)
    return result


VENDORED_DIRS = {"examples", "example", "demo", "demos", "samples", "sample"}


def _leave_out_vendored(result: Extraction, project: Project, entry_modules: Sequence[str]) -> None:
    """Drop the tools of example and demo files (by folder or file name) that no import from the
    entry modules reaches: they are a vendored example's tools, not the server's."""
    starts = [m for m in (project.module_named(name) for name in entry_modules) if m is not None]
    if not starts:
        return
    reachable = project.reachable_from(starts)
    left_out: dict[str, int] = {}
    kept = []
    for tool in result.tools:
        path = (tool.origin or "").rsplit(":", 1)[0]
        parts = path.replace("\\", "/").split("/")
        vendored = bool(VENDORED_DIRS & set(parts[:-1])) or parts[-1].startswith(("example", "demo"))
        if vendored and path not in reachable:
            left_out[path] = left_out.get(path, 0) + 1
        else:
            kept.append(tool)
    result.tools = kept
    for path, count in left_out.items():
        result.warnings.append(
            f"{path}: {count} tool(s) left out: an example the entry points ({', '.join(entry_modules)}) never import"
        )


def _parse_newer_syntax(
    retry: list[tuple[int, int, SourceFile]], modules: list[Module], result: Extraction, budget: Budget
) -> None:
    """Files this interpreter could not parse, parsed by the newest Python on the machine and
    put back in their place among the modules; without one, each stays a warning."""
    trees = parse_newer([(source.path, source.text) for _, _, source in retry], budget.seconds_left())
    answers: list[ast.Module | str | None] = list(trees) if trees is not None else [None] * len(retry)
    for (place, warning_place, source), tree in reversed(list(zip(retry, answers, strict=True))):
        if isinstance(tree, ast.Module):
            budget.read(
                source.path,
                len(source.text),
                partial(_insert_module, modules, place, source, tree),
            )
        else:
            result.warnings.insert(warning_place, f"{source.path}: not parsed ({tree or 'SyntaxError'})")


def _insert_module(modules: list[Module], place: int, source: SourceFile, tree: ast.Module) -> None:
    modules.insert(place, module_of(source, tree))


__all__ = ["extract", "fastmcp_parses_docstrings", "parse_python", "split_docstring"]
