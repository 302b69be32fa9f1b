"""Input schemas as the Python SDKs derive them from a signature or a pydantic model, and
descriptions from docstrings (fastmcp's docstring sections)."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Any

from catalog.extract.budget import charge
from catalog.extract.python.project import (
    Module,
    annotation_base,
    call_name,
    dotted,
    is_none,
    is_string_literal,
    parse_python,
)
from catalog.extract.python.values import ValueReader, json_literal, jsonable
from catalog.extract.values import Unresolved

KNOWN_TYPES: dict[str, dict[str, Any]] = {
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


class SignatureSchema:
    """The JSON schema an SDK derives from a function signature (or a pydantic model's fields)."""

    def __init__(self, reader: ValueReader, module: Module, fast: bool):
        self.reader = reader if module is reader.module else reader.reader_for(module)
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
                if annotation_base(node.annotation) == "ClassVar":
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
        base = annotation_base(inner)
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
                prop["default"] = json_literal(default)
            except ValueError:
                try:
                    prop["default"] = jsonable(self.reader.value(default))
                except (Unresolved, ValueError):
                    pass
        return prop, default is None and not field_info.get("has_default")

    def _split_field(self, default: ast.expr | None) -> tuple[ast.expr | None, dict[str, Any]]:
        """For `= Field(default, description=...)`, the real default and the Field's keywords."""
        if isinstance(default, ast.Call) and call_name(default) == "Field":
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
                    prop[json_key] = json_literal(info[key])
                except ValueError:
                    pass

    def _resolve_alias(self, node: ast.expr, depth: int = 0) -> ast.expr:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return parse_python(node.value, mode="eval").body
            except SyntaxError:
                return node
        if depth < 5 and isinstance(node, ast.Name) and node.id not in SIMPLE_TYPES:
            found = self.reader.project.lookup(self.module, node.id, "constants")
            if found is not None:
                return self._resolve_alias(found[1], depth + 1)
        return node

    def _unwrap_optional(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            if is_none(node.right):
                return node.left
            if is_none(node.left):
                return node.right
        if isinstance(node, ast.Subscript) and annotation_base(node.value) == "Optional":
            return node.slice
        if isinstance(node, ast.Subscript) and annotation_base(node.value) == "Annotated":
            elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return self._unwrap_optional(elements[0])
        return node

    def type_schema(self, node: ast.expr, prop_name: str = "", depth: int = 0) -> dict[str, Any] | None:
        """JSON schema for a type annotation, or None when it cannot be known statically."""
        charge()
        if depth > 10:
            return None
        node = self._resolve_alias(node)
        if isinstance(node, ast.Constant) and node.value is None:
            return {"type": "null"}
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._union([*_flatten_union(node)], depth)
        base = annotation_base(node)
        if isinstance(node, ast.Name | ast.Attribute):
            if base == "Any":
                return {}
            if base in KNOWN_TYPES:
                return dict(KNOWN_TYPES[base])
            if base in SIMPLE_TYPES:
                kind: str | None = SIMPLE_TYPES[base]
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
            if isinstance(extra, ast.Call) and call_name(extra) == "Field":
                self._apply_field(schema, {k.arg: k.value for k in extra.keywords if k.arg})
            elif self.fast and is_string_literal(extra):
                schema["description"] = extra.value  # type: ignore[attr-defined]
        return schema


def _flatten_union(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flatten_union(node.left) + _flatten_union(node.right)
    return [node]


def _literal_schema(elements: list[ast.expr]) -> dict[str, Any] | None:
    try:
        values = [json_literal(e) for e in elements]
    except ValueError:
        return None
    schema: dict[str, Any] = {"const": values[0]} if len(values) == 1 else {"enum": values}
    kinds = {type(v) for v in values}
    json_kind = {str: "string", int: "integer", bool: "boolean", float: "number"}
    if len(kinds) == 1 and (kind := kinds.pop()) in json_kind:
        schema["type"] = json_kind[kind]
    return schema


def _pydantic_title(name: str) -> str:
    return name.title().replace("_", " ").strip()


# The fastmcp release that started splitting docstrings into a description and sections.
FASTMCP_DOCSTRING_PARSING = "3.2.4"
FASTMCP_DISTRIBUTIONS = ("fastmcp", "fastmcp-slim")
REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")  # a requirement line's name (PEP 508)


# Section headings griffe's Google parser leaves as admonitions that still end the description.
GOOGLE_SECTION_ADMONITIONS = {
    "attention", "caution", "danger", "error", "example", "hint", "important", "note", "notes",
    "raise", "references", "return", "see-also", "tip", "todo", "warning", "yield",
}  # fmt: skip


def fastmcp_parses_docstrings(requirements: Sequence[str]) -> bool:
    """Whether the declared `fastmcp` requirement lets an installer pick a release that parses
    docstrings (installers take the newest release allowed, so a floor-only range counts)."""
    names = (REQUIREMENT_NAME.match(line) for line in requirements)
    if not any(m and m.group(1).lower().replace("_", "-") in FASTMCP_DISTRIBUTIONS for m in names):
        return False  # not even named: no requirement parsing (nor its import) needed
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    for line in requirements:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.name.lower().replace("_", "-") not in FASTMCP_DISTRIBUTIONS:
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


def _field_alias(annotation: ast.expr | None, default: ast.expr | None) -> str | None:
    """`alias=` of a pydantic `Field(...)` given as the default or inside `Annotated[...]`."""
    fields = [default] if isinstance(default, ast.Call) else []
    if isinstance(annotation, ast.Subscript) and dotted(annotation.value).split(".")[-1] == "Annotated":
        if isinstance(annotation.slice, ast.Tuple):
            fields += [e for e in annotation.slice.elts[1:] if isinstance(e, ast.Call)]
    for call in fields:
        if dotted(call.func).split(".")[-1] != "Field":
            continue
        for keyword in call.keywords:
            if keyword.arg == "alias" and is_string_literal(keyword.value):
                return keyword.value.value  # type: ignore[attr-defined]
    return None
