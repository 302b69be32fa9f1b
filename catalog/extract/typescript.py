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

import copy
import posixpath
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from catalog.extract import Extraction, SourceFile
from catalog.extract.budget import Budget, BudgetHit, charge, check_length
from catalog.extract.syntax import ancestors, enclosing
from catalog.models import Tool

ANNOTATION_KEYS = {"title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
FUNCTION_NODES = {
    "arrow_function",
    "function_expression",
    "function",
    "function_declaration",
    "method_definition",
}
CLASS_NODES = ("class_declaration", "abstract_class_declaration", "class")
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
    language: Any = None

    def text(self, node: Any) -> str:
        charge(1 + (node.end_byte - node.start_byte) // 256)
        return self.source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def nodes(self, *node_types: str) -> list[Any]:
        """Every node of these types in the file, in order (a tree-sitter query: fast on bundles)."""
        import tree_sitter

        pattern = "[" + " ".join(f"({t})" for t in node_types) + "] @node"
        key = (id(self.language), pattern)
        if key not in _QUERIES:
            _QUERIES[key] = tree_sitter.Query(self.language, pattern)
        found = tree_sitter.QueryCursor(_QUERIES[key]).captures(self.root).get("node", [])
        return sorted(found, key=lambda n: n.start_byte)


_QUERIES: dict[tuple[int, str], Any] = {}


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
    query = tree_sitter.Query(languages["ts"], _CALL_QUERY)
    tsx_query = tree_sitter.Query(languages["tsx"], _CALL_QUERY)
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
        self._calls: dict[str, list[tuple[Module, Any, Any]]] | None = None
        self.subclasses: dict[str, list[tuple[Module, Any]]] = {}
        self.classes: dict[str, list[tuple[Module, Any]]] = {}
        for module in modules:
            for cls in module.nodes(*CLASS_NODES):
                name = cls.child_by_field_name("name")
                if name is not None:
                    self.classes.setdefault(module.text(name), []).append((module, cls))
                base = _base_class_name(module, cls)
                if base:
                    self.subclasses.setdefault(base, []).append((module, cls))

    def descendants_of(self, name: str) -> list[tuple[Module, Any]]:
        """Every class that extends `name`, directly or not (by class name)."""
        found: list[tuple[Module, Any]] = []
        queue = [name]
        seen = {name}
        while queue:
            for module, cls in self.subclasses.get(queue.pop(), []):
                found.append((module, cls))
                child = cls.child_by_field_name("name")
                if child is not None and module.text(child) not in seen:
                    seen.add(module.text(child))
                    queue.append(module.text(child))
        return found

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

    def calls_to(self, name: str, method: bool) -> list[tuple[Module, Any]]:
        """Calls of a method (`x.name(...)`) or of a function (`name(...)`, also through a module
        namespace: `(0, mod_1.name)(...)`), across the project (indexed on first use)."""
        if self._calls is None:
            self._calls = {}
            for module in self.modules.values():
                for call in module.nodes("call_expression"):
                    function = _unwrap(call.child_by_field_name("function"))
                    owner = None
                    if function is not None and function.type == "member_expression":
                        owner = _unwrap(function.child_by_field_name("object"))
                        function = function.child_by_field_name("property")
                    if function is not None and function.type in _CALLEE_NAMES:
                        self._calls.setdefault(module.text(function), []).append((module, call, owner))
        return [
            (module, call)
            for module, call, owner in self._calls.get(name, [])
            if (owner is not None) == method
            or not method
            and owner is not None
            and module.imports.get(module.text(owner), ("", ""))[1] == "*"
        ]

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
    if expression.type == "call_expression":
        _index_getter_export(module, expression)
        return
    if expression.type != "assignment_expression":
        return
    left = expression.child_by_field_name("left")
    right = expression.child_by_field_name("right")
    if left is None or right is None or left.type != "member_expression":
        return
    owner = module.text(left.child_by_field_name("object"))
    if owner in ("exports", "module.exports"):
        module.exports[module.text(left.child_by_field_name("property"))] = right


def _index_getter_export(module: Module, call: Any) -> None:
    """`Object.defineProperty(exports, "k", { get: function () { return a.k; } })` (tsc re-exports)."""
    if module.text(call.child_by_field_name("function")) != "Object.defineProperty":
        return
    arguments = call.child_by_field_name("arguments").named_children
    if len(arguments) != 3 or module.text(arguments[0]) != "exports" or arguments[1].type != "string":
        return
    for member in arguments[2].named_children if arguments[2].type == "object" else []:
        key = member.child_by_field_name("key") if member.type in ("pair", "method_definition") else None
        if key is None or module.text(key) != "get":
            continue
        getter = member.child_by_field_name("value") if member.type == "pair" else member
        returned = _single_return(getter) if getter is not None else None
        if returned is not None:
            module.exports[_string_literal_text(module, arguments[1])] = returned


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
                elif name is not None and value is not None and name.type == "object_pattern":
                    found.update(_destructured(module, name, value))
        elif statement.type in ("function_declaration", "class_declaration", "abstract_class_declaration"):
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

    def __init__(
        self,
        project: Project,
        module: Module,
        result: Extraction,
        bindings: dict[str, tuple[Reader, Any]] | None = None,
        call_site: str = "",
        this_class: tuple[Module, Any] | None = None,
    ):
        self.project = project
        self.module = module
        self.result = result
        # The concrete class `this` stands for when a base class's method registers `this.name`.
        self.this_class = this_class
        # Names bound to one value each: a loop variable to one element of a static list, or a
        # helper's parameters to the arguments of one call site.
        self.bindings = bindings or {}
        self.call_site = call_site

    def origin(self, node: Any) -> str:
        """Where a declaration is; for a helper or a loop, the call site or element that made the tool."""
        return self.call_site or f"{self.module.path}:{node.start_point[0] + 1}"

    def bound(self, bindings: dict[str, tuple[Reader, Any]], call_site: str) -> Reader:
        return Reader(
            self.project, self.module, self.result, {**self.bindings, **bindings}, call_site, self.this_class
        )

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
        if len(arguments) < (3 if method == "registerTool" else 2) or not _is_callback(arguments[-1]):
            return
        binder = self._binder(call, arguments[0])
        if binder is not None:
            for reader in binder:
                reader.read_call(call)
            return
        if method == "registerTool":
            self._read_register_tool(call, arguments)
        else:
            self._read_tool_overload(call, arguments)

    # -- loops and helpers ---------------------------------------------------------------------

    def _binder(self, call: Any, name_node: Any) -> list[Reader] | None:
        """When the tool's name comes from a loop variable or a helper's parameter, one bound reader
        per element of the (static) list or per call site of the helper; None when nothing binds it."""
        if self.this_class is None and _is_this_member(self.module, name_node):
            return self._per_tool_class(call)
        root = _root_identifier(name_node)
        if root is None or self.module.text(root) in self.bindings:
            return None
        declared = _declaration_of(self.module, root)
        if isinstance(declared, _Member):  # `const { tools } = options`: bind `options`
            root = _root_identifier(declared.node) or root
            if self.module.text(root) in self.bindings:
                return None
        name = self.module.text(root)
        for node in ancestors(self.module.root, call):
            if node.type == "for_in_statement" and self.module.text(node.child_by_field_name("left")) == name:
                if self.module.text(node.child_by_field_name("operator") or node) != "of":
                    return None
                return self._per_element(call, name, node.child_by_field_name("right"))
            if node.type in FUNCTION_NODES:
                parameters = _parameter_names(self.module, node)
                if name in parameters:
                    return self._per_binding(call, node, parameters, parameters.index(name))
        return None

    def _per_element(self, call: Any, name: str, listed: Any) -> list[Reader]:
        elements = self.elements(listed)
        if elements is None:
            self.result.warnings.append(
                f"{self.origin(call)}: tool names come from {self._short(listed)}, a list built at run time; tools skipped"
            )
            return []
        return [self.bound({name: (reader, node)}, reader.origin(node)) for reader, node in elements]

    def _per_binding(self, call: Any, function: Any, parameters: list[str], index: int) -> list[Reader]:
        iterated = _iterating_call(self.module, function)
        if iterated is not None:
            if index != 0:
                return []
            return self._per_element(call, parameters[0], iterated)
        helper = _function_name(self.module, function)
        method = _is_method(function)
        sites = self.project.calls_to(helper, method) if helper else []
        if not sites:
            self.result.warnings.append(
                f"{self.origin(call)}: tool name is a parameter of {helper or 'an anonymous function'}(), "
                "which is never called; tool skipped"
            )
        readers = []
        for module, site in sites:
            if module is self.module and _contains(function, site):
                continue  # the helper's own body (a helper named like the SDK method it calls)
            if (
                method
                and helper in TOOL_METHODS
                and not module.text(site.child_by_field_name("function")).startswith("this.")
            ):
                continue  # `server.registerTool(...)` is the SDK, not this class's method of that name
            arguments = [
                a for a in site.child_by_field_name("arguments").named_children if a.type != "comment"
            ]
            passed = arguments[index] if index < len(arguments) else None
            binder = self.at(module)._binder(site, passed) if passed is not None else None
            callers = binder if binder is not None else [self.at(module)]
            for caller in callers:
                bindings = {p: (caller, a) for p, a in zip(parameters, arguments, strict=False)}
                readers.append(self.bound(bindings, caller.origin(site)))
        return readers

    def _per_tool_class(self, call: Any) -> list[Reader] | None:
        """A base class registering `this.name`: one reader per concrete class of its family
        (itself and every subclass) whose `name` is known statically."""
        cls = enclosing(self.module.root, call, CLASS_NODES)
        if cls is None:
            return None
        name = cls.child_by_field_name("name")
        family = [(self.module, cls)] + (self.project.descendants_of(self.module.text(name)) if name else [])
        readers = []
        for module, member in family:
            if member.type == "abstract_class_declaration":
                continue
            reader = Reader(self.project, self.module, self.result, self.bindings, "", (module, member))
            reader.call_site = f"{module.path}:{member.start_point[0] + 1}"
            if reader._this_member("name") is not None:
                readers.append(reader)
            elif not self.project.descendants_of(_class_name(module, member)):
                self.result.warnings.append(
                    f"{reader.call_site}: tool class {_class_name(module, member) or '(anonymous)'} "
                    "sets its name at run time; tool skipped"
                )
        if not readers:
            self.result.warnings.append(
                f"{self.origin(call)}: tool name is this.name of a class family whose names are set at run time; tool skipped"
            )
        return readers

    def _this_member(self, member: str, depth: int = 0) -> tuple[Module, Any] | None:
        """`this.member` for the concrete class: a field, a getter returning one value, or
        `this.member = value` in a constructor (its parameters bound to what subclasses pass to super)."""
        if self.this_class is None:
            return None
        chain = self._class_chain(self.this_class)
        for index, (module, cls) in enumerate(chain):
            body = cls.child_by_field_name("body")
            for item in body.named_children if body is not None else []:
                key = item.child_by_field_name("name")
                if key is None or module.text(key) != member:
                    continue
                if item.type == "public_field_definition" and item.child_by_field_name("value") is not None:
                    if "static" in [c.type for c in item.children]:
                        continue
                    return self._as_this(module).resolve(item.child_by_field_name("value"), depth + 1)
                if item.type == "method_definition" and module.text(item).startswith("get"):
                    returned = _single_return(item)
                    return (
                        self._as_this(module).resolve(returned, depth + 1) if returned is not None else None
                    )
            assigned = self._constructor_assignment(chain, index, member, depth)
            if assigned is not None:
                return assigned
        return None

    def _as_this(self, module: Module, bindings: dict[str, tuple[Reader, Any]] | None = None) -> Reader:
        return Reader(self.project, module, self.result, bindings, self.call_site, self.this_class)

    def _class_chain(self, start: tuple[Module, Any]) -> list[tuple[Module, Any]]:
        chain = [start]
        while len(chain) < 10:
            module, cls = chain[-1]
            base = _base_class_name(module, cls)
            candidates = self.project.classes.get(base, []) if base else []
            if not candidates:
                break
            # Packages often ship the same classes twice (dist/esm, dist/cjs): take the nearest.
            nearest = max(candidates, key=lambda c: len(posixpath.commonprefix([c[0].path, module.path])))
            if nearest in chain:
                break
            chain.append(nearest)
        return chain

    def _constructor_assignment(
        self, chain: list[tuple[Module, Any]], index: int, member: str, depth: int
    ) -> tuple[Module, Any] | None:
        module, cls = chain[index]
        constructor = _constructor_of(module, cls)
        if constructor is None:
            return None
        for assignment in _descendants(constructor, "assignment_expression"):
            left = assignment.child_by_field_name("left")
            if left is None or module.text(left) != f"this.{member}":
                continue
            bindings = self._super_arguments(chain, index)
            return self._as_this(module, bindings).resolve(assignment.child_by_field_name("right"), depth + 1)
        return None

    def _super_arguments(self, chain: list[tuple[Module, Any]], index: int) -> dict[str, tuple[Reader, Any]]:
        """The constructor parameters of chain[index] bound to the `super(...)` call of chain[index - 1]."""
        if index == 0:
            return {}
        module, cls = chain[index]
        child_module, child = chain[index - 1]
        constructor = _constructor_of(module, cls)
        child_constructor = _constructor_of(child_module, child)
        if constructor is None or child_constructor is None:
            return {}
        for call in _descendants(child_constructor, "call_expression"):
            function = call.child_by_field_name("function")
            if function is not None and function.type == "super":
                caller = self._as_this(child_module, self._super_arguments(chain, index - 1))
                arguments = [
                    a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"
                ]
                names = _parameter_names(module, constructor)
                return {n: (caller, a) for n, a in zip(names, arguments, strict=False) if n}
        return {}

    def elements(self, node: Any, depth: int = 0) -> list[tuple[Reader, Any]] | None:
        """The items of a list known statically: array literals (with spreads), `Object.values(ns)`,
        `.map(x => ...)`, `.filter/.slice/.sort/.concat`, ternaries and functions returning such lists."""
        charge()
        if isinstance(node, _Located):
            return self.at(node.module).elements(node.node, depth)
        bare = _unwrap(node)
        if bare is None or depth > 12:
            return None
        if bare.type == "ternary_expression":
            branches = [
                self.elements(bare.child_by_field_name(f), depth + 1) for f in ("consequence", "alternative")
            ]
            return (
                _merge_elements([b for b in branches if b is not None])
                if any(b is not None for b in branches)
                else None
            )
        if bare.type == "call_expression":
            return self._call_elements(bare, depth)
        target = self.resolve(bare)
        if target is None:
            return None
        reader = self.at(target[0])
        value = target[1]
        if value.type == "array":
            found: list[tuple[Reader, Any]] = []
            for child in value.named_children:
                if child.type == "spread_element":
                    inner = (
                        reader.elements(child.named_children[0], depth + 1) if child.named_children else None
                    )
                    if inner is None:
                        return None
                    found.extend(inner)
                elif child.type != "comment":
                    found.append((reader, child))
            return found
        if value.id != bare.id and value.type in ("call_expression", "ternary_expression"):
            return reader.elements(value, depth + 1)
        return None

    def _call_elements(self, call: Any, depth: int) -> list[tuple[Reader, Any]] | None:
        function = _unwrap(call.child_by_field_name("function"))
        arguments = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
        if function is not None and function.type == "member_expression":
            owner = function.child_by_field_name("object")
            method = self.module.text(function.child_by_field_name("property"))
            if self.module.text(owner) == "Array" and method == "from" and len(arguments) == 1:
                return self.elements(arguments[0], depth + 1)
            if method == "values" and not arguments:
                return self._map_values(owner)
            if self.module.text(owner) == "Object" and method == "values" and arguments:
                return self._object_values(arguments[0])
            if method in ("map", "flatMap") and arguments and _unwrap(arguments[0]).type in FUNCTION_NODES:
                listed = self.elements(owner, depth + 1)
                return None if listed is None else self._mapped(listed, _unwrap(arguments[0]))
            if method in ("filter", "slice", "sort", "toSorted", "reverse", "concat"):
                parts = [self.elements(owner, depth + 1)]
                if method == "concat":
                    parts += [self.elements(a, depth + 1) for a in arguments]
                return None if any(p is None for p in parts) else _merge_elements(parts)
        target = self.resolve(function) if function is not None else None
        if target is None or target[1].type not in FUNCTION_NODES:
            return None
        return self.at(target[0])._returned_elements(target[1], depth)

    def _returned_elements(self, function: Any, depth: int) -> list[tuple[Reader, Any]] | None:
        """Lists a function returns (a cached `let` returned after `x = [...]` counts too)."""
        returned = _return_values(function)
        parts = []
        for value in returned:
            bare = _unwrap(value)
            assigned = (
                _assignments_in(self.module, function, self.module.text(bare))
                if bare.type == "identifier"
                else []
            )
            for expression in assigned or [value]:
                listed = self.elements(expression, depth + 1)
                if listed is not None:
                    parts.append(listed)
        return _merge_elements(parts) if parts else None

    def _map_values(self, node: Any) -> list[tuple[Reader, Any]] | None:
        """The values a module-level `new Map()` receives through `M.set(key, value)` calls in its
        module; a value that is a helper's parameter is read once per call of the helper."""
        target = self.resolve(node)
        if target is None or target[1].type != "new_expression":
            return None
        module = target[0]
        if module.text(target[1].child_by_field_name("constructor")) != "Map":
            return None
        reader = self.at(module)
        found: list[tuple[Reader, Any]] = []
        for call in module.nodes("call_expression"):
            function = _unwrap(call.child_by_field_name("function"))
            if function is None or module.text(function) != f"{module.text(_unwrap(node))}.set":
                continue
            arguments = [
                a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"
            ]
            if len(arguments) == 2:
                binder = reader._binder(call, arguments[1])
                found.extend((bound, arguments[1]) for bound in (binder if binder is not None else [reader]))
        return found

    def _field_of(self, owner: Any, key: str, depth: int) -> tuple[Module, Any] | None:
        target = self.resolve(owner, depth + 1)
        if target is None or target[1].type != "object":
            return None
        reader = self.at(target[0])
        fields = reader.object_fields(target[1], "", [])
        return reader.resolve(fields[key], depth + 1) if key in fields else None

    def _produced(self, call: Any, depth: int) -> tuple[Module, Any] | None:
        """A call to a project function that returns an object or array literal (a factory such as
        `navigate(true)`), or returns one of its parameters unchanged (`defineTool({...})`)."""
        function = call.child_by_field_name("function")
        if function is None or _unwrap(function).type not in ("identifier", "member_expression"):
            return None
        target = self.resolve(function, depth + 1)
        if target is None or target[1].type not in FUNCTION_NODES:
            return None
        returned = _unwrap(_single_return(target[1]))
        if returned is None:
            return None
        if returned.type in ("object", "array"):
            return target[0], returned
        parameters = _parameter_names(target[0], target[1])
        if returned.type == "identifier" and target[0].text(returned) in parameters:
            arguments = [
                a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"
            ]
            index = parameters.index(target[0].text(returned))
            return self.resolve(arguments[index], depth + 1) if index < len(arguments) else None
        return None

    def _instance_member(self, new: Any, member: str, depth: int) -> tuple[Module, Any] | None:
        """`new SomeTool(...).member`: the member as that class (and its bases) sets it."""
        target = self.resolve(new.child_by_field_name("constructor"))
        if target is None or target[1].type not in CLASS_NODES:
            return None
        return Reader(self.project, target[0], self.result, this_class=target)._this_member(member, depth)

    def _object_values(self, node: Any) -> list[tuple[Reader, Any]] | None:
        bare = _unwrap(node)
        if bare is not None and bare.type == "identifier" and self.module.text(bare) in self.module.imports:
            spec, imported = self.module.imports[self.module.text(bare)]
            module = self.project.modules.get(spec)
            if imported == "*" and module is not None:
                return [(self.at(module), value) for value in module.exports.values()]
        target = self.resolve(node)
        if target is None or target[1].type != "object":
            return None
        reader = self.at(target[0])
        return [
            (reader.at(v.module), v.node) if isinstance(v, _Located) else (reader, v)
            for v in reader.object_fields(target[1], "", []).values()
        ]

    def _mapped(self, listed: list[tuple[Reader, Any]], function: Any) -> list[tuple[Reader, Any]]:
        parameters = _parameter_names(self.module, function)
        body = _single_return(function)
        if not parameters or body is None:
            return []
        mapped = []
        for reader, node in listed:
            bound = self.bound({parameters[0]: (reader, node)}, reader.origin(node))
            target = bound.resolve(body)
            if target is not None:
                mapped.append((bound.at(target[0]), target[1]))
        return mapped

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
        listed = self.at(target[0])._tools_arrays(target[1]) if target is not None else []
        if not listed:
            self.result.warnings.append(
                f"{self.origin(handler)}: tools/list handler builds its tool list at run time; not resolvable statically"
            )
        for reader, element in listed:
            reader._read_tool_literal(element)

    def _tools_arrays(self, node: Any) -> list[tuple[Reader, Any]]:
        """The elements of `tools: [...]` inside a list handler (following names, spreads, `.map`)."""
        found: list[tuple[Reader, Any]] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if (
                current.type == "pair"
                and self.module.text(current.child_by_field_name("key")).strip("\"'") == "tools"
            ):
                value = current.child_by_field_name("value")
                listed = self.elements(value)
                if listed is None:
                    binder = self._binder(current, _list_root(value))
                    listed = [item for reader in binder or [] for item in reader.elements(value) or []]
                found.extend(listed)
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
        charge()
        if isinstance(node, _Located):
            return self.at(node.module).resolve(node.node, depth)
        if isinstance(node, _Member):
            return self._field_of(node.node, node.key, depth)
        node = _unwrap(node)
        if node is None or depth > MAX_DEPTH:
            return None
        if node.type == "call_expression":
            produced = self._produced(node, depth)
            if produced is not None:
                return produced
        if node.type in ("identifier", "shorthand_property_identifier"):
            return self._resolve_identifier(node, depth)
        if node.type == "member_expression":
            owner = _unwrap(node.child_by_field_name("object"))
            prop = self.module.text(node.child_by_field_name("property"))
            if owner is not None and owner.type == "this" and self.this_class is not None:
                return self._this_member(prop, depth + 1)
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
            if target is not None and prop == "value" and target[1].type == "call_expression":
                chain = self.at(target[0])._call_chain(target[1])
                if len(chain) == 1 and chain[0][0] == "literal" and chain[0][1]:  # z.literal(x).value
                    return self.at(target[0]).resolve(chain[0][1][0], depth + 1)
            if target is not None and target[1].type == "new_expression":
                return self.at(target[0])._instance_member(target[1], prop, depth + 1)
            if target is not None and prop == "shape" and target[1].type == "call_expression":
                shape = self.at(target[0])._object_shape_argument(target[1])
                if shape is not None:
                    return self.at(target[0]).resolve(shape, depth + 1)
            if target is not None and target[1].type == "object":
                reader = self.at(target[0])
                fields = reader.object_fields(target[1], "", [])
                if prop in fields:
                    return reader.resolve(fields[prop], depth + 1)
            return None
        return self.module, node

    def _resolve_identifier(self, node: Any, depth: int) -> tuple[Module, Any] | None:
        name = self.module.text(node)
        if name in self.bindings:
            reader, value = self.bindings[name]
            return reader.resolve(value, depth + 1)
        for scope in ancestors(self.module.root, node):
            if scope.type in SCOPE_NODES:
                value = _scope_declarations(self.module, scope).get(name)
                if value is not None and value.id != node.id and not _contains(value, node):
                    return self.resolve(value, depth + 1)
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
        charge()
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
            check_length(len(left[0]) + len(right[0]))
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
        check_length(sum(len(piece) for piece in pieces))
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
        applied = self._applied(node, depth)
        if applied is not None:
            return applied
        raise Unresolved(f"built at run time (call to {self._short(function) if function else '?'})")

    def _applied(self, call: Any, depth: int) -> tuple[str, list[str]] | None:
        """A call to a project function whose whole body is `return <string expression>`, with its
        parameters bound to the call's arguments (`withSuffix(tool.description)`)."""
        function = call.child_by_field_name("function")
        target = self.resolve(function) if function is not None else None
        if target is None or target[1].type not in FUNCTION_NODES:
            return None
        returned = _single_return(target[1])
        if returned is None:
            return None
        arguments = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
        parameters = _parameter_names(target[0], target[1])
        bindings = {p: (self, a) for p, a in zip(parameters, arguments, strict=False)}
        callee = Reader(self.project, target[0], self.result, bindings, self.call_site)
        return callee.string(returned, depth + 1)

    def _text_or_empty(self, node: Any, label: str, unresolved: list[str]) -> str:
        if self._is_absent_member(node):
            return ""
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
        fields = self._located_fields(node, label, unresolved)
        return {k: v.node if v.module is self.module else v for k, v in fields.items()}

    def _located_fields(
        self, node: Any, label: str, unresolved: list[str], depth: int = 0
    ) -> dict[str, _Located]:
        charge()
        target = self.resolve(node)
        if target is not None and target[1].type == "call_expression" and depth < MAX_DEPTH:
            merged = self.at(target[0])._merged_fields(target[1], label, unresolved, depth)
            if merged is not None:
                return merged
        if target is None or target[1].type != "object":
            if label:
                unresolved.append(f"{label}: built at run time")
            return {}
        if target[0] is not self.module:
            return self.at(target[0])._located_fields(target[1], label, unresolved, depth + 1)
        fields: dict[str, _Located] = {}
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
                fields.update(self._located_fields(member.named_children[0], label, unresolved, depth + 1))
        return fields

    def _merged_fields(
        self, call: Any, label: str, unresolved: list[str], depth: int
    ) -> dict[str, _Located] | None:
        """`Object.assign({}, a, b)` and the compiled spreads `__spreadValues(a, b)`, `__assign(...)`."""
        if call.type != "call_expression":
            return None
        function = self.module.text(call.child_by_field_name("function"))
        if not re.fullmatch(
            r"(\(0,\s*)?[\w$.]*(Object\.assign|__spreadValues|__spreadProps|__assign|_objectSpread2?|__getOwnPropDescs)\)?",
            function,
        ):
            return None
        fields: dict[str, _Located] = {}
        for argument in call.child_by_field_name("arguments").named_children:
            if argument.type != "comment":
                fields.update(self._located_fields(argument, label, unresolved, depth + 1))
        return fields

    def _is_absent_member(self, node: Any) -> bool:
        """`x.annotations` (directly or through a `const`) where `x` is an object literal without it."""
        target = self.resolve(node)
        if target is not None:
            return False
        bare = _unwrap(node.node if isinstance(node, _Located) else node)
        reader = self.at(node.module) if isinstance(node, _Located) else self
        if bare is not None and bare.type in ("identifier", "shorthand_property_identifier"):
            declared = _declaration_of(reader.module, bare)
            return declared is not None and reader._is_absent_member(declared)
        if bare is None or bare.type != "member_expression":
            return False
        owner = reader.resolve(bare.child_by_field_name("object"))
        if owner is None or owner[1].type != "object":
            return False
        members = owner[1].named_children
        return all(m.type != "spread_element" for m in members) and reader.text_key(bare) not in reader.at(
            owner[0]
        ).object_fields(owner[1], "", [])

    def text_key(self, member: Any) -> str:
        return self.module.text(member.child_by_field_name("property"))

    def _is_annotations_object(self, node: Any) -> bool:
        keys = self.object_fields(node, "", [])
        return bool(keys) and set(keys) <= ANNOTATION_KEYS

    def annotations(self, node: Any, unresolved: list[str]) -> dict[str, Any] | None:
        if self._is_absent_member(node):
            return None
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
        charge()
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
            if re.search(r"(zodToJsonSchema|toJSONSchema|toJsonSchema)\d*\)?$", function) and arguments:
                return self.shape_schema(arguments[0], unresolved) or None
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
            return [
                self.json_schema_value(child, unresolved, depth + 1)
                for child in value.named_children
                if child.type != "comment"
            ]
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
        if bare is not None and bare.type == "member_expression" and self.resolve(bare) is None:
            if self.module.text(bare.child_by_field_name("property")) == "shape":  # X.shape of a z.object
                return self.shape_schema(bare.child_by_field_name("object"), unresolved)
        target = self.resolve(node)
        if target is None:
            unresolved.append(f"input_schema: {self._short(node)} not resolvable statically")
            return None
        if target[0] is not self.module:
            return self.at(target[0]).shape_schema(target[1], unresolved)
        if target[1].type == "object" or self._merged_fields(target[1], "", [], 0) is not None:
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
        charge()
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
        modifiers = chain[1:]
        if base_owner is not None and base_method not in ZOD_FACTORIES:
            schema, optional = self._zod(base_owner, unresolved, label, depth + 1)
            schema = copy.deepcopy(schema)  # `Base.extend(...)` must not change Base's own schema
            modifiers = chain  # `Base.extend({...})`, `Base.optional()`: the first call modifies Base
        else:
            schema, optional = self._zod_base(base_method, base_args, unresolved, label, depth), False
        for method, args, _ in modifiers:
            if method in ZOD_OBJECT_METHODS:
                self._zod_object_method(schema, method, args, unresolved)
                continue
            optional = self._zod_modifier(schema, method, args, optional)
        return schema, optional

    def _object_shape_argument(self, call: Any) -> Any | None:
        """The shape literal of a plain `z.object({...})` (nothing chained after it)."""
        chain = self._call_chain(call)
        if len(chain) == 1 and chain[0][0] in ("object", "strictObject", "looseObject") and chain[0][1]:
            return chain[0][1][0] if chain[0][2] is None else None
        return None

    def _zod_object_method(
        self, schema: dict[str, Any], method: str, args: list[Any], unresolved: list[str]
    ) -> None:
        """`.extend({...})`, `.merge(Other)`, `.partial()`, `.pick({a: true})`, `.omit({a: true})` on an object."""
        properties = schema.setdefault("properties", {})
        required = schema.get("required", [])
        if method in ("extend", "merge", "safeExtend") and args:
            extra = self.shape_schema(args[0], unresolved) or {}
            properties.update(extra.get("properties", {}))
            required = [r for r in required if r not in extra.get("properties", {})] + extra.get(
                "required", []
            )
        elif method == "partial" and not args:
            required = []
        elif method in ("pick", "omit") and args:
            keys = set(self.object_fields(args[0], "", []))
            keep = (lambda k: k in keys) if method == "pick" else (lambda k: k not in keys)
            schema["properties"] = {k: v for k, v in properties.items() if keep(k)}
            required = [r for r in required if keep(r)]
        schema.pop("required", None)
        if required:
            schema["required"] = required

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
                        reader._zod(o, unresolved, label, depth + 1)[0]
                        for o in options[1].named_children
                        if o.type != "comment"
                    ]
                }
        if method == "preprocess" and len(args) > 1:  # z.preprocess(fn, schema): the schema after it
            return self._zod(args[1], unresolved, label, depth + 1)[0]
        if method == "lazy" and args and _unwrap(args[0]).type in FUNCTION_NODES:
            returned = _single_return(_unwrap(args[0]))
            return self._zod(returned, unresolved, label, depth + 1)[0] if returned is not None else {}
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
ZOD_OBJECT_METHODS = {"extend", "merge", "safeExtend", "partial", "pick", "omit"}
ZOD_FACTORIES = {
    "preprocess",
    "lazy",
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


_CALLEE_NAMES = {"identifier", "property_identifier", "private_property_identifier"}
_ITERATING_METHODS = {"forEach", "map", "flatMap"}


def _descendants(node: Any, node_types: str | tuple[str, ...]) -> list[Any]:
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == node_types or current.type in node_types:
            found.append(current)
        stack.extend(current.named_children)
    return found


def _root_identifier(node: Any) -> Any | None:
    """`tool.name` -> `tool`; `name` -> `name`; anything else -> None."""
    node = _unwrap(node)
    while node is not None and node.type == "member_expression":
        node = _unwrap(node.child_by_field_name("object"))
    return node if node is not None and node.type == "identifier" else None


def _parameter_names(module: Module, function: Any) -> list[str]:
    """Positional parameter names ("" for a destructured one)."""
    single = function.child_by_field_name("parameter")
    if single is not None:
        return [module.text(single)]
    parameters = function.child_by_field_name("parameters")
    names = []
    for parameter in parameters.named_children if parameters is not None else []:
        if parameter.type == "comment":
            continue
        pattern = (
            parameter.child_by_field_name("pattern") if parameter.type.endswith("_parameter") else parameter
        )
        if pattern is not None and pattern.type == "assignment_pattern":
            pattern = pattern.child_by_field_name("left")
        names.append(module.text(pattern) if pattern is not None and pattern.type == "identifier" else "")
    return names


def _iterating_call(module: Module, function: Any) -> Any | None:
    """For a callback given to `list.forEach(fn)` / `list.map(fn)`, the list expression."""
    arguments = function.parent
    call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
    callee = _unwrap(call.child_by_field_name("function")) if call is not None else None
    if callee is None or callee.type != "member_expression":
        return None
    if module.text(callee.child_by_field_name("property")) not in _ITERATING_METHODS:
        return None
    return callee.child_by_field_name("object")


def _function_name(module: Module, function: Any) -> str | None:
    """The name a function is called by: its own, its variable's, its property's or method's."""
    name = function.child_by_field_name("name")
    if name is not None:
        return module.text(name)
    parent = function.parent
    while parent is not None and parent.type in WRAPPERS:
        parent = parent.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator":
        declared = parent.child_by_field_name("name")
        return module.text(declared) if declared is not None and declared.type == "identifier" else None
    if parent.type == "pair":
        return module.text(parent.child_by_field_name("key")).strip("\"'")
    if parent.type == "assignment_expression":
        left = parent.child_by_field_name("left")
        if left is not None and left.type == "member_expression":
            return module.text(left.child_by_field_name("property"))
        return module.text(left) if left is not None and left.type == "identifier" else None
    return None


def _return_values(function: Any) -> list[Any]:
    """The expressions a function returns (its own `return`s, not those of nested functions)."""
    body = function.child_by_field_name("body")
    if body is None:
        return []
    if body.type != "statement_block":
        return [body]
    found = []
    stack = list(body.named_children)
    while stack:
        current = stack.pop()
        if current.type == "return_statement" and current.named_children:
            found.append(current.named_children[0])
        elif current.type not in FUNCTION_NODES and current.type != "class_declaration":
            stack.extend(current.named_children)
    return found


def _single_return(function: Any) -> Any | None:
    """The returned expression of `x => expr` or of a body that is only `return expr;`."""
    body = function.child_by_field_name("body")
    if body is None:
        return None
    if body.type != "statement_block":
        return body
    statements = [c for c in body.named_children if c.type != "comment"]
    if len(statements) == 1 and statements[0].type == "return_statement" and statements[0].named_children:
        return statements[0].named_children[0]
    return None


def _assignments_in(module: Module, function: Any, name: str) -> list[Any]:
    """Right-hand sides of `name = value` inside a function body (a cache filled before returning)."""
    found = []
    for assignment in _descendants(function, "assignment_expression"):
        left = assignment.child_by_field_name("left")
        right = assignment.child_by_field_name("right")
        if left is not None and right is not None and module.text(left) == name:
            found.append(right)
    return found


def _merge_elements(parts: list[list[tuple[Reader, Any]] | None]) -> list[tuple[Reader, Any]]:
    """Concatenate element lists, keeping one of each node (branches often list the same items)."""
    merged: list[tuple[Reader, Any]] = []
    seen: set[tuple[str, int, str]] = set()
    for part in parts:
        for reader, node in part or []:
            key = (reader.module.path, node.start_byte, reader.call_site)
            if key not in seen:
                seen.add(key)
                merged.append((reader, node))
    return merged


def _declaration_of(module: Module, identifier: Any) -> Any | None:
    """The value of the nearest enclosing `const NAME = value` for an identifier."""
    name = module.text(identifier)
    for scope in ancestors(module.root, identifier):
        if scope.type in SCOPE_NODES:
            value = _scope_declarations(module, scope).get(name)
            if value is not None and not _contains(value, identifier):
                return value
    return None


def _is_method(function: Any) -> bool:
    """Whether a function is called as `x.name(...)`: a class method, an object property or `x.name = fn`."""
    if function.type == "method_definition":
        return True
    parent = function.parent
    while parent is not None and parent.type in WRAPPERS:
        parent = parent.parent
    if parent is None:
        return False
    if parent.type == "pair":
        return True
    left = parent.child_by_field_name("left") if parent.type == "assignment_expression" else None
    return left is not None and left.type == "member_expression"


def _is_this_member(module: Module, node: Any) -> bool:
    node = _unwrap(node)
    return (
        node is not None
        and node.type == "member_expression"
        and _unwrap(node.child_by_field_name("object")).type == "this"
    )


def _base_class_name(module: Module, cls: Any) -> str | None:
    """`class A extends B` / `extends mod_1.B` -> "B"."""
    for heritage in cls.named_children:
        if heritage.type != "class_heritage":
            continue
        for clause in heritage.named_children:
            value = clause.child_by_field_name("value") if clause.type == "extends_clause" else None
            value = _unwrap(value)
            if value is not None and value.type == "member_expression":
                value = value.child_by_field_name("property")
            if value is not None and value.type in ("identifier", "property_identifier"):
                return module.text(value)
    return None


def _constructor_of(module: Module, cls: Any) -> Any | None:
    body = cls.child_by_field_name("body")
    for item in body.named_children if body is not None else []:
        name = item.child_by_field_name("name") if item.type == "method_definition" else None
        if name is not None and module.text(name) == "constructor":
            return item
    return None


def _class_name(module: Module, cls: Any) -> str:
    name = cls.child_by_field_name("name")
    return module.text(name) if name is not None else ""


@dataclass
class _Member:
    """`key` of the object `node` evaluates to: a name bound by `const { key } = node`."""

    node: Any
    key: str

    @property
    def id(self) -> int:
        return self.node.id

    @property
    def start_byte(self) -> int:
        return self.node.start_byte

    @property
    def end_byte(self) -> int:
        return self.node.end_byte


def _destructured(module: Module, pattern: Any, value: Any) -> dict[str, _Member]:
    """Names bound by `const { a, b: c } = value` (one level, no defaults)."""
    found: dict[str, _Member] = {}
    for part in pattern.named_children:
        if part.type == "shorthand_property_identifier_pattern":
            found[module.text(part)] = _Member(value, module.text(part))
        elif part.type == "pair_pattern":
            key = part.child_by_field_name("key")
            alias = part.child_by_field_name("value")
            if key is not None and alias is not None and alias.type == "identifier":
                found[module.text(alias)] = _Member(value, module.text(key).strip("\"'"))
    return found


def _list_root(node: Any) -> Any:
    """`tools.map(...).filter(...)` -> `tools`: the name a list expression starts from."""
    node = _unwrap(node)
    while node is not None and node.type in ("call_expression", "member_expression"):
        inner = node.child_by_field_name("function") if node.type == "call_expression" else node
        if inner is None or _unwrap(inner).type != "member_expression":
            return node
        node = _unwrap(_unwrap(inner).child_by_field_name("object"))
    return node
