"""Find the MCP tools a Go source tree declares, parsing it with tree-sitter-go (never building or running it).

Forms understood: mark3labs/mcp-go ``mcp.NewTool("name", mcp.WithDescription(...), mcp.WithString("x",
mcp.Required(), mcp.Description(...)), ..., mcp.WithReadOnlyHintAnnotation(true), ...)`` and
``NewToolWithRawSchema``; the official go-sdk ``&mcp.Tool{Name: ..., Description: ..., Annotations:
&mcp.ToolAnnotations{...}, InputSchema: &jsonschema.Schema{...}}`` (also mcp-go's ``mcp.Tool{...}``);
wrappers in the style of ``MustTool("name", "description", handler, mcp.With...)``. Strings are
followed through ``const``/``var`` declarations of the package and of other packages (``pkg.Name``),
concatenation, ``fmt.Sprintf`` (unknown arguments kept as ``{...}`` and marked) and translation
helpers ``t("KEY", "default text")``, which give their default text. Only hints whose option is
really called go into ``annotations``: mcp-go's own defaults are not invented.

Modules by concern: `project` (parsed packages and what they declare), `values` (string and
literal folding), `schemas` (schemas from structs, literals and options), `idioms` (the SDK
declaration forms, one table entry each with an example).
"""

from __future__ import annotations

from catalog.extract import Extraction, SourceFile
from catalog.extract.budget import Budget, BudgetHit, charge
from catalog.extract.go.idioms import Reader
from catalog.extract.go.project import Project, SourceText


def extract(files: list[SourceFile], budget: Budget | None = None) -> Extraction:
    """Parse every Go file and return the tools declared anywhere in them, each file parsed and
    read within `budget` (a fresh default one when not given)."""
    import tree_sitter
    import tree_sitter_go

    budget = budget or Budget()
    first_hit = len(budget.hits)
    language = tree_sitter.Language(tree_sitter_go.language())
    parser = tree_sitter.Parser(language)
    calls = tree_sitter.Query(language, "(call_expression) @call (composite_literal) @literal")
    result = Extraction(files_scanned=len(files))
    sources: list[SourceText] = []

    def parse(file: SourceFile) -> None:
        data = file.text.encode("utf-8")
        charge(1 + len(data) // 256)
        sources.append(SourceText(file.path, data, parser.parse(data).root_node))

    def read(source: SourceText) -> None:
        reader = Reader(project, source, result)
        captures = tree_sitter.QueryCursor(calls).captures(source.root)
        nodes = sorted([*captures.get("call", []), *captures.get("literal", [])], key=lambda n: n.start_byte)
        for node in nodes:
            charge()
            try:
                reader.read(node)
            except RecursionError:
                line = node.start_point[0] + 1
                budget.hits.append(BudgetHit(source.path, f"line {line}: too deeply nested to read"))

    for file in files:
        budget.read(file.path, len(file.text), lambda f=file: parse(f))
    project = Project(sources)
    for source in sources:
        budget.read(source.path, len(source.source), lambda s=source: read(s))
    result.record_budget(budget, first_hit)
    return result


__all__ = ["extract"]
