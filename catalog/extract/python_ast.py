"""Find the MCP tools a Python source tree registers, by reading its syntax tree (never importing it).

Forms understood: FastMCP of ``mcp`` 1.x and ``MCPServer`` of ``mcp`` 2.x (``@x.tool()``,
``@x.tool(name=, title=, description=, annotations=)``, ``x.add_tool(fn, ...)``), standalone
``fastmcp`` (``@x.tool``, ``@x.tool("name")``, ``x.tool(fn, name=)``, annotations as a dict), and
low-level servers that build ``Tool(name=..., description=..., inputSchema=...)`` objects (names
from string constants, Enum members, concatenation and f-strings, across the files of the tree).

Description rule: ``mcp`` 1.x and 2.x send ``description or fn.__doc__ or ""``, the raw docstring;
standalone ``fastmcp`` sends ``description or inspect.getdoc(fn)``, the cleaned docstring. We store
what that server would send when run on CPython 3.11: ``ast.get_docstring(node, clean=False)`` for
``mcp`` servers and ``inspect.cleandoc`` of it for servers that import ``fastmcp``. (CPython 3.13
strips docstring indentation at compile time, so a live crawl there differs in whitespace only.)
Standalone ``fastmcp`` from 3.2.4 on parses the docstring (griffe's Google, NumPy, then Sphinx
parser; the first that finds parameters or another section wins): the description is the text
before the first section and ``Args:`` entries describe properties that have no description yet.
That rule applies when the package's declared requirements (``requirements=``, the wheel's
``Requires-Dist``) let the installer pick such a version; without them the older rule is kept.

Input schemas of decorated functions follow what the SDK derives from the signature: parameter
names, ``required`` for parameters without a default, simple JSON types, enums from ``Literal``,
``anyOf`` with null for optionals, descriptions from ``Field``; pydantic's property titles for ``mcp``
servers, none for ``fastmcp`` (it prunes them). A type we cannot resolve leaves the property typeless.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog.extract import Extraction, SourceFile
from catalog.models import Tool

SERVER_CLASSES = {"FastMCP", "MCPServer", "Server", "LowLevelServer"}
SERVER_PARAM_NAME = re.compile(r"(^|_)(mcp|server|app)($|_)", re.IGNORECASE)
ANNOTATION_KEYS = {
    "title": "title",
    "readOnlyHint": "readOnlyHint",
    "destructiveHint": "destructiveHint",
    "idempotentHint": "idempotentHint",
    "openWorldHint": "openWorldHint",
    "read_only_hint": "readOnlyHint",
    "destructive_hint": "destructiveHint",
    "idempotent_hint": "idempotentHint",
    "open_world_hint": "openWorldHint",
}
KNOWN_TYPES = {
    "AnyUrl": {"format": "uri", "minLength": 1, "type": "string"},
    "datetime": {"format": "date-time", "type": "string"},
    "date": {"format": "date", "type": "string"},
    "Path": {"format": "path", "type": "string"},
}
SIMPLE_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "List": "array",
    "Sequence": "array",
    "set": "array",
    "Set": "array",
    "tuple": "array",
    "dict": "object",
    "Dict": "object",
    "Mapping": "object",
}
MAX_DEPTH = 40


class Unresolved(Exception):
    """A value that static reading cannot determine; the message says why."""


@dataclass
class Module:
    """One parsed file and the names it defines at module level."""

    path: str
    dotted: str
    tree: ast.Module
    constants: dict[str, ast.expr] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # alias -> (module, name)
    uses_fastmcp: bool = False


def extract(files: list[SourceFile], requirements: Sequence[str] = ()) -> Extraction:
    """Parse every Python file and return the tools registered anywhere in them; `requirements`
    are the package's declared dependencies (``Requires-Dist`` lines), when known."""
    result = Extraction(files_scanned=len(files))
    modules = [m for f in files if (m := _parse(f, result.warnings)) is not None]
    project = Project(modules)
    project.parses_docstrings = fastmcp_parses_docstrings(requirements)
    for module in modules:
        try:
            FileReader(project, module, result).read()
        except RecursionError:
            result.warnings.append(f"{module.path}: too deeply nested to read")
    return result


_PARSE_LOCK = threading.Lock()


def parse_locked(text: str, **kwargs: Any) -> Any:
    """`ast.parse` one thread at a time: in Python 3.11 its AST conversion shares a recursion counter
    between threads (CPython issue 106905: "AST constructor recursion depth mismatch" in bulk crawls)."""
    with _PARSE_LOCK:
        return ast.parse(text, **kwargs)


def _parse(source: SourceFile, warnings: list[str]) -> Module | None:
    try:
        tree = parse_locked(source.text, filename=source.path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        warnings.append(f"{source.path}: not parsed ({type(error).__name__})")
        return None
    module = Module(source.path, _dotted_name(source.path), tree)
    _index_module(module)
    return module


def _dotted_name(path: str) -> str:
    parts = path.removesuffix(".py").replace("\\", "/").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _index_module(module: Module) -> None:
    for node in module.tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            module.constants[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            module.constants[node.target.id] = node.value
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            module.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            module.classes[node.name] = node
    package = module.dotted.rsplit(".", 1)[0] if "." in module.dotted else ""
    if module.path.endswith("__init__.py"):
        package = module.dotted
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom):
            base = _absolute_module(node, package)
            module.uses_fastmcp |= base == "fastmcp" or base.startswith("fastmcp.")
            for alias in node.names:
                module.imports[alias.asname or alias.name] = (base, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module.uses_fastmcp |= alias.name == "fastmcp" or alias.name.startswith("fastmcp.")
                module.imports[alias.asname or alias.name.split(".")[0]] = (alias.name, None)


def _absolute_module(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".") if package else []
    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    return ".".join([*parts, *([node.module] if node.module else [])])


class Project:
    """All parsed modules of the tree, for resolving names across files."""

    def __init__(self, modules: list[Module]):
        self.modules = modules
        self.by_dotted = {m.dotted: m for m in modules}
        self.uses_fastmcp = any(m.uses_fastmcp for m in modules)
        self.server_names = self._server_names()
        self.parses_docstrings = False  # standalone fastmcp >= 3.2.4 (see fastmcp_parses_docstrings)

    def _server_names(self) -> set[str]:
        names: set[str] = set()
        for module in self.modules:
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                    if _call_name(node.value) in SERVER_CLASSES:
                        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                        names.update(_target_name(t) for t in targets)
        names.discard("")
        return names

    def module_named(self, dotted: str) -> Module | None:
        if dotted in self.by_dotted:
            return self.by_dotted[dotted]
        matches = [m for d, m in self.by_dotted.items() if d.endswith("." + dotted)]
        return matches[0] if len(matches) == 1 else None

    def lookup(self, module: Module, name: str, kind: str, depth: int = 0) -> tuple[Module, Any] | None:
        """Find a module-level constant, function or class visible as `name` in `module`."""
        table: dict[str, Any] = getattr(module, kind)
        if name in table:
            return module, table[name]
        if depth < 5 and name in module.imports:
            source, original = module.imports[name]
            target = self.module_named(source)
            if target is not None and original is not None and target is not module:
                found = self.lookup(target, original, kind, depth + 1)
                if found is not None:
                    return found
        owners = [m for m in self.modules if name in getattr(m, kind)]
        return (owners[0], getattr(owners[0], kind)[name]) if len(owners) == 1 else None


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _target_name(target: ast.expr) -> str:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return ""


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    return type(node).__name__


class FileReader:
    """Walks one module, tracking the enclosing function, and records the tools it registers."""

    def __init__(self, project: Project, module: Module, result: Extraction):
        self.project = project
        self.module = module
        self.result = result
        self.local_scopes: list[dict[str, ast.expr]] = []
        self.fastmcp = module.uses_fastmcp or (project.uses_fastmcp and not self._imports_mcp_sdk())
        self.server_params: list[set[str]] = []
        self.classes: list[ast.ClassDef] = []  # the enclosing classes, for `self.name` in tool classes
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []  # the enclosing functions

    def _imports_mcp_sdk(self) -> bool:
        return any(source == "mcp" or source.startswith("mcp.") for source, _ in self.module.imports.values())

    def read(self) -> None:
        self._visit_body(self.module.tree.body)

    # -- walking -------------------------------------------------------------------------------

    def _visit_body(self, body: list[ast.stmt]) -> None:
        for node in body:
            self._visit(node)

    def _visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self._visit_function(node)
            return
        if isinstance(node, ast.ClassDef):
            self.classes.append(node)
            self._visit_body(node.body)
            self.classes.pop()
            return
        if isinstance(node, ast.Call):
            self._visit_call(node)
        for child in ast.iter_child_nodes(node):
            self._visit(child)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            registration = self._tool_decorator(decorator) or self._registry_decorator(decorator, node)
            if registration is not None:
                self._add_function_tool(node, registration, node.lineno)
            else:
                self._visit(decorator)
        self.local_scopes.append(_local_assignments(node))
        self.server_params.append(_server_params(node))
        self.functions.append(node)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self._visit(default)
        self._visit_body(node.body)
        self.local_scopes.pop()
        self.server_params.pop()
        self.functions.pop()

    def _visit_call(self, call: ast.Call) -> None:
        if _is_mcp_tool_type(call, self.module) and (
            call.args or any(k.arg == "name" for k in call.keywords)
        ):
            self._add_tool_object(call)
            return
        func = call.func
        # x.add_tool(fn, ...) / x.tool(fn, ...) (fastmcp) / x.tool(...)(fn)
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("add_tool", "tool")
            and self._is_server(func.value)
        ):
            built = self._tool_from_function(call.args[0]) if call.args and func.attr == "add_tool" else None
            if built is not None:  # x.add_tool(Tool.from_function(fn, name=..., description=...))
                self._add_called_tool(built.args[0], call, built.keywords)
            elif call.args and not (func.attr == "tool" and _is_string_literal(call.args[0])):
                self._add_called_tool(call.args[0], call, call.keywords)
            return
        if isinstance(func, ast.Call) and call.args and self._tool_decorator(func) is not None:
            if self._is_decorator_template(call.args[0]):
                return  # `def decorate(fn): server.tool(...)(fn)`: read where the decorator is used
            self._add_called_tool(call.args[0], call, func.keywords, func.args)

    # -- recognising registrations -------------------------------------------------------------

    def _is_server(self, receiver: ast.expr) -> bool:
        name = _target_name(receiver)
        if not name:
            return False
        if name in self.project.server_names or any(name in params for params in self.server_params):
            return True
        return bool(SERVER_PARAM_NAME.search(name))

    def _tool_decorator(self, decorator: ast.expr) -> tuple[list[ast.expr], list[ast.keyword]] | None:
        """The (args, keywords) of `@x.tool`, `@x.tool()` or `@x.tool(...)` on a server, else None."""
        if (
            isinstance(decorator, ast.Attribute)
            and decorator.attr == "tool"
            and self._is_server(decorator.value)
        ):
            return [], []
        if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute):
            if decorator.func.attr == "tool" and self._is_server(decorator.func.value):
                return list(decorator.args), list(decorator.keywords)
        return None

    def _registry_decorator(
        self, decorator: ast.expr, fn: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> tuple[list[ast.expr], list[ast.keyword]] | None:
        """`@tools.reader("Title")` where `tools` is an instance of a project class whose method
        returns a decorator that calls `server.tool(...)(fn)`: the keywords of that call, with the
        method's parameters replaced by the decorator's arguments."""
        if not (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and isinstance(decorator.func.value, ast.Name)
        ):
            return None
        cls = self._instance_class(decorator.func.value.id)
        if cls is None:
            return None
        template = _registration_template(cls[1], decorator.func.attr, decorator)
        if template is None:
            return None
        tool_call, bindings, fn_param = template
        keywords = []
        for keyword in tool_call.keywords:
            if keyword.arg not in ("name", "title", "description", "annotations"):
                continue
            value = keyword.value
            if any(_is_attribute_of(n, fn_param, "__doc__") for n in ast.walk(value)):
                value = ast.Constant(inspect.cleandoc(ast.get_docstring(fn, clean=False) or ""))
            elif isinstance(value, ast.Name) and value.id in bindings:
                value = bindings[value.id]
            if isinstance(value, ast.Name) and cls[0] is not self.module:  # a constant of the class's module
                found = self.project.lookup(cls[0], value.id, "constants")
                value = found[1] if found is not None else value
            keywords.append(ast.keyword(arg=keyword.arg, value=value))
        return [], keywords

    def _is_decorator_template(self, registered: ast.expr) -> bool:
        """Whether the registered function is the parameter of the enclosing one-parameter function."""
        if not self.functions or len(self.functions[-1].args.args) != 1:
            return False
        parameter = self.functions[-1].args.args[0].arg
        return any(isinstance(n, ast.Name) and n.id == parameter for n in ast.walk(registered))

    def _instance_class(self, name: str) -> tuple[Module, ast.ClassDef] | None:
        """The class of `name`: a parameter annotated with a project class, or `name = Class(...)`."""
        for function in reversed(self.functions):
            for arg in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]:
                if arg.arg == name and arg.annotation is not None:
                    return self.project.lookup(self.module, _annotation_base(arg.annotation), "classes")
        constant = self.project.lookup(self.module, name, "constants")
        if constant is not None and isinstance(constant[1], ast.Call):
            return self.project.lookup(constant[0], _dotted(constant[1].func).split(".")[-1], "classes")
        return None

    # -- building tools ------------------------------------------------------------------------

    def _origin(self, line: int) -> str:
        return f"{self.module.path}:{line}"

    def _add_function_tool(
        self,
        fn: ast.FunctionDef | ast.AsyncFunctionDef,
        registration: tuple[list[ast.expr], list[ast.keyword]],
        line: int,
        fn_module: Module | None = None,
    ) -> None:
        args, keywords = registration
        options = {k.arg: k.value for k in keywords if k.arg}
        unresolved: list[str] = []
        name_node = options.get("name") or (args[0] if args else None)
        name = fn.name
        if name_node is not None and not _is_none(name_node):
            name = self._name(name_node, unresolved)
            if name is None:
                self._warn_unnamed(line, unresolved)
                return
        description = self._description(fn, options.get("description"), unresolved)
        schema = SignatureSchema(self, fn_module or self.module, fast=self.fastmcp).build(
            fn, options, unresolved
        )
        if self.fastmcp and self.project.parses_docstrings:
            description = self._parsed_docstring(fn, description, schema, options, unresolved)
        tool = Tool(
            name=name,
            description=description,
            input_schema=schema,
            annotations=self._annotations(options.get("annotations"), unresolved),
            title=self._optional_string(options.get("title"), "title", unresolved),
            origin=self._origin(line),
            unresolved=unresolved,
        )
        self.result.tools.append(tool)

    def _tool_from_function(self, node: ast.expr) -> ast.Call | None:
        """`Tool.from_function(fn, ...)` (fastmcp), given inline or through a variable."""
        node = self._follow_name(node)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "from_function"
            and node.args
        ):
            return node
        return None

    def _method_of_instance(
        self, node: ast.expr
    ) -> tuple[Module, ast.FunctionDef | ast.AsyncFunctionDef] | None:
        """`obj.method` where `obj = SomeClass(...)` at module level: that class's method."""
        node = self._follow_name(node)
        if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Name):
            return None
        instance = self.project.lookup(self.module, node.value.id, "constants")
        if instance is None or not isinstance(instance[1], ast.Call):
            return None
        found = self.project.lookup(instance[0], _dotted(instance[1].func).split(".")[-1], "classes")
        if found is None:
            return None
        for item in found[1].body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == node.attr:
                return found[0], _follow_wraps(item, found[1].body)
        return None

    def _add_called_tool(
        self,
        fn_ref: ast.expr,
        call: ast.Call,
        keywords: list[ast.keyword],
        args: list[ast.expr] | None = None,
    ) -> None:
        found = None
        if isinstance(fn_ref, ast.Name):
            found = self.project.lookup(self.module, fn_ref.id, "functions")
            if found is None:
                local = _local_function(self.module.tree, fn_ref.id)
                found = (self.module, local) if local is not None else None
        if found is None:
            found = self._method_of_instance(fn_ref)
        if found is None:
            options = {k.arg: k.value for k in keywords if k.arg}
            if "name" in options:
                self._add_function_less_tool(call, options)
            else:
                self.result.warnings.append(
                    f"{self._origin(call.lineno)}: tool registered from {_dotted(fn_ref)}, not resolvable statically"
                )
            return
        module, fn = found
        self._add_function_tool(fn, (args or [], keywords), call.lineno, module)

    def _add_function_less_tool(self, call: ast.Call, options: dict[str, ast.expr]) -> None:
        unresolved = ["input_schema: function not found statically"]
        name = self._name(options["name"], unresolved)
        if name is None:
            self._warn_unnamed(call.lineno, unresolved)
            return
        description_node = options.get("description")
        description = self._optional_string(description_node, "description", unresolved) or ""
        if description_node is None:
            unresolved.append("description: function not found statically")
        self.result.tools.append(
            Tool(
                name=name,
                description=description,
                annotations=self._annotations(options.get("annotations"), unresolved),
                title=self._optional_string(options.get("title"), "title", unresolved),
                origin=self._origin(call.lineno),
                unresolved=unresolved,
            )
        )

    def _add_tool_object(self, call: ast.Call) -> None:
        options = {k.arg: k.value for k in call.keywords if k.arg}
        if call.args and "name" not in options:
            options["name"] = call.args[0]
        unresolved: list[str] = []
        name = self._name(options["name"], unresolved)
        if name is None:
            self._warn_unnamed(call.lineno, unresolved)
            return
        schema_node = options.get("inputSchema") or options.get("input_schema")
        schema = None
        if schema_node is not None:
            schema = self._json_value(schema_node, "input_schema", unresolved)
            if not isinstance(schema, dict):
                schema = None
        self.result.tools.append(
            Tool(
                name=name,
                description=self._optional_string(options.get("description"), "description", unresolved)
                or "",
                input_schema=schema,
                annotations=self._annotations(options.get("annotations"), unresolved),
                title=self._optional_string(options.get("title"), "title", unresolved),
                origin=self._origin(call.lineno),
                unresolved=unresolved,
            )
        )

    def _warn_unnamed(self, line: int, unresolved: list[str]) -> None:
        reason = unresolved[0].removeprefix("name: ") if unresolved else "not resolvable"
        self.result.warnings.append(f"{self._origin(line)}: tool name {reason}; tool skipped")

    def _description(
        self, fn: ast.FunctionDef | ast.AsyncFunctionDef, explicit: ast.expr | None, unresolved: list[str]
    ) -> str:
        if explicit is not None and not _is_none(explicit):
            text = self._string_or_none(explicit, "description", unresolved)
            if text:
                return text
            if text is None:
                return ""
        doc = ast.get_docstring(fn, clean=False) or ""
        return inspect.cleandoc(doc) if self.fastmcp and doc else doc

    def _parsed_docstring(
        self,
        fn: ast.FunctionDef | ast.AsyncFunctionDef,
        description: str,
        schema: dict[str, Any],
        options: dict[str, ast.expr],
        unresolved: list[str],
    ) -> str:
        """Newer fastmcp: description without the docstring's sections, `Args:` into the schema."""
        doc = ast.get_docstring(fn, clean=True) or ""
        if not doc:
            return description
        parsed = split_docstring(doc)
        if parsed is None:
            unresolved.append("description: docstring sections not parsed (griffe is not installed)")
            return description
        summary, parameters = parsed
        for name, text in parameters.items():
            prop = schema.get("properties", {}).get(name)
            if isinstance(prop, dict) and "description" not in prop:
                prop["description"] = text
        explicit = options.get("description")
        return description if explicit is not None and not _is_none(explicit) else summary or ""

    def _annotations(self, node: ast.expr | None, unresolved: list[str]) -> dict[str, Any] | None:
        if node is None or _is_none(node):
            return None
        node = self._follow_name(node)
        helper = self._inline_helper(node)
        if helper is not None:
            self.local_scopes.append(helper[1])
            try:
                return self._annotations(helper[0], unresolved)
            finally:
                self.local_scopes.pop()
        pairs: list[tuple[str, ast.expr]] = []
        if isinstance(node, ast.Call) and _call_name(node) == "ToolAnnotations":
            pairs = [(k.arg, k.value) for k in node.keywords if k.arg]
        elif isinstance(node, ast.Dict):
            pairs = [
                (k.value, v) for k, v in zip(node.keys, node.values, strict=True) if _is_string_literal(k)
            ]  # type: ignore[union-attr]
        else:
            unresolved.append(f"annotations: built at run time ({_dotted(node)})")
            return None
        annotations: dict[str, Any] = {}
        for key, value_node in pairs:
            wire_key = ANNOTATION_KEYS.get(key, key)
            try:
                annotations[wire_key] = self.value(value_node)
            except Unresolved as error:
                unresolved.append(f"annotations.{wire_key}: {error}")
        return annotations

    def _inline_helper(self, node: ast.expr) -> tuple[ast.expr, dict[str, ast.expr]] | None:
        """For a call to a one-line helper (`def writes(x): return ToolAnnotations(...)`), its
        returned expression and the arguments bound to its parameters."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            return None
        found = self.project.lookup(self.module, node.func.id, "functions")
        if found is None or found[0] is not self.module:
            return None
        body = [s for s in found[1].body if not (isinstance(s, ast.Expr) and _is_string_literal(s.value))]
        if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
            return None
        return body[0].value, _bind_arguments(found[1], node)

    # -- value resolution ----------------------------------------------------------------------

    def _follow_name(self, node: ast.expr) -> ast.expr:
        for _ in range(5):
            if not isinstance(node, ast.Name):
                return node
            local = self._local(node.id)
            if local is not None:
                node = local
                continue
            found = self.project.lookup(self.module, node.id, "constants")
            if found is None:
                return node
            node = found[1]
        return node

    def _local(self, name: str) -> ast.expr | None:
        for scope in reversed(self.local_scopes):
            if name in scope:
                return scope[name]
        return None

    def _string_or_none(self, node: ast.expr, label: str, unresolved: list[str]) -> str | None:
        try:
            text, placeholders = self.string(node)
        except Unresolved as error:
            unresolved.append(f"{label}: {error}")
            return None
        if placeholders:
            unresolved.append(f"{label}: placeholders filled at run time ({', '.join(placeholders)})")
        return text

    def _name(self, node: ast.expr, unresolved: list[str]) -> str | None:
        """A tool name, or None (with the reason in `unresolved`) unless fully known."""
        try:
            text, placeholders = self.string(node)
        except Unresolved as error:
            unresolved.append(f"name: {error}")
            return None
        if placeholders:
            unresolved.append(f"name: built at run time ({', '.join(placeholders)})")
            return None
        return text

    def _optional_string(self, node: ast.expr | None, label: str, unresolved: list[str]) -> str | None:
        if node is None or _is_none(node):
            return None
        return self._string_or_none(node, label, unresolved)

    def string(self, node: ast.expr, depth: int = 0) -> tuple[str, list[str]]:
        """Resolve a string expression; returns the text and any `{...}` placeholders left in it."""
        if depth > MAX_DEPTH:
            raise Unresolved("too deeply nested")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value, []
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, left_holes = self._string_part(node.left, depth)
            right, right_holes = self._string_part(node.right, depth)
            return left + right, left_holes + right_holes
        if isinstance(node, ast.Name):
            return self._named_string(node, depth)
        if isinstance(node, ast.Attribute):
            return self._attribute_string(node, depth)
        if isinstance(node, ast.Call):
            return self._call_string(node, depth)
        raise Unresolved(f"built at run time ({type(node).__name__})")

    def _string_part(self, node: ast.expr, depth: int) -> tuple[str, list[str]]:
        try:
            return self.string(node, depth + 1)
        except Unresolved:
            placeholder = "{" + ast.unparse(node) + "}"
            return placeholder, [placeholder]

    def _fstring(self, node: ast.JoinedStr, depth: int) -> tuple[str, list[str]]:
        pieces: list[str] = []
        holes: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                pieces.append(str(part.value))
            elif isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None:
                text, more = self._string_part(part.value, depth)
                pieces.append(text)
                holes.extend(more)
            else:
                placeholder = (
                    "{" + ast.unparse(part.value if isinstance(part, ast.FormattedValue) else part) + "}"
                )
                pieces.append(placeholder)
                holes.append(placeholder)
        return "".join(pieces), holes

    def _named_string(self, node: ast.Name, depth: int) -> tuple[str, list[str]]:
        local = self._local(node.id)
        if local is not None and local is not node:
            return self.string(local, depth + 1)
        found = self.project.lookup(self.module, node.id, "constants")
        if found is None:
            raise Unresolved(f"name {node.id} not resolvable statically")
        module, value = found
        return FileReader(self.project, module, self.result).string(value, depth + 1)

    def _attribute_string(self, node: ast.Attribute, depth: int) -> tuple[str, list[str]]:
        target = (
            node.value if node.attr in ("value", "name") and isinstance(node.value, ast.Attribute) else node
        )
        if _is_self_attribute(node) and self.classes:
            found = self._instance_attribute(self.classes[-1], node.attr)
            if found is not None:
                return FileReader(self.project, found[0], self.result).string(found[1], depth + 1)
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            owner, member = target.value.id, target.attr
            enum = self.project.lookup(self.module, owner, "classes")
            if enum is not None:
                value = _class_member(enum[1], member)
                if value is not None:
                    if target is not node and node.attr == "name":
                        return member, []
                    return FileReader(self.project, enum[0], self.result).string(value, depth + 1)
            imported = self.module.imports.get(owner)
            module = self.project.module_named(imported[0]) if imported and imported[1] is None else None
            if module is not None and member in module.constants:
                return FileReader(self.project, module, self.result).string(
                    module.constants[member], depth + 1
                )
        raise Unresolved(f"built at run time ({_dotted(node)})")

    def _instance_attribute(self, cls: ast.ClassDef, member: str) -> tuple[Module, ast.expr] | None:
        """`self.name` of a tool class: a class attribute, `self.name = "x"` in `__init__`, or the
        argument `super().__init__("x")` passes to a base class that stores it as `self.name`."""
        value = _class_member(cls, member)
        if value is not None:
            return self.module, value
        init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        for node in ast.walk(init) if init is not None else []:
            if isinstance(node, ast.Assign) and any(_is_self_attribute(t, member) for t in node.targets):
                if not (isinstance(node.value, ast.Name) and node.value.id in _parameter_names(init)):
                    return self.module, node.value
            if isinstance(node, ast.Call) and _is_super_init(node):
                argument = self._argument_stored_by_base(cls, node, member)
                if argument is not None:
                    return self.module, argument
        return None

    def _argument_stored_by_base(self, cls: ast.ClassDef, call: ast.Call, member: str) -> ast.expr | None:
        for base in cls.bases:
            found = self.project.lookup(self.module, _dotted(base).rsplit(".", 1)[-1], "classes")
            init = (
                next(
                    (n for n in found[1].body if isinstance(n, ast.FunctionDef) and n.name == "__init__"),
                    None,
                )
                if found is not None
                else None
            )
            if init is None:
                continue
            parameters = _parameter_names(init)[1:]  # without self
            for node in ast.walk(init):
                if (
                    isinstance(node, ast.Assign)
                    and any(_is_self_attribute(t, member) for t in node.targets)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in parameters
                ):
                    position = parameters.index(node.value.id)
                    by_keyword = {k.arg: k.value for k in call.keywords}
                    if node.value.id in by_keyword:
                        return by_keyword[node.value.id]
                    return call.args[position] if position < len(call.args) else None
        return None

    def _call_string(self, node: ast.Call, depth: int) -> tuple[str, list[str]]:
        name = _call_name(node)
        if name == "dedent" and len(node.args) == 1:
            text, holes = self.string(node.args[0], depth + 1)
            return textwrap.dedent(text), holes
        if name in ("strip", "lstrip", "rstrip") and isinstance(node.func, ast.Attribute) and not node.args:
            text, holes = self.string(node.func.value, depth + 1)
            return getattr(text, name)(), holes
        if name == "join" and isinstance(node.func, ast.Attribute) and len(node.args) == 1:
            separator, holes = self.string(node.func.value, depth + 1)
            items = node.args[0]
            if isinstance(items, ast.List | ast.Tuple):
                parts = [self._string_part(item, depth) for item in items.elts]
                return separator.join(p for p, _ in parts), holes + [h for _, hs in parts for h in hs]
        raise Unresolved(f"built at run time (call to {_dotted(node.func)})")

    def value(self, node: ast.expr, depth: int = 0) -> Any:
        """Resolve a literal-like expression (bool, number, None or string)."""
        node = self._follow_name(node)
        if isinstance(node, ast.Constant) and not isinstance(node.value, str):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
        ):
            return -node.operand.value  # type: ignore[operator]
        text, holes = self.string(node, depth)
        if holes:
            raise Unresolved(f"placeholders filled at run time ({', '.join(holes)})")
        return text

    def _json_value(self, node: ast.expr, label: str, unresolved: list[str], depth: int = 0) -> Any:
        node = self._follow_name(node)
        if depth > MAX_DEPTH:
            unresolved.append(f"{label}: too deeply nested")
            return None
        if isinstance(node, ast.Dict):
            out: dict[str, Any] = {}
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:  # {**other}: merged when `other` is a literal dict too
                    merged = self._json_value(value, label, [], depth + 1)
                    if isinstance(merged, dict):
                        out.update(merged)
                    else:
                        unresolved.append(f"{label}: merged from {_dotted(value)} at run time")
                    continue
                try:
                    key_text = str(self.value(key))
                except Unresolved as error:
                    unresolved.append(f"{label}: key {error}")
                    continue
                out[key_text] = self._json_value(value, f"{label}.{key_text}", unresolved, depth + 1)
            return out
        if isinstance(node, ast.List | ast.Tuple):
            return [self._json_value(item, label, unresolved, depth + 1) for item in node.elts]
        returned = self._constant_function_result(node)
        if returned is not None:
            return returned[0]._json_value(returned[1], label, unresolved, depth + 1)
        if isinstance(node, ast.Call) and _call_name(node) in ("model_json_schema", "schema"):
            model = node.func.value if isinstance(node.func, ast.Attribute) else None
            schema = self._model_schema(model, unresolved) if isinstance(model, ast.Name) else None
            if schema is not None:
                return schema
        try:
            return self.value(node)
        except Unresolved as error:
            unresolved.append(f"{label}: {error}")
            return None

    def _constant_function_result(self, node: ast.expr) -> tuple[FileReader, ast.expr] | None:
        """`helper()` of a module-level function without parameters whose body only returns a value."""
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and not node.args
            and not node.keywords
        ):
            return None
        found = self.project.lookup(self.module, node.func.id, "functions")
        if found is None or found[1].args.args or found[1].args.kwonlyargs:
            return None
        body = [
            s for s in found[1].body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        ]
        if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
            return None
        reader = self if found[0] is self.module else FileReader(self.project, found[0], self.result)
        return reader, body[0].value

    def _model_schema(self, model: ast.Name, unresolved: list[str]) -> dict[str, Any] | None:
        found = self.project.lookup(self.module, model.id, "classes")
        if found is None:
            return None
        module, cls = found
        return SignatureSchema(self, module, fast=False).from_model(cls, unresolved)


def _bind_arguments(fn: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call) -> dict[str, ast.expr]:
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    bound: dict[str, ast.expr] = {}
    for arg, default in zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True):
        bound[arg.arg] = default
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if kw_default is not None:
            bound[arg.arg] = kw_default
    for arg, value in zip(positional, call.args, strict=False):
        bound[arg.arg] = value
    bound.update({k.arg: k.value for k in call.keywords if k.arg})
    return bound


def _local_assignments(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr]:
    """Names assigned exactly once in a function body (nested functions excluded)."""
    seen: dict[str, ast.expr] = {}
    repeated: set[str] = set()
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            (repeated.add(name) if name in seen else seen.__setitem__(name, node.value))
        elif isinstance(node, ast.AugAssign | ast.For | ast.AsyncFor | ast.With) or (
            isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        ):
            for target in _assigned_names(node):
                repeated.add(target)
        stack.extend(ast.iter_child_nodes(node))
    return {k: v for k, v in seen.items() if k not in repeated}


def _assigned_names(node: ast.AST) -> list[str]:
    targets: list[ast.AST] = []
    if isinstance(node, ast.AugAssign | ast.AnnAssign | ast.For | ast.AsyncFor):
        targets = [node.target]
    elif isinstance(node, ast.With):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _local_function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    return None


def _server_params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for arg in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
        annotation = arg.annotation
        if annotation is not None and _annotation_base(annotation) in SERVER_CLASSES:
            names.add(arg.arg)
    return names


def _annotation_base(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.rsplit(".", 1)[-1].strip("'\" ")
    if isinstance(node, ast.Subscript):
        return _annotation_base(node.value)
    return _target_name(node)


def _is_self_attribute(node: ast.expr, member: str | None = None) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and (member is None or node.attr == member)
    )


def _is_super_init(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "__init__"
        and isinstance(func.value, ast.Call)
        and _call_name(func.value) == "super"
    )


def _parameter_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [a.arg for a in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]]


def _class_member(cls: ast.ClassDef, member: str) -> ast.expr | None:
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == member for t in node.targets
        ):
            return node.value
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == member:
            return node.value
    return None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_string_literal(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_mcp_tool_type(call: ast.Call, module: Module) -> bool:
    """A call to mcp's `Tool` type: `Tool(...)` imported from mcp, or `types.Tool(...)`/`mcp.types.Tool(...)`."""
    func = call.func
    if isinstance(func, ast.Name):
        source = module.imports.get(func.id)
        return source is not None and source[1] == "Tool" and source[0].split(".")[0] in ("mcp", "fastmcp")
    if isinstance(func, ast.Attribute) and func.attr == "Tool":
        base = _dotted(func.value)
        imported = module.imports.get(base.split(".")[0])
        return imported is not None and (imported[0].split(".")[0] == "mcp" or base.endswith("types"))
    return False


class SignatureSchema:
    """The JSON schema an SDK derives from a function signature (or a pydantic model's fields)."""

    def __init__(self, reader: FileReader, module: Module, fast: bool):
        self.reader = reader if module is reader.module else FileReader(reader.project, module, reader.result)
        self.module = module
        self.fast = fast

    def build(
        self, fn: ast.FunctionDef | ast.AsyncFunctionDef, options: dict[str, ast.expr], unresolved: list[str]
    ) -> dict[str, Any]:
        excluded = self._excluded(options.get("exclude_args"))
        args = fn.args
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(
            args.defaults
        )
        params = list(zip(positional, defaults, strict=True)) + list(
            zip(args.kwonlyargs, args.kw_defaults, strict=True)
        )
        properties: dict[str, Any] = {}
        required: list[str] = []
        for index, (arg, default) in enumerate(params):
            if (
                (index == 0 and arg.arg in ("self", "cls"))
                or arg.arg in excluded
                or self._is_context(arg.annotation)
            ):
                continue
            prop, is_required = self.field(arg.arg, arg.annotation, default, unresolved)
            key = _field_alias(arg.annotation, default) or arg.arg  # pydantic lists a field by its alias
            if key != arg.arg and prop.get("title") == _pydantic_title(arg.arg):
                prop["title"] = _pydantic_title(key)
            properties[key] = prop
            if is_required:
                required.append(key)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        if not self.fast:
            schema["title"] = f"{fn.name}Arguments"
        return schema

    def from_model(self, cls: ast.ClassDef, unresolved: list[str]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for node in cls.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                name = node.target.id
                if _annotation_base(node.annotation) == "ClassVar":
                    continue
                prop, is_required = self.field(name, node.annotation, node.value, unresolved)
                properties[name] = prop
                if is_required:
                    required.append(name)
        schema: dict[str, Any] = {"properties": properties, "title": cls.name, "type": "object"}
        if required:
            schema["required"] = required
        doc = ast.get_docstring(cls)
        if doc:
            schema["description"] = doc
        return schema

    def _excluded(self, node: ast.expr | None) -> set[str]:
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        return set()

    def _is_context(self, annotation: ast.expr | None) -> bool:
        if annotation is None:
            return False
        inner = self._unwrap_optional(self._resolve_alias(annotation))
        base = _annotation_base(inner)
        return base == "Context" or base.endswith("Context")

    def field(
        self, name: str, annotation: ast.expr | None, default: ast.expr | None, unresolved: list[str]
    ) -> tuple[dict[str, Any], bool]:
        """One property's schema, and whether it is required."""
        prop: dict[str, Any] = {}
        if annotation is None:
            if not self.fast:  # mcp 1.x gives an unannotated parameter this exact schema
                prop = {"title": name, "type": "string"}
        else:
            resolved = self.type_schema(annotation, prop_name=name)
            if resolved is None:
                unresolved.append(
                    f"input_schema.{name}: type {ast.unparse(annotation)} not resolved statically"
                )
            else:
                prop.update(resolved)
            if not self.fast:
                prop["title"] = _pydantic_title(name)
        default, field_info = self._split_field(default)
        if field_info:
            self._apply_field(prop, field_info)
        if default is not None:
            try:
                prop["default"] = _json_literal(default)
            except ValueError:
                try:
                    prop["default"] = _jsonable(self.reader.value(default))
                except (Unresolved, ValueError):
                    pass
        return prop, default is None and not field_info.get("has_default")

    def _split_field(self, default: ast.expr | None) -> tuple[ast.expr | None, dict[str, Any]]:
        """For `= Field(default, description=...)`, the real default and the Field's keywords."""
        if isinstance(default, ast.Call) and _call_name(default) == "Field":
            info: dict[str, Any] = {k.arg: k.value for k in default.keywords if k.arg}
            real = default.args[0] if default.args else info.pop("default", None)
            if isinstance(real, ast.Constant) and real.value is Ellipsis:
                real = None
            info["has_default"] = real is not None or "default_factory" in info
            return real, info
        return default, {}

    def _apply_field(self, prop: dict[str, Any], info: dict[str, Any]) -> None:
        for key, json_key in (("description", "description"), ("title", "title")):
            if key in info:
                try:
                    prop[json_key] = self.reader.value(info[key])
                except Unresolved:
                    pass
        for key, json_key in (
            ("ge", "minimum"),
            ("le", "maximum"),
            ("gt", "exclusiveMinimum"),
            ("lt", "exclusiveMaximum"),
        ):
            if key in info:
                try:
                    prop[json_key] = _json_literal(info[key])
                except ValueError:
                    pass

    def _resolve_alias(self, node: ast.expr, depth: int = 0) -> ast.expr:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return parse_locked(node.value, mode="eval").body
            except SyntaxError:
                return node
        if depth < 5 and isinstance(node, ast.Name) and node.id not in SIMPLE_TYPES:
            found = self.reader.project.lookup(self.module, node.id, "constants")
            if found is not None:
                return self._resolve_alias(found[1], depth + 1)
        return node

    def _unwrap_optional(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            if _is_none(node.right):
                return node.left
            if _is_none(node.left):
                return node.right
        if isinstance(node, ast.Subscript) and _annotation_base(node.value) == "Optional":
            return node.slice
        if isinstance(node, ast.Subscript) and _annotation_base(node.value) == "Annotated":
            elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return self._unwrap_optional(elements[0])
        return node

    def type_schema(self, node: ast.expr, prop_name: str = "", depth: int = 0) -> dict[str, Any] | None:
        """JSON schema for a type annotation, or None when it cannot be known statically."""
        if depth > 10:
            return None
        node = self._resolve_alias(node)
        if isinstance(node, ast.Constant) and node.value is None:
            return {"type": "null"}
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._union([*_flatten_union(node)], depth)
        base = _annotation_base(node)
        if isinstance(node, ast.Name | ast.Attribute):
            if base == "Any":
                return {}
            if base in KNOWN_TYPES:
                return dict(KNOWN_TYPES[base])
            if base in SIMPLE_TYPES:
                kind = SIMPLE_TYPES[base]
                if kind == "array":
                    return {"items": {}, "type": "array"}
                if kind == "object":
                    return {"additionalProperties": True, "type": "object"}
                return {"type": kind}
            return None
        if not isinstance(node, ast.Subscript):
            return None
        elements = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base == "Optional":
            return self._union([elements[0], ast.Constant(None)], depth)
        if base == "Union":
            return self._union(elements, depth)
        if base == "Literal":
            return _literal_schema(elements)
        if base == "Annotated":
            return self._annotated(elements, depth)
        kind = SIMPLE_TYPES.get(base)
        if kind == "array":
            if base == "tuple" and not (len(elements) == 2 and isinstance(elements[1], ast.Constant)):
                return {"type": "array"}
            items = self.type_schema(elements[0], depth=depth + 1)
            return {"items": items, "type": "array"} if items is not None else {"type": "array"}
        if kind == "object":
            value = self.type_schema(elements[-1], depth=depth + 1) if len(elements) == 2 else {}
            if value is None:
                return {"type": "object"}
            return {"additionalProperties": value if value else True, "type": "object"}
        return None

    def _union(self, members: list[ast.expr], depth: int) -> dict[str, Any] | None:
        schemas = [self.type_schema(m, depth=depth + 1) for m in members]
        if any(s is None for s in schemas):
            return None
        return {"anyOf": schemas}

    def _annotated(self, elements: list[ast.expr], depth: int) -> dict[str, Any] | None:
        schema = self.type_schema(elements[0], depth=depth + 1)
        if schema is None:
            return None
        schema = dict(schema)
        for extra in elements[1:]:
            if isinstance(extra, ast.Call) and _call_name(extra) == "Field":
                self._apply_field(schema, {k.arg: k.value for k in extra.keywords if k.arg})
            elif self.fast and _is_string_literal(extra):
                schema["description"] = extra.value  # type: ignore[attr-defined]
        return schema


def _flatten_union(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flatten_union(node.left) + _flatten_union(node.right)
    return [node]


def _literal_schema(elements: list[ast.expr]) -> dict[str, Any] | None:
    try:
        values = [_json_literal(e) for e in elements]
    except ValueError:
        return None
    schema: dict[str, Any] = {"const": values[0]} if len(values) == 1 else {"enum": values}
    kinds = {type(v) for v in values}
    json_kind = {str: "string", int: "integer", bool: "boolean", float: "number"}
    if len(kinds) == 1 and (kind := kinds.pop()) in json_kind:
        schema["type"] = json_kind[kind]
    return schema


def _json_literal(node: ast.expr) -> Any:
    value = ast.literal_eval(node)
    return _jsonable(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("not JSON")


def _pydantic_title(name: str) -> str:
    return name.title().replace("_", " ").strip()


# The fastmcp release that started splitting docstrings into a description and sections.
FASTMCP_DOCSTRING_PARSING = "3.2.4"
# Section headings griffe's Google parser leaves as admonitions that still end the description.
GOOGLE_SECTION_ADMONITIONS = {
    "attention", "caution", "danger", "error", "example", "hint", "important", "note", "notes",
    "raise", "references", "return", "see-also", "tip", "todo", "warning", "yield",
}  # fmt: skip


def fastmcp_parses_docstrings(requirements: Sequence[str]) -> bool:
    """Whether the declared `fastmcp` requirement lets an installer pick a release that parses
    docstrings (installers take the newest release allowed, so a floor-only range counts)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    for line in requirements:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.name.lower().replace("_", "-") not in ("fastmcp", "fastmcp-slim"):
            continue
        if requirement.marker is not None and "extra" in str(requirement.marker):
            continue
        probes = {FASTMCP_DOCSTRING_PARSING, "3.4.7", "4.0.0", "9999"}
        probes |= {spec.version for spec in requirement.specifier if "*" not in spec.version}
        try:
            allowed = [Version(v) for v in probes if Version(v) in requirement.specifier]
        except InvalidVersion:
            continue
        return any(v >= Version(FASTMCP_DOCSTRING_PARSING) for v in allowed)
    return False


def split_docstring(doc: str) -> tuple[str | None, dict[str, str]] | None:
    """The description before the first docstring section, and the documented parameters, read
    with griffe the way fastmcp does; None when griffe is not installed."""
    try:
        import griffe
    except ImportError:
        return None
    import logging

    logging.getLogger("griffe").setLevel(logging.ERROR)
    for style in ("google", "numpy", "sphinx"):
        summary: str | None = None
        parameters: dict[str, str] = {}
        structured = False
        for section in griffe.Docstring(doc, lineno=1, parser=style).parse():
            kind = section.kind
            if kind is griffe.DocstringSectionKind.text:
                summary = section.value if summary is None else summary
                continue
            if kind is griffe.DocstringSectionKind.parameters:
                parameters.update({p.name: p.description for p in section.value})
            if (
                kind is not griffe.DocstringSectionKind.admonition
                or section.value.kind in GOOGLE_SECTION_ADMONITIONS
            ):
                structured = True
        if parameters or structured:
            return summary, parameters
    return doc, {}


def _follow_wraps(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, siblings: list[ast.stmt]
) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """`@wraps(other)` copies other's name and docstring, and `inspect.signature` follows it to
    other's parameters: so the tool is described by `other` (a sibling definition)."""
    for decorator in fn.decorator_list:
        if not isinstance(decorator, ast.Call) or _dotted(decorator.func) not in ("wraps", "functools.wraps"):
            continue
        if decorator.args and isinstance(decorator.args[0], ast.Name):
            for item in siblings:
                if (
                    isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    and item.name == decorator.args[0].id
                ):
                    return item
    return fn


def _registration_template(
    cls: ast.ClassDef, method_name: str, call: ast.Call, depth: int = 0
) -> tuple[ast.Call, dict[str, ast.expr], str] | None:
    """Follow `cls.method(...)` through `return self.other(...)` to a nested `def decorate(fn)`
    that calls `x.tool(...)(...)`: that `tool(...)` call, the parameters bound, the fn parameter."""
    method = next(
        (
            m
            for m in cls.body
            if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and m.name == method_name
        ),
        None,
    )
    if method is None or depth > 3:
        return None
    bindings = _bind_arguments(
        method, ast.Call(func=call.func, args=[ast.Constant(None), *call.args], keywords=call.keywords)
    )
    body = [s for s in method.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Call):
        inner = body[0].value
        if isinstance(inner.func, ast.Attribute) and _dotted(inner.func.value) == "self":
            substituted = ast.Call(
                func=inner.func,
                args=[bindings.get(a.id, a) if isinstance(a, ast.Name) else a for a in inner.args],
                keywords=[
                    ast.keyword(
                        arg=k.arg,
                        value=bindings.get(k.value.id, k.value) if isinstance(k.value, ast.Name) else k.value,
                    )
                    for k in inner.keywords
                ],
            )
            return _registration_template(cls, inner.func.attr, substituted, depth + 1)
    for nested in body:
        if not isinstance(nested, ast.FunctionDef) or len(nested.args.args) != 1:
            continue
        for node in ast.walk(nested):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Call)
                and isinstance(node.func.func, ast.Attribute)
                and node.func.func.attr == "tool"
            ):
                return node.func, bindings, nested.args.args[0].arg
    return None


def _is_attribute_of(node: ast.AST, owner: str, attribute: str) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attribute
        and isinstance(node.value, ast.Name)
        and node.value.id == owner
    )


def _field_alias(annotation: ast.expr | None, default: ast.expr | None) -> str | None:
    """`alias=` of a pydantic `Field(...)` given as the default or inside `Annotated[...]`."""
    fields = [default] if isinstance(default, ast.Call) else []
    if isinstance(annotation, ast.Subscript) and _dotted(annotation.value).split(".")[-1] == "Annotated":
        if isinstance(annotation.slice, ast.Tuple):
            fields += [e for e in annotation.slice.elts[1:] if isinstance(e, ast.Call)]
    for call in fields:
        if _dotted(call.func).split(".")[-1] != "Field":
            continue
        for keyword in call.keywords:
            if keyword.arg == "alias" and _is_string_literal(keyword.value):
                return keyword.value.value  # type: ignore[attr-defined]
    return None
