"""What the tree-sitter extractors (TypeScript, Go) share: parsed files, the course of an
extraction within its budget, ancestors of a node, and string literal text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from catalog.extract import Extraction, SourceFile
from catalog.extract.budget import Budget, BudgetHit, charge
from catalog.extract.values import Folded, Unresolved, noted, part_or_placeholder, short

F = TypeVar("F", bound="ParsedFile")
P = TypeVar("P")


def ancestors(root: Any, node: Any) -> list[Any]:
    """The nodes enclosing `node`, nearest first, up to and including `root`.

    tree-sitter finds a node's parent by descending from the root, so walking `.parent` upwards
    costs the square of the depth; descending once towards the node costs the depth. A node that
    is not under `root` falls back to the `.parent` walk."""
    chain: list[Any] = []
    current = root
    while current is not None and current.id != node.id:
        charge()
        chain.append(current)
        current = current.child_with_descendant(node)
    if current is None:
        chain = []
        current = node.parent
        while current is not None:
            charge()
            chain.append(current)
            current = current.parent
        return chain
    chain.reverse()
    return chain


def enclosing(root: Any, node: Any, types: tuple[str, ...] | set[str]) -> Any | None:
    """The nearest node of one of these types enclosing `node`, or None."""
    return next((scope for scope in ancestors(root, node) if scope.type in types), None)


@dataclass
class ParsedFile:
    """One file parsed by tree-sitter: its path, its bytes and its syntax tree."""

    path: str
    source: bytes
    root: Any

    def text(self, node: Any) -> str:
        """The source text of a node (charged to the budget by its length)."""
        charge(1 + (node.end_byte - node.start_byte) // 256)
        return self.source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def literal_text(file: ParsedFile, node: Any, fragment: str, decode: Callable[[str], str]) -> str:
    """The value of a string literal node: its fragments, with escape sequences decoded."""
    pieces = []
    for child in node.named_children:
        if child.type == fragment:
            pieces.append(file.text(child))
        elif child.type == "escape_sequence":
            pieces.append(decode(file.text(child)))
    return "".join(pieces)


def read_files(
    files: list[SourceFile],
    budget: Budget | None,
    parse: Callable[[str, bytes], F],
    index: Callable[[list[F]], P],
    candidates: Callable[[F], list[Any]],
    reader: Callable[[P, F, Extraction], Callable[[Any], None]],
) -> Extraction:
    """The course of a tree-sitter extractor: parse every file, index them as one project, then
    give each file's candidate nodes (in source order) to its reader, every file within `budget`
    (a fresh default one when not given). A candidate nested too deeply to read is a budget hit."""
    budget = budget or Budget()
    first_hit = len(budget.hits)
    result = Extraction(files_scanned=len(files))
    parsed: list[F] = []

    def parse_one(file: SourceFile) -> None:
        data = file.text.encode("utf-8")
        charge(1 + len(data) // 256)
        parsed.append(parse(file.path, data))

    def read_one(item: F) -> None:
        read = reader(project, item, result)
        for node in candidates(item):
            charge()
            try:
                read(node)
            except RecursionError:
                line = node.start_point[0] + 1
                budget.hits.append(BudgetHit(item.path, f"line {line}: too deeply nested to read"))

    for file in files:
        budget.read(file.path, len(file.text), partial(parse_one, file))
    project = index(parsed)
    for item in parsed:
        budget.read(item.path, len(item.source), partial(read_one, item))
    result.record_budget(budget, first_hit)
    return result


class TreeReader:
    """What every tree-sitter reader holds: the project, the file it reads, the result tools go
    to, names bound to one value each (a helper's parameters to the arguments of one call site,
    a loop variable to one element of a static list), and the call site that made the tools."""

    def __init__(
        self,
        project: Any,
        file: ParsedFile,
        result: Extraction,
        bindings: dict[str, Any] | None = None,
        call_site: str = "",
    ):
        self.project = project
        self.file = file
        self.result = result
        self.bindings = bindings or {}
        self.call_site = call_site

    placeholder_opening = "{"  # how the language marks a part filled at run time: {x} or ${x}

    def origin(self, node: Any) -> str:
        """Where a declaration is; for a helper or a loop, the call site or element that made the tool."""
        return self.call_site or f"{self.file.path}:{node.start_point[0] + 1}"

    def string(self, node: Any, depth: int = 0) -> Folded:
        raise NotImplementedError

    def _short(self, node: Any) -> str:
        return short(self.file.text(node))

    def _string_part(self, node: Any, depth: int) -> Folded:
        return part_or_placeholder(
            lambda: self.string(node, depth + 1), lambda: self._short(node), self.placeholder_opening
        )

    def _text(self, node: Any, label: str, unresolved: list[str]) -> str:
        """The text of a string expression, "" when unknown; what is unknown is noted."""
        return noted(lambda: self.string(node), label, unresolved) or ""

    def _known_name(self, site: Any, node: Any, after: str = " ") -> str | None:
        """The tool name `node` folds to, or None with a warning at `site` unless it is fully known."""
        try:
            name, holes = self.string(node)
        except Unresolved as error:
            self.result.not_static(f"{self.origin(site)}: tool name{after}{error}; tool skipped")
            return None
        if holes:
            self.result.not_static(
                f"{self.origin(site)}: tool name built at run time ({', '.join(holes)}); tool skipped"
            )
            return None
        return name
