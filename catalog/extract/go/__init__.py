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

from collections.abc import Callable
from typing import Any

from catalog.extract import Extraction, SourceFile
from catalog.extract.budget import Budget
from catalog.extract.go.idioms import Reader
from catalog.extract.go.project import Project, SourceText
from catalog.extract.syntax import read_files


def extract(files: list[SourceFile], budget: Budget | None = None) -> Extraction:
    """Parse every Go file and return the tools declared anywhere in them, each file parsed and
    read within `budget` (a fresh default one when not given)."""
    import tree_sitter
    import tree_sitter_go

    language = tree_sitter.Language(tree_sitter_go.language())
    parser = tree_sitter.Parser(language)
    query = tree_sitter.Query(language, "(call_expression) @call (composite_literal) @literal")

    def parse(path: str, data: bytes) -> SourceText:
        return SourceText(path, data, parser.parse(data).root_node)

    def candidates(source: SourceText) -> list[Any]:
        captures = tree_sitter.QueryCursor(query).captures(source.root)
        return sorted([*captures.get("call", []), *captures.get("literal", [])], key=lambda n: n.start_byte)

    def reader(project: Project, source: SourceText, result: Extraction) -> Callable[[Any], None]:
        return Reader(project, source, result).read

    return read_files(files, budget, parse, Project, candidates, reader)


__all__ = ["extract"]
