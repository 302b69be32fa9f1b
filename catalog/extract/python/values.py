"""Static values of Python expressions: strings folded from constants, f-strings, enums and
helpers; literals; JSON-like dicts; tool annotations."""

from __future__ import annotations

import ast
import textwrap
from typing import Any

from catalog.extract import Extraction
from catalog.extract.budget import charge
from catalog.extract.python.project import (
    Module,
    Project,
    bind_arguments,
    call_name,
    class_member,
    dotted,
    is_none,
    is_self_attribute,
    is_string_literal,
    is_super_init,
    parameter_names,
)
from catalog.extract.values import (
    MAX_DEPTH,
    PYTHON_ANNOTATION_KEYS,
    Folded,
    Unresolved,
    joined,
    noted,
    part_or_placeholder,
    whole,
)


class ValueReader:
    """Folds the values a registration names (strings, literals, JSON, annotations) through local
    scopes, module constants, enums and other files. The reader of `idioms` builds on it."""

    project: Project
    module: Module
    result: Extraction
    local_scopes: list[dict[str, ast.expr]]
    classes: list[ast.ClassDef]

    def reader_for(self, module: Module) -> ValueReader:
        raise NotImplementedError

    def _annotations(self, node: ast.expr | None, unresolved: list[str]) -> dict[str, Any] | None:
        if node is None or is_none(node):
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
        if isinstance(node, ast.Call) and call_name(node) == "ToolAnnotations":
            pairs = [(k.arg, k.value) for k in node.keywords if k.arg]
        elif isinstance(node, ast.Dict):
            pairs = [
                (k.value, v)
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        else:
            unresolved.append(f"annotations: built at run time ({dotted(node)})")
            return None
        annotations: dict[str, Any] = {}
        for key, value_node in pairs:
            wire_key = PYTHON_ANNOTATION_KEYS.get(key, key)
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
        body = [s for s in found[1].body if not (isinstance(s, ast.Expr) and is_string_literal(s.value))]
        if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
            return None
        return body[0].value, bind_arguments(found[1], node)

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
        return noted(lambda: self.string(node), label, unresolved, missing=None)

    def _name(self, node: ast.expr, unresolved: list[str]) -> str | None:
        """A tool name, or None (with the reason in `unresolved`) unless fully known."""
        return noted(lambda: self.string(node), "name", unresolved, missing=None, partial=False)

    def _optional_string(self, node: ast.expr | None, label: str, unresolved: list[str]) -> str | None:
        if node is None or is_none(node):
            return None
        return self._string_or_none(node, label, unresolved)

    def string(self, node: ast.expr, depth: int = 0) -> tuple[str, list[str]]:
        """Resolve a string expression; returns the text and any `{...}` placeholders left in it."""
        charge()
        if depth > MAX_DEPTH:
            raise Unresolved("too deeply nested")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value, []
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return joined([self._string_part(node.left, depth), self._string_part(node.right, depth)])
        if isinstance(node, ast.Name):
            return self._named_string(node, depth)
        if isinstance(node, ast.Attribute):
            return self._attribute_string(node, depth)
        if isinstance(node, ast.Call):
            return self._call_string(node, depth)
        raise Unresolved(f"built at run time ({type(node).__name__})")

    def _string_part(self, node: ast.expr, depth: int) -> tuple[str, list[str]]:
        return part_or_placeholder(lambda: self.string(node, depth + 1), lambda: ast.unparse(node))

    def _fstring(self, node: ast.JoinedStr, depth: int) -> tuple[str, list[str]]:
        parts: list[Folded] = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append((str(part.value), []))
            elif isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None:
                parts.append(self._string_part(part.value, depth))
            else:
                placeholder = (
                    "{" + ast.unparse(part.value if isinstance(part, ast.FormattedValue) else part) + "}"
                )
                parts.append((placeholder, [placeholder]))
        return joined(parts)

    def _named_string(self, node: ast.Name, depth: int) -> tuple[str, list[str]]:
        local = self._local(node.id)
        if local is not None and local is not node:
            return self.string(local, depth + 1)
        found = self.project.lookup(self.module, node.id, "constants")
        if found is None:
            raise Unresolved(f"name {node.id} not resolvable statically")
        module, value = found
        return self.reader_for(module).string(value, depth + 1)

    def _attribute_string(self, node: ast.Attribute, depth: int) -> tuple[str, list[str]]:
        target = (
            node.value if node.attr in ("value", "name") and isinstance(node.value, ast.Attribute) else node
        )
        if is_self_attribute(node) and self.classes:
            found = self._instance_attribute(self.classes[-1], node.attr)
            if found is not None:
                return self.reader_for(found[0]).string(found[1], depth + 1)
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            owner, member = target.value.id, target.attr
            enum = self.project.lookup(self.module, owner, "classes")
            if enum is not None:
                value = class_member(enum[1], member)
                if value is not None:
                    if target is not node and node.attr == "name":
                        return member, []
                    return self.reader_for(enum[0]).string(value, depth + 1)
            imported = self.module.imports.get(owner)
            module = self.project.module_named(imported[0]) if imported and imported[1] is None else None
            if module is not None and member in module.constants:
                return self.reader_for(module).string(module.constants[member], depth + 1)
        raise Unresolved(f"built at run time ({dotted(node)})")

    def _instance_attribute(self, cls: ast.ClassDef, member: str) -> tuple[Module, ast.expr] | None:
        """`self.name` of a tool class: a class attribute, `self.name = "x"` in `__init__`, or the
        argument `super().__init__("x")` passes to a base class that stores it as `self.name`."""
        value = class_member(cls, member)
        if value is not None:
            return self.module, value
        init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if init is None:
            return None
        for node in ast.walk(init):
            if isinstance(node, ast.Assign) and any(is_self_attribute(t, member) for t in node.targets):
                if not (isinstance(node.value, ast.Name) and node.value.id in parameter_names(init)):
                    return self.module, node.value
            if isinstance(node, ast.Call) and is_super_init(node):
                argument = self._argument_stored_by_base(cls, node, member)
                if argument is not None:
                    return self.module, argument
        return None

    def _argument_stored_by_base(self, cls: ast.ClassDef, call: ast.Call, member: str) -> ast.expr | None:
        for base in cls.bases:
            found = self.project.lookup(self.module, dotted(base).rsplit(".", 1)[-1], "classes")
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
            parameters = parameter_names(init)[1:]  # without self
            for node in ast.walk(init):
                if (
                    isinstance(node, ast.Assign)
                    and any(is_self_attribute(t, member) for t in node.targets)
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
        name = call_name(node)
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
                text, more = joined([self._string_part(item, depth) for item in items.elts], separator)
                return text, holes + more
        raise Unresolved(f"built at run time (call to {dotted(node.func)})")

    def value(self, node: ast.expr, depth: int = 0) -> Any:
        """Resolve a literal-like expression (bool, number, None or string)."""
        charge()
        node = self._follow_name(node)
        if isinstance(node, ast.Constant) and not isinstance(node.value, str):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
        ):
            return -node.operand.value  # type: ignore[operator]
        return whole(self.string(node, depth))

    def _json_value(self, node: ast.expr, label: str, unresolved: list[str], depth: int = 0) -> Any:
        charge()
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
                        unresolved.append(f"{label}: merged from {dotted(value)} at run time")
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
        if isinstance(node, ast.Call) and call_name(node) in ("model_json_schema", "schema"):
            model = node.func.value if isinstance(node.func, ast.Attribute) else None
            schema = self._model_schema(model, unresolved) if isinstance(model, ast.Name) else None
            if schema is not None:
                return schema
        try:
            return self.value(node)
        except Unresolved as error:
            unresolved.append(f"{label}: {error}")
            return None

    def _constant_function_result(self, node: ast.expr) -> tuple[ValueReader, ast.expr] | None:
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
        reader = self if found[0] is self.module else self.reader_for(found[0])
        return reader, body[0].value

    def _model_schema(self, model: ast.Name, unresolved: list[str]) -> dict[str, Any] | None:
        found = self.project.lookup(self.module, model.id, "classes")
        if found is None:
            return None
        module, cls = found
        from catalog.extract.python.schemas import SignatureSchema  # schemas read values in turn

        return SignatureSchema(self, module, fast=False).from_model(cls, unresolved)


def json_literal(node: ast.expr) -> Any:
    value = ast.literal_eval(node)
    return jsonable(value)


def jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("not JSON")
