"""Python files with syntax newer than this interpreter's (3.12 generics and f-strings, 3.14
template strings), parsed by the newest Python on the machine in a subprocess that only parses:
it reads the sources as JSON on stdin, calls `ast.parse` (which never runs code) and writes each
syntax tree as JSON, with the newer node kinds expressed in older ones (type parameters dropped,
`type X = ...` as an assignment, t-strings as f-strings). Here the trees are rebuilt as this
interpreter's `ast` nodes, so the readers see what they know.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

INTERPRETERS = ("python3.14", "python3.13", "python3.12")
ENV_INTERPRETER = "CATALOG_NEWER_PYTHON"  # an interpreter to use instead of looking for one

# Runs in the newer interpreter with -I (isolated: no site, no user paths, no environment).
DUMPER = r"""
import ast, json, sys

def dump(node):
    if isinstance(node, list):
        return [dump(item) for item in node]
    if not isinstance(node, ast.AST):
        if node is Ellipsis:
            return {"_": "..."}
        if isinstance(node, bytes):
            return {"_bytes": node.decode("latin-1")}
        if isinstance(node, complex):
            return {"_complex": [node.real, node.imag]}
        return node
    kind = type(node).__name__
    fields = {name: getattr(node, name, None) for name in node._fields if name != "type_params"}
    if kind == "TypeAlias":
        kind, fields = "Assign", {"targets": [node.name], "value": node.value, "type_comment": None}
    elif kind == "TemplateStr":
        kind, fields = "JoinedStr", {"values": node.values}
    elif kind == "Interpolation":
        kind = "FormattedValue"
        fields = {"value": node.value, "conversion": node.conversion, "format_spec": node.format_spec}
    out = {"_": kind}
    out.update({name: dump(value) for name, value in fields.items()})
    for name in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
        if hasattr(node, name):
            out[name] = getattr(node, name)
    return out

results = []
for path, text in json.load(sys.stdin):
    try:
        results.append(dump(ast.parse(text, filename=path)))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        results.append({"error": type(error).__name__})
json.dump(results, sys.stdout)
"""


def interpreters() -> list[str]:
    """Pythons newer than 3.11 on this machine, newest first: CATALOG_NEWER_PYTHON when set, then
    those on PATH (pyenv shims left out: they answer only for the selected version), then pyenv's
    and uv's installed versions."""
    chosen = os.environ.get(ENV_INTERPRETER)
    if chosen:
        return [path] if (path := shutil.which(chosen)) else []
    found: list[tuple[tuple[int, ...], str]] = []
    for name in INTERPRETERS:
        on_path = shutil.which(name)
        if on_path is not None and "/shims/" not in on_path:
            found.append((_version(name), on_path))
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    uv = Path(os.environ.get("UV_PYTHON_INSTALL_DIR") or Path.home() / ".local/share/uv/python")
    for home in [*pyenv.glob("3.*"), *uv.glob("cpython-3.*")]:
        version = _version(home.name.removeprefix("cpython-"))
        binary = home / "bin" / "python3"
        if version >= (3, 12) and binary.is_file():
            found.append((version, str(binary)))
    return [path for _, path in sorted(found, reverse=True)]


def _version(text: str) -> tuple[int, ...]:
    digits = re.findall(r"\d+", text.removeprefix("python"))[:3]
    return tuple(int(d) for d in digits)


def parse_newer(sources: list[tuple[str, str]], seconds: float) -> list[ast.Module | str] | None:
    """Each source's syntax tree as parsed by the newest Python on the machine that answers, or
    the name of its error; None when there is none or none answered within `seconds`."""
    if not sources or seconds <= 0:
        return None
    deadline = time.monotonic() + seconds
    for interpreter in interpreters():
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            done = subprocess.run(
                [interpreter, "-I", "-c", DUMPER],
                input=json.dumps(sources),
                capture_output=True,
                text=True,
                timeout=left,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
        except OSError:
            continue
        try:
            dumped = json.loads(done.stdout) if done.returncode == 0 else None
        except (ValueError, RecursionError):
            dumped = None
        if isinstance(dumped, list) and len(dumped) == len(sources):
            return [_module(item) for item in dumped]
    return None


def _module(item: Any) -> ast.Module | str:
    if isinstance(item, dict) and "error" in item:
        return str(item["error"])
    try:
        tree = _build(item)
    except RecursionError:
        return "RecursionError"
    return tree if isinstance(tree, ast.Module) else "ValueError"


def _build(value: Any) -> Any:
    if isinstance(value, list):
        return [_build(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "_bytes" in value:
        return str(value["_bytes"]).encode("latin-1")
    if "_complex" in value:
        return complex(*value["_complex"])
    kind = value.get("_")
    if kind == "...":
        return Ellipsis
    node_class = getattr(ast, str(kind), None)
    if not (isinstance(node_class, type) and issubclass(node_class, ast.AST)):
        return ast.Constant(value=None)  # a node kind this interpreter does not have
    node = node_class(**{name: _build(value[name]) for name in node_class._fields if name in value})
    for name in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
        if name in value:
            setattr(node, name, value[name])
    return node
