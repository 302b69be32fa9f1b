"""Find the MCP tools a TypeScript or JavaScript tree registers, parsing it with tree-sitter (never running it).

Forms understood: ``server.registerTool(name, {title, description, inputSchema, annotations}, cb)``,
every overload of ``server.tool(name, [description], [zod shape | annotations], [annotations], cb)``,
and low-level ``setRequestHandler(ListToolsRequestSchema, ...)`` handlers returning a literal
``tools`` array. Names, descriptions and schemas are followed through ``const`` declarations,
exported objects, ESM imports and compiled CommonJS ``require`` aliases across the files given;
``"a" + "b"``, template literals (``${...}`` kept and marked), ``[...].join(sep)`` and ``.trim()``
are evaluated. Zod shapes (also compiled forms like ``(0, zod_1.z).string()``) become a JSON schema
where simple, and always give the parameter names. Published packages ship compiled JavaScript,
so the same code reads ``.ts`` sources and ``dist/*.js`` bundles.

Modules by concern: `project` (parsed files, imports, exports, scopes), `values` (name resolution
and string folding), `schemas` (zod and JSON schemas), `idioms` (the SDK registration forms, one
table entry each with an example).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.extract import Extraction, SourceFile
from catalog.extract.budget import Budget
from catalog.extract.syntax import read_files
from catalog.extract.typescript.idioms import CALL_QUERY, Reader
from catalog.extract.typescript.project import Module, Project


def extract(files: list[SourceFile], budget: Budget | None = None) -> Extraction:
    """Parse every TS/JS file and return the tools registered anywhere in them, each file parsed
    and read within `budget` (a fresh default one when not given)."""
    import tree_sitter
    import tree_sitter_typescript

    languages = {
        "ts": tree_sitter.Language(tree_sitter_typescript.language_typescript()),
        "tsx": tree_sitter.Language(tree_sitter_typescript.language_tsx()),
    }
    parsers = {kind: tree_sitter.Parser(language) for kind, language in languages.items()}
    queries = {kind: tree_sitter.Query(language, CALL_QUERY) for kind, language in languages.items()}

    def kind(path: str) -> str:
        return "tsx" if path.endswith((".tsx", ".jsx")) else "ts"

    def parse(path: str, data: bytes) -> Module:
        return Module(path, data, parsers[kind(path)].parse(data).root_node, language=languages[kind(path)])

    def calls(module: Module) -> list[Any]:
        found = tree_sitter.QueryCursor(queries[kind(module.path)]).captures(module.root).get("call", [])
        return sorted(found, key=lambda n: n.start_byte)

    def reader(project: Project, module: Module, result: Extraction) -> Callable[[Any], None]:
        return Reader(project, module, result).read_call

    return _first_of_each(read_files(files, budget, parse, Project, calls, reader))


def _first_of_each(result: Extraction) -> Extraction:
    """Drop repeats of one tool from one place (`if (x) server.tool(a, ...) else server.tool(a, ...)`)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for tool in result.tools:
        if (tool.name, tool.origin) not in seen:
            seen.add((tool.name, tool.origin))
            kept.append(tool)
    result.tools = kept
    return result


__all__ = ["extract"]
