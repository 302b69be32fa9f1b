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
"""

from __future__ import annotations

import posixpath
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from catalog.extract import Extraction, SourceFile
from catalog.models import Tool

ANNOTATION_KEYS = {"title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
FUNCTION_NODES = {
    "arrow_function",
    "function_expression",
    "function",
    "function_declaration",
    "method_definition",
}
SCOPE_NODES = {"program", "statement_block", "class_body", "switch_body"}
WRAPPERS = {
    "parenthesized_expression",
    "as_expression",
    "satisfies_expression",
    "non_null_expression",
    "await_expression",
}
ZOD_BASE_TYPES = {
    "string": "string",
    "number": "number",
    "boolean": "boolean",
    "bigint": "integer",
    "date": "string",
}
TOOL_METHODS = {"tool", "registerTool", "setRequestHandler"}
SOURCE_SUFFIXES = (".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".jsx")
MAX_DEPTH = 40
_CALL_QUERY = "(call_expression function: (member_expression property: (property_identifier) @method)) @call"


class Unresolved(Exception):
    """A value that static reading cannot determine; the message says why."""


@dataclass
class Module:
    """One parsed file: its tree, what it imports, and what it exports."""

    path: str
    source: bytes
    root: Any
    imports: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # local -> (resolved path or spec, name)
    exports: dict[str, Any] = field(default_factory=dict)  # exported name -> value node
    scope_cache: dict[int, dict[str, Any]] = field(default_factory=dict)

    def text(self, node: Any) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def extract(files: list[SourceFile]) -> Extraction:
    """Parse every TS/JS file and return the tools registered anywhere in them."""
    import tree_sitter
    import tree_sitter_typescript

    languages = {
        "ts": tree_sitter.Language(tree_sitter_typescript.language_typescript()),
        "tsx": tree_sitter.Language(tree_sitter_typescript.language_tsx()),
    }
    parsers = {kind: tree_sitter.Parser(language) for kind, language in languages.items()}
    query = tree_sitter.Query(languages["ts"], _CALL_QUERY)
    tsx_query = tree_sitter.Query(languages["tsx"], _CALL_QUERY)
    result = Extraction(files_scanned=len(files))
    modules: list[Module] = []
    for source in files:
        kind = "tsx" if source.path.endswith((".tsx", ".jsx")) else "ts"
        data = source.text.encode("utf-8")
        modules.append(Module(source.path, data, parsers[kind].parse(data).root_node))
    project = Project(modules)
    for module in modules:
        cursor = tree_sitter.QueryCursor(tsx_query if module.path.endswith((".tsx", ".jsx")) else query)
        calls = cursor.captures(module.root).get("call", [])
        reader = Reader(project, module, result)
        for call in sorted(calls, key=lambda n: n.start_byte):
            try:
                reader.read_call(call)
            except RecursionError:
                result.warnings.append(f"{reader.origin(call)}: too deeply nested to read")
    return result


class Project:
    """All parsed modules, for resolving imports and exports across files."""

    def __init__(self, modules: list[Module]):
        self.modules = {m.path: m for m in modules}
        for module in modules:
            _index_module(module, self)
        self.top_level: dict[str, list[tuple[Module, Any]]] = {}
        for module in modules:
            for name, value in _scope_declarations(module, module.root).items():
                self.top_level.setdefault(name, []).append((module, value))

    def resolve_path(self, importer: str, spec: str) -> str:
        if not spec.startswith("."):
            return spec
        base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
        stem = re.sub(r"\.(m|c)?(j|t)sx?$", "", base)
        for candidate in [
            base,
            *(stem + s for s in SOURCE_SUFFIXES),
            *(f"{base}/index{s}" for s in SOURCE_SUFFIXES),
        ]:
            if candidate in self.modules:
                return candidate
        return base

    def unique_top_level(self, name: str) -> tuple[Module, Any] | None:
        found = self.top_level.get(name, [])
        return found[0] if len(found) == 1 else None


def _unwrap(node: Any) -> Any:
    while node is not None and node.type in WRAPPERS:
        inner = node.named_children
        if node.type == "parenthesized_expression" and inner and inner[-1].type == "sequence_expression":
            node = inner[-1].named_children[-1]  # (0, zod_1.z) -> zod_1.z
            continue
        node = inner[0] if inner else None
    return node


def _index_module(module: Module, project: Project) -> None:
    for statement in module.root.named_children:
        if statement.type == "import_statement":
            _index_import(module, project, statement)
        elif statement.type == "export_statement":
            _index_export(module, statement)
        elif statement.type == "expression_statement" and statement.named_children:
            _index_commonjs_export(module, statement.named_children[0])
        if statement.type in ("lexical_declaration", "variable_declaration"):
            for declarator in statement.named_children:
                _index_require(module, project, declarator)


def _index_import(module: Module, project: Project, statement: Any) -> None:
    source = statement.child_by_field_name("source")
    if source is None:
        return
    spec = project.resolve_path(module.path, _string_literal_text(module, source))
    for clause in statement.named_children:
        if clause.type != "import_clause":
            continue
        for part in clause.named_children:
            if part.type == "identifier":
                module.imports[module.text(part)] = (spec, "default")
            elif part.type == "namespace_import":
                names = [c for c in part.named_children if c.type == "identifier"]
                if names:
                    module.imports[module.text(names[0])] = (spec, "*")
            elif part.type == "named_imports":
                for specifier in part.named_children:
                    name = specifier.child_by_field_name("name")
                    alias = specifier.child_by_field_name("alias") or name
                    if name is not None:
                        module.imports[module.text(alias)] = (spec, module.text(name))


def _index_export(module: Module, statement: Any) -> None:
    declaration = statement.child_by_field_name("declaration")
    if declaration is not None and declaration.type in ("lexical_declaration", "variable_declaration"):
        for declarator in declaration.named_children:
            name = declarator.child_by_field_name("name")
            value = declarator.child_by_field_name("value")
            if name is not None and value is not None and name.type == "identifier":
                module.exports[module.text(name)] = value
    value = statement.child_by_field_name("value")
    if value is not None:
        module.exports["default"] = value
    for clause in statement.named_children:
        if clause.type == "export_clause":
            for specifier in clause.named_children:
                name = specifier.child_by_field_name("name")
                alias = specifier.child_by_field_name("alias") or name
                if name is not None:
                    module.exports[module.text(alias)] = name  # an identifier, resolved in this module


def _index_commonjs_export(module: Module, expression: Any) -> None:
    if expression.type != "assignment_expression":
        return
    left = expression.child_by_field_name("left")
    right = expression.child_by_field_name("right")
    if left is None or right is None or left.type != "member_expression":
        return
    owner = module.text(left.child_by_field_name("object"))
    if owner in ("exports", "module.exports"):
        module.exports[module.text(left.child_by_field_name("property"))] = right


def _index_require(module: Module, project: Project, declarator: Any) -> None:
    name = declarator.child_by_field_name("name")
    value = _unwrap(declarator.child_by_field_name("value"))
    if name is None or value is None or value.type != "call_expression":
        return
    if value.child_by_field_name("function") is not None and module.text(
        value.child_by_field_name("function")
    ) in (
        "require",
        "__importStar",
        "__importDefault",
    ):
        arguments = value.child_by_field_name("arguments").named_children
        if arguments and arguments[0].type == "call_expression":  # __importStar(require("x"))
            arguments = arguments[0].child_by_field_name("arguments").named_children
        if not arguments or arguments[0].type != "string":
            return
        spec = project.resolve_path(module.path, _string_literal_text(module, arguments[0]))
        if name.type == "identifier":
            module.imports[module.text(name)] = (spec, "*")
        elif name.type == "object_pattern":
            for part in name.named_children:
                if part.type == "shorthand_property_identifier_pattern":
                    module.imports[module.text(part)] = (spec, module.text(part))


def _scope_declarations(module: Module, scope: Any) -> dict[str, Any]:
    """`const NAME = value` declared directly in a scope (a block or the program), cached."""
    cached = module.scope_cache.get(scope.id)
    if cached is not None:
        return cached
    found: dict[str, Any] = {}
    for statement in scope.named_children:
        if statement.type == "export_statement":
            statement = statement.child_by_field_name("declaration") or statement
        if statement.type in ("lexical_declaration", "variable_declaration"):
            for declarator in statement.named_children:
                name = declarator.child_by_field_name("name")
                value = declarator.child_by_field_name("value")
                if name is not None and value is not None and name.type == "identifier":
                    found[module.text(name)] = value
        elif statement.type == "function_declaration":
            name = statement.child_by_field_name("name")
            if name is not None:
                found.setdefault(module.text(name), statement)
    module.scope_cache[scope.id] = found
    return found


def _string_literal_text(module: Module, node: Any) -> str:
    pieces = []
    for child in node.named_children:
        if child.type == "string_fragment":
            pieces.append(module.text(child))
        elif child.type == "escape_sequence":
            pieces.append(_decode_escape(module.text(child)))
    return "".join(pieces)


def _decode_escape(escape: str) -> str:
    simple = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
    body = escape[1:]
    if body in simple:
        return simple[body]
    if body.startswith("u{"):
        return chr(int(body[2:-1], 16))
    if body.startswith(("u", "x")) and len(body) > 1:
        try:
            return chr(int(body[1:], 16))
        except ValueError:
            return body
    if body.startswith(("\n", "\r")):
        return ""
    return body


class Reader:
    """Reads registrations in one module, resolving values through scopes, imports and other files."""

    def __init__(self, project: Project, module: Module, result: Extraction):
        self.project = project
        self.module = module
        self.result = result

    def origin(self, node: Any) -> str:
        return f"{self.module.path}:{node.start_point[0] + 1}"

    def at(self, module: Module) -> Reader:
        return self if module is self.module else Reader(self.project, module, self.result)

    # -- registrations -------------------------------------------------------------------------

    def read_call(self, call: Any) -> None:
        function = call.child_by_field_name("function")
        method = self.module.text(function.child_by_field_name("property"))
        if method not in TOOL_METHODS:
            return
        arguments = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
        if method == "setRequestHandler":
            if (
                arguments
                and self.module.text(arguments[0]).endswith("ListToolsRequestSchema")
                and len(arguments) > 1
            ):
                self._read_list_handler(arguments[1])
            return
        if len(arguments) < 2 or not _is_callback(arguments[-1]) and method == "tool":
            return
        if method == "registerTool":
            self._read_register_tool(call, arguments)
        else:
            self._read_tool_overload(call, arguments)

    def _tool_name(self, call: Any, node: Any) -> str | None:
        try:
            name, holes = self.string(node)
        except Unresolved as error:
            self.result.warnings.append(f"{self.origin(call)}: tool name {error}; tool skipped")
            return None
        if holes:
            self.result.warnings.append(
                f"{self.origin(call)}: tool name built at run time ({', '.join(holes)}); tool skipped"
            )
            return None
        return name

    def _read_register_tool(self, call: Any, arguments: list[Any]) -> None:
        if not self._looks_like_string(arguments[0]):
            return
        name = self._tool_name(call, arguments[0])
        if name is None:
            return
        unresolved: list[str] = []
        config = self.object_fields(arguments[1], "config", unresolved)
        tool = Tool(name=name, origin=self.origin(call), unresolved=unresolved)
        self._apply_config(tool, config, unresolved)
        self.result.tools.append(tool)

    def _read_tool_overload(self, call: Any, arguments: list[Any]) -> None:
        if not self._looks_like_string(arguments[0]):
            return
        name = self._tool_name(call, arguments[0])
        if name is None:
            return
        unresolved: list[str] = []
        tool = Tool(
            name=name, origin=self.origin(call), unresolved=unresolved, input_schema=_object_schema({}, [])
        )
        rest = arguments[1:-1]
        if rest and self._looks_like_string(rest[0]):
            tool.description = self._text_or_empty(rest[0], "description", unresolved)
            rest = rest[1:]
        if rest:
            if len(rest) == 1 and self._is_annotations_object(rest[0]):
                tool.annotations = self.annotations(rest[0], unresolved)
            else:
                tool.input_schema = self.shape_schema(rest[0], unresolved)
                if len(rest) > 1:
                    tool.annotations = self.annotations(rest[1], unresolved)
        self.result.tools.append(tool)

    def _apply_config(self, tool: Tool, config: dict[str, Any], unresolved: list[str]) -> None:
        if "description" in config:
            tool.description = self._text_or_empty(config["description"], "description", unresolved)
        if "title" in config:
            tool.title = self._text_or_empty(config["title"], "title", unresolved) or None
        if "inputSchema" in config:
            tool.input_schema = self.shape_schema(config["inputSchema"], unresolved)
        else:
            tool.input_schema = _object_schema({}, [])
        if "annotations" in config:
            tool.annotations = self.annotations(config["annotations"], unresolved)

    def _read_list_handler(self, handler: Any) -> None:
        target = self.resolve(handler)
        arrays = self.at(target[0])._tools_arrays(target[1]) if target is not None else []
        if not arrays:
            self.result.warnings.append(
                f"{self.origin(handler)}: tools/list handler builds its tool list at run time; not resolvable statically"
            )
        for array, reader in arrays:
            for element in array.named_children:
                reader._read_tool_literal(element)

    def _tools_arrays(self, node: Any, depth: int = 0) -> list[tuple[Any, Reader]]:
        """Array literals given as `tools: [...]` inside a list handler (following `tools: NAME`)."""
        found: list[tuple[Any, Reader]] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if (
                current.type == "pair"
                and self.module.text(current.child_by_field_name("key")).strip("\"'") == "tools"
            ):
                value = current.child_by_field_name("value")
                target = self.resolve(value) if depth < 5 else None
                if target is not None and target[1].type == "array":
                    found.append((target[1], self.at(target[0])))
                continue
            stack.extend(reversed(current.named_children))
        return found

    def _read_tool_literal(self, element: Any) -> None:
        if element.type == "spread_element":
            target = self.resolve(element.named_children[0]) if element.named_children else None
            if target is not None and target[1].type == "array":
                for inner in target[1].named_children:
                    self.at(target[0])._read_tool_literal(inner)
            return
        target = self.resolve(element)
        if target is None or target[1].type != "object":
            self.result.warnings.append(
                f"{self.origin(element)}: tool built at run time; not resolvable statically"
            )
            return
        reader = self.at(target[0])
        unresolved: list[str] = []
        fields = reader.object_fields(target[1], "tool", unresolved)
        if "name" not in fields:
            self.result.warnings.append(f"{self.origin(element)}: tool without a literal name; tool skipped")
            return
        name = (
            self._tool_name(element, fields["name"])
            if reader is self
            else reader._tool_name(element, fields["name"])
        )
        if name is None:
            return
        tool = Tool(name=name, origin=self.origin(element), unresolved=unresolved)
        if "description" in fields:
            tool.description = reader._text_or_empty(fields["description"], "description", unresolved)
        if "title" in fields:
            tool.title = reader._text_or_empty(fields["title"], "title", unresolved) or None
        if "inputSchema" in fields:
            tool.input_schema = reader.json_schema_value(fields["inputSchema"], unresolved)
            if tool.input_schema is None:
                unresolved.append("input_schema: built at run time")
        if "annotations" in fields:
            tool.annotations = reader.annotations(fields["annotations"], unresolved)
        self.result.tools.append(tool)

    # -- resolution ----------------------------------------------------------------------------

    def resolve(self, node: Any, depth: int = 0) -> tuple[Module, Any] | None:
        """Follow identifiers and member accesses to the expression they name (in whichever module)."""
        if isinstance(node, _Located):
            return self.at(node.module).resolve(node.node, depth)
        node = _unwrap(node)
        if node is None or depth > MAX_DEPTH:
            return None
        if node.type == "identifier":
            return self._resolve_identifier(node, depth)
        if node.type == "member_expression":
            owner = _unwrap(node.child_by_field_name("object"))
            prop = self.module.text(node.child_by_field_name("property"))
            if owner is not None and self.module.text(owner) in ("exports", "module.exports"):
                value = self.module.exports.get(prop)
                return self.resolve(value, depth + 1) if value is not None else None
            if (
                owner is not None
                and owner.type == "identifier"
                and self.module.text(owner) in self.module.imports
            ):
                spec, imported = self.module.imports[self.module.text(owner)]
                if imported == "*":
                    return self._resolve_export(spec, prop, depth)
            target = self.resolve(owner, depth + 1)
            if target is not None and target[1].type == "object":
                reader = self.at(target[0])
                fields = reader.object_fields(target[1], "", [])
                if prop in fields:
                    return reader.resolve(fields[prop], depth + 1)
            return None
        return self.module, node

    def _resolve_identifier(self, node: Any, depth: int) -> tuple[Module, Any] | None:
        name = self.module.text(node)
        scope = node.parent
        while scope is not None:
            if scope.type in SCOPE_NODES:
                value = _scope_declarations(self.module, scope).get(name)
                if value is not None and value.id != node.id and not _contains(value, node):
                    return self.resolve(value, depth + 1)
            scope = scope.parent
        if name in self.module.imports:
            spec, imported = self.module.imports[name]
            return self._resolve_export(spec, imported, depth)
        unique = self.project.unique_top_level(name)
        if unique is not None and unique[0] is not self.module:
            return self.at(unique[0]).resolve(unique[1], depth + 1)
        return None

    def _resolve_export(self, spec: str, name: str, depth: int) -> tuple[Module, Any] | None:
        module = self.project.modules.get(spec)
        if module is None:
            unique = self.project.unique_top_level(name)
            return self.at(unique[0]).resolve(unique[1], depth + 1) if unique else None
        value = module.exports.get(name)
        if value is None:
            value = _scope_declarations(module, module.root).get(name)
        return self.at(module).resolve(value, depth + 1) if value is not None else None

    def _looks_like_string(self, node: Any) -> bool:
        target = self.resolve(node)
        if target is None:
            return _unwrap(node) is not None and _unwrap(node).type in ("identifier", "member_expression")
        return target[1].type in ("string", "template_string", "binary_expression", "call_expression")

    def string(self, node: Any, depth: int = 0) -> tuple[str, list[str]]:
        """Resolve a string expression; returns the text and any `${...}` placeholders left in it."""
        if depth > MAX_DEPTH:
            raise Unresolved("too deeply nested")
        target = self.resolve(node)
        if target is None:
            raise Unresolved(f"built at run time ({self._short(node)})")
        if target[0] is not self.module:
            return self.at(target[0]).string(target[1], depth + 1)
        node = target[1]
        if node.type == "string":
            return _string_literal_text(self.module, node), []
        if node.type == "template_string":
            return self._template(node, depth)
        if node.type == "binary_expression" and self.module.text(node.child_by_field_name("operator")) == "+":
            left = self._string_part(node.child_by_field_name("left"), depth)
            right = self._string_part(node.child_by_field_name("right"), depth)
            return left[0] + right[0], left[1] + right[1]
        if node.type == "call_expression":
            return self._call_string(node, depth)
        if node.type == "number":
            return self.module.text(node), []
        raise Unresolved(f"built at run time ({self._short(node)})")

    def _short(self, node: Any) -> str:
        text = " ".join(self.module.text(node).split())
        return text if len(text) <= 60 else text[:57] + "..."

    def _string_part(self, node: Any, depth: int) -> tuple[str, list[str]]:
        try:
            return self.string(node, depth + 1)
        except Unresolved:
            placeholder = "${" + self._short(node) + "}"
            return placeholder, [placeholder]

    def _template(self, node: Any, depth: int) -> tuple[str, list[str]]:
        pieces: list[str] = []
        holes: list[str] = []
        for child in node.named_children:
            if child.type == "string_fragment":
                pieces.append(self.module.text(child))
            elif child.type == "escape_sequence":
                pieces.append(_decode_escape(self.module.text(child)))
            elif child.type == "template_substitution" and child.named_children:
                text, more = self._string_part(child.named_children[0], depth)
                pieces.append(text)
                holes.extend(more)
        return "".join(pieces), holes

    def _call_string(self, node: Any, depth: int) -> tuple[str, list[str]]:
        function = _unwrap(node.child_by_field_name("function"))
        arguments = node.child_by_field_name("arguments")
        if arguments is not None and arguments.type == "template_string":  # dedent`...`
            text, holes = self._template(arguments, depth)
            return (
                textwrap.dedent(text).strip() if self.module.text(function).endswith("dedent") else text
            ), holes
        if function is not None and function.type == "member_expression":
            method = self.module.text(function.child_by_field_name("property"))
            owner = function.child_by_field_name("object")
            args = arguments.named_children if arguments is not None else []
            if method in ("trim", "trimStart", "trimEnd") and not args:
                text, holes = self.string(owner, depth + 1)
                return {"trim": text.strip(), "trimStart": text.lstrip(), "trimEnd": text.rstrip()}[
                    method
                ], holes
            if method == "join":
                separator = self.string(args[0], depth + 1) if args else (",", [])
                target = self.resolve(owner)
                if target is not None and target[1].type == "array":
                    reader = self.at(target[0])
                    parts = [reader._string_part(item, depth) for item in target[1].named_children]
                    return separator[0].join(p for p, _ in parts), separator[1] + [
                        h for _, hs in parts for h in hs
                    ]
        raise Unresolved(f"built at run time (call to {self._short(function) if function else '?'})")

    def _text_or_empty(self, node: Any, label: str, unresolved: list[str]) -> str:
        try:
            text, holes = self.string(node)
        except Unresolved as error:
            unresolved.append(f"{label}: {error}")
            return ""
        if holes:
            unresolved.append(f"{label}: placeholders filled at run time ({', '.join(holes)})")
        return text

    def object_fields(self, node: Any, label: str, unresolved: list[str]) -> dict[str, Any]:
        """The properties of an object literal (after following names), as key -> value node."""
        target = self.resolve(node)
        if target is None or target[1].type != "object":
            if label:
                unresolved.append(f"{label}: built at run time")
            return {}
        if target[0] is not self.module:
            return self.at(target[0]).object_fields(target[1], label, unresolved)
        fields: dict[str, Any] = {}
        for member in target[1].named_children:
            if member.type == "pair":
                key = member.child_by_field_name("key")
                key_text = (
                    _string_literal_text(self.module, key) if key.type == "string" else self.module.text(key)
                )
                fields[key_text] = _Located(self.module, member.child_by_field_name("value"))
            elif member.type == "shorthand_property_identifier":
                fields[self.module.text(member)] = _Located(self.module, member)
            elif member.type == "spread_element" and member.named_children:
                fields.update(self.object_fields(member.named_children[0], label, unresolved))
        return {k: v.node if v.module is self.module else v for k, v in fields.items()}

    def _is_annotations_object(self, node: Any) -> bool:
        keys = self.object_fields(node, "", [])
        return bool(keys) and set(keys) <= ANNOTATION_KEYS

    def annotations(self, node: Any, unresolved: list[str]) -> dict[str, Any] | None:
        fields = self.object_fields(node, "annotations", unresolved)
        result: dict[str, Any] = {}
        for key, value in fields.items():
            try:
                result[key] = self.literal(value)
            except Unresolved as error:
                unresolved.append(f"annotations.{key}: {error}")
        return result if fields else None

    def literal(self, node: Any) -> Any:
        if isinstance(node, _Located):
            return self.at(node.module).literal(node.node)
        target = self.resolve(node)
        if target is None:
            raise Unresolved(f"built at run time ({self._short(node)})")
        if target[0] is not self.module:
            return self.at(target[0]).literal(target[1])
        value = target[1]
        if value.type in ("true", "false"):
            return value.type == "true"
        if value.type == "null":
            return None
        if value.type == "number":
            return _number(self.module.text(value))
        if value.type == "unary_expression" and self.module.text(value).startswith("!"):
            operand = self.module.text(value)[1:].strip()
            if operand in ("0", "1"):  # minified booleans: !0 is true, !1 is false
                return operand == "0"
        if value.type == "unary_expression" and self.module.text(value).startswith("-"):
            return -_number(self.module.text(value)[1:].strip())
        text, holes = self.string(value)
        if holes:
            raise Unresolved(f"placeholders filled at run time ({', '.join(holes)})")
        return text

    def json_schema_value(self, node: Any, unresolved: list[str], depth: int = 0) -> Any:
        """A JSON-like literal (object, array, scalars) or a `zodToJsonSchema(X)` call."""
        if isinstance(node, _Located):
            return self.at(node.module).json_schema_value(node.node, unresolved, depth)
        target = self.resolve(node)
        if target is None or depth > MAX_DEPTH:
            unresolved.append(f"input_schema: {self._short(node)} not resolvable statically")
            return None
        if target[0] is not self.module:
            return self.at(target[0]).json_schema_value(target[1], unresolved, depth)
        value = target[1]
        if value.type == "call_expression":
            function = self.module.text(value.child_by_field_name("function"))
            arguments = value.child_by_field_name("arguments").named_children
            if re.search(r"(zodToJsonSchema|toJSONSchema|toJsonSchema)\)?$", function) and arguments:
                return self.zod_schema(arguments[0], unresolved) or None
            if _unwrap(
                value.child_by_field_name("function")
            ).type == "member_expression" or function.endswith(")"):
                return self.zod_schema(value, unresolved)
        if value.type == "object":
            out: dict[str, Any] = {}
            for key, child in self.object_fields(value, "", []).items():
                out[key] = self.json_schema_value(child, unresolved, depth + 1)
            return out
        if value.type == "array":
            return [self.json_schema_value(child, unresolved, depth + 1) for child in value.named_children]
        try:
            return self.literal(value)
        except Unresolved as error:
            unresolved.append(f"input_schema: {error}")
            return None

    # -- zod -----------------------------------------------------------------------------------

    def shape_schema(self, node: Any, unresolved: list[str]) -> dict[str, Any] | None:
        """A zod raw shape `{a: z.string()}` or a zod object schema, as a JSON object schema."""
        if isinstance(node, _Located):
            return self.at(node.module).shape_schema(node.node, unresolved)
        bare = _unwrap(node)
        if bare is not None and bare.type == "member_expression":
            if self.module.text(bare.child_by_field_name("property")) == "shape":  # X.shape of a z.object
                return self.shape_schema(bare.child_by_field_name("object"), unresolved)
        target = self.resolve(node)
        if target is None:
            unresolved.append(f"input_schema: {self._short(node)} not resolvable statically")
            return None
        if target[0] is not self.module:
            return self.at(target[0]).shape_schema(target[1], unresolved)
        if target[1].type == "object":
            return self._shape(target[1], unresolved)
        schema = self.zod_schema(target[1], unresolved)
        return schema if schema is not None else None

    def _shape(self, node: Any, unresolved: list[str]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for key, value in self.object_fields(node, "", []).items():
            reader = self.at(value.module) if isinstance(value, _Located) else self
            value_node = value.node if isinstance(value, _Located) else value
            schema, optional = reader._zod(value_node, unresolved, key)
            properties[key] = schema
            if not optional:
                required.append(key)
        return _object_schema(properties, required)

    def zod_schema(self, node: Any, unresolved: list[str]) -> dict[str, Any] | None:
        schema, _ = self._zod(node, unresolved, "")
        if not schema and unresolved and "not resolvable" in unresolved[-1]:
            return None
        return schema

    def _zod(
        self, node: Any, unresolved: list[str], label: str, depth: int = 0
    ) -> tuple[dict[str, Any], bool]:
        """JSON schema for a zod expression and whether it is optional; unknown parts stay typeless."""
        target = self.resolve(node)
        if target is None or depth > MAX_DEPTH:
            unresolved.append(f"input_schema.{label or '?'}: {self._short(node)} not resolvable statically")
            return {}, False
        if target[0] is not self.module:
            return self.at(target[0])._zod(target[1], unresolved, label, depth + 1)
        chain = self._call_chain(target[1])
        if not chain:
            unresolved.append(f"input_schema.{label or '?'}: {self._short(node)} not resolvable statically")
            return {}, False
        base_method, base_args, base_owner = chain[0]
        if base_owner is not None and base_method not in ZOD_FACTORIES:
            schema, optional = self._zod(base_owner, unresolved, label, depth + 1)
        else:
            schema, optional = self._zod_base(base_method, base_args, unresolved, label, depth), False
        for method, args, _ in chain[1:]:
            optional = self._zod_modifier(schema, method, args, optional)
        return schema, optional

    def _call_chain(self, node: Any) -> list[tuple[str, list[Any], Any]]:
        """`a.b(x).c(y)` -> [("b", [x], a), ("c", [y], None)], innermost first."""
        chain: list[tuple[str, list[Any], Any]] = []
        current = _unwrap(node)
        while current is not None and current.type == "call_expression":
            function = _unwrap(current.child_by_field_name("function"))
            arguments = current.child_by_field_name("arguments")
            args = (
                [a for a in arguments.named_children if a.type != "comment"] if arguments is not None else []
            )
            if function is None or function.type != "member_expression":
                return []
            chain.append((self.module.text(function.child_by_field_name("property")), args, None))
            current = _unwrap(function.child_by_field_name("object"))
        if not chain:
            return []
        chain.reverse()
        method, args, _ = chain[0]
        owner = current if current is not None and not _is_zod_namespace(self.module.text(current)) else None
        chain[0] = (method, args, owner)
        return chain

    def _zod_base(
        self, method: str, args: list[Any], unresolved: list[str], label: str, depth: int
    ) -> dict[str, Any]:
        if method in ZOD_BASE_TYPES:
            schema: dict[str, Any] = {"type": ZOD_BASE_TYPES[method]}
            if method == "date":
                schema["format"] = "date-time"
            return schema
        if method in ZOD_STRING_FORMATS:  # zod 4 top-level formats: z.url(), z.email(), ...
            return {"type": "string", "format": ZOD_STRING_FORMATS[method]}
        if method in ("any", "unknown"):
            return {}
        if method == "null":
            return {"type": "null"}
        if method == "enum" and args:
            values = self.json_schema_value(args[0], unresolved)
            return {"type": "string", "enum": values} if isinstance(values, list) else {"type": "string"}
        if method == "literal" and args:
            try:
                value = self.literal(args[0])
            except Unresolved:
                return {}
            kind = {str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value))
            return {"type": kind, "const": value} if kind else {"const": value}
        if method == "array" and args:
            return {"type": "array", "items": self._zod(args[0], unresolved, f"{label}[]", depth + 1)[0]}
        if method in ("object", "strictObject", "looseObject") and args:
            shape = self.resolve(args[0])
            if shape is not None and shape[1].type == "object":
                return self.at(shape[0])._shape(shape[1], unresolved)
            return {"type": "object"}
        if method == "record" and args:
            return {
                "type": "object",
                "additionalProperties": self._zod(args[-1], unresolved, label, depth + 1)[0],
            }
        if method in ("union", "discriminatedUnion") and args:
            options = self.resolve(args[-1])
            if options is not None and options[1].type == "array":
                reader = self.at(options[0])
                return {
                    "anyOf": [
                        reader._zod(o, unresolved, label, depth + 1)[0] for o in options[1].named_children
                    ]
                }
        if method == "nativeEnum":
            return {}
        unresolved.append(f"input_schema.{label or '?'}: zod {method}() not converted")
        return {}

    def _zod_modifier(self, schema: dict[str, Any], method: str, args: list[Any], optional: bool) -> bool:
        if method in ("optional", "nullish"):
            return True
        if method == "default":
            if args:
                try:
                    schema["default"] = self.literal(args[0])
                except Unresolved:
                    pass
            return True
        if method == "describe" and args:
            try:
                schema["description"] = self.literal(args[0])
            except Unresolved:
                pass
        elif method == "int":
            schema["type"] = "integer"
        elif method in ("min", "max", "length") and args:
            self._zod_bound(schema, method, args[0])
        elif method in ZOD_STRING_FORMATS:
            schema["format"] = ZOD_STRING_FORMATS[method]
        elif method == "nullable":
            inner = dict(schema)
            schema.clear()
            schema["anyOf"] = [inner, {"type": "null"}]
        return optional

    def _zod_bound(self, schema: dict[str, Any], method: str, node: Any) -> None:
        try:
            value = self.literal(node)
        except Unresolved:
            return
        suffix = {"string": "Length", "array": "Items"}.get(schema.get("type", ""))
        if suffix:
            names = {
                "min": [f"min{suffix}"],
                "max": [f"max{suffix}"],
                "length": [f"min{suffix}", f"max{suffix}"],
            }
            for name in names[method]:
                schema[name] = value
        elif method in ("min", "max"):
            schema["minimum" if method == "min" else "maximum"] = value


ZOD_STRING_FORMATS = {
    "url": "uri",
    "email": "email",
    "uuid": "uuid",
    "datetime": "date-time",
    "ipv4": "ipv4",
    "ipv6": "ipv6",
}
ZOD_FACTORIES = {
    *ZOD_BASE_TYPES,
    *ZOD_STRING_FORMATS,
    "any",
    "unknown",
    "null",
    "enum",
    "literal",
    "array",
    "object",
    "strictObject",
    "looseObject",
    "record",
    "union",
    "discriminatedUnion",
    "nativeEnum",
}


@dataclass
class _Located:
    """A value node that lives in another module than the one reading it."""

    module: Module
    node: Any

    @property
    def type(self) -> str:
        return self.node.type

    @property
    def id(self) -> int:
        return self.node.id


def _is_zod_namespace(text: str) -> bool:
    return bool(
        re.fullmatch(r"(\(0,\s*)?[\w$.]*\bz(od)?(_\d+)?(\.z|\.default)?\)?|[\w$]+\.z|z\.coerce", text)
    )


def _is_callback(node: Any) -> bool:
    node = _unwrap(node)
    return node is not None and (
        node.type in FUNCTION_NODES or node.type in ("identifier", "member_expression", "call_expression")
    )


def _contains(outer: Any, inner: Any) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError as error:
            raise Unresolved(f"not a number ({text})") from error


def _object_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
