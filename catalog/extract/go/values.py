"""Static values of Go expressions: strings folded from constants, concatenation, `fmt.Sprintf`
and translation helpers; literals and lists known statically."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, cast

from catalog.extract import Extraction
from catalog.extract.budget import charge
from catalog.extract.go.project import (
    Package,
    Project,
    SourceText,
    call_arguments,
    enclosing_function,
    go_string,
    is_list_expression,
    strip_address,
)
from catalog.extract.syntax import TreeReader
from catalog.extract.values import (
    MAX_DEPTH,
    Folded,
    Unresolved,
    joined,
    whole,
)

if TYPE_CHECKING:
    from catalog.extract.go.idioms import Reader


TRANSLATION_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")


class ValueReader(TreeReader):
    """Folds the values a declaration names: strings through constants, variables, other packages,
    concatenation, `fmt.Sprintf` and translation helpers; literals; static lists."""

    project: Project
    result: Extraction
    bindings: dict[str, tuple[Reader, Any]]

    @property
    def source(self) -> SourceText:
        return cast(SourceText, self.file)

    def at(self, source: SourceText) -> Reader:
        return cast("Reader", self) if source is self.source else self.make(source)

    def make(
        self, source: SourceText, bindings: dict[str, tuple[Reader, Any]] | None = None, call_site: str = ""
    ) -> Reader:
        """A reader of `source` in this project, with these bindings and call site."""
        return type(self)(self.project, source, self.result, bindings, call_site)  # type: ignore[return-value]

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

    def _is_string_like(self, node: Any) -> bool:
        try:
            self.string(node)
        except Unresolved:
            return node.type in ("identifier", "selector_expression")
        return True

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
            for argument in call_arguments(value):
                items.extend(
                    self._list_literal(argument) if is_list_expression(argument) else [self.literal(argument)]
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
        node = strip_address(node)
        if node.type != "identifier":
            return cast("Reader", self), node
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
        return cast("Reader", self), node

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
                fields[go_string(self.source, key_node)] = value_node
            else:
                fields[self.source.text(key_node)] = value_node
        return fields

    def _resolve_local(self, node: Any, anchor: Any | None = None) -> Any:
        """A local variable (`schema := ...`) defined earlier in the enclosing function."""
        if node.type != "identifier":
            return node
        name = self.source.text(node)
        scope = enclosing_function(self.source.root, anchor or node)
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
            node.type == "call_expression" and len(call_arguments(node)) == 1
        ):  # mcp.ToBoolPtr(true), jsonschema.Ptr(x)
            callee = self._callee(node.child_by_field_name("function"))
            if callee == "RawMessage":  # json.RawMessage(`"open"`)
                try:
                    return json.loads(self.string(call_arguments(node)[0])[0])
                except ValueError as error:
                    raise Unresolved("raw JSON not parseable") from error
            if callee.lower().endswith("ptr") or callee in ("Bool", "String", "Int", "Float64"):
                return self.literal(call_arguments(node)[0])
        return whole(self.string(node))

    def string(self, node: Any, depth: int = 0) -> tuple[str, list[str]]:
        """Resolve a string expression; returns the text and any `{...}` placeholders left in it."""
        charge()
        if depth > MAX_DEPTH:
            raise Unresolved("too deeply nested")
        if node.type in ("interpreted_string_literal", "raw_string_literal"):
            return go_string(self.source, node), []
        if node.type == "parenthesized_expression" and node.named_children:
            return self.string(node.named_children[0], depth + 1)
        if node.type == "binary_expression" and self.source.text(node.child_by_field_name("operator")) == "+":
            left = self._string_part(node.child_by_field_name("left"), depth)
            right = self._string_part(node.child_by_field_name("right"), depth)
            return joined([left, right])
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

    def _call_string(self, node: Any, depth: int) -> tuple[str, list[str]]:
        callee = self._callee(node.child_by_field_name("function"))
        args = call_arguments(node)
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
        parts: list[Folded] = []
        for part in re.split(r"(%[-+# 0-9.]*[a-zA-Z%])", template):
            if not part.startswith("%") or len(part) < 2:
                parts.append((part, []))
            elif part == "%%":
                parts.append(("%", []))
            else:
                argument = next(values, None)
                if argument is None:
                    parts.append((part, []))
                    continue
                text, more = self._string_part(argument, depth)
                if not more and part[-1] in "dfgv" and argument.type in ("int_literal", "float_literal"):
                    text = self.source.text(argument)
                parts.append((text, more))
        text, more = joined(parts)
        return text, holes + more
