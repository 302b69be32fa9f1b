"""Go files as parsed packages: the constants, variables, types and functions each declares, calls
across the tree, and the syntax helpers the readers share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from catalog.extract.budget import charge
from catalog.extract.syntax import ParsedFile, enclosing, literal_text

REQUIRED_FROM_TAGS = re.compile(rb"RequiredFromJSONSchemaTags:\s*true")


FUNCTION_NODES = ("function_declaration", "method_declaration", "func_literal")


@dataclass
class Package:
    """The files of one Go package (a directory) and the constants and variables they declare."""

    name: str
    directory: str
    values: dict[str, tuple[SourceText, Any]] = field(default_factory=dict)
    types: dict[str, tuple[SourceText, Any]] = field(default_factory=dict)
    functions: dict[str, tuple[SourceText, Any]] = field(default_factory=dict)  # functions and methods


@dataclass
class SourceText(ParsedFile):
    """One parsed file, and the package (directory) it belongs to."""

    package: str = ""
    directory: str = ""


class Project:
    """All packages of the tree, for resolving constants within and across packages."""

    def __init__(self, sources: list[SourceText]):
        self.packages: dict[str, Package] = {}
        for source in sources:
            clause = next((c for c in source.root.named_children if c.type == "package_clause"), None)
            source.package = source.text(clause.named_children[0]) if clause and clause.named_children else ""
            source.directory = source.path.rsplit("/", 1)[0] if "/" in source.path else ""
            package = self.packages.setdefault(source.directory, Package(source.package, source.directory))
            _index_values(source, package)
            _index_types_and_functions(source, package)
        texts = [s.source for s in sources]
        # invopop/jsonschema (used by mark3labs/mcp-go) makes only tagged fields required when asked to.
        self.required_from_tags = any(REQUIRED_FROM_TAGS.search(t) for t in texts)
        self.uses_invopop = any(b'"github.com/invopop/jsonschema"' in t for t in texts)
        self._calls: dict[str, list[tuple[SourceText, Any]]] | None = None
        self.sources = sources

    def package_of(self, source: SourceText) -> Package:
        return self.packages[source.directory]

    def packages_named(self, name: str) -> list[Package]:
        return [p for p in self.packages.values() if p.name == name]

    def calls_to(self, function_name: str) -> list[tuple[SourceText, Any]]:
        """Every call of a function with this name, anywhere in the tree (for helpers that take a tool's name)."""
        if self._calls is None:
            self._calls = {}
            for source in self.sources:
                for call in descendants(source.root, "call_expression"):
                    function = call.child_by_field_name("function")
                    if function is not None and function.type == "identifier":
                        self._calls.setdefault(source.text(function), []).append((source, call))
        return self._calls.get(function_name, [])


def _index_values(source: SourceText, package: Package) -> None:
    for declaration in source.root.named_children:
        if declaration.type not in ("const_declaration", "var_declaration"):
            continue
        specs = [c for c in declaration.named_children if c.type in ("const_spec", "var_spec")]
        for group in (c for c in declaration.named_children if c.type == "var_spec_list"):
            specs.extend(c for c in group.named_children if c.type == "var_spec")
        for spec in specs:
            names = [c for c in spec.children_by_field_name("name")]
            value = spec.child_by_field_name("value")
            if value is None:
                continue
            for name, expression in zip(names, value.named_children, strict=False):
                package.values[source.text(name)] = (source, expression)


def _index_types_and_functions(source: SourceText, package: Package) -> None:
    for declaration in source.root.named_children:
        if declaration.type in ("function_declaration", "method_declaration"):
            name = declaration.child_by_field_name("name")
            if name is not None:
                package.functions.setdefault(source.text(name), (source, declaration))
        elif declaration.type == "type_declaration":
            for spec in declaration.named_children:
                name, kind = spec.child_by_field_name("name"), spec.child_by_field_name("type")
                if spec.type in ("type_spec", "type_alias") and name is not None and kind is not None:
                    package.types[source.text(name)] = (source, kind)


def descendants(node: Any, node_type: str) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        charge()
        if current.type == node_type:
            yield current
        stack.extend(reversed(current.named_children))


def is_list_expression(node: Any) -> bool:
    return node.type in ("variadic_argument", "identifier", "composite_literal", "call_expression")


def enclosing_function(root: Any, node: Any) -> Any | None:
    return enclosing(root, node, FUNCTION_NODES)


def parameter_names(source: SourceText, function: Any) -> list[str]:
    """Positional parameter names of a function (a variadic one last)."""
    parameters = function.child_by_field_name("parameters")
    names: list[str] = []
    for declaration in parameters.named_children if parameters is not None else []:
        names.extend(source.text(n) for n in declaration.children_by_field_name("name"))
    return names


def call_arguments(call: Any) -> list[Any]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [a for a in arguments.named_children if a.type != "comment"]


def strip_address(node: Any) -> Any:
    while (
        node is not None
        and node.type == "unary_expression"
        and node.child_by_field_name("operand") is not None
    ):
        operator = node.children[0].type if node.children else ""
        if operator != "&":
            return node
        node = node.child_by_field_name("operand")
    return node


def go_string(source: SourceText, node: Any) -> str:
    if node.type == "raw_string_literal":
        return source.text(node)[1:-1].replace("\r", "")
    return literal_text(source, node, "interpreted_string_literal_content", _decode_escape)


def _decode_escape(escape: str) -> str:
    simple = {
        "a": "\a",
        "b": "\b",
        "f": "\f",
        "n": "\n",
        "r": "\r",
        "t": "\t",
        "v": "\v",
        "\\": "\\",
        "'": "'",
        '"': '"',
    }
    body = escape[1:]
    if body in simple:
        return simple[body]
    try:
        if body[:1] in ("x", "u", "U"):
            return chr(int(body[1:], 16))
        if body[:1].isdigit():
            return chr(int(body, 8))
    except ValueError:
        pass
    return escape
