"""TS/JS files as parsed modules: imports, exports, scopes, classes and calls across the project,
and the syntax helpers the readers share."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from catalog.extract.syntax import ParsedFile, ancestors, literal_text

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


SOURCE_SUFFIXES = (".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".jsx")


@dataclass
class Module(ParsedFile):
    """One parsed file: its tree, what it imports, and what it exports."""

    imports: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # local -> (resolved path or spec, name)
    exports: dict[str, Any] = field(default_factory=dict)  # exported name -> value node
    scope_cache: dict[int, dict[str, Any]] = field(default_factory=dict)
    language: Any = None

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


class Project:
    """All parsed modules, for resolving imports and exports across files."""

    def __init__(self, modules: list[Module]):
        self.modules = {m.path: m for m in modules}
        for module in modules:
            _index_module(module, self)
        self.top_level: dict[str, list[tuple[Module, Any]]] = {}
        for module in modules:
            for name, value in scope_declarations(module, module.root).items():
                self.top_level.setdefault(name, []).append((module, value))
        self._calls: dict[str, list[tuple[Module, Any, Any]]] | None = None
        self.subclasses: dict[str, list[tuple[Module, Any]]] = {}
        self.classes: dict[str, list[tuple[Module, Any]]] = {}
        for module in modules:
            for cls in module.nodes(*CLASS_NODES):
                name = cls.child_by_field_name("name")
                if name is not None:
                    self.classes.setdefault(module.text(name), []).append((module, cls))
                base = base_class_name(module, cls)
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
                    function = unwrap(call.child_by_field_name("function"))
                    owner = None
                    if function is not None and function.type == "member_expression":
                        owner = unwrap(function.child_by_field_name("object"))
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


def unwrap(node: Any) -> Any:
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
    spec = project.resolve_path(module.path, string_literal_text(module, source))
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
        returned = single_return(getter) if getter is not None else None
        if returned is not None:
            module.exports[string_literal_text(module, arguments[1])] = returned


def _index_require(module: Module, project: Project, declarator: Any) -> None:
    name = declarator.child_by_field_name("name")
    value = unwrap(declarator.child_by_field_name("value"))
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
        spec = project.resolve_path(module.path, string_literal_text(module, arguments[0]))
        if name.type == "identifier":
            module.imports[module.text(name)] = (spec, "*")
        elif name.type == "object_pattern":
            for part in name.named_children:
                if part.type == "shorthand_property_identifier_pattern":
                    module.imports[module.text(part)] = (spec, module.text(part))


def scope_declarations(module: Module, scope: Any) -> dict[str, Any]:
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


def string_literal_text(module: Module, node: Any) -> str:
    return literal_text(module, node, "string_fragment", decode_escape)


def decode_escape(escape: str) -> str:
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


def is_callback(node: Any) -> bool:
    node = unwrap(node)
    return node is not None and (
        node.type in FUNCTION_NODES or node.type in ("identifier", "member_expression", "call_expression")
    )


def contains(outer: Any, inner: Any) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


_CALLEE_NAMES = {"identifier", "property_identifier", "private_property_identifier"}


_ITERATING_METHODS = {"forEach", "map", "flatMap"}


def descendants(node: Any, node_types: str | tuple[str, ...]) -> list[Any]:
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == node_types or current.type in node_types:
            found.append(current)
        stack.extend(current.named_children)
    return found


def root_identifier(node: Any) -> Any | None:
    """`tool.name` -> `tool`; `name` -> `name`; anything else -> None."""
    node = unwrap(node)
    while node is not None and node.type == "member_expression":
        node = unwrap(node.child_by_field_name("object"))
    return node if node is not None and node.type == "identifier" else None


def parameter_names(module: Module, function: Any) -> list[str]:
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


def iterating_call(module: Module, function: Any) -> Any | None:
    """For a callback given to `list.forEach(fn)` / `list.map(fn)`, the list expression."""
    arguments = function.parent
    call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
    callee = unwrap(call.child_by_field_name("function")) if call is not None else None
    if callee is None or callee.type != "member_expression":
        return None
    if module.text(callee.child_by_field_name("property")) not in _ITERATING_METHODS:
        return None
    return callee.child_by_field_name("object")


def function_name(module: Module, function: Any) -> str | None:
    """The name a function is called by: its own, its variable's, its property's or method's."""
    name = function.child_by_field_name("name")
    if name is not None:
        return module.text(name)
    parent = _parent_past_wrappers(function)
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


def return_values(function: Any) -> list[Any]:
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


def single_return(function: Any) -> Any | None:
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


def assignments_in(module: Module, function: Any, name: str) -> list[Any]:
    """Right-hand sides of `name = value` inside a function body (a cache filled before returning)."""
    found = []
    for assignment in descendants(function, "assignment_expression"):
        left = assignment.child_by_field_name("left")
        right = assignment.child_by_field_name("right")
        if left is not None and right is not None and module.text(left) == name:
            found.append(right)
    return found


def declaration_of(module: Module, identifier: Any) -> Any | None:
    """The value of the nearest enclosing `const NAME = value` for an identifier."""
    name = module.text(identifier)
    for scope in ancestors(module.root, identifier):
        if scope.type in SCOPE_NODES:
            value = scope_declarations(module, scope).get(name)
            if value is not None and not contains(value, identifier):
                return value
    return None


def _parent_past_wrappers(node: Any) -> Any | None:
    """The nearest enclosing node that is not a parenthesis, cast or other wrapper."""
    parent = node.parent
    while parent is not None and parent.type in WRAPPERS:
        parent = parent.parent
    return parent


def is_method(function: Any) -> bool:
    """Whether a function is called as `x.name(...)`: a class method, an object property or `x.name = fn`."""
    if function.type == "method_definition":
        return True
    parent = _parent_past_wrappers(function)
    if parent is None:
        return False
    if parent.type == "pair":
        return True
    left = parent.child_by_field_name("left") if parent.type == "assignment_expression" else None
    return left is not None and left.type == "member_expression"


def is_this_member(module: Module, node: Any) -> bool:
    node = unwrap(node)
    return (
        node is not None
        and node.type == "member_expression"
        and unwrap(node.child_by_field_name("object")).type == "this"
    )


def base_class_name(module: Module, cls: Any) -> str | None:
    """`class A extends B` / `extends mod_1.B` -> "B"."""
    for heritage in cls.named_children:
        if heritage.type != "class_heritage":
            continue
        for clause in heritage.named_children:
            value = clause.child_by_field_name("value") if clause.type == "extends_clause" else None
            value = unwrap(value)
            if value is not None and value.type == "member_expression":
                value = value.child_by_field_name("property")
            if value is not None and value.type in ("identifier", "property_identifier"):
                return module.text(value)
    return None


def constructor_of(module: Module, cls: Any) -> Any | None:
    body = cls.child_by_field_name("body")
    for item in body.named_children if body is not None else []:
        name = item.child_by_field_name("name") if item.type == "method_definition" else None
        if name is not None and module.text(name) == "constructor":
            return item
    return None


def class_name(module: Module, cls: Any) -> str:
    name = cls.child_by_field_name("name")
    return module.text(name) if name is not None else ""


@dataclass
class NodeRef:
    """A syntax node with something known about it; it stands for the node where ids are compared."""

    node: Any

    id = property(attrgetter("node.id"))
    type = property(attrgetter("node.type"))
    start_byte = property(attrgetter("node.start_byte"))
    end_byte = property(attrgetter("node.end_byte"))


@dataclass
class Member(NodeRef):
    """`key` of the object `node` evaluates to: a name bound by `const { key } = node`."""

    key: str


@dataclass
class Located(NodeRef):
    """A value node that lives in another module than the one reading it."""

    module: Module


def _destructured(module: Module, pattern: Any, value: Any) -> dict[str, Member]:
    """Names bound by `const { a, b: c } = value` (one level, no defaults)."""
    found: dict[str, Member] = {}
    for part in pattern.named_children:
        if part.type == "shorthand_property_identifier_pattern":
            found[module.text(part)] = Member(value, module.text(part))
        elif part.type == "pair_pattern":
            key = part.child_by_field_name("key")
            alias = part.child_by_field_name("value")
            if key is not None and alias is not None and alias.type == "identifier":
                found[module.text(alias)] = Member(value, module.text(key).strip("\"'"))
    return found


def list_root(node: Any) -> Any:
    """`tools.map(...).filter(...)` -> `tools`: the name a list expression starts from."""
    node = unwrap(node)
    while node is not None and node.type in ("call_expression", "member_expression"):
        inner = node.child_by_field_name("function") if node.type == "call_expression" else node
        if inner is None or unwrap(inner).type != "member_expression":
            return node
        node = unwrap(unwrap(inner).child_by_field_name("object"))
    return node
