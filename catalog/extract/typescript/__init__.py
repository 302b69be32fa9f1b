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

from catalog.extract import Extraction, SourceFile
from catalog.extract.budget import Budget, BudgetHit, charge
from catalog.extract.typescript.idioms import CALL_QUERY, Reader
from catalog.extract.typescript.project import Module, Project


def extract(files: list[SourceFile], budget: Budget | None = None) -> Extraction:
    """Parse every TS/JS file and return the tools registered anywhere in them, each file parsed
    and read within `budget` (a fresh default one when not given)."""
    import tree_sitter
    import tree_sitter_typescript

    budget = budget or Budget()
    first_hit = len(budget.hits)
    languages = {
        "ts": tree_sitter.Language(tree_sitter_typescript.language_typescript()),
        "tsx": tree_sitter.Language(tree_sitter_typescript.language_tsx()),
    }
    parsers = {kind: tree_sitter.Parser(language) for kind, language in languages.items()}
    query = tree_sitter.Query(languages["ts"], CALL_QUERY)
    tsx_query = tree_sitter.Query(languages["tsx"], CALL_QUERY)
    result = Extraction(files_scanned=len(files))
    modules: list[Module] = []

    def parse(source: SourceFile) -> None:
        kind = "tsx" if source.path.endswith((".tsx", ".jsx")) else "ts"
        data = source.text.encode("utf-8")
        charge(1 + len(data) // 256)
        modules.append(
            Module(source.path, data, parsers[kind].parse(data).root_node, language=languages[kind])
        )

    def read(module: Module) -> None:
        cursor = tree_sitter.QueryCursor(tsx_query if module.path.endswith((".tsx", ".jsx")) else query)
        calls = cursor.captures(module.root).get("call", [])
        reader = Reader(project, module, result)
        for call in sorted(calls, key=lambda n: n.start_byte):
            charge()
            try:
                reader.read_call(call)
            except RecursionError:
                line = call.start_point[0] + 1
                budget.hits.append(BudgetHit(module.path, f"line {line}: too deeply nested to read"))

    for source in files:
        budget.read(source.path, len(source.text), lambda s=source: parse(s))
    project = Project(modules)
    for module in modules:
        budget.read(module.path, len(module.source), lambda m=module: read(m))
    result.record_budget(budget, first_hit)
    return _first_of_each(result)


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
