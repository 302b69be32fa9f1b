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
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from catalog.extract import Extraction, SourceFile
from catalog.extract.budget import Budget, BudgetHit, charge, check_length
from catalog.extract.syntax import enclosing
from catalog.models import Tool

HINT_OPTIONS = {
    "WithReadOnlyHintAnnotation": "readOnlyHint",
    "WithDestructiveHintAnnotation": "destructiveHint",
    "WithIdempotentHintAnnotation": "idempotentHint",
    "WithOpenWorldHintAnnotation": "openWorldHint",
    "WithTitleAnnotation": "title",
}
ANNOTATION_FIELDS = {
    "Title": "title",
    "ReadOnlyHint": "readOnlyHint",
    "DestructiveHint": "destructiveHint",
    "IdempotentHint": "idempotentHint",
    "OpenWorldHint": "openWorldHint",
}
PARAM_OPTIONS = {
    "WithString": "string",
    "WithNumber": "number",
    "WithInteger": "integer",
    "WithBoolean": "boolean",
    "WithArray": "array",
    "WithObject": "object",
    "WithAny": None,
}
STRUCT_TAG = re.compile(r'([A-Za-z_][A-Za-z0-9_]*):"((?:[^"\\]|\\.)*)"')
# Go types as the schema libraries render them (jsonschema-go adds the integer ranges; invopop does not).
GO_BASIC_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "bool": {"type": "boolean"},
    "float32": {"type": "number"},
    "float64": {"type": "number"},
    "int": {"type": "integer"},
    "int64": {"type": "integer"},
    "uint": {"type": "integer", "minimum": 0},
    "uint64": {"type": "integer", "minimum": 0},
    "int8": {"type": "integer", "minimum": -128, "maximum": 127},
    "uint8": {"type": "integer", "minimum": 0, "maximum": 255},
    "byte": {"type": "integer", "minimum": 0, "maximum": 255},
    "int16": {"type": "integer", "minimum": -32768, "maximum": 32767},
    "uint16": {"type": "integer", "minimum": 0, "maximum": 65535},
    "int32": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647},
    "rune": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647},
    "uint32": {"type": "integer", "minimum": 0, "maximum": 4294967295},
}
KNOWN_GO_TYPES: dict[str, dict[str, Any]] = {
    "time.Time": {"type": "string"},
    "json.RawMessage": {},
}
TRANSLATION_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
REQUIRED_FROM_TAGS = re.compile(rb"RequiredFromJSONSchemaTags:\s*true")
MAX_DEPTH = 40
FUNCTION_NODES = ("function_declaration", "method_declaration", "func_literal")


class Unresolved(Exception):
    """A value that static reading cannot determine; the message says why."""


@dataclass
class Package:
    """The files of one Go package (a directory) and the constants and variables they declare."""

    name: str
    directory: str
    values: dict[str, tuple[SourceText, Any]] = field(default_factory=dict)
    types: dict[str, tuple[SourceText, Any]] = field(default_factory=dict)
    functions: dict[str, tuple[SourceText, Any]] = field(default_factory=dict)  # functions and methods


@dataclass
class SourceText:
    """One parsed file."""

    path: str
    source: bytes
    root: Any
    package: str = ""
    directory: str = ""

    def text(self, node: Any) -> str:
        charge(1 + (node.end_byte - node.start_byte) // 256)
        return self.source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


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
                for call in _descendants(source.root, "call_expression"):
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


def _descendants(node: Any, node_type: str) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        charge()
        if current.type == node_type:
            yield current
        stack.extend(reversed(current.named_children))


class Reader:
    """Reads tool declarations in one file, resolving strings through the project."""

    def __init__(
        self,
        project: Project,
        source: SourceText,
        result: Extraction,
        bindings: dict[str, tuple[Reader, Any]] | None = None,
        call_site: str = "",
    ):
        self.project = project
        self.source = source
        self.result = result
        # Parameters of a helper bound to the arguments of one call site: `newTool(t, "name", "text")`.
        self.bindings = bindings or {}
        self.call_site = call_site

    def origin(self, node: Any) -> str:
        """Where a declaration is; for a helper, the call that made the tool."""
        return self.call_site or f"{self.source.path}:{node.start_point[0] + 1}"

    def at(self, source: SourceText) -> Reader:
        return self if source is self.source else Reader(self.project, source, self.result)

    # -- recognising declarations --------------------------------------------------------------

    def read(self, node: Any) -> None:
        if node.type == "composite_literal":
            type_node = node.child_by_field_name("type")
            if (
                type_node is not None
                and self.source.text(type_node) in ("mcp.Tool", "Tool")
                and self._is_mcp(type_node)
            ):
                self._read_tool_literal(node)
            return
        function = node.child_by_field_name("function")
        name = self._callee(function)
        arguments = _arguments(node)
        if not arguments:
            return
        if name == "NewTool" and self._is_new_tool_call(arguments):
            self._read_new_tool(node, arguments)
        elif name == "NewToolWithRawSchema" and len(arguments) >= 2:
            self._read_raw_schema_tool(node, arguments)
        elif (
            name.endswith("Tool") and name not in ("AddTool", "NewTool") and self._is_wrapper_call(arguments)
        ):
            self._read_wrapper(node, arguments)

    def _is_mcp(self, type_node: Any) -> bool:
        if type_node.type == "qualified_type":
            return self.source.text(type_node.child_by_field_name("package")) == "mcp"
        return self.source.package == "mcp"

    def _callee(self, function: Any) -> str:
        if function is None:
            return ""
        if function.type == "selector_expression":
            return self.source.text(function.child_by_field_name("field"))
        if function.type == "identifier":
            return self.source.text(function)
        if function.type == "generic_type" or function.type == "index_expression":
            return self._callee(function.named_children[0])
        return ""

    def _is_wrapper_call(self, arguments: list[Any]) -> bool:
        """`MustTool("name", "description", handler, mcp.With...)`: two strings, then a handler."""
        if len(arguments) < 3 or not all(
            a.type in ("interpreted_string_literal", "raw_string_literal")
            or a.type in ("identifier", "selector_expression", "binary_expression", "call_expression")
            for a in arguments[:2]
        ):
            return False
        try:
            self.string(arguments[0])
        except Unresolved:
            return False
        return arguments[0].type in (
            "interpreted_string_literal",
            "raw_string_literal",
        ) or self._is_string_like(arguments[1])

    def _is_new_tool_call(self, arguments: list[Any]) -> bool:
        """mcp-go's `NewTool(name, options...)`, not a project's own `NewTool(metadata, mcp.Tool{...})`."""
        try:
            self.string(arguments[0])
            return True
        except Unresolved:
            pass
        options = arguments[1:]
        return bool(options) and all(
            o.type == "call_expression" and self._callee(o.child_by_field_name("function")).startswith("With")
            for o in options
        )

    def _is_string_like(self, node: Any) -> bool:
        try:
            self.string(node)
        except Unresolved:
            return node.type in ("identifier", "selector_expression")
        return True

    # -- mark3labs/mcp-go ----------------------------------------------------------------------

    def _tool_name(self, node: Any, name_node: Any) -> str | None:
        helper = self._helper_taking(name_node)
        if helper is not None:
            self._read_per_call_site(node, helper)
            return None
        try:
            name, holes = self.string(name_node)
        except Unresolved as error:
            self.result.warnings.append(f"{self.origin(node)}: tool name: {error}; tool skipped")
            return None
        if holes:
            self.result.warnings.append(
                f"{self.origin(node)}: tool name built at run time ({', '.join(holes)}); tool skipped"
            )
            return None
        return name

    def _helper_taking(self, name_node: Any) -> Any | None:
        """The enclosing function when the tool's name is one of its parameters (and not yet bound)."""
        if self.bindings or name_node.type != "identifier":
            return None
        function = _enclosing_function(self.source.root, name_node)
        if function is None or function.type != "function_declaration":
            return None
        if self.source.text(name_node) not in _parameter_names(self.source, function):
            return None
        return function

    def _read_per_call_site(self, declaration: Any, helper: Any) -> None:
        """Read a declaration inside a helper once per call of that helper, with its arguments bound."""
        helper_name = self.source.text(helper.child_by_field_name("name"))
        parameters = _parameter_names(self.source, helper)
        calls = self.project.calls_to(helper_name)
        if not calls:
            self.result.warnings.append(
                f"{self.origin(declaration)}: tool name is a parameter of {helper_name}(), which is never called; tool skipped"
            )
        for call_source, call in calls:
            caller = Reader(self.project, call_source, self.result)
            bindings = {
                name: (caller, argument) for name, argument in zip(parameters, _arguments(call), strict=False)
            }
            Reader(self.project, self.source, self.result, bindings, caller.origin(call)).read(declaration)

    def _read_new_tool(self, call: Any, arguments: list[Any]) -> None:
        name = self._tool_name(call, arguments[0])
        if name is None:
            return
        tool = Tool(name=name, origin=self.origin(call), input_schema={"type": "object", "properties": {}})
        self._apply_options(tool, arguments[1:])
        self.result.tools.append(tool)

    def _read_wrapper(self, call: Any, arguments: list[Any]) -> None:
        name = self._tool_name(call, arguments[0])
        if name is None:
            return
        tool = Tool(name=name, origin=self.origin(call))
        tool.description = self._text(arguments[1], "description", tool.unresolved)
        options = [
            a
            for a in arguments[2:]
            if a.type == "call_expression"
            and self._callee(a.child_by_field_name("function")).startswith("With")
        ]
        self._apply_options(tool, options)
        if tool.input_schema == {"type": "object", "properties": {}} or tool.input_schema is None:
            dialect = "invopop" if self.project.uses_invopop else "google"
            tool.input_schema = self._handler_schema(arguments[2], dialect, tool.unresolved)
        self.result.tools.append(tool)

    def _read_raw_schema_tool(self, call: Any, arguments: list[Any]) -> None:
        name = self._tool_name(call, arguments[0])
        if name is None:
            return
        tool = Tool(name=name, origin=self.origin(call))
        tool.description = self._text(arguments[1], "description", tool.unresolved)
        if len(arguments) > 2:
            raw = arguments[2]
            if raw.type == "call_expression" and _arguments(raw):
                raw = _arguments(raw)[0]  # json.RawMessage(`...`)
            try:
                tool.input_schema = json.loads(self.string(raw)[0])
            except (Unresolved, ValueError):
                tool.unresolved.append("input_schema: raw schema built at run time")
        self.result.tools.append(tool)

    def _apply_options(self, tool: Tool, options: list[Any]) -> None:
        schema: dict[str, Any] = tool.input_schema or {"type": "object", "properties": {}}
        annotations: dict[str, Any] = {}
        for option in options:
            if option.type != "call_expression":
                tool.unresolved.append(f"options: {self._short(option)} applied at run time")
                continue
            option_name = self._callee(option.child_by_field_name("function"))
            args = _arguments(option)
            if option_name == "WithDescription" and args:
                tool.description = self._text(args[0], "description", tool.unresolved)
            elif option_name == "WithTitle" and args:
                tool.title = self._text(args[0], "title", tool.unresolved) or None
            elif option_name in HINT_OPTIONS and args:
                self._set_annotation(annotations, HINT_OPTIONS[option_name], args[0], tool.unresolved)
            elif option_name == "WithInputSchema":
                dialect = "google" if b"modelcontextprotocol/go-sdk" in self.source.source else "invopop"
                schema = self._generic_option_schema(option, dialect, tool.unresolved) or schema
            elif option_name == "WithToolAnnotation" and args:
                annotations.update(self._annotation_literal(args[0], tool.unresolved))
            elif option_name in PARAM_OPTIONS and args:
                self._add_parameter(schema, PARAM_OPTIONS[option_name], args, tool.unresolved)
            else:
                tool.unresolved.append(f"options: {option_name or self._short(option)}() not read statically")
        tool.input_schema = schema
        tool.annotations = annotations or None

    def _set_annotation(
        self, annotations: dict[str, Any], key: str, node: Any, unresolved: list[str]
    ) -> None:
        try:
            annotations[key] = self.literal(node)
        except Unresolved as error:
            unresolved.append(f"annotations.{key}: {error}")

    def _add_parameter(
        self, schema: dict[str, Any], json_type: str | None, args: list[Any], unresolved: list[str]
    ) -> None:
        try:
            name, holes = self.string(args[0])
        except Unresolved as error:
            unresolved.append(f"input_schema: parameter name {error}")
            return
        if holes:
            unresolved.append(f"input_schema: parameter name built at run time ({name})")
        prop: dict[str, Any] = {"type": json_type} if json_type else {}
        for option in args[1:]:
            self._apply_property_option(schema, name, prop, option, unresolved)
        schema["properties"][name] = prop

    def _apply_property_option(
        self, schema: dict[str, Any], name: str, prop: dict[str, Any], option: Any, unresolved: list[str]
    ) -> None:
        option_name = (
            self._callee(option.child_by_field_name("function")) if option.type == "call_expression" else ""
        )
        args = _arguments(option) if option.type == "call_expression" else []
        try:
            if option_name == "Required":
                schema.setdefault("required", []).append(name)
            elif option_name == "Description" and args:
                prop["description"] = self._text(args[0], f"input_schema.{name}.description", unresolved)
            elif option_name == "Enum":
                prop["enum"] = [self.literal(a) for a in args]
            elif option_name in ("DefaultString", "DefaultNumber", "DefaultBool") and args:
                prop["default"] = self.literal(args[0])
            elif option_name in ("Min", "Max", "MinLength", "MaxLength", "MinItems", "MaxItems") and args:
                key = {"Min": "minimum", "Max": "maximum"}.get(
                    option_name, option_name[0].lower() + option_name[1:]
                )
                prop[key] = self.literal(args[0])
            elif option_name in ("WithStringItems", "WithNumberItems", "WithBooleanItems"):
                prop["items"] = {"type": option_name[4:-5].lower()}
            elif option_name == "Title" and args:
                prop["title"] = self.literal(args[0])
            else:
                unresolved.append(
                    f"input_schema.{name}: {option_name or self._short(option)}() not read statically"
                )
        except Unresolved as error:
            unresolved.append(f"input_schema.{name}: {error}")

    # -- input schemas derived from Go types (go-sdk's jsonschema-go, mcp-go's invopop) ---------

    def _generic_option_schema(
        self, option: Any, dialect: str, unresolved: list[str]
    ) -> dict[str, Any] | None:
        """`mcp.WithInputSchema[Args]()`: the schema of the type argument."""
        function = option.child_by_field_name("function")
        type_node = None
        if function is not None and function.type == "index_expression":
            type_node = function.child_by_field_name("index")
        elif (
            arguments := option.child_by_field_name("type_arguments")
        ) is not None and arguments.named_children:
            type_node = arguments.named_children[0]
        if type_node is None:
            unresolved.append(f"input_schema: {self._short(option)} not read statically")
            return None
        try:
            return self._type_schema(type_node, dialect, frozenset())
        except Unresolved as error:
            unresolved.append(f"input_schema: {error}")
            return None

    def _handler_schema(self, handler: Any, dialect: str, unresolved: list[str]) -> dict[str, Any] | None:
        """The schema an SDK derives from the handler's argument struct (json and jsonschema tags)."""
        reader, function = self._handler_function(handler)
        if function is None:
            unresolved.append(f"input_schema: derived at run time from handler {self._short(handler)}")
            return None
        argument = reader._argument_type(function)
        if argument is None:
            unresolved.append("input_schema: the handler takes no argument struct")
            return None
        try:
            schema = reader._type_schema(argument, dialect, frozenset())
        except Unresolved as error:
            unresolved.append(f"input_schema: {error}")
            return None
        return schema or {"type": "object"}  # go-sdk: an `any` argument takes an empty object

    def _handler_function(self, handler: Any) -> tuple[Reader, Any | None]:
        reader, node = self._bound(handler)
        if node.type in ("index_expression", "generic_type") and node.named_children:
            node = node.named_children[0]  # handle[Args]
        if node.type == "func_literal":
            return reader, node
        packages = [reader.project.package_of(reader.source)]
        name = reader.source.text(node)
        if node.type == "selector_expression":  # otherpkg.Handle, or s.handle (a method)
            name = reader.source.text(node.child_by_field_name("field"))
            operand = reader.source.text(node.child_by_field_name("operand"))
            packages = reader.project.packages_named(operand) or packages
        elif node.type != "identifier":
            return reader, None
        for package in packages:
            if name in package.functions:
                source, declaration = package.functions[name]
                return reader.at(source), declaration
        return reader, None

    def _argument_type(self, function: Any) -> Any | None:
        """The last parameter that is neither the context nor the request: the tool's arguments."""
        parameters = function.child_by_field_name("parameters")
        types = []
        for declaration in parameters.named_children if parameters is not None else []:
            type_node = declaration.child_by_field_name("type")
            if type_node is None:
                continue
            text = self.source.text(type_node)
            if "Context" in text or "Request" in text:
                continue
            types.extend([type_node] * max(1, len(declaration.children_by_field_name("name"))))
        return types[-1] if types else None

    def _type_schema(self, node: Any, dialect: str, seen: frozenset[str]) -> dict[str, Any]:
        charge()
        if len(seen) > MAX_DEPTH:
            raise Unresolved("type nested too deeply")
        kind = node.type
        if kind == "parenthesized_type" and node.named_children:
            return self._type_schema(node.named_children[0], dialect, seen)
        if kind == "pointer_type":
            inner = self._type_schema(node.named_children[0], dialect, seen)
            if dialect == "google" and isinstance(inner.get("type"), str):  # jsonschema-go: *T may be null
                inner["type"] = ["null", inner["type"]]
            return inner
        if kind in ("slice_type", "array_type"):
            return {
                "type": "array",
                "items": self._type_schema(node.child_by_field_name("element"), dialect, seen),
            }
        if kind == "map_type":
            value = self._type_schema(node.child_by_field_name("value"), dialect, seen)
            return {"type": "object", "additionalProperties": value}
        if kind == "interface_type":
            return {}
        if kind == "struct_type":
            return self._struct_schema(node, dialect, seen)
        if kind in ("type_identifier", "identifier"):  # `WithInputSchema[Args]` parses Args as an expression
            return self._named_type_schema(
                self.project.package_of(self.source), self.source.text(node), dialect, seen
            )
        if kind in ("qualified_type", "selector_expression"):
            package, name = (self.source.text(c) for c in node.named_children[:2])
            if f"{package}.{name}" in KNOWN_GO_TYPES:
                return dict(KNOWN_GO_TYPES[f"{package}.{name}"])
            for candidate in self.project.packages_named(package):
                if name in candidate.types:
                    return self._named_type_schema(candidate, name, dialect, seen)
        raise Unresolved(f"type {self._short(node)} not resolvable statically")

    def _named_type_schema(
        self, package: Package, name: str, dialect: str, seen: frozenset[str]
    ) -> dict[str, Any]:
        if name in GO_BASIC_TYPES:
            schema = dict(GO_BASIC_TYPES[name])
            return schema if dialect == "google" else {"type": schema["type"]}
        if name == "any":
            return {}
        key = f"{package.directory}.{name}"
        if name not in package.types or key in seen:
            raise Unresolved(f"type {name} not resolvable statically")
        source, type_node = package.types[name]
        return self.at(source)._type_schema(type_node, dialect, seen | {key})

    def _struct_schema(self, node: Any, dialect: str, seen: frozenset[str]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        field_list = next((c for c in node.named_children if c.type == "field_declaration_list"), None)
        for declaration in field_list.named_children if field_list is not None else []:
            if declaration.type != "field_declaration":
                continue
            type_node = declaration.child_by_field_name("type")
            tags = _struct_tags(self.source, declaration.child_by_field_name("tag"))
            json_name, json_options = _json_tag(tags.get("json"))
            names = [self.source.text(n) for n in declaration.children_by_field_name("name")]
            if not names and not json_name:  # an embedded struct: its fields are promoted
                embedded = self._type_schema(type_node, dialect, seen)
                properties.update(embedded.get("properties", {}))
                required.extend(embedded.get("required", []))
                continue
            for name in names or [self.source.text(type_node)]:
                if not name[:1].isupper() or (json_name == "-" and not json_options):
                    continue
                key = json_name or name
                prop = self._type_schema(type_node, dialect, seen)
                is_required = self._apply_field_tags(prop, tags, json_options, dialect)
                properties[key] = prop
                if is_required:
                    required.append(key)
        schema: dict[str, Any] = {"type": "object"}
        if properties or dialect == "invopop":
            schema["properties"] = properties
        if required:
            schema["required"] = required
        if dialect == "google":
            schema["additionalProperties"] = False
        return schema

    def _apply_field_tags(
        self, prop: dict[str, Any], tags: dict[str, str], json_options: set[str], dialect: str
    ) -> bool:
        """Apply a field's `jsonschema` tag to its property; return whether the field is required."""
        optional = bool(json_options & {"omitempty", "omitzero"})
        tag = tags.get("jsonschema")
        if dialect == "google":  # jsonschema-go: the whole tag is the description
            if tag:
                prop["description"] = tag
            return not optional
        if "jsonschema_description" in tags:
            prop["description"] = tags["jsonschema_description"]
        options = _invopop_options(tag or "")
        for key, value in options:
            if key == "description":
                prop["description"] = value
            elif key in ("title", "pattern", "format"):
                prop[key] = value
            elif key == "enum":
                prop.setdefault("enum", []).append(_typed(value, prop.get("type")))
            elif key == "default":
                prop["default"] = _typed(value, prop.get("type"))
            elif key in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
                prop[key] = _typed(value, "number")
        tagged_required = ("required", "") in options
        if self.project.required_from_tags:
            return tagged_required
        return tagged_required or not optional

    # -- official go-sdk struct literals -------------------------------------------------------

    def _read_tool_literal(self, literal: Any) -> None:
        fields = self._keyed_fields(literal)
        if "Name" not in fields:
            return
        name = self._tool_name(literal, fields["Name"])
        if name is None:
            return
        tool = Tool(name=name, origin=self.origin(literal))
        if "Description" in fields:
            tool.description = self._text(fields["Description"], "description", tool.unresolved)
        if "Title" in fields:
            tool.title = self._text(fields["Title"], "title", tool.unresolved) or None
        if "Annotations" in fields:
            tool.annotations = self._annotation_literal(fields["Annotations"], tool.unresolved) or None
        if "InputSchema" in fields:
            tool.input_schema = self._schema_value(fields["InputSchema"], tool.unresolved, literal)
        elif (handler := self._generic_handler(literal)) is not None:
            tool.input_schema = self._handler_schema(handler, "google", tool.unresolved)
        self.result.tools.append(tool)

    def _generic_handler(self, literal: Any) -> Any | None:
        """The handler of go-sdk's generic `mcp.AddTool(server, tool, handler)`, which derives the schema from it."""
        node = (
            literal.parent
            if literal.parent is not None and literal.parent.type == "unary_expression"
            else literal
        )
        parent = node.parent
        if parent is not None and parent.type == "argument_list":
            arguments = _arguments(parent.parent)
            is_tool_argument = len(arguments) == 3 and arguments[1].start_byte == node.start_byte
            if is_tool_argument and self._callee(parent.parent.child_by_field_name("function")) == "AddTool":
                return arguments[2]
            return None
        declaration = parent.parent if parent is not None and parent.type == "expression_list" else None
        if declaration is None or declaration.type not in ("short_var_declaration", "assignment_statement"):
            return None
        variable = self.source.text(declaration.child_by_field_name("left"))
        function = _enclosing_function(self.source.root, literal)
        for call in _descendants(function, "call_expression") if function is not None else []:
            arguments = _arguments(call)
            if (
                len(arguments) == 3
                and self._callee(call.child_by_field_name("function")) == "AddTool"
                and self.source.text(arguments[1]) == variable
            ):
                return arguments[2]
        return None

    def _keyed_fields(self, literal: Any) -> dict[str, Any]:
        body = literal.child_by_field_name("body") if literal.type == "composite_literal" else literal
        fields: dict[str, Any] = {}
        if body is None:
            return fields
        for element in body.named_children:
            if element.type != "keyed_element" or len(element.named_children) < 2:
                continue
            key, value = element.named_children[0], element.named_children[-1]
            key_node = key.named_children[0] if key.type == "literal_element" and key.named_children else key
            value_node = (
                value.named_children[0] if value.type == "literal_element" and value.named_children else value
            )
            if key_node.type in ("interpreted_string_literal", "raw_string_literal"):
                fields[_go_string(self.source, key_node)] = value_node
            else:
                fields[self.source.text(key_node)] = value_node
        return fields

    def _annotation_literal(self, node: Any, unresolved: list[str]) -> dict[str, Any]:
        node = _strip_address(self._resolve_local(node))
        if node.type not in ("composite_literal", "literal_value"):
            unresolved.append(f"annotations: {self._short(node)} built at run time")
            return {}
        annotations: dict[str, Any] = {}
        for key, value in self._keyed_fields(node).items():
            if key in ANNOTATION_FIELDS:
                self._set_annotation(annotations, ANNOTATION_FIELDS[key], value, unresolved)
        return annotations

    def _schema_value(self, node: Any, unresolved: list[str], tool_node: Any) -> dict[str, Any] | None:
        node = _strip_address(self._resolve_local(node, tool_node))
        if node.type in ("composite_literal", "literal_value"):
            return self._jsonschema_literal(node, unresolved)
        if (
            node.type == "call_expression"
            and self._callee(node.child_by_field_name("function")) == "RawMessage"
        ):
            try:
                return json.loads(self.string(_arguments(node)[0])[0])
            except (Unresolved, ValueError, IndexError):
                pass
        if node.type == "call_expression":  # WithPagination(&jsonschema.Schema{...}): a helper adds to it
            inner = [_strip_address(a) for a in _arguments(node)]
            literals = [a for a in inner if a.type == "composite_literal"]
            if len(literals) == 1:
                callee = self._callee(node.child_by_field_name("function"))
                unresolved.append(f"input_schema: {callee or 'a helper'}() adds to it at run time")
                return self._jsonschema_literal(literals[0], unresolved)
        unresolved.append(f"input_schema: {self._short(node)} built at run time")
        return None

    def _jsonschema_literal(self, node: Any, unresolved: list[str], depth: int = 0) -> dict[str, Any]:
        """`&jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{...}}` as JSON."""
        schema: dict[str, Any] = {}
        for key, value in self._keyed_fields(node).items():
            value = _strip_address(value)
            json_key = key[0].lower() + key[1:]
            if key == "Properties" and depth < MAX_DEPTH:
                schema["properties"] = self._properties(value, unresolved, depth)
            elif key == "Items" and depth < MAX_DEPTH:
                reader, items = self._bound(value)
                schema["items"] = reader._jsonschema_literal(items, unresolved, depth + 1)
            elif key in ("Required", "Enum"):
                try:
                    schema[json_key] = self._list_literal(value)
                except Unresolved as error:
                    unresolved.append(f"input_schema.{json_key}: {error}")
            elif key == "Types":
                schema["type"] = self._json_value(value, unresolved, depth + 1)
            else:
                schema[json_key] = self._json_value(value, unresolved, depth + 1)
        return schema

    def _json_value(self, node: Any, unresolved: list[str], depth: int) -> Any:
        """A value inside a schema literal: scalars, slices, maps and nested schema literals."""
        charge()
        node = _strip_address(node)
        if node.type in ("composite_literal", "literal_value") and depth < MAX_DEPTH:
            type_node = node.child_by_field_name("type") if node.type == "composite_literal" else None
            body = node.child_by_field_name("body") if node.type == "composite_literal" else node
            kind = type_node.type if type_node is not None else ""
            if kind == "slice_type" or (
                body is not None and not any(c.type == "keyed_element" for c in body.named_children)
            ):
                items = [
                    c.named_children[0] if c.type == "literal_element" and c.named_children else c
                    for c in body.named_children
                ]
                return [self._json_value(item, unresolved, depth + 1) for item in items]
            if kind == "map_type":
                return {
                    k: self._json_value(v, unresolved, depth + 1) for k, v in self._keyed_fields(node).items()
                }
            return self._jsonschema_literal(node, unresolved, depth + 1)
        try:
            return self.literal(node)
        except Unresolved:
            unresolved.append(f"input_schema: {self._short(node)} not read statically")
            return None

    def _properties(self, node: Any, unresolved: list[str], depth: int) -> dict[str, Any]:
        """A `map[string]*jsonschema.Schema{...}`, followed through variables and `maps.Copy` into it."""
        reader, literal = self._bound(node)
        properties = {
            name: reader._jsonschema_literal(_strip_address(inner), unresolved, depth + 1)
            for name, inner in reader._keyed_fields(literal).items()
        }
        if node.type == "identifier":
            for extra in self._copied_into(node):
                properties.update(self._properties(extra, unresolved, depth))
        return properties

    def _copied_into(self, variable: Any) -> list[Any]:
        """The sources of `maps.Copy(variable, source)` calls in the function that declares the variable."""
        function = _enclosing_function(self.source.root, variable)
        name = self.source.text(variable)
        sources = []
        for call in _descendants(function, "call_expression") if function is not None else []:
            arguments = _arguments(call)
            callee = call.child_by_field_name("function")
            if (
                len(arguments) == 2
                and callee is not None
                and self.source.text(callee) == "maps.Copy"
                and self.source.text(arguments[0]) == name
            ):
                sources.append(arguments[1])
        return sources

    def _list_literal(self, node: Any) -> list[Any]:
        """A slice literal, also through variables and `append(list, more...)`."""
        reader, value = self._bound(node)
        if reader is not self:
            return reader._list_literal(value)
        if (
            value.type == "call_expression"
            and self._callee(value.child_by_field_name("function")) == "append"
        ):
            items: list[Any] = []
            for argument in _arguments(value):
                items.extend(
                    self._list_literal(argument)
                    if _is_list_expression(argument)
                    else [self.literal(argument)]
                )
            return items
        if value.type == "variadic_argument" and value.named_children:
            return self._list_literal(value.named_children[0])
        if value.type not in ("composite_literal", "literal_value"):
            raise Unresolved(f"built at run time ({self._short(value)})")
        body = value.child_by_field_name("body") if value.type == "composite_literal" else value
        items = [
            c.named_children[0] if c.named_children else c for c in (body.named_children if body else [])
        ]
        return [self.literal(item) for item in items]

    def _bound(self, node: Any) -> tuple[Reader, Any]:
        """Follow an identifier to the expression it stands for: a bound parameter or a local variable."""
        node = _strip_address(node)
        if node.type != "identifier":
            return self, node
        name = self.source.text(node)
        if name in self.bindings:
            caller, argument = self.bindings[name]
            return caller._bound(argument)
        local = self._resolve_local(node)
        if local is not node:
            return self._bound(local)
        package = self.project.package_of(self.source)
        if name in package.values:
            source, value = package.values[name]
            return self.at(source)._bound(value)
        return self, node

    def _resolve_local(self, node: Any, anchor: Any | None = None) -> Any:
        """A local variable (`schema := ...`) defined earlier in the enclosing function."""
        if node.type != "identifier":
            return node
        name = self.source.text(node)
        scope = _enclosing_function(self.source.root, anchor or node)
        if scope is None:
            return node
        stack = [scope]
        while stack:
            current = stack.pop()
            charge()
            if current.type == "short_var_declaration":
                left, right = current.child_by_field_name("left"), current.child_by_field_name("right")
                names = [self.source.text(n) for n in left.named_children] if left is not None else []
                if name in names and right is not None and len(right.named_children) == len(names):
                    return right.named_children[names.index(name)]
            stack.extend(current.named_children)
        return node

    # -- values --------------------------------------------------------------------------------

    def _short(self, node: Any) -> str:
        text = " ".join(self.source.text(node).split())
        return text if len(text) <= 60 else text[:57] + "..."

    def _text(self, node: Any, label: str, unresolved: list[str]) -> str:
        try:
            text, holes = self.string(node)
        except Unresolved as error:
            unresolved.append(f"{label}: {error}")
            return ""
        if holes:
            unresolved.append(f"{label}: placeholders filled at run time ({', '.join(holes)})")
        return text

    def literal(self, node: Any) -> Any:
        charge()
        node = self._resolve_local(node)
        if node.type in ("true", "false"):
            return node.type == "true"
        if node.type == "nil":
            return None
        if node.type in ("int_literal", "float_literal"):
            text = self.source.text(node).replace("_", "")
            return float(text) if node.type == "float_literal" else int(text, 0)
        if node.type == "unary_expression" and self.source.text(node).startswith("-"):
            return -self.literal(node.child_by_field_name("operand"))
        if (
            node.type == "call_expression" and len(_arguments(node)) == 1
        ):  # mcp.ToBoolPtr(true), jsonschema.Ptr(x)
            callee = self._callee(node.child_by_field_name("function"))
            if callee == "RawMessage":  # json.RawMessage(`"open"`)
                try:
                    return json.loads(self.string(_arguments(node)[0])[0])
                except ValueError as error:
                    raise Unresolved("raw JSON not parseable") from error
            if callee.lower().endswith("ptr") or callee in ("Bool", "String", "Int", "Float64"):
                return self.literal(_arguments(node)[0])
        text, holes = self.string(node)
        if holes:
            raise Unresolved(f"placeholders filled at run time ({', '.join(holes)})")
        return text

    def string(self, node: Any, depth: int = 0) -> tuple[str, list[str]]:
        """Resolve a string expression; returns the text and any `{...}` placeholders left in it."""
        charge()
        if depth > MAX_DEPTH:
            raise Unresolved("too deeply nested")
        if node.type in ("interpreted_string_literal", "raw_string_literal"):
            return _go_string(self.source, node), []
        if node.type == "parenthesized_expression" and node.named_children:
            return self.string(node.named_children[0], depth + 1)
        if node.type == "binary_expression" and self.source.text(node.child_by_field_name("operator")) == "+":
            left = self._string_part(node.child_by_field_name("left"), depth)
            right = self._string_part(node.child_by_field_name("right"), depth)
            check_length(len(left[0]) + len(right[0]))
            return left[0] + right[0], left[1] + right[1]
        if node.type == "identifier":
            return self._named(self.project.package_of(self.source), self.source.text(node), node, depth)
        if node.type == "selector_expression":
            operand = node.child_by_field_name("operand")
            member = self.source.text(node.child_by_field_name("field"))
            for package in self.project.packages_named(self.source.text(operand)):
                if member in package.values:
                    return self._named(package, member, node, depth)
            raise Unresolved(f"built at run time ({self._short(node)})")
        if node.type == "call_expression":
            return self._call_string(node, depth)
        if node.type in ("int_literal", "float_literal"):
            return self.source.text(node), []
        raise Unresolved(f"built at run time ({self._short(node)})")

    def _named(self, package: Package, name: str, node: Any, depth: int) -> tuple[str, list[str]]:
        if node.type == "identifier" and name in self.bindings:
            caller, argument = self.bindings[name]
            return caller.string(argument, depth + 1)
        local = self._resolve_local(node) if node.type == "identifier" else node
        if local is not node:
            return self.string(local, depth + 1)
        if name not in package.values:
            raise Unresolved(f"{name!r} not resolvable statically")
        source, value = package.values[name]
        return self.at(source).string(value, depth + 1)

    def _string_part(self, node: Any, depth: int) -> tuple[str, list[str]]:
        try:
            return self.string(node, depth + 1)
        except Unresolved:
            placeholder = "{" + self._short(node) + "}"
            return placeholder, [placeholder]

    def _call_string(self, node: Any, depth: int) -> tuple[str, list[str]]:
        callee = self._callee(node.child_by_field_name("function"))
        args = _arguments(node)
        if len(args) == 2 and self._is_translation_key(
            args[0], depth
        ):  # t("TOOL_X_DESCRIPTION", "default text")
            return self.string(args[1], depth + 1)
        if callee == "Sprintf" and args:
            return self._sprintf(args, depth)
        if callee in ("TrimSpace", "Dedent") and len(args) == 1:
            text, holes = self.string(args[0], depth + 1)
            return text.strip(), holes
        raise Unresolved(f"built at run time (call to {callee or self._short(node)})")

    def _is_translation_key(self, node: Any, depth: int) -> bool:
        """`"TOOL_X_DESCRIPTION"`, also when built as `"TOOL_" + strings.ToUpper(name) + "_DESCRIPTION"`."""
        if node.type not in ("interpreted_string_literal", "binary_expression", "identifier"):
            return False
        try:
            key, holes = self.string(node, depth + 1)
        except Unresolved:
            return False
        for hole in holes:
            key = key.replace(hole, "")
        return bool(TRANSLATION_KEY.match(key))

    def _sprintf(self, args: list[Any], depth: int) -> tuple[str, list[str]]:
        template, holes = self.string(args[0], depth + 1)
        values = iter(args[1:])
        pieces: list[str] = []
        for part in re.split(r"(%[-+# 0-9.]*[a-zA-Z%])", template):
            if not part.startswith("%") or len(part) < 2:
                pieces.append(part)
            elif part == "%%":
                pieces.append("%")
            else:
                argument = next(values, None)
                if argument is None:
                    pieces.append(part)
                    continue
                text, more = self._string_part(argument, depth)
                if not more and part[-1] in "dfgv" and argument.type in ("int_literal", "float_literal"):
                    text = self.source.text(argument)
                pieces.append(text)
                holes.extend(more)
        check_length(sum(len(piece) for piece in pieces))
        return "".join(pieces), holes


def _struct_tags(source: SourceText, tag: Any) -> dict[str, str]:
    """`json:"name,omitempty" jsonschema:"..."` as a dict, values unquoted as Go's StructTag.Get does."""
    if tag is None:
        return {}
    text = source.text(tag)[1:-1] if tag.type == "raw_string_literal" else _go_string(source, tag)
    return {key: re.sub(r"\\(.)", r"\1", value) for key, value in STRUCT_TAG.findall(text)}


def _json_tag(tag: str | None) -> tuple[str, set[str]]:
    name, *options = (tag or "").split(",")
    return name, set(options)


def _invopop_options(tag: str) -> list[tuple[str, str]]:
    """`required,description=A\\, B,enum=x,enum=y`: comma-separated, `\\,` is a literal comma."""
    options = []
    for item in re.split(r"(?<!\\),", tag):
        key, _, value = item.partition("=")
        if key:
            options.append((key.strip(), value.replace("\\,", ",")))
    return options


def _typed(value: str, json_type: Any) -> Any:
    try:
        if json_type == "integer":
            return int(value)
        if json_type == "number":
            number = float(value)
            return int(number) if number.is_integer() else number
    except ValueError:
        return value
    if json_type == "boolean":
        return value == "true"
    return value


def _is_list_expression(node: Any) -> bool:
    return node.type in ("variadic_argument", "identifier", "composite_literal", "call_expression")


def _enclosing_function(root: Any, node: Any) -> Any | None:
    return enclosing(root, node, FUNCTION_NODES)


def _parameter_names(source: SourceText, function: Any) -> list[str]:
    """Positional parameter names of a function (a variadic one last)."""
    parameters = function.child_by_field_name("parameters")
    names: list[str] = []
    for declaration in parameters.named_children if parameters is not None else []:
        names.extend(source.text(n) for n in declaration.children_by_field_name("name"))
    return names


def _arguments(call: Any) -> list[Any]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [a for a in arguments.named_children if a.type != "comment"]


def _strip_address(node: Any) -> Any:
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


def _go_string(source: SourceText, node: Any) -> str:
    if node.type == "raw_string_literal":
        return source.text(node)[1:-1].replace("\r", "")
    pieces = []
    for child in node.named_children:
        if child.type == "interpreted_string_literal_content":
            pieces.append(source.text(child))
        elif child.type == "escape_sequence":
            pieces.append(_decode_escape(source.text(child)))
    return "".join(pieces)


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
