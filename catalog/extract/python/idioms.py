"""The registrations each Python SDK idiom makes, read by walking a module."""

from __future__ import annotations

import ast
import inspect
import re
from typing import Any

from catalog.extract import Extraction
from catalog.extract.budget import charge
from catalog.extract.idiom import Idiom, offer
from catalog.extract.python.project import (
    Module,
    Project,
    annotation_base,
    bind_arguments,
    call_name,
    dotted,
    is_mcp_tool_type,
    is_none,
    is_string_literal,
    local_assignments,
    local_function,
    server_params,
    target_name,
    wraps_name,
)
from catalog.extract.python.schemas import SignatureSchema, split_docstring
from catalog.extract.python.values import ValueReader
from catalog.models import Tool

SERVER_PARAM_NAME = re.compile(r"(^|_)(mcp|server|app)($|_)", re.IGNORECASE)


class FileReader(ValueReader):
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

    def reader_for(self, module: Module) -> FileReader:
        """A fresh reader of another (or the same) module, without this one's enclosing scopes."""
        return type(self)(self.project, module, self.result)

    def _visit_body(self, body: list[ast.stmt]) -> None:
        for node in body:
            self._visit(node)

    def _visit(self, node: ast.AST) -> None:
        charge()
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
            if not offer(IDIOMS, "decorator", self, decorator, node):
                self._visit(decorator)
        self.local_scopes.append(local_assignments(node))
        self.server_params.append(server_params(node))
        self.functions.append(node)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self._visit(default)
        self._visit_body(node.body)
        self.local_scopes.pop()
        self.server_params.pop()
        self.functions.pop()

    def _visit_call(self, call: ast.Call) -> None:
        source = GENERATORS.get(call_name(call))
        if source is not None:
            self.result.not_static(
                f"{self._origin(call.lineno)}: tools generated at run time from {source} "
                f"({dotted(call.func)}); not listable statically"
            )
        offer(IDIOMS, "call", self, call)

    # -- the idioms (one entry each in IDIOMS) -------------------------------------------------

    def _as_tool_decorator(self, decorator: ast.expr, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """The form: @server.tool() on a function (mcp FastMCP / MCPServer, standalone fastmcp)."""
        registration = self._tool_decorator(decorator)
        if registration is None:
            return False
        if not self._wraps_decorated(fn):  # a decorator's inner wrapper: read where it is used
            self._add_function_tool(fn, registration, fn.lineno)
        return True

    def _as_wrapping_decorator(self, decorator: ast.expr, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """The form: @decorator of a project function that registers a @wraps(fn) wrapper of what it decorates. `@logged` where `def logged(fn)` registers a wrapper of `fn` made with `@wraps(fn)`: the
        tool is `fn` itself (wraps copies its name and docstring, and the SDK's signature reading
        follows `__wrapped__` to its parameters)."""
        if not isinstance(decorator, ast.Name):
            return False
        found = self.project.lookup(self.module, decorator.id, "functions")
        registration = self._wrapper_registration(found[1]) if found is not None else None
        if registration is None:
            return False
        self._add_function_tool(fn, registration, fn.lineno)
        return True

    def _wraps_decorated(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Whether `fn` wraps the function the enclosing one-parameter function decorates."""
        if not self.functions or len(self.functions[-1].args.args) != 1:
            return False
        return wraps_name(fn, self.functions[-1].args.args[0].arg)

    def _wrapper_registration(
        self, decorator: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> tuple[list[ast.expr], list[ast.keyword]] | None:
        """The (args, keywords) of the `x.tool(...)` that a one-parameter decorator function applies
        to its `@wraps(parameter)` wrapper (as a decorator or called by hand), else None."""
        if len(decorator.args.args) != 1:
            return None
        parameter = decorator.args.args[0].arg
        wrappers = {
            node.name: node
            for node in ast.walk(decorator)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and wraps_name(node, parameter)
        }
        for wrapper in wrappers.values():
            for inner in wrapper.decorator_list:
                if (registration := self._tool_decorator(inner)) is not None:
                    return registration
        for node in ast.walk(decorator):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Call)
                and len(node.args) == 1
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in wrappers
                and (registration := self._tool_decorator(node.func)) is not None
            ):
                return registration
        return None

    def _as_registry_decorator(self, decorator: ast.expr, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """The form: @registry.method(...) of a project class whose method returns server.tool(...)(fn)."""
        registration = self._registry_decorator(decorator, fn)
        if registration is None:
            return False
        self._add_function_tool(fn, registration, fn.lineno)
        return True

    def _as_tool_object(self, call: ast.Call) -> bool:
        """The form: Tool(name=..., inputSchema=...) objects of a low-level server."""
        if not (
            is_mcp_tool_type(call, self.module) and (call.args or any(k.arg == "name" for k in call.keywords))
        ):
            return False
        self._add_tool_object(call)
        return True

    def _as_server_method(self, call: ast.Call) -> bool:
        """The form: server.add_tool(fn) / server.add_tool(Tool.from_function(fn)) / server.tool(fn, name=...). x.add_tool(fn, ...) / x.add_tool(Tool.from_function(fn, ...)) / x.tool(fn, ...) (fastmcp)."""
        func = call.func
        if not (
            isinstance(func, ast.Attribute)
            and func.attr in ("add_tool", "tool")
            and self._is_server(func.value)
        ):
            return False
        built = self._tool_from_function(call.args[0]) if call.args and func.attr == "add_tool" else None
        if built is not None:
            self._add_called_tool(built.args[0], call, built.keywords)
        elif call.args and not (func.attr == "tool" and is_string_literal(call.args[0])):
            self._add_called_tool(call.args[0], call, call.keywords)
        return True

    def _as_decorator_call(self, call: ast.Call) -> bool:
        """The form: server.tool(...)(fn): the decorator applied by hand. x.tool(...)(fn): the decorator applied by hand."""
        func = call.func
        if not (isinstance(func, ast.Call) and call.args and self._tool_decorator(func) is not None):
            return False
        if not self._is_decorator_template(call.args[0]):  # `def decorate(fn): server.tool(...)(fn)`
            self._add_called_tool(call.args[0], call, func.keywords, func.args)  # is read where used
        return True

    def _is_server(self, receiver: ast.expr) -> bool:
        name = target_name(receiver)
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
        if any(isinstance(n, ast.Name) and n.id == parameter for n in ast.walk(registered)):
            return True
        return isinstance(registered, ast.Name) and any(  # a local `@wraps(parameter)` wrapper
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == registered.id
            and wraps_name(node, parameter)
            for node in ast.walk(self.functions[-1])
        )

    def _instance_class(self, name: str) -> tuple[Module, ast.ClassDef] | None:
        """The class of `name`: a parameter annotated with a project class, or `name = Class(...)`."""
        for function in reversed(self.functions):
            for arg in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]:
                if arg.arg == name and arg.annotation is not None:
                    return self.project.lookup(self.module, annotation_base(arg.annotation), "classes")
        constant = self.project.lookup(self.module, name, "constants")
        if constant is not None and isinstance(constant[1], ast.Call):
            return self.project.lookup(constant[0], dotted(constant[1].func).split(".")[-1], "classes")
        return None

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
        if name_node is not None and not is_none(name_node):
            resolved = self._name(name_node, unresolved)
            if resolved is None:
                self._warn_unnamed(line, unresolved)
                return
            name = resolved
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
        found = self.project.lookup(instance[0], dotted(instance[1].func).split(".")[-1], "classes")
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
                local = local_function(self.module, fn_ref.id)
                found = (self.module, local) if local is not None else None
        if found is None:
            found = self._method_of_instance(fn_ref)
        if found is None:
            options = {k.arg: k.value for k in keywords if k.arg}
            if "name" in options:
                self._add_function_less_tool(call, options)
            else:
                self.result.not_static(
                    f"{self._origin(call.lineno)}: tool registered from {dotted(fn_ref)}, not resolvable statically"
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
        reason = next(
            (u.removeprefix("name: ") for u in unresolved if u.startswith("name: ")), "not resolvable"
        )
        self.result.not_static(f"{self._origin(line)}: tool name {reason}; tool skipped")

    def _description(
        self, fn: ast.FunctionDef | ast.AsyncFunctionDef, explicit: ast.expr | None, unresolved: list[str]
    ) -> str:
        if explicit is not None and not is_none(explicit):
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
        return description if explicit is not None and not is_none(explicit) else summary or ""


def _follow_wraps(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, siblings: list[ast.stmt]
) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """`@wraps(other)` copies other's name and docstring, and `inspect.signature` follows it to
    other's parameters: so the tool is described by `other` (a sibling definition)."""
    for decorator in fn.decorator_list:
        if not isinstance(decorator, ast.Call) or dotted(decorator.func) not in ("wraps", "functools.wraps"):
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
    bindings = bind_arguments(
        method, ast.Call(func=call.func, args=[ast.Constant(None), *call.args], keywords=call.keywords)
    )
    body = [s for s in method.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Call):
        inner = body[0].value
        if isinstance(inner.func, ast.Attribute) and dotted(inner.func.value) == "self":
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


TOOL_DECORATOR = """from mcp.server.fastmcp import FastMCP

mcp = FastMCP("demo")


@mcp.tool()
def add(a: int, b: int) -> int:
    \"\"\"Add two numbers.\"\"\"
    return a + b


@mcp.tool(name="subtract_numbers", description="Subtract b from a")
def subtract(a: int, b: int) -> int:
    return a - b
"""

REGISTRY_DECORATOR = """from fastmcp import FastMCP

mcp = FastMCP("demo")


class Registry:
    def __init__(self, server: FastMCP):
        self.server = server

    def reader(self, title: str):
        def decorate(fn):
            return self.server.tool(title=title, annotations={"readOnlyHint": True})(fn)

        return decorate


tools = Registry(mcp)


@tools.reader("List files")
def list_files(folder: str) -> list[str]:
    \"\"\"List the files in a folder.\"\"\"
    return []
"""

WRAPPING_DECORATOR = """from functools import wraps

from mcp.server.fastmcp import FastMCP

mcp = FastMCP("demo")


def logged(fn):
    @mcp.tool()
    @wraps(fn)
    async def inner(*args, **kwargs):
        return await fn(*args, **kwargs)

    return inner


def guarded(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return mcp.tool()(wrapper)


@logged
async def search(query: str, limit: int = 5) -> str:
    \"\"\"Search the index.\"\"\"
    return ""


@guarded
def delete(item_id: str) -> str:
    \"\"\"Delete an item.\"\"\"
    return ""
"""

TOOL_OBJECT = """from mcp.server.lowlevel import Server
from mcp.types import Tool

server = Server("demo")


@server.list_tools()
async def list_tools() -> list[Tool]:
    return [
        Tool(
            name="get_weather",
            description="The weather in a city",
            inputSchema={"type": "object", "properties": {"city": {"type": "string"}}},
        )
    ]
"""

SERVER_METHOD = """from fastmcp import FastMCP
from fastmcp.tools import Tool

mcp = FastMCP("demo")


def ping() -> str:
    \"\"\"Answer pong.\"\"\"
    return "pong"


def echo(text: str) -> str:
    \"\"\"Echo the text.\"\"\"
    return text


def shout(text: str) -> str:
    return text.upper()


mcp.add_tool(ping)
mcp.tool(echo, name="echo_text")
mcp.add_tool(Tool.from_function(shout, name="shout_text", description="Shout the text"))
"""

DECORATOR_CALL = """from mcp.server.fastmcp import FastMCP

mcp = FastMCP("demo")


def lookup(key: str) -> str:
    \"\"\"Look a key up.\"\"\"
    return key


mcp.tool(name="lookup_key")(lookup)
"""

# Calls that make a server's tools at run time from data: a static reading cannot list them.
GENERATORS = {
    "from_openapi": "an OpenAPI document",
    "from_fastapi": "a FastAPI app",
    "FastMCPOpenAPI": "an OpenAPI document",
    "OpenAPIProvider": "an OpenAPI document",
}

IDIOMS = (
    Idiom(FileReader._as_tool_decorator, TOOL_DECORATOR, ("add", "subtract_numbers"), "decorator"),
    Idiom(FileReader._as_registry_decorator, REGISTRY_DECORATOR, ("list_files",), "decorator"),
    Idiom(FileReader._as_wrapping_decorator, WRAPPING_DECORATOR, ("search", "delete"), "decorator"),
    Idiom(FileReader._as_tool_object, TOOL_OBJECT, ("get_weather",)),
    Idiom(FileReader._as_server_method, SERVER_METHOD, ("ping", "echo_text", "shout_text")),
    Idiom(FileReader._as_decorator_call, DECORATOR_CALL, ("lookup_key",)),
)
