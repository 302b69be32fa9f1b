"""A Python source tree as parsed modules: what each defines and imports, and lookups of names
across files (never importing anything)."""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass, field
from typing import Any

from catalog.extract import SourceFile
from catalog.extract.budget import charge

SERVER_CLASSES = {"FastMCP", "MCPServer", "Server", "LowLevelServer"}


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
    size: int = 0  # characters of source, for the file's work budget
    all_functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] | None = None  # nested ones too
    server_names: set[str] = field(default_factory=set)  # names assigned a server object (x = FastMCP(...))


_PARSE_LOCK = threading.Lock()


def parse_python(source: str, filename: str = "<unknown>", mode: str = "exec") -> Any:
    """`ast.parse`, one call at a time: CPython 3.11's parser is not thread-safe (issue 106905)."""
    with _PARSE_LOCK:
        return ast.parse(source, filename=filename, mode=mode)


def parse_into(
    source: SourceFile,
    modules: list[Module],
    warnings: list[str],
    retry: list[tuple[int, int, SourceFile]] | None = None,
) -> None:
    """Parse a file onto `modules`; a syntax error goes to `retry` (with the places its module or
    its warning would take) when given, for a newer interpreter to try, else it is a warning."""
    try:
        tree = parse_python(source.text, filename=source.path)
    except SyntaxError as error:
        if retry is not None:
            retry.append((len(modules), len(warnings), source))
        else:
            warnings.append(f"{source.path}: not parsed ({type(error).__name__})")
        return
    except (ValueError, RecursionError, MemoryError) as error:
        warnings.append(f"{source.path}: not parsed ({type(error).__name__})")
        return
    modules.append(module_of(source, tree))


def module_of(source: SourceFile, tree: ast.Module) -> Module:
    """The module a parsed file is, with what it defines and imports indexed."""
    module = Module(source.path, _dotted_name(source.path), tree, size=len(source.text))
    _index_module(module)
    return module


def _dotted_name(path: str) -> str:
    parts = path.removesuffix(".py").replace("\\", "/").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _index_module(module: Module) -> None:
    node: ast.AST
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
        elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            if call_name(node.value) in SERVER_CLASSES:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                module.server_names.update(target_name(t) for t in targets)


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
        # "b.c" -> the modules named "a.b.c", "x.b.c": a dotted name matched on its last parts
        self.by_suffix: dict[str, list[Module]] = {}
        for dotted_name, module in self.by_dotted.items():
            parts = dotted_name.split(".")
            for start in range(1, len(parts)):
                self.by_suffix.setdefault(".".join(parts[start:]), []).append(module)
        self.uses_fastmcp = any(m.uses_fastmcp for m in modules)
        self.server_names = self._server_names()
        self.parses_docstrings = False  # standalone fastmcp >= 3.2.4 (see fastmcp_parses_docstrings)

    def _server_names(self) -> set[str]:
        names: set[str] = set().union(*(module.server_names for module in self.modules))
        names.discard("")
        return names

    def reachable_from(self, starts: list[Module]) -> set[str]:
        """Paths of the modules that importing `starts` imports, directly or not (with the
        packages above each), as far as imports can be followed statically."""
        seen: dict[str, Module] = {}
        queue = list(starts)
        while queue:
            module = queue.pop()
            if module.path in seen:
                continue
            seen[module.path] = module
            parts = module.dotted.split(".")
            names = [".".join(parts[:i]) for i in range(1, len(parts))]
            for source, name in module.imports.values():
                names += [source, f"{source}.{name}"] if name else [source]
            queue += [m for m in (self.module_named(n) for n in names if n) if m is not None]
        return set(seen)

    def module_named(self, dotted: str) -> Module | None:
        if dotted in self.by_dotted:
            return self.by_dotted[dotted]
        matches = self.by_suffix.get(dotted, [])
        return matches[0] if len(matches) == 1 else None

    def lookup(self, module: Module, name: str, kind: str, depth: int = 0) -> tuple[Module, Any] | None:
        """Find a module-level constant, function or class visible as `name` in `module`."""
        charge(1 + len(self.modules) // 64)
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


def call_name(call: ast.Call) -> str:
    return target_name(call.func)


def target_name(target: ast.expr) -> str:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return ""


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{dotted(node.func)}()"
    return type(node).__name__


def bind_arguments(fn: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call) -> dict[str, ast.expr]:
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


def local_assignments(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr]:
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


def local_function(module: Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The first function of this name defined anywhere in the module (indexed once per module)."""
    if module.all_functions is None:
        module.all_functions = {}
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                module.all_functions.setdefault(node.name, node)
    return module.all_functions.get(name)


def server_params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for arg in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
        annotation = arg.annotation
        if annotation is not None and annotation_base(annotation) in SERVER_CLASSES:
            names.add(arg.arg)
    return names


def annotation_base(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.rsplit(".", 1)[-1].strip("'\" ")
    if isinstance(node, ast.Subscript):
        return annotation_base(node.value)
    return target_name(node)


def is_self_attribute(node: ast.expr, member: str | None = None) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and (member is None or node.attr == member)
    )


def is_super_init(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "__init__"
        and isinstance(func.value, ast.Call)
        and call_name(func.value) == "super"
    )


def parameter_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [a.arg for a in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]]


def class_member(cls: ast.ClassDef, member: str) -> ast.expr | None:
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == member for t in node.targets
        ):
            return node.value
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == member:
            return node.value
    return None


def is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def is_string_literal(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def is_mcp_tool_type(call: ast.Call, module: Module) -> bool:
    """A call to mcp's `Tool` type: `Tool(...)` imported from mcp, or `types.Tool(...)`/`mcp.types.Tool(...)`."""
    func = call.func
    if isinstance(func, ast.Name):
        source = module.imports.get(func.id)
        return source is not None and source[1] == "Tool" and source[0].split(".")[0] in ("mcp", "fastmcp")
    if isinstance(func, ast.Attribute) and func.attr == "Tool":
        base = dotted(func.value)
        imported = module.imports.get(base.split(".")[0])
        return imported is not None and (imported[0].split(".")[0] == "mcp" or base.endswith("types"))
    return False


def wraps_name(fn: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    """Whether `fn` is decorated with `@wraps(name)` / `@functools.wraps(name)`."""
    return any(
        isinstance(d, ast.Call)
        and dotted(d.func) in ("wraps", "functools.wraps")
        and bool(d.args)
        and isinstance(d.args[0], ast.Name)
        and d.args[0].id == name
        for d in fn.decorator_list
    )
